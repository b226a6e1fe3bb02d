//! Webhooks: signed deliveries to an in-test receiver, event filters,
//! retries with backoff driven by a manual clock, replay, disabling after
//! repeated failures, secrets shown once, tenant isolation.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, TimeZone, Utc};
use switchboard::api::Client;
use switchboard::domain::webhook::{self, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use switchboard::domain::{
    DeliveryStatus, LeadPatch, NewWebhook, PageQuery, ProblemKind, RetryPolicy, Role, Tier,
    WebhookDelivery, WebhookPatch,
};
use switchboard::server::clock::ManualClock;
use switchboard::server::ServerSettings;
use uuid::Uuid;

use crate::common::{lead, spawn_with, spawn_with_clock, TestApp};
use crate::receivers::HookReceiver;

pub(crate) fn fast() -> ServerSettings {
    ServerSettings {
        outbound_interval: StdDuration::from_millis(20),
        webhook_timeout: StdDuration::from_secs(5),
        // The receivers here listen on loopback.
        webhook_private_targets: true,
        ..ServerSettings::default()
    }
}

pub(crate) fn hook(url: &str, events: &[&str]) -> NewWebhook {
    NewWebhook {
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        enabled: None,
    }
}

/// Polls the delivery log until `done` holds for its newest delivery.
pub(crate) async fn wait_delivery(
    client: &Client,
    tenant: &str,
    webhook: Uuid,
    done: impl Fn(&WebhookDelivery) -> bool,
) -> WebhookDelivery {
    let deadline = Instant::now() + StdDuration::from_secs(10);
    loop {
        let page = client
            .webhook_deliveries(tenant, webhook, &PageQuery::default())
            .await
            .unwrap();
        if let Some(d) = page.items.first().filter(|d| done(d)) {
            return d.clone();
        }
        assert!(
            Instant::now() < deadline,
            "delivery never got there: {page:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

async fn tenant(app: &TestApp) -> Uuid {
    app.tenant("Open Arms", Tier::Pro).await.id
}

#[tokio::test]
async fn deliveries_are_signed_filtered_and_fast() {
    let app = spawn_with(fast()).await;
    let tenant_id = tenant(&app).await;
    let rx = HookReceiver::start().await;
    let created = app
        .admin
        .create_webhook("open-arms", &hook(&rx.url, &["lead.created"]))
        .await
        .unwrap();
    assert!(created.secret.starts_with("whsec_"));
    assert!(created.webhook.enabled);

    // Five leads, each also updated: only lead.created is subscribed.
    let mut latencies = Vec::new();
    for i in 0..5 {
        let t0 = Instant::now();
        let l = app
            .admin
            .create_lead("open-arms", &lead(&format!("Lead {i}")))
            .await
            .unwrap();
        let seen = rx.wait_for(i + 1).await;
        latencies.push(seen[i].at.duration_since(t0));
        let patch = LeadPatch {
            stage: Some("contacted".into()),
            ..Default::default()
        };
        app.admin
            .update_lead("open-arms", l.id, &patch)
            .await
            .unwrap();
    }
    latencies.sort();
    println!(
        "webhook latency, lead created (API call start) → receiver: p50 {:?}, max {:?} over {}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
        latencies.len()
    );
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    let seen = rx.received();
    assert_eq!(seen.len(), 5, "lead.updated was not subscribed");

    for r in &seen {
        let ts: i64 = r.header(TIMESTAMP_HEADER).parse().unwrap();
        let sig = r.header(SIGNATURE_HEADER);
        assert!(webhook::verify(&created.secret, ts, &r.body, sig), "{sig}");
        assert!(!webhook::verify("whsec_wrong", ts, &r.body, sig));
        let body = r.json();
        assert_eq!(body["type"], "lead.created");
        assert_eq!(body["tenant"], tenant_id.to_string());
        assert_eq!(body["id"], r.header(EVENT_ID_HEADER));
        assert!(r.header(EVENT_ID_HEADER).starts_with("evt_"));
        assert!(body["data"].is_object());
        assert!(body["created_at"].is_string());
    }
    let ids: std::collections::HashSet<&str> =
        seen.iter().map(|r| r.header(EVENT_ID_HEADER)).collect();
    assert_eq!(ids.len(), 5, "event ids are unique per event");

    let d = wait_delivery(&app.admin, "open-arms", created.webhook.id, |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    assert_eq!(d.attempts.len(), 1);
    assert_eq!(d.attempts[0].status_code, Some(200));
    assert_eq!(d.attempts[0].response_excerpt, "thanks");

    // A rotated secret signs what comes next; the old one no longer does.
    let rotated = app
        .admin
        .rotate_webhook_secret("open-arms", created.webhook.id)
        .await
        .unwrap();
    assert_ne!(rotated.secret, created.secret);
    app.admin
        .create_lead("open-arms", &lead("After Rotation"))
        .await
        .unwrap();
    let r = &rx.wait_for(6).await[5];
    let ts: i64 = r.header(TIMESTAMP_HEADER).parse().unwrap();
    assert!(webhook::verify(
        &rotated.secret,
        ts,
        &r.body,
        r.header(SIGNATURE_HEADER)
    ));
    assert!(!webhook::verify(
        &created.secret,
        ts,
        &r.body,
        r.header(SIGNATURE_HEADER)
    ));

    // The secrets never come back: not in lists, gets, nor the audit log.
    let listed =
        serde_json::to_string(&app.admin.list_webhooks("open-arms").await.unwrap()).unwrap();
    let got = serde_json::to_string(
        &app.admin
            .webhook("open-arms", created.webhook.id)
            .await
            .unwrap(),
    )
    .unwrap();
    let audit = serde_json::to_string(
        &app.admin
            .list_audit("open-arms", &PageQuery::default())
            .await
            .unwrap(),
    )
    .unwrap();
    for secret in [&created.secret, &rotated.secret] {
        let tail = &secret[secret.len() - 12..];
        for (what, text) in [("list", &listed), ("get", &got), ("audit", &audit)] {
            assert!(!text.contains(tail), "secret in {what}: {text}");
        }
    }
    assert!(listed.contains("whsec_••••"), "{listed}");
    assert!(audit.contains("webhook.create") && audit.contains("webhook.rotate_secret"));
}

#[tokio::test]
async fn a_receiver_down_then_up_gets_the_event_after_retries_and_replay_resends_it() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let app = spawn_with_clock(fast(), clock.clone()).await;
    tenant(&app).await;
    let rx = HookReceiver::start().await;
    rx.answer(500);
    let w = app
        .admin
        .create_webhook("open-arms", &hook(&rx.url, &["lead.*"]))
        .await
        .unwrap()
        .webhook;
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();

    let d = wait_delivery(&app.admin, "open-arms", w.id, |d| d.attempt_count == 1).await;
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.attempts[0].status_code, Some(500));
    assert_eq!(d.attempts[0].response_excerpt.len(), 500, "excerpt capped");
    assert_eq!(
        d.next_attempt_at,
        Some(clock_now(&clock) + Duration::seconds(30))
    );

    // Not due yet: nothing more is sent.
    clock.advance(Duration::seconds(20));
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    assert_eq!(rx.received().len(), 1);

    clock.advance(Duration::seconds(11));
    let d = wait_delivery(&app.admin, "open-arms", w.id, |d| d.attempt_count == 2).await;
    assert_eq!(
        d.next_attempt_at,
        Some(clock_now(&clock) + Duration::seconds(60))
    );

    rx.answer(200);
    clock.advance(Duration::seconds(61));
    let d = wait_delivery(&app.admin, "open-arms", w.id, |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    assert_eq!(d.attempts.len(), 3);
    let codes: Vec<Option<u16>> = d.attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(500), Some(500), Some(200)]);
    let seen = rx.received();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|r| r.header(EVENT_ID_HEADER) == d.event_id));
    assert_eq!(d.event_type, "lead.created");

    // Replay sends the same event again, with the same id.
    let replayed = app
        .admin
        .replay_webhook_delivery("open-arms", w.id, d.id)
        .await
        .unwrap();
    assert_eq!(replayed.event_id, d.event_id);
    let seen = rx.wait_for(4).await;
    assert_eq!(seen[3].header(EVENT_ID_HEADER), d.event_id);
    assert_eq!(seen[3].json()["id"], seen[0].json()["id"]);
    let d = wait_delivery(&app.admin, "open-arms", w.id, |d| {
        d.status == DeliveryStatus::Delivered && d.attempts.len() == 4
    })
    .await;
    assert_eq!(d.attempt_count, 4);

    // A replay of a delivery of another endpoint (or none) is a 404.
    let err = app
        .admin
        .replay_webhook_delivery("open-arms", w.id, Uuid::now_v7())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<Utc> {
    use switchboard::server::clock::Clock;
    clock.now()
}

#[tokio::test]
async fn an_endpoint_failing_for_long_is_disabled_with_an_event() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let settings = ServerSettings {
        outbound_retry: RetryPolicy {
            disable_after_failures: 3,
            disable_after: Duration::seconds(60),
            ..RetryPolicy::default()
        },
        ..fast()
    };
    let app = spawn_with_clock(settings, clock.clone()).await;
    let tenant_id = tenant(&app).await;
    // Refused connections: nothing listens there.
    let dead = format!("http://{}/hook", crate::receivers::free_addr().await);
    let w = app
        .admin
        .create_webhook("open-arms", &hook(&dead, &["*"]))
        .await
        .unwrap()
        .webhook;
    // A second endpoint hears about it.
    let rx = HookReceiver::start().await;
    app.admin
        .create_webhook("open-arms", &hook(&rx.url, &["webhook.disabled"]))
        .await
        .unwrap();
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();

    let d = wait_delivery(&app.admin, "open-arms", w.id, |d| d.attempt_count == 1).await;
    assert!(d.attempts[0].status_code.is_none());
    assert!(d.attempts[0]
        .error
        .as_deref()
        .unwrap_or("")
        .contains("connection"));
    clock.advance(Duration::seconds(30));
    wait_delivery(&app.admin, "open-arms", w.id, |d| d.attempt_count == 2).await;
    assert!(app.admin.webhook("open-arms", w.id).await.unwrap().enabled);
    clock.advance(Duration::seconds(60));
    wait_delivery(&app.admin, "open-arms", w.id, |d| d.attempt_count == 3).await;

    let after = app.admin.webhook("open-arms", w.id).await.unwrap();
    assert!(!after.enabled, "three failures over 90 s disable it");
    assert_eq!(after.consecutive_failures, 3);
    assert!(after
        .disabled_reason
        .as_deref()
        .unwrap()
        .contains("3 failed attempts"));
    let events = app.store.events_after(tenant_id, 0, 100).await.unwrap();
    let disabled: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "webhook.disabled")
        .collect();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].data["webhook_id"], w.id.to_string());
    let seen = rx.wait_for(1).await;
    assert_eq!(seen[0].json()["type"], "webhook.disabled");

    // Disabled: no more attempts, and replay says why.
    clock.advance(Duration::hours(2));
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    let d = wait_delivery(&app.admin, "open-arms", w.id, |_| true).await;
    assert_eq!(d.attempt_count, 3);
    let err = app
        .admin
        .replay_webhook_delivery("open-arms", w.id, d.id)
        .await
        .unwrap_err();
    assert!(err.is(ProblemKind::Conflict), "{err}");
    // Re-enabling clears the run and retries the pending delivery.
    let patch = WebhookPatch {
        enabled: Some(true),
        ..Default::default()
    };
    let on = app
        .admin
        .update_webhook("open-arms", w.id, &patch)
        .await
        .unwrap();
    assert!(on.enabled && on.disabled_reason.is_none() && on.consecutive_failures == 0);
    wait_delivery(&app.admin, "open-arms", w.id, |d| d.attempt_count == 4).await;
}

#[tokio::test]
async fn webhooks_are_validated_permissioned_and_isolated() {
    let app = spawn_with(fast()).await;
    tenant(&app).await;
    app.tenant("Beta", Tier::Pro).await;
    let w = app
        .admin
        .create_webhook(
            "open-arms",
            &hook("https://example.test/in", &["sla.breached"]),
        )
        .await
        .unwrap()
        .webhook;

    for bad in [
        hook("ftp://example.test", &["*"]),
        hook("https://example.test", &[]),
        hook("https://example.test", &["lead.bogus"]),
        hook("https://user:pw@example.test", &["*"]),
    ] {
        let err = app
            .admin
            .create_webhook("open-arms", &bad)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422), "{bad:?}: {err}");
    }

    let open_arms = app.admin.tenant("open-arms").await.unwrap();
    let (_, manager) = app
        .member(&open_arms, "manager@openarms.test", Role::Manager)
        .await;
    let err = manager.list_webhooks("open-arms").await.unwrap_err();
    assert_eq!(err.status(), Some(403));

    let beta = app.admin.tenant("beta").await.unwrap();
    let (_, other) = app.member(&beta, "admin@beta.test", Role::Admin).await;
    assert!(other.list_webhooks("beta").await.unwrap().is_empty());
    let statuses = [
        other
            .webhook("open-arms", w.id)
            .await
            .err()
            .and_then(|e| e.status()),
        other
            .webhook("beta", w.id)
            .await
            .err()
            .and_then(|e| e.status()),
        other
            .update_webhook("beta", w.id, &WebhookPatch::default())
            .await
            .err()
            .and_then(|e| e.status()),
        other
            .delete_webhook("beta", w.id)
            .await
            .err()
            .and_then(|e| e.status()),
        other
            .rotate_webhook_secret("beta", w.id)
            .await
            .err()
            .and_then(|e| e.status()),
        other
            .webhook_deliveries("beta", w.id, &PageQuery::default())
            .await
            .err()
            .and_then(|e| e.status()),
    ];
    assert_eq!(statuses, [Some(404); 6]);

    let patch = WebhookPatch {
        events: Some(vec!["sla.*".into(), "lead.qualified".into()]),
        ..Default::default()
    };
    let changed = app
        .admin
        .update_webhook("open-arms", w.id, &patch)
        .await
        .unwrap();
    assert_eq!(changed.events, ["lead.qualified", "sla.*"]);
    app.admin.delete_webhook("open-arms", w.id).await.unwrap();
    let err = app.admin.webhook("open-arms", w.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn a_team_server_refuses_loopback_and_private_receivers() {
    // The default for `serve`: no private targets.
    let settings = ServerSettings {
        outbound_interval: StdDuration::from_millis(20),
        ..ServerSettings::default()
    };
    let app = spawn_with(settings).await;
    let tenant_id = tenant(&app).await;
    let rx = HookReceiver::start().await;
    for url in [
        rx.url.as_str(),
        "http://localhost:8080/hook",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let err = app
            .admin
            .create_webhook("open-arms", &hook(url, &["lead.created"]))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422), "{url}");
        assert!(
            err.message().contains("loopback or private"),
            "{url}: {}",
            err.message()
        );
    }
    // One stored while they were allowed is refused at delivery, unsent.
    let row = switchboard::store::WebhookRow {
        url: rx.url.clone(),
        events: vec!["lead.created".into()],
        enabled: true,
        secret: switchboard::domain::secret::generate("whsec_"),
    };
    let actor = switchboard::store::Actor::system();
    let w = app
        .store
        .create_webhook(&actor, tenant_id, row, Utc::now())
        .await
        .unwrap();
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();
    let d = wait_delivery(&app.admin, "open-arms", w.id, |d| d.attempt_count == 1).await;
    let error = d.attempts[0].error.clone().unwrap_or_default();
    assert!(error.contains("refused"), "{error}");
    assert!(
        rx.received().is_empty(),
        "nothing reached the loopback receiver"
    );
}

/// What the console's webhooks screen needs beyond the endpoints' CRUD: a
/// test event for one endpoint, each endpoint's last delivery, one
/// delivery with the body it sends, and every attempt live on the
/// tenant's event stream (never delivered to the endpoints themselves).
#[tokio::test]
async fn a_test_event_reaches_one_endpoint_and_each_attempt_is_streamed_live() {
    let app = spawn_with(fast()).await;
    tenant(&app).await;
    let (one, everything) = (HookReceiver::start().await, HookReceiver::start().await);
    let w = app
        .admin
        .create_webhook("open-arms", &hook(&one.url, &["lead.created"]))
        .await
        .unwrap()
        .webhook;
    assert_eq!(w.last_delivery_status, None);
    let all = app
        .admin
        .create_webhook("open-arms", &hook(&everything.url, &["*"]))
        .await
        .unwrap()
        .webhook;
    let mut live = app.admin.events("open-arms", None).await.unwrap();

    let queued = app.admin.test_webhook("open-arms", w.id).await.unwrap();
    assert_eq!(queued.event_type, webhook::TEST_EVENT);
    assert_eq!(queued.status, DeliveryStatus::Pending);
    let seen = one.wait_for(1).await;
    let body = seen[0].json();
    assert_eq!(body["type"], "webhook.test");
    assert_eq!(body["data"]["webhook"]["id"], w.id.to_string());
    assert_eq!(seen[0].header(EVENT_ID_HEADER), queued.event_id);
    let d = wait_delivery(&app.admin, "open-arms", w.id, |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    assert_eq!(d.id, queued.id);

    // The attempt, live: the delivery after it and the attempt itself.
    let ev = tokio::time::timeout(StdDuration::from_secs(10), async {
        while let Some(Ok(ev)) = live.next().await {
            if ev.kind == webhook::DELIVERY_EVENT {
                return ev;
            }
        }
        panic!("the stream ended");
    })
    .await
    .expect("a webhook.delivery event");
    let streamed: WebhookDelivery = serde_json::from_value(ev.data["delivery"].clone()).unwrap();
    assert_eq!(streamed.id, d.id);
    assert_eq!(streamed.status, DeliveryStatus::Delivered);
    assert_eq!(streamed.attempt_count, 1);
    assert_eq!(ev.data["attempt"]["status_code"], 200);

    // Neither the test event nor the live one reached the `*` endpoint.
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert!(
        everything.received().is_empty(),
        "{:?}",
        everything.received().len()
    );
    let page = app
        .admin
        .webhook_deliveries("open-arms", all.id, &PageQuery::default())
        .await
        .unwrap();
    assert!(page.items.is_empty(), "{page:?}");

    // The list says how each endpoint's last delivery went.
    let listed = app.admin.list_webhooks("open-arms").await.unwrap();
    let mine = listed.iter().find(|h| h.id == w.id).unwrap();
    assert_eq!(mine.last_delivery_status, Some(DeliveryStatus::Delivered));
    assert!(mine.last_delivery_at.is_some());
    let other = listed.iter().find(|h| h.id == all.id).unwrap();
    assert_eq!(other.last_delivery_status, None);

    // One delivery: every attempt and the body each sent.
    let detail = app
        .admin
        .webhook_delivery("open-arms", w.id, d.id)
        .await
        .unwrap();
    assert_eq!(detail.delivery.attempts.len(), 1);
    assert_eq!(detail.payload.id, d.event_id);
    assert_eq!(detail.payload.kind, "webhook.test");
    assert_eq!(serde_json::to_value(&detail.payload).unwrap(), body);
    for (hook, delivery) in [(w.id, Uuid::now_v7()), (all.id, d.id)] {
        let err = app
            .admin
            .webhook_delivery("open-arms", hook, delivery)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(404));
    }

    // A disabled endpoint is not tested; the audit log says who tested.
    let patch = WebhookPatch {
        enabled: Some(false),
        ..Default::default()
    };
    app.admin
        .update_webhook("open-arms", w.id, &patch)
        .await
        .unwrap();
    let err = app.admin.test_webhook("open-arms", w.id).await.unwrap_err();
    assert_eq!(err.status(), Some(409));
    let err = app
        .admin
        .test_webhook("open-arms", Uuid::now_v7())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let open_arms = app.admin.tenant("open-arms").await.unwrap();
    let (_, manager) = app
        .member(&open_arms, "manager@openarms.test", Role::Manager)
        .await;
    let err = manager.test_webhook("open-arms", all.id).await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    let audit = app
        .admin
        .audit("open-arms", &Default::default(), &PageQuery::default())
        .await
        .unwrap();
    assert!(audit.items.iter().any(|e| e.action == "webhook.test"));
}
