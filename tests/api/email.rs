//! Email alerts: the outbox is sent through SMTP to an in-test receiver that
//! is down at first; the alert arrives once it is up, exactly once, and an
//! unconfigured server keeps the outbox.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, TimeZone, Utc};
use switchboard::domain::{NewTenant, TenantSettingsPatch, Tier};
use switchboard::server::clock::ManualClock;
use switchboard::server::events::sweep_once;
use switchboard::server::mailer::{SmtpSettings, SmtpTls};
use switchboard::server::ServerSettings;
use uuid::Uuid;

use crate::common::{lead, spawn_with_clock, TestApp};
use crate::receivers::{free_addr, SmtpReceiver};

async fn tenant_with_manager(app: &TestApp) -> Uuid {
    app.admin
        .create_tenant(&NewTenant {
            name: "Open Arms".into(),
            tier: Some(Tier::Pro),
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(4),
                manager_email: Some("boss@openarms.test".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

/// Waits until the outbox's only message has `attempts` failed attempts.
async fn wait_attempts(app: &TestApp, tenant: Uuid, attempts: u32) {
    let deadline = Instant::now() + StdDuration::from_secs(10);
    loop {
        let outbox = app.store.pending_outbox(tenant).await.unwrap();
        if outbox.first().is_some_and(|m| m.attempts >= attempts) {
            return;
        }
        assert!(Instant::now() < deadline, "no attempt: {outbox:?}");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_sla_breach_email_arrives_once_the_smtp_server_is_up() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let smtp_addr = free_addr().await;
    let settings = ServerSettings {
        outbound_interval: StdDuration::from_millis(20),
        smtp: Some(SmtpSettings {
            host: smtp_addr.ip().to_string(),
            port: smtp_addr.port(),
            from: "Switchboard <alerts@switchboard.test>".into(),
            username: None,
            password: None,
            tls: SmtpTls::None,
            timeout: StdDuration::from_secs(5),
        }),
        ..ServerSettings::default()
    };
    let app = spawn_with_clock(settings, clock.clone()).await;
    let tenant = tenant_with_manager(&app).await;
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();

    // Past the deadline: the sweep queues the breach mail; SMTP is down.
    clock.advance(Duration::hours(5));
    let r = sweep_once(&app.state).await.unwrap();
    assert_eq!(r.breached, 1);
    wait_attempts(&app, tenant, 1).await;
    let outbox = app.store.pending_outbox(tenant).await.unwrap();
    assert_eq!(outbox.len(), 1, "kept until sent");
    assert!(outbox[0].last_error.is_some());

    // Still down at the first retry.
    clock.advance(Duration::seconds(31));
    wait_attempts(&app, tenant, 2).await;

    let receiver = SmtpReceiver::start(smtp_addr).await;
    // Not due yet (the second retry waits 60 s): nothing is sent.
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    assert!(receiver.mails().is_empty());
    clock.advance(Duration::seconds(61));
    let mails = receiver.wait_for(1).await;
    assert_eq!(mails[0].to, ["<boss@openarms.test>"]);
    assert_eq!(mails[0].from, "<alerts@switchboard.test>");
    assert!(
        mails[0].data.contains("Subject: SLA breached: Jane"),
        "{}",
        mails[0].data
    );

    // Sent exactly once: marked sent, and later looks send nothing more.
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while !app.store.pending_outbox(tenant).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "never marked sent");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    clock.advance(Duration::hours(2));
    tokio::time::sleep(StdDuration::from_millis(150)).await;
    assert_eq!(receiver.mails().len(), 1);
}

#[tokio::test]
async fn without_smtp_the_outbox_keeps_every_message() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let settings = ServerSettings {
        outbound_interval: StdDuration::from_millis(20),
        ..ServerSettings::default()
    };
    let app = spawn_with_clock(settings, clock.clone()).await;
    let tenant = tenant_with_manager(&app).await;
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();
    clock.advance(Duration::hours(5));
    sweep_once(&app.state).await.unwrap();
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    let outbox = app.store.pending_outbox(tenant).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].attempts, 0);
}
