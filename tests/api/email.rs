//! Email alerts: the outbox is sent through SMTP to an in-test receiver that
//! is down at first; the alert arrives once it is up, exactly once, and an
//! unconfigured server keeps the outbox. Over STARTTLS and implicit TLS, a
//! relay whose certificate a private CA signed is trusted through `ca_file`;
//! without it the attempt fails, says why, and the message waits.

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
use crate::receivers::{free_addr, SmtpMode, SmtpReceiver, TestCa};

pub(crate) async fn tenant_with_manager(app: &TestApp) -> Uuid {
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
            ca_file: None,
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
        mails[0].data.contains("Subject: SLA breached: \"Jane\""),
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

/// A server whose mailer sends to `addr` with `tls`, trusting `ca_file`,
/// and a tenant whose SLA breach queues one email.
async fn breach_mail_via(
    addr: std::net::SocketAddr,
    tls: SmtpTls,
    ca_file: Option<std::path::PathBuf>,
) -> (TestApp, Uuid) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let settings = ServerSettings {
        outbound_interval: StdDuration::from_millis(20),
        smtp: Some(SmtpSettings {
            // The test CA signed the receiver's certificate for this IP.
            host: "127.0.0.1".into(),
            port: addr.port(),
            from: "Switchboard <alerts@switchboard.test>".into(),
            username: None,
            password: None,
            tls,
            ca_file,
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
    clock.advance(Duration::hours(5));
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 1);
    (app, tenant)
}

/// The test CA's certificate in a file, as `smtp.ca_file` names it.
fn ca_file(ca: &TestCa) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smtp-ca.pem");
    std::fs::write(&path, &ca.ca_pem).unwrap();
    (dir, path)
}

async fn wait_sent(app: &TestApp, tenant: Uuid) {
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while !app.store.pending_outbox(tenant).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "never marked sent");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

async fn delivered_over_tls_with_a_private_ca(tls: SmtpTls) {
    let ca = TestCa::new();
    let (_dir, path) = ca_file(&ca);
    let addr = free_addr().await;
    let mode = match tls {
        SmtpTls::Starttls => SmtpMode::StartTls(ca.acceptor.clone()),
        _ => SmtpMode::Tls(ca.acceptor.clone()),
    };
    let receiver = SmtpReceiver::start_with(addr, mode, StdDuration::ZERO).await;
    let (app, tenant) = breach_mail_via(addr, tls, Some(path)).await;
    let mails = receiver.wait_for(1).await;
    assert!(mails[0].tls, "sent in clear");
    assert_eq!(mails[0].to, ["<boss@openarms.test>"]);
    assert!(
        mails[0].data.contains("Subject: SLA breached: \"Jane\""),
        "{}",
        mails[0].data
    );
    wait_sent(&app, tenant).await;
    assert_eq!(receiver.refused_handshakes(), 0);
}

#[tokio::test]
async fn mail_goes_out_over_starttls_to_a_relay_with_a_private_ca() {
    delivered_over_tls_with_a_private_ca(SmtpTls::Starttls).await;
}

#[tokio::test]
async fn mail_goes_out_over_implicit_tls_to_a_relay_with_a_private_ca() {
    delivered_over_tls_with_a_private_ca(SmtpTls::Tls).await;
}

async fn untrusted_certificate_keeps_the_message(tls: SmtpTls) {
    let ca = TestCa::new();
    let addr = free_addr().await;
    let mode = match tls {
        SmtpTls::Starttls => SmtpMode::StartTls(ca.acceptor.clone()),
        _ => SmtpMode::Tls(ca.acceptor.clone()),
    };
    let receiver = SmtpReceiver::start_with(addr, mode, StdDuration::ZERO).await;
    // No ca_file: the public roots do not include the test CA.
    let (app, tenant) = breach_mail_via(addr, tls, None).await;
    wait_attempts(&app, tenant, 1).await;
    let outbox = app.store.pending_outbox(tenant).await.unwrap();
    assert_eq!(outbox.len(), 1, "kept until sent");
    assert_eq!(outbox[0].attempts, 1);
    let error = outbox[0].last_error.as_deref().unwrap_or_default();
    assert!(error.contains("certificate is not trusted"), "{error}");
    assert!(error.contains("smtp.ca_file"), "{error}");
    assert!(receiver.mails().is_empty());
    receiver.wait_refused(1).await;
}

#[tokio::test]
async fn an_untrusted_starttls_certificate_is_an_attempt_and_the_mail_waits() {
    untrusted_certificate_keeps_the_message(SmtpTls::Starttls).await;
}

#[tokio::test]
async fn an_untrusted_tls_certificate_is_an_attempt_and_the_mail_waits() {
    untrusted_certificate_keeps_the_message(SmtpTls::Tls).await;
}
