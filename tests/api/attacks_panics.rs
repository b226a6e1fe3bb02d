//! A panic injected into each background job kind of a running server
//! (issue 13): the job records the failure, its worker goes on with the
//! next one, and the server keeps serving (OWASP API4: one bad job must not
//! take every tenant's background work down). The panics come from the
//! test-only `fault-injection` hook, armed on the served `AppState`.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, TimeZone, Utc};
use switchboard::domain::{NewWebhook, PageQuery};
use switchboard::server::clock::ManualClock;
use switchboard::server::dispatch::ATTEMPT_PANICKED;
use switchboard::server::events::sweep_once;
use switchboard::server::mailer::{SmtpSettings, SmtpTls, SEND_PANICKED};
use switchboard::server::supervise::faults::Fault;
use switchboard::server::ServerSettings;

use crate::common::{lead, spawn_with_clock, TestApp};
use crate::email::tenant_with_manager;
use crate::receivers::{free_addr, HookReceiver, SmtpReceiver};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ))
}

async fn healthy(app: &TestApp) {
    let r = reqwest::get(format!("{}/healthz", app.url)).await.unwrap();
    assert!(r.status().is_success());
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + StdDuration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

/// A webhook attempt that panics is a failed attempt on that delivery,
/// retried; the dispatcher goes on and delivers it.
#[tokio::test]
async fn api4_a_panicking_webhook_attempt_is_recorded_and_the_dispatcher_goes_on() {
    let clock = clock();
    let settings = ServerSettings {
        outbound_interval: StdDuration::from_millis(20),
        webhook_private_targets: true,
        ..ServerSettings::default()
    };
    let app = spawn_with_clock(settings, clock.clone()).await;
    tenant_with_manager(&app).await;
    let receiver = HookReceiver::start().await;
    let hook = NewWebhook {
        url: receiver.url.clone(),
        events: vec!["lead.created".into()],
        enabled: None,
    };
    let hook = app.admin.create_webhook("open-arms", &hook).await.unwrap();
    app.state.faults.arm(Fault::WebhookAttempt, 1);
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();

    let page = PageQuery::default();
    let deliveries = || async {
        let p = app
            .admin
            .webhook_deliveries("open-arms", hook.webhook.id, &page);
        p.await.unwrap().items
    };
    eventually("the panicking attempt is recorded", async || {
        deliveries()
            .await
            .first()
            .is_some_and(|d| d.attempt_count == 1)
    })
    .await;
    let d = deliveries().await.remove(0);
    assert_eq!(d.attempts[0].error.as_deref(), Some(ATTEMPT_PANICKED));
    assert!(receiver.received().is_empty());
    assert_eq!(app.state.faults.armed(Fault::WebhookAttempt), 0);
    healthy(&app).await;

    // The retry is due after the first backoff: the same dispatcher sends it.
    clock.advance(Duration::seconds(31));
    receiver.wait_for(1).await;
}

/// An email whose send panics is a failed attempt on that message, retried;
/// the mailer goes on and sends it.
#[tokio::test]
async fn api4_a_panicking_email_send_is_recorded_and_the_mailer_goes_on() {
    let clock = clock();
    let smtp_addr = free_addr().await;
    let receiver = SmtpReceiver::start(smtp_addr).await;
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
    app.state.faults.arm(Fault::Mail, 1);
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();
    clock.advance(Duration::hours(5));
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 1);

    eventually("the panicking send is recorded", async || {
        let outbox = app.store.pending_outbox(tenant).await.unwrap();
        outbox.first().is_some_and(|m| m.attempts == 1)
    })
    .await;
    let outbox = app.store.pending_outbox(tenant).await.unwrap();
    assert_eq!(outbox[0].last_error.as_deref(), Some(SEND_PANICKED));
    assert!(receiver.mails().is_empty());
    healthy(&app).await;

    clock.advance(Duration::seconds(31));
    receiver.wait_for(1).await;
}

/// An SLA sweep that panics is logged; the watcher keeps its schedule and
/// the next sweep emits the alert.
#[tokio::test]
async fn api4_a_panicking_sla_sweep_is_contained_and_the_next_sweep_runs() {
    let clock = clock();
    let settings = ServerSettings {
        sla_interval: StdDuration::from_millis(50),
        ..ServerSettings::default()
    };
    let app = spawn_with_clock(settings, clock.clone()).await;
    let tenant = tenant_with_manager(&app).await;
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();
    app.state.faults.arm(Fault::SlaSweep, 1);
    clock.advance(Duration::hours(5));

    eventually("a sweep panicked", async || {
        app.state.faults.armed(Fault::SlaSweep) == 0
    })
    .await;
    healthy(&app).await;
    eventually("the next sweep emits the breach", async || {
        !app.store.pending_outbox(tenant).await.unwrap().is_empty()
    })
    .await;
}
