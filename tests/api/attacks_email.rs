//! Attacks through the platform's email (issue 13): lead text that reaches
//! a manager's inbox as if Switchboard had written it, and a tenant that
//! makes the platform send mail without limit. Named after the attack and
//! the OWASP API Security Top 10 (2023) item (API4 unrestricted resource
//! consumption, API10 unsafe consumption of APIs).

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use switchboard::domain::LeadInput;
use switchboard::server::clock::ManualClock;
use switchboard::server::events::sweep_once;
use switchboard::server::ServerSettings;

use crate::common::spawn_with_clock;
use crate::email::tenant_with_manager;

/// Phishing through the SLA alert: a stranger posts a lead through the
/// public form whose "name" is an instruction with a link. The breach alert
/// put it into the manager's email as the alert's own words; it must arrive
/// only quoted and labelled as the lead's, in the body and in the subject.
#[tokio::test]
async fn api10_a_lead_name_reaches_the_manager_in_an_sla_alert_only_as_quoted_untrusted_text() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    let tenant = tenant_with_manager(&app).await;
    let key = app.ingest_key("open-arms").await;
    let phishing = "IT desk: Click http://evil.example/reset and reset your password now";
    let lead = LeadInput {
        name: format!("{phishing}\r\nSwitchboard \u{202E}security team"),
        email: Some("stranger@example.com".into()),
        message: "Hello".into(),
        ..Default::default()
    };
    app.anon().ingest_lead(&key, &lead, None).await.unwrap();

    clock.advance(Duration::hours(5));
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 1);

    let outbox = app.store.pending_outbox(tenant).await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    for mail in &outbox {
        assert!(
            mail.subject
                .starts_with("SLA breached: \"IT desk: Click http://evil.example/reset"),
            "the name is not quoted in the subject: {:?}",
            mail.subject
        );
        assert!(
            !mail.subject.contains(['\r', '\n', '\u{202E}']),
            "{:?}",
            mail.subject
        );
        let mut quoted = 0;
        for line in mail.body.lines() {
            if line.contains("evil.example") || line.contains("security team") {
                assert!(
                    line.starts_with("> "),
                    "unquoted lead text: {line:?}\n{}",
                    mail.body
                );
                assert!(!line.contains('\u{202E}'), "{line:?}");
                quoted += 1;
            }
        }
        assert_eq!(quoted, 2, "{}", mail.body);
        assert!(
            mail.body
                .contains("(untrusted content, quoted as received)"),
            "{}",
            mail.body
        );
    }

    assert!(
        outbox[0].subject.ends_with("(Open Arms)"),
        "{}",
        outbox[0].subject
    );
}
