//! The notification centre: what it records, the history kept on disk
//! across restarts (through the real file code), the jump to a lead of any
//! tenant, and clearing it.

use super::views::command;
use super::*;
use switchboard::console::notifications::history::{HistoryStore, SavedHistory};
use switchboard::console::widgets::toast::Toast;
use switchboard::domain::{Lead, ServerEvent};

fn event(id: i64, kind: &str, data: serde_json::Value) -> ServerEvent {
    ServerEvent {
        id,
        kind: kind.into(),
        data,
    }
}

fn webhook_disabled(n: u128, url: &str) -> ServerEvent {
    event(
        n as i64,
        "webhook.disabled",
        serde_json::json!({
            "webhook_id": Uuid::from_u128(n),
            "url": url,
            "consecutive_failures": 20,
            "reason": "disabled after 20 failed attempts in a row since 2026-03-01T11:00:00Z",
        }),
    )
}

/// Does what the runtime does with the history effects, with the real
/// file code; returns the other effects.
fn perform(app: &mut App, store: &HistoryStore, effects: Vec<Effect>) -> Vec<Effect> {
    let mut rest = Vec::new();
    for e in effects {
        match e {
            Effect::LoadNotifications { user } => app.on_history(user, store.load(user)),
            Effect::SaveNotifications { user, history } => store.save(user, &history).unwrap(),
            other => rest.push(other),
        }
    }
    rest
}

/// A console started against `store`: signed in, tenants listed, history read.
fn started(store: &HistoryStore) -> App {
    let mut app = new_app();
    app.now = now();
    let fx = app.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let list_id = id_of(&fx, |r| *r == Request::ListTenants);
    let mut all = vec![platform()];
    all.extend(three_tenants());
    app.on_response(list_id, Response::Tenants(Ok(all)));
    let fx = app.on_response(me_id, Response::Me(Ok(me(true))));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::LoadNotifications { user } if *user == Uuid::from_u128(900))
        ),
        "{fx:?}"
    );
    perform(&mut app, store, fx);
    app
}

fn lead_of(tenant: u128, n: u128, name: &str) -> Lead {
    let mut l = mixed_leads().remove(0);
    l.id = Uuid::from_u128(n);
    l.tenant_id = Uuid::from_u128(tenant);
    l.name = name.into();
    l
}

fn not_found() -> ApiError {
    ApiError::Problem(Problem {
        kind: "/problems/not-found".into(),
        title: "Not found".into(),
        status: 404,
        detail: None,
        errors: vec![],
        retry_after: None,
    })
}

// ---------------------------------------------------------------- recording

#[test]
fn snapshot_notifications_keep_toasts_and_events_and_count_unread() {
    let mut app = loaded();
    app.now = now();
    let tenant = Uuid::from_u128(1);
    press(&mut app, &[key('j'), key('s')]); // "Switched to Beta Co"
    press(&mut app, &[key('k'), key('s')]); // back to Open Arms
    let mut jane = super::mixed_leads().remove(0);
    jane.tenant_id = tenant;
    app.on_event(
        tenant,
        event(1, "lead.created", serde_json::json!({ "lead": jane })),
    );
    app.on_event(
        tenant,
        event(
            2,
            "sla.breached",
            serde_json::json!({ "name": "Bob Stone" }),
        ),
    );
    // Each event once, with the toasts that no event raised.
    assert_eq!(app.notifications.items().len(), 4);
    assert_eq!(app.notifications.unread(), 4);
    assert!(render(&app, 100, 24).contains("✉ 4"));
    let fx = command(&mut app, "notifications");
    assert!(fx.is_empty());
    assert_eq!(app.notifications.unread(), 0);
    app.toasts.clear();
    let screen = render(&app, 80, 24);
    for text in [
        "SLA breached: Bob Stone",
        "New lead: Jane Doe",
        "Switched to Beta Co",
        "c clear all",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_webhook_disabled_raises_an_error_toast_and_says_what_to_do() {
    let mut app = loaded();
    app.now = now();
    let tenant = Uuid::from_u128(1);
    app.on_event(
        tenant,
        webhook_disabled(71, "https://hooks.example.com/sb?token=s3cret"),
    );
    let toast = app.toasts.last().cloned().expect("a toast");
    assert_eq!(toast.kind, ToastKind::Error);
    assert!(toast.text.contains("hooks.example.com"), "{}", toast.text);
    assert!(toast.text.contains("re-enable"), "{}", toast.text);
    assert_eq!(toast.ttl, None, "stays until dismissed");
    // The URL's path and query (a token, maybe) are never shown.
    let n = &app.notifications.items()[0];
    assert_eq!(n.kind, ToastKind::Error);
    assert!(!n.text.contains("s3cret") && !toast.text.contains("s3cret"));
    // It points to the webhooks screen, not to an HTTP call to type.
    assert!(
        n.text.contains(":tenant open-arms, then :webhooks"),
        "{}",
        n.text
    );
    assert!(toast.text.contains(":webhooks"), "{}", toast.text);
    assert!(!n.text.contains("PATCH"), "{}", n.text);
    assert_eq!(app.notifications.items().len(), 1, "the toast is the event");

    // A second endpoint going down joins the same toast, not a new one.
    app.on_event(tenant, webhook_disabled(72, "http://10.0.0.5:9000/in"));
    let grouped: Vec<_> = app
        .toasts
        .iter()
        .filter(|t| t.text.contains("webhook"))
        .collect();
    assert_eq!(grouped.len(), 1, "{:?}", app.toasts);
    assert!(grouped[0]
        .text
        .starts_with("2 webhook endpoints disabled (latest: 10.0.0.5:9000)"));
    assert_eq!(app.notifications.items().len(), 2);

    press(&mut app, &[ctrl('n'), key('j')]);
    app.toasts.clear();
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Webhook to hooks.example.com disabled after 20 failed"),
        "{screen}"
    );
    assert!(screen.contains("Open Arms"), "{screen}");
    insta::assert_snapshot!(screen);
}

// ---------------------------------------------------------------- on disk

#[test]
fn the_history_survives_a_restart_with_what_was_unread() {
    let dir = tempfile::tempdir().unwrap();
    let store = HistoryStore::new(dir.path(), "http://127.0.0.1:7070");
    let tenant = Uuid::from_u128(1);

    let mut app = started(&store);
    assert!(app.notifications.items().is_empty());
    let jane = lead_of(1, 11, "Jane Doe");
    app.on_event(
        tenant,
        event(1, "lead.created", serde_json::json!({ "lead": jane })),
    );
    // Seen: the centre opened and closed.
    press(&mut app, &[ctrl('n'), code(KeyCode::Esc)]);
    app.on_event(
        tenant,
        event(
            2,
            "sla.breached",
            serde_json::json!({ "lead_id": Uuid::from_u128(12), "name": "Bob Stone" }),
        ),
    );
    app.on_event(tenant, webhook_disabled(71, "https://hooks.example.com/x"));
    assert_eq!(app.notifications.unread(), 2);
    // A tick writes what changed; the next one has nothing to write.
    let fx = app.update(Action::Tick);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveNotifications { .. })),
        "{fx:?}"
    );
    perform(&mut app, &store, fx);
    assert!(app
        .update(Action::Tick)
        .iter()
        .all(|e| !matches!(e, Effect::SaveNotifications { .. })));
    let before: Vec<_> = app
        .notifications
        .items()
        .iter()
        .map(|n| (n.at, n.kind, n.text.clone(), n.lead_id, n.tenant_id))
        .collect();
    assert!(std::fs::metadata(store.path(Uuid::from_u128(900))).is_ok());
    // The file holds ids, not leads.
    let text = std::fs::read_to_string(store.path(Uuid::from_u128(900))).unwrap();
    assert!(!text.contains("jane.doe@example.com"), "{text}");

    // A fresh console: what it records before the file is read stays on top.
    let mut again = new_app();
    again.now = now() + chrono::Duration::minutes(5);
    again.toast(Toast::error("config: unknown key"));
    let fx = again.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let fx = again.on_response(me_id, Response::Me(Ok(me(true))));
    perform(&mut again, &store, fx);
    let after: Vec<_> = again
        .notifications
        .items()
        .iter()
        .map(|n| (n.at, n.kind, n.text.clone(), n.lead_id, n.tenant_id))
        .collect();
    assert_eq!(after[0].2, "config: unknown key");
    assert_eq!(after[1..], before[..]);
    assert_eq!(
        again.notifications.unread(),
        3,
        "two unread at quit and the new one"
    );
    assert_eq!(after[2].3, Some(Uuid::from_u128(12)));
    assert_eq!(after[2].4, Some(tenant));
    assert!(render(&again, 100, 24).contains("✉ 3"));
    // Merged, it is unsaved; quitting writes it before the quit.
    let fx = press(&mut again, &[key('q')]);
    assert!(
        matches!(
            &fx[..],
            [Effect::SaveNotifications { history, .. }, Effect::Quit] if history.items.len() == 4 && history.unread == 3
        ),
        "{fx:?}"
    );
}

#[test]
fn a_corrupt_history_file_starts_empty_and_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let store = HistoryStore::new(dir.path(), "embedded");
    let path = store.path(Uuid::from_u128(900));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    for garbage in [
        &b"{\"version\":1,\"unread\":2,\"items\":[{\"at\":"[..],
        b"\xff\xfe not even text",
        b"{\"version\":1,\"unread\":\"many\",\"items\":{}}",
    ] {
        std::fs::write(&path, garbage).unwrap();
        assert_eq!(store.load(Uuid::from_u128(900)), SavedHistory::default());
        let mut app = started(&store);
        assert!(app.notifications.items().is_empty());
        assert_eq!(app.notifications.unread(), 0);
        // The console goes on, and its next save replaces the bad file.
        app.toast(Toast::info("still here"));
        let fx = app.update(Action::Tick);
        perform(&mut app, &store, fx);
        let saved = store.load(Uuid::from_u128(900));
        assert_eq!(saved.items.len(), 1);
        assert_eq!(saved.items[0].text, "still here");
    }
}

#[test]
fn nothing_is_written_before_the_saved_history_is_read() {
    let mut app = loaded();
    app.toast(Toast::info("before the file"));
    // The profile is known but the runtime has not answered yet.
    assert!(app
        .update(Action::Tick)
        .iter()
        .all(|e| !matches!(e, Effect::SaveNotifications { .. })));
    assert_eq!(press(&mut app, &[key('q')]), vec![Effect::Quit]);
}

#[test]
fn history_keeps_at_most_keep_items() {
    use switchboard::console::notifications::KEEP;
    let dir = tempfile::tempdir().unwrap();
    let store = HistoryStore::new(dir.path(), "embedded");
    let mut app = started(&store);
    for i in 0..KEEP + 20 {
        app.toast(Toast::info(format!("toast {i}")));
    }
    let fx = app.update(Action::Tick);
    perform(&mut app, &store, fx);
    let saved = store.load(Uuid::from_u128(900));
    assert_eq!(saved.items.len(), KEEP);
    assert_eq!(saved.items[0].text, format!("toast {}", KEEP + 19));
}

// ---------------------------------------------------------------- jump to the lead

#[test]
fn enter_on_a_notification_opens_its_lead() {
    let mut app = loaded();
    app.now = now();
    let fx = press(&mut app, &[key('2')]);
    let id = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    app.on_response(
        id,
        Response::Leads(Ok(Page {
            items: vec![],
            next_cursor: None,
        })),
    );
    press(&mut app, &[key('1')]);
    let jane = super::mixed_leads().remove(0);
    app.on_event(
        Uuid::from_u128(1),
        event(1, "lead.created", serde_json::json!({ "lead": jane })),
    );
    press(&mut app, &[ctrl('n')]);
    assert!(app.notifications.is_open());
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert_eq!(app.pane, Pane::Leads);
    assert!(!app.notifications.is_open());
    // The copy the event carried shows at once, while a fresh one loads.
    assert_eq!(
        app.leads.detail().map(|d| d.lead.name.as_str()),
        Some("Jane Doe")
    );
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::LoadLead { id, .. } if *id == Uuid::from_u128(11))));
}

/// Open Arms is current; a breach of Beta Co's lead 21 was recorded while
/// Beta Co was. The centre is open on it.
fn breach_of_another_tenant() -> App {
    let mut app = loaded();
    app.now = now();
    press(&mut app, &[key('j'), key('s')]); // Beta Co
    app.on_event(
        Uuid::from_u128(2),
        event(
            5,
            "sla.breached",
            serde_json::json!({ "lead_id": Uuid::from_u128(21), "name": "Carla Ruiz" }),
        ),
    );
    press(&mut app, &[key('k'), key('s')]); // Open Arms
    assert_eq!(app.session.current_tenant, Some(Uuid::from_u128(1)));
    press(&mut app, &[ctrl('n'), key('j')]);
    assert_eq!(
        app.notifications.selected_item().map(|n| n.text.as_str()),
        Some("SLA breached: Carla Ruiz")
    );
    app
}

#[test]
fn enter_on_another_tenants_lead_switches_tenant_fetches_it_and_opens_it() {
    let mut app = breach_of_another_tenant();
    let beta = Uuid::from_u128(2).to_string();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    // The tenant switch, as the Tenants pane makes it: current, toasted.
    assert_eq!(app.session.current_tenant, Some(Uuid::from_u128(2)));
    assert!(app.toasts.iter().any(|t| t.text == "Switched to Beta Co"));
    assert_eq!(app.pane, Pane::Leads);
    let reqs = requests(&fx);
    let lead_req = id_of(
        &fx,
        |r| matches!(r, Request::LoadLead { tenant, id } if *tenant == beta && *id == Uuid::from_u128(21)),
    );
    assert!(reqs
        .iter()
        .any(|(_, r)| matches!(r, Request::ListLeads { tenant, .. } if *tenant == beta)));
    assert!(
        reqs.iter()
            .all(|(_, r)| !matches!(r, Request::ListLeads { tenant, .. } if *tenant != beta)),
        "{reqs:?}"
    );
    // Nothing to show until the lead arrives.
    assert!(app.leads.detail().is_none());
    let list = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    app.on_response(
        list,
        Response::Leads(Ok(Page {
            items: vec![],
            next_cursor: None,
        })),
    );
    let fx = app.on_response(
        lead_req,
        Response::Lead(Box::new(LeadData {
            lead: Ok(lead_of(2, 21, "Carla Ruiz")),
            timeline: Ok(timeline()),
        })),
    );
    let d = app.leads.detail().expect("the detail opened");
    assert_eq!(d.lead.name, "Carla Ruiz");
    assert!(matches!(d.timeline, Load::Loaded(_)));
    // Its workflow state, as when a lead is opened from the list.
    assert!(requests(&fx).iter().any(
        |(_, r)| matches!(r, Request::LeadWorkflows { lead, .. } if *lead == Uuid::from_u128(21))
    ));
    assert!(render(&app, 100, 30).contains("Carla Ruiz"));
}

#[test]
fn a_deleted_lead_says_so_and_its_notification_no_longer_points_at_it() {
    let mut app = breach_of_another_tenant();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadLead { .. }));
    app.on_response(
        id,
        Response::Lead(Box::new(LeadData {
            lead: Err(not_found()),
            timeline: Err(not_found()),
        })),
    );
    assert!(app.leads.detail().is_none());
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "That lead no longer exists"));
    let n = app
        .notifications
        .items()
        .iter()
        .find(|n| n.text == "SLA breached: Carla Ruiz")
        .expect("still listed");
    assert_eq!(n.lead_id, None);
}

#[test]
fn a_lead_of_the_current_tenant_that_is_not_loaded_is_fetched() {
    let mut app = loaded();
    app.now = now();
    app.on_event(
        Uuid::from_u128(1),
        event(
            3,
            "workflow.awaiting_approval",
            serde_json::json!({ "workflow_id": Uuid::from_u128(601), "lead_id": Uuid::from_u128(11), "lead_name": "Jane Doe" }),
        ),
    );
    press(&mut app, &[ctrl('n')]);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert_eq!(app.session.current_tenant, Some(Uuid::from_u128(1)));
    assert!(!app.toasts.iter().any(|t| t.text.starts_with("Switched")));
    let id = id_of(
        &fx,
        |r| matches!(r, Request::LoadLead { id, .. } if *id == Uuid::from_u128(11)),
    );
    // The user goes elsewhere before it arrives: nothing pops up.
    press(&mut app, &[key('3')]);
    app.on_response(
        id,
        Response::Lead(Box::new(LeadData {
            lead: Ok(lead_of(1, 11, "Jane Doe")),
            timeline: Ok(timeline()),
        })),
    );
    assert!(app.leads.detail().is_none());
    assert_eq!(app.pane, Pane::Agents);
}

#[test]
fn a_lead_of_a_tenant_no_longer_listed_is_not_opened() {
    let mut app = breach_of_another_tenant();
    // Beta Co is gone from the tenants this user can see.
    if let Load::Loaded(list) = &mut app.session.tenants {
        list.retain(|t| t.id != Uuid::from_u128(2));
    }
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert!(requests(&fx).is_empty());
    assert_eq!(app.session.current_tenant, Some(Uuid::from_u128(1)));
    assert!(app.notifications.is_open());
    assert!(app.toasts.iter().any(|t| t.kind == ToastKind::Error));
}

// ---------------------------------------------------------------- clearing

#[test]
fn c_clears_the_history_after_confirmation() {
    let mut app = loaded();
    app.now = now();
    app.toast(Toast::info("one"));
    app.toast(Toast::info("two"));
    press(&mut app, &[ctrl('n')]);
    press(&mut app, &[key('c')]);
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    assert!(render(&app, 80, 24).contains("Clear all 2 notifications?"));
    // "no" keeps them.
    press(&mut app, &[key('n')]);
    assert_eq!(app.notifications.items().len(), 2);
    press(&mut app, &[key('c'), key('y')]);
    let texts: Vec<_> = app
        .notifications
        .items()
        .iter()
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(texts, ["Cleared 2 notifications"]);
    assert_eq!(app.notifications.unread(), 0);
    assert!(app.notifications.is_open());
}

#[test]
fn the_clear_key_is_in_the_help_overlay() {
    let app = loaded();
    let lines = app.keymap.help_lines();
    let at = lines
        .iter()
        .position(|l| *l == switchboard::console::keymap::HelpLine::Heading("Notifications"))
        .expect("a Notifications section");
    assert!(lines[at..].iter().any(|l| matches!(
        l,
        switchboard::console::keymap::HelpLine::Key { keys, description } if keys == "c" && *description == "clear all"
    )));
}
