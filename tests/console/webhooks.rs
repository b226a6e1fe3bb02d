//! The webhooks screen and `:ctx`: the endpoints, one's deliveries (a row
//! updating live from a `webhook.delivery` event), the create form with
//! its event picker, the secret shown once with an OSC 52 copy, confirms,
//! and switching context from the command line.

use super::views::command;
use super::*;
use chrono::Duration;
use switchboard::console::webhooks::{WebhookRequest, WebhookResponse};
use switchboard::domain::{
    DeliveryStatus, ServerEvent, Webhook, WebhookAttempt, WebhookDelivery, WebhookWithSecret,
};

fn hook(n: u128, url: &str, events: &[&str], enabled: bool) -> Webhook {
    let at = now() - Duration::days(3);
    Webhook {
        id: Uuid::from_u128(n),
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        enabled,
        secret_hint: "whsec_••••a1b2".into(),
        disabled_reason: (!enabled)
            .then(|| "20 failed attempts in a row since 2026-03-01 09:00 UTC".into()),
        consecutive_failures: if enabled { 0 } else { 20 },
        failing_since: None,
        created_by: None,
        created_at: at,
        updated_at: at,
        last_delivery_status: Some(if enabled {
            DeliveryStatus::Delivered
        } else {
            DeliveryStatus::Failed
        }),
        last_delivery_at: Some(now() - Duration::minutes(4)),
    }
}

fn hooks() -> Vec<Webhook> {
    vec![
        hook(
            71,
            "https://hooks.example.com/sb?token=s3cret",
            &["lead.*", "sla.breached"],
            true,
        ),
        hook(72, "http://10.0.0.5:9000/in", &["*"], false),
    ]
}

fn attempt(minutes_ago: i64, code: Option<u16>, body: &str) -> WebhookAttempt {
    WebhookAttempt {
        at: now() - Duration::minutes(minutes_ago),
        status_code: code,
        error: code.is_none().then(|| "connection refused".into()),
        latency_ms: 42,
        response_excerpt: body.into(),
    }
}

fn delivery(seq: i64, status: DeliveryStatus, attempts: Vec<WebhookAttempt>) -> WebhookDelivery {
    WebhookDelivery {
        id: Uuid::from_u128(500 + seq as u128),
        webhook_id: Uuid::from_u128(71),
        event_id: format!("evt_{}_{seq}", Uuid::from_u128(1).simple()),
        event_seq: seq,
        event_type: if seq == 3 {
            "webhook.test"
        } else {
            "lead.created"
        }
        .into(),
        status,
        attempt_count: attempts.len() as u32,
        next_attempt_at: (status == DeliveryStatus::Pending).then(|| now() + Duration::minutes(2)),
        created_at: now() - Duration::minutes(10 - seq),
        delivered_at: None,
        attempts,
    }
}

fn deliveries() -> Vec<WebhookDelivery> {
    vec![
        delivery(
            3,
            DeliveryStatus::Delivered,
            vec![attempt(1, Some(200), "ok")],
        ),
        delivery(
            2,
            DeliveryStatus::Pending,
            vec![attempt(5, Some(503), "upstream down"), attempt(4, None, "")],
        ),
        delivery(
            1,
            DeliveryStatus::Failed,
            vec![attempt(9, Some(500), "boom")],
        ),
    ]
}

/// The webhooks request among `fx`, and its id.
fn webhook_request(fx: &[Effect]) -> (RequestId, WebhookRequest) {
    requests(fx)
        .into_iter()
        .find_map(|(id, r)| match r {
            Request::Webhook(w) => Some((id, w)),
            _ => None,
        })
        .expect("a webhooks request")
}

fn answer(app: &mut App, fx: &[Effect], r: WebhookResponse) -> Vec<Effect> {
    let (id, _) = webhook_request(fx);
    app.on_response(id, Response::Webhook(r))
}

/// `:webhooks` on Open Arms, its endpoints loaded.
fn webhooks_open() -> App {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "webhooks");
    let (_, req) = webhook_request(&fx);
    assert_eq!(
        req,
        WebhookRequest::List {
            tenant: Uuid::from_u128(1).to_string()
        }
    );
    answer(&mut app, &fx, WebhookResponse::List(Ok(hooks())));
    app.toasts.clear();
    app
}

/// The first endpoint's deliveries, open.
fn deliveries_open() -> App {
    let mut app = webhooks_open();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (_, req) = webhook_request(&fx);
    assert!(
        matches!(req, WebhookRequest::Deliveries { cursor: None, .. }),
        "{req:?}"
    );
    answer(
        &mut app,
        &fx,
        WebhookResponse::Deliveries(Ok(Page {
            items: deliveries(),
            next_cursor: None,
        })),
    );
    app
}

#[test]
fn snapshot_webhooks_list() {
    let mut app = webhooks_open();
    // The disabled one: why, and how to start it again, underneath.
    press(&mut app, &[key('j')]);
    let screen = render(&app, 80, 24);
    for text in [
        "Webhooks (2)",
        "hooks.example.com",
        "10.0.0.5:9000",
        "disabled",
        "delivered",
        "Disabled: 20 failed",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    // The URL's path and query (a token, maybe) stay off the table.
    assert!(!screen.contains("s3cret"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_webhook_deliveries_and_a_row_updated_live() {
    let mut app = deliveries_open();
    press(&mut app, &[key('j')]);
    let screen = render(&app, 80, 24);
    for text in [
        "Deliveries (3)",
        "webhook.test",
        "pending",
        "in 2m",
        "failed",
        "503",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);

    // The pending delivery's next attempt succeeds: its row says so at once.
    let mut after = deliveries()[1].clone();
    after.status = DeliveryStatus::Delivered;
    after.attempt_count = 3;
    after.next_attempt_at = None;
    after.attempts.clear();
    let ev = ServerEvent {
        id: 99,
        kind: "webhook.delivery".into(),
        data: serde_json::json!({
            "delivery": after,
            "attempt": attempt(0, Some(204), "accepted"),
        }),
    };
    app.on_event(Uuid::from_u128(1), ev);
    assert!(app.dirty);
    let screen = render(&app, 80, 24);
    let row = screen
        .lines()
        .find(|l| l.contains("lead.created") && l.contains('›'))
        .unwrap_or_else(|| panic!("no selected row:\n{screen}"));
    assert!(row.contains("delivered") && row.contains(" 3 "), "{row}");
    assert!(screen.contains("204"), "{screen}");
    // Not news: the notification centre stays quiet.
    assert!(app.notifications.items().is_empty());
    insta::assert_snapshot!("webhook_deliveries_after_a_live_attempt", screen);
}

#[test]
fn a_delivery_opens_with_its_body_and_replays() {
    let mut app = deliveries_open();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (_, req) = webhook_request(&fx);
    assert!(matches!(req, WebhookRequest::Delivery { .. }), "{req:?}");
    let d = deliveries()[0].clone();
    let payload = switchboard::domain::WebhookPayload {
        id: d.event_id.clone(),
        kind: d.event_type.clone(),
        created_at: d.created_at,
        tenant: Uuid::from_u128(1),
        data: serde_json::json!({"message": "a test event sent from Switchboard"}),
    };
    answer(
        &mut app,
        &fx,
        WebhookResponse::Delivery(Ok(switchboard::domain::WebhookDeliveryDetail {
            delivery: d.clone(),
            payload,
        })),
    );
    let screen = render(&app, 80, 24);
    for text in [
        "Request body",
        "a test event sent from Switchboard",
        "Attempts",
        "200",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    let fx = press(&mut app, &[key('p')]);
    let (_, req) = webhook_request(&fx);
    assert_eq!(
        req,
        WebhookRequest::Replay {
            tenant: Uuid::from_u128(1).to_string(),
            id: Uuid::from_u128(71),
            delivery: d.id,
        }
    );
}

#[test]
fn snapshot_webhook_create_form_then_the_secret_once_with_a_copy() {
    let mut app = webhooks_open();
    press(&mut app, &[key('n')]);
    typed(&mut app, "https://crm.example.org/in");
    // Down to "*" then "lead.*": picked with space.
    press(
        &mut app,
        &[code(KeyCode::Down), code(KeyCode::Down), key(' ')],
    );
    let screen = render(&app, 80, 24);
    for text in [
        "New webhook",
        "https://crm.example.org/in",
        "[x] lead.*",
        "[x] lead.created",
        "[ ] workflow.failed",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);

    let fx = press(&mut app, &[ctrl('s')]);
    let (_, req) = webhook_request(&fx);
    let WebhookRequest::Create { new, .. } = req else {
        panic!("{req:?}");
    };
    assert_eq!(new.url, "https://crm.example.org/in");
    assert_eq!(new.events, ["lead.*", "lead.created"]);
    // The server's complaint lands beside the field; the form stays.
    answer(
        &mut app,
        &fx,
        WebhookResponse::Created(Err(validation("url", "points at a private address"))),
    );
    assert!(render(&app, 80, 24).contains("points at a private address"));
    let fx = press(&mut app, &[ctrl('s')]);
    let mut created = hook(73, "https://crm.example.org/in", &["lead.*"], true);
    created.last_delivery_status = None;
    answer(
        &mut app,
        &fx,
        WebhookResponse::Created(Ok(WebhookWithSecret {
            webhook: created,
            secret: "whsec_shown_once_123".into(),
        })),
    );
    assert!(matches!(app.modal, Some(Modal::Secret(_))));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("whsec_shown_once_123"), "{screen}");
    let fx = press(&mut app, &[key('c')]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CopyToClipboard(s) if s == "whsec_shown_once_123")),
        "{fx:?}"
    );
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(app.modal.is_none());
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Webhooks (3)"), "{screen}");
    assert!(
        !screen.contains("whsec_shown_once"),
        "shown once:\n{screen}"
    );
}

#[test]
fn delete_and_rotate_ask_first_test_and_reenable_do_not() {
    let mut app = webhooks_open();
    press(&mut app, &[key('d')]);
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    let fx = press(&mut app, &[key('y')]);
    let (_, req) = webhook_request(&fx);
    assert!(matches!(req, WebhookRequest::Delete { .. }), "{req:?}");
    answer(&mut app, &fx, WebhookResponse::Deleted(Ok(())));
    assert!(render(&app, 80, 24).contains("Webhooks (1)"));

    // The disabled one is left: re-enable it, send it a test, rotate.
    let fx = press(&mut app, &[key('x')]);
    let (_, req) = webhook_request(&fx);
    let WebhookRequest::Update { patch, .. } = req else {
        panic!("{req:?}");
    };
    assert_eq!(patch.enabled, Some(true));
    let fx = press(&mut app, &[key('t')]);
    assert!(matches!(
        webhook_request(&fx).1,
        WebhookRequest::SendTest { .. }
    ));
    press(&mut app, &[key('R')]);
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    let fx = press(&mut app, &[key('y')]);
    assert!(matches!(
        webhook_request(&fx).1,
        WebhookRequest::RotateSecret { .. }
    ));
}

#[test]
fn the_tenant_detail_opens_that_tenants_webhooks() {
    let mut app = loaded();
    // Beta Co's detail: w opens its webhooks, and it becomes current.
    press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let fx = press(&mut app, &[key('w')]);
    let (_, req) = webhook_request(&fx);
    assert_eq!(
        req,
        WebhookRequest::List {
            tenant: Uuid::from_u128(2).to_string()
        }
    );
    assert_eq!(app.session.current_tenant, Some(Uuid::from_u128(2)));
    assert!(app.webhooks.is_open());
    // Back leaves the screen, over the detail it came from.
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(!app.webhooks.is_open());
    assert!(app.tenants.detail().is_some());
}

#[test]
fn snapshot_the_header_shows_the_context_and_ctx_switches_it() {
    let mut app = loaded();
    app.context = Some("staging".into());
    app.context_names = vec!["local".into(), "prod".into(), "staging".into()];
    let screen = render(&app, 80, 24);
    assert!(
        screen.lines().next().unwrap().contains("[staging]"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);

    press(&mut app, &[key(':')]);
    typed(&mut app, "ctx p");
    press(&mut app, &[code(KeyCode::Tab)]);
    assert_eq!(
        app.command.as_ref().map(|c| c.input.as_str()),
        Some("ctx prod")
    );
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SwitchContext(c) if c == "prod")),
        "{fx:?}"
    );
    let fx = command(&mut app, "ctx nowhere");
    assert!(fx.is_empty());
    let err = app.command.as_ref().and_then(|c| c.error.clone()).unwrap();
    assert!(err.contains("no context named \"nowhere\""), "{err}");
    assert!(err.contains("local, prod, staging"), "{err}");
}
