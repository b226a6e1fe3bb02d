//! Attacks through the platform's email (issue 13): lead text that reaches
//! a manager's inbox as if Switchboard had written it, and a tenant that
//! makes the platform send mail without limit. Named after the attack and
//! the OWASP API Security Top 10 (2023) item (API4 unrestricted resource
//! consumption, API10 unsafe consumption of APIs).

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, TimeZone, Utc};
use switchboard::domain::{
    AuditFilter, LeadInput, NewTenant, PageQuery, TenantSettingsPatch, Tier,
};
use switchboard::server::clock::ManualClock;
use switchboard::server::events::sweep_once;
use switchboard::server::mailer::{SmtpSettings, SmtpTls};
use switchboard::server::ServerSettings;
use switchboard::store::{MailJob, MailQuota, OutboxMessage};
use uuid::Uuid;

use crate::common::{lead, spawn_with_clock, TestApp};
use crate::email::tenant_with_manager;
use crate::receivers::{free_addr, SmtpReceiver};

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

/// Waits until `tenant`'s outbox holds exactly `pending` unsent messages.
async fn wait_pending(app: &TestApp, tenant: Uuid, pending: usize) -> Vec<OutboxMessage> {
    let deadline = Instant::now() + StdDuration::from_secs(10);
    loop {
        let outbox = app.store.pending_outbox(tenant).await.unwrap();
        if outbox.len() == pending && outbox.iter().all(|m| m.last_error.is_some()) {
            return outbox;
        }
        assert!(Instant::now() < deadline, "outbox stays {outbox:?}");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

/// Mail flooding: every lead a stranger posts, and every SLA it misses,
/// made the platform send an email, without limit, from its own address.
/// A tenant's daily quota caps what goes out; the rest waits, with the
/// reason on the message and in the audit log, until the next UTC day;
/// another tenant's mail is not held back.
#[tokio::test]
async fn api4_a_tenant_cannot_make_the_platform_send_more_than_its_daily_email_quota() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let smtp_addr = free_addr().await;
    let receiver = SmtpReceiver::start(smtp_addr).await;
    let settings = ServerSettings {
        outbound_interval: StdDuration::from_millis(20),
        email_daily_quota_per_tenant: 2,
        smtp: Some(SmtpSettings {
            host: smtp_addr.ip().to_string(),
            port: smtp_addr.port(),
            from: "Switchboard <alerts@switchboard.test>".into(),
            username: None,
            password: None,
            tls: SmtpTls::None,
            ca_file: None,
            timeout: StdDuration::from_secs(5),
        }),
        ..ServerSettings::default()
    };
    let app = spawn_with_clock(settings, clock.clone()).await;
    let flooder = tenant_with_manager(&app).await;
    let other = app
        .admin
        .create_tenant(&NewTenant {
            name: "Oak Shop".into(),
            tier: Some(Tier::Pro),
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(4),
                manager_email: Some("boss@oak.test".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let key = app.ingest_key("open-arms").await;
    for n in 0..5 {
        let name = format!("Stranger {n}");
        app.anon()
            .ingest_lead(&key, &lead(&name), None)
            .await
            .unwrap();
    }
    app.admin
        .create_lead("oak-shop", &lead("Ana"))
        .await
        .unwrap();

    // Five breaches in one tenant, one in the other.
    clock.advance(Duration::hours(5));
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 6);
    let mails = receiver.wait_for(3).await;
    let deferred = wait_pending(&app, flooder, 3).await;
    tokio::time::sleep(StdDuration::from_millis(150)).await;
    let mails_now = receiver.mails();
    assert_eq!(mails_now.len(), 3, "{mails_now:?}");
    let to_flooder = mails
        .iter()
        .filter(|m| m.to == ["<boss@openarms.test>"])
        .count();
    assert_eq!(to_flooder, 2, "the quota");
    assert!(
        mails.iter().any(|m| m.to == ["<boss@oak.test>"]),
        "another tenant's mail is held back"
    );
    assert!(app.store.pending_outbox(other.id).await.unwrap().is_empty());
    for m in &deferred {
        let why = m.last_error.as_deref().unwrap_or_default();
        assert!(why.contains("daily quota of 2 emails"), "{why}");
        assert!(why.contains("2026-03-03T00:00:00Z"), "{why}");
        assert_eq!(m.attempts, 0, "not a failed attempt");
    }
    let audit = app
        .admin
        .audit("open-arms", &AuditFilter::default(), &PageQuery::default())
        .await
        .unwrap();
    let deferrals = audit
        .items
        .iter()
        .filter(|e| e.action == "email.deferred")
        .count();
    assert!(deferrals >= 3, "{:?}", audit.items);

    // Later the same day: still nothing.
    clock.advance(Duration::hours(9));
    tokio::time::sleep(StdDuration::from_millis(150)).await;
    assert_eq!(receiver.mails().len(), 3);

    // The next UTC day: the quota is new; two more go, one waits again.
    clock.advance(Duration::hours(1));
    receiver.wait_for(5).await;
    wait_pending(&app, flooder, 1).await;
    tokio::time::sleep(StdDuration::from_millis(150)).await;
    assert_eq!(receiver.mails().len(), 5);
}

/// The quota is counted in the store, atomically: servers sharing one
/// PostgreSQL (here, many mailers at once) never take more than it.
#[tokio::test]
async fn api4_concurrent_mailers_never_take_more_than_the_daily_email_quota() {
    let app = spawn_with_clock(
        ServerSettings::default(),
        Arc::new(ManualClock::new(Utc::now())),
    )
    .await;
    let tenant = tenant_with_manager(&app).await;
    let quota = MailQuota::on(5, Utc::now());
    let takes = (0..24).map(|_| {
        let store = app.store.clone();
        let job = MailJob {
            tenant_id: tenant,
            id: Uuid::now_v7(),
            recipient: "boss@openarms.test".into(),
            subject: "s".into(),
            body: "b".into(),
            attempts: 0,
        };
        tokio::spawn(async move { store.take_mail_quota(&job, quota).await.unwrap() })
    });
    let taken = futures::future::join_all(takes)
        .await
        .into_iter()
        .filter(|t| *t.as_ref().unwrap())
        .count();
    assert_eq!(taken, 5);
}
