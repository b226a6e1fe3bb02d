//! The Leads pane: snapshots and the state machine, with a fixed clock.

use super::*;
use switchboard::console::leads::LeadScope;
use switchboard::console::paging::PREFETCH_ROWS;
use switchboard::domain::{
    Lead, LeadSource, Qualification, ServerEvent, SlaState, TimelineEntry, Utm,
};

/// The fixed clock of every leads test, so countdowns are stable.
pub(super) fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

/// A lead received `age` minutes before `now()` with an 8 h SLA.
pub(super) fn lead(n: u128, name: &str, company: &str, age: i64) -> Lead {
    let created = now() - chrono::Duration::minutes(age);
    Lead {
        id: Uuid::from_u128(n),
        tenant_id: Uuid::from_u128(1),
        name: name.into(),
        email: Some(format!(
            "{}@example.com",
            name.to_lowercase().replace(' ', ".")
        )),
        phone: None,
        company: (!company.is_empty()).then(|| company.to_string()),
        message: "We need a quote for the spring campaign.".into(),
        source: LeadSource::Form,
        source_page: None,
        workspace_id: None,
        utm: Utm::default(),
        fields: serde_json::json!({}),
        stage: "new".into(),
        assignee_id: None,
        spam: false,
        spam_reason: None,
        qualification: None,
        created_at: created,
        updated_at: created,
        sla_due_at: created + chrono::Duration::hours(8),
        sla_at_risk_at: created + chrono::Duration::hours(6),
        first_response_at: None,
        sla: SlaState::OnTrack,
    }
}

/// Overdue, at risk, on track and met, in the server's order.
pub(super) fn mixed_leads() -> Vec<Lead> {
    let overdue = lead(11, "Jane Doe", "Acme", 8 * 60 + 35);
    let at_risk = lead(12, "Bob Stone", "Stone & Co", 7 * 60);
    let mut on_track = lead(13, "Ana Silva", "", 5 * 60 + 46);
    on_track.assignee_id = Some(Uuid::from_u128(7));
    on_track.stage = "contacted".into();
    let mut met = lead(14, "Li Wei", "Wei Ltd", 30);
    met.first_response_at = Some(now() - chrono::Duration::minutes(10));
    vec![overdue, at_risk, on_track, met]
}

fn ana() -> Member {
    Member {
        user_id: Uuid::from_u128(7),
        email: "ana@openarms.org".into(),
        name: "Ana Silva".into(),
        role: Role::Agent,
        joined_at: Utc.with_ymd_and_hms(2025, 2, 3, 0, 0, 0).unwrap(),
        invited_by_tenant: None,
        grants: Default::default(),
    }
}

pub(super) fn timeline() -> Vec<TimelineEntry> {
    let entry = |n: u128, kind: &str, data: serde_json::Value, min: i64| TimelineEntry {
        id: Uuid::from_u128(500 + n),
        lead_id: Uuid::from_u128(11),
        kind: kind.into(),
        actor_id: None,
        actor_email: (kind != "created").then(|| "ana@openarms.org".to_string()),
        data,
        created_at: now() - chrono::Duration::minutes(min),
    };
    vec![
        entry(1, "created", serde_json::json!({"source": "form"}), 515),
        entry(
            2,
            "stage_changed",
            serde_json::json!({"from": "new", "to": "contacted"}),
            300,
        ),
        entry(
            3,
            "note",
            serde_json::json!({"body": "Called, no answer"}),
            200,
        ),
        entry(4, "sla_breached", serde_json::json!({}), 35),
    ]
}

fn page(items: Vec<Lead>, next: Option<&str>) -> Response {
    Response::Leads(Ok(Page {
        items,
        next_cursor: next.map(String::from),
    }))
}

fn server_problem(status: u16, title: &str, detail: &str) -> ApiError {
    ApiError::Problem(Problem {
        kind: "about:blank".into(),
        title: title.into(),
        status,
        detail: Some(detail.into()),
        errors: vec![],
        retry_after: None,
    })
}

/// Opens the Leads pane; returns the first-page request's id.
fn open_leads(app: &mut App) -> RequestId {
    app.now = now();
    let fx = press(app, &[key('2')]);
    if let Some(id) = requests(&fx)
        .into_iter()
        .find(|(_, r)| matches!(r, Request::ListLeadMembers { .. }))
        .map(|(id, _)| id)
    {
        app.on_response(id, Response::LeadMembers(Ok(vec![ana()])));
    }
    id_of(&fx, |r| matches!(r, Request::ListLeads { .. }))
}

pub(super) fn leads_loaded(items: Vec<Lead>, next: Option<&str>) -> App {
    let mut app = loaded();
    let id = open_leads(&mut app);
    app.on_response(id, page(items, next));
    app
}

/// Like [`leads_loaded`], for a member of Open Arms alone.
pub(super) fn one_tenant_leads_loaded(items: Vec<Lead>) -> App {
    let open_arms = three_tenants().remove(0);
    let mut app = loaded_with(false, vec![open_arms]);
    let id = open_leads(&mut app);
    app.on_response(id, page(items, None));
    app
}

fn list_queries(fx: &[Effect]) -> Vec<switchboard::domain::LeadQuery> {
    requests(fx)
        .into_iter()
        .filter_map(|(_, r)| match r {
            Request::ListLeads { query, .. } => Some(query),
            _ => None,
        })
        .collect()
}

fn event(id: i64, kind: &str, data: serde_json::Value) -> ServerEvent {
    ServerEvent {
        id,
        kind: kind.into(),
        data,
    }
}

#[test]
fn snapshot_leads_empty() {
    let app = leads_loaded(vec![], None);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("No leads yet"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_leads_loaded() {
    let app = leads_loaded(mixed_leads(), Some("next"));
    let screen = render(&app, 80, 24);
    for text in ["overdue 35m", "1h 0m", "2h 14m", "met", "—"] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    // Ana Silva is a lead and, by name, the assignee of another.
    assert_eq!(screen.matches("Ana Silva").count(), 2, "{screen}");
    assert!(screen.contains("12/1000 leads"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn sla_column_is_styled_by_state() {
    let mut app = leads_loaded(mixed_leads(), None);
    // Off the rows checked: the selection has its own colours.
    press(&mut app, &[key('j'), key('j')]);
    app.theme = Theme::default();
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| ui::draw(f, &app)).unwrap();
    let buf = term.backend().buffer();
    let fg_of = |needle: &str| {
        let text = buffer_text(buf);
        let (y, line) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(needle))
            .expect("row shown");
        let x = line[..line.find(needle).unwrap()].chars().count() as u16;
        buf[(x, y as u16)].fg
    };
    assert_eq!(fg_of("overdue 35m"), ratatui::style::Color::Red);
    assert_eq!(fg_of("1h 0m"), ratatui::style::Color::Yellow);
}

/// A user with one tenant: `o` is that tenant's overdue queue (with
/// several, it is every tenant's: tests/console/queue.rs).
#[test]
fn snapshot_leads_overdue_queue() {
    let mut app = one_tenant_leads_loaded(mixed_leads());
    let fx = press(&mut app, &[key('o')]);
    assert!(!app.leads.all_tenants());
    assert!(
        !requests(&fx)
            .iter()
            .any(|(_, r)| matches!(r, Request::ListQueue { .. })),
        "{fx:?}"
    );
    let qs = list_queries(&fx);
    assert_eq!(qs.len(), 1);
    assert_eq!(qs[0].sla.as_deref(), Some("overdue"));
    assert_eq!(qs[0].cursor, None);
    let id = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    app.on_response(id, page(vec![mixed_leads().remove(0)], None));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("overdue queue"), "{screen}");
    insta::assert_snapshot!(screen);
    // The same key goes back to every lead.
    let fx = press(&mut app, &[key('o')]);
    assert_eq!(list_queries(&fx)[0].sla, None);
}

#[test]
fn snapshot_lead_detail_with_timeline() {
    let mut app = leads_loaded(mixed_leads(), None);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadLead { .. }));
    let mut jane = mixed_leads().remove(0);
    jane.qualification = Some(Qualification {
        category: "hot".into(),
        reason: "asks for a quote with a budget".into(),
    });
    app.on_response(
        id,
        Response::Lead(Box::new(LeadData {
            lead: Ok(jane),
            timeline: Ok(timeline()),
        })),
    );
    let wf = id_of(&fx, |r| matches!(r, Request::LeadWorkflows { .. }));
    app.on_response(wf, Response::LeadWorkflows(Ok(vec![])));
    let screen = render(&app, 80, 24);
    for text in [
        "Workflow      none (w runs one)",
        "hot — asks for a quote",
        "stage new → contacted",
        "note: Called, no answer",
        "overdue 35m",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(app.leads.detail().is_none());
}

#[test]
fn snapshot_lead_detail_wraps_a_long_message_and_says_how_much_more_there_is() {
    let mut app = leads_loaded(mixed_leads(), None);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadLead { .. }));
    let mut jane = mixed_leads().remove(0);
    jane.message = "Hello, we run three dental clinics in Lisbon and want a quote for \
        the spring campaign, covering the landing pages and the follow-up emails.\n\
        Second paragraph: our budget is about 4000 euros.\n\
        Third: please call after 14:00.\nFourth line.\nFifth line.\nSixth line.\n\
        Seventh and last line, which should not be drawn."
        .into();
    app.on_response(
        id,
        Response::Lead(Box::new(LeadData {
            lead: Ok(jane),
            timeline: Ok(timeline()),
        })),
    );
    let screen = render(&app, 80, 24);
    // Wrapped under its label, not cut at the pane's edge.
    for text in [
        "Message       Hello, we run three dental clinics in Lisbon",
        "the spring campaign",
        "Second paragraph: our budget is about 4000 euros.",
        "more lines",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    assert!(!screen.contains("Seventh and last"), "{screen}");
    // The timeline keeps room below it.
    assert!(screen.contains("Timeline"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_leads_filter_active() {
    let mut app = leads_loaded(mixed_leads(), None);
    press(&mut app, &[key('/')]);
    typed(&mut app, "acme");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("/acme"), "{screen}");
    let fx = app.update(Action::FilterDue(app.leads.debounce()));
    let id = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    app.on_response(id, page(vec![mixed_leads().remove(0)], None));
    press(&mut app, &[code(KeyCode::Enter)]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Leads (1) · /acme"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_leads_load_error() {
    let mut app = loaded();
    let id = open_leads(&mut app);
    app.on_response(id, Response::Leads(Err(unreachable())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Could not load leads"), "{screen}");
    assert!(screen.contains("Press r to retry"), "{screen}");
    insta::assert_snapshot!(screen);
    let fx = press(&mut app, &[key('r')]);
    assert_eq!(list_queries(&fx).len(), 1);
}

#[test]
fn opening_pane_2_lists_leads_of_the_current_tenant() {
    let mut app = loaded();
    let fx = press(&mut app, &[key('2')]);
    let reqs = requests(&fx);
    let open_arms = Uuid::from_u128(1).to_string();
    assert!(
        reqs.iter()
            .any(|(_, r)| matches!(r, Request::ListLeads { tenant, query }
            if *tenant == open_arms && query.limit == Some(100) && query.cursor.is_none())),
        "{reqs:?}"
    );
    // Switching tenant reloads for the new one.
    press(&mut app, &[key(':')]);
    typed(&mut app, "tenant beta-co");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let beta = Uuid::from_u128(2).to_string();
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::ListLeads { tenant, .. } if *tenant == beta)));
}

#[test]
fn scrolling_near_the_end_requests_one_next_page() {
    let items: Vec<Lead> = (0..100)
        .map(|i| lead(1000 + i, &format!("Lead {i}"), "", 500 - i as i64))
        .collect();
    let mut app = leads_loaded(items, Some("cursor-1"));
    let mut fx = Vec::new();
    for _ in 0..(100 - PREFETCH_ROWS + 5) {
        fx.extend(press(&mut app, &[key('j')]));
    }
    let qs = list_queries(&fx);
    assert_eq!(qs.len(), 1, "{qs:?}");
    assert_eq!(qs[0].cursor.as_deref(), Some("cursor-1"));
    let id = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    let more: Vec<Lead> = (100..150)
        .map(|i| lead(1000 + i, &format!("Lead {i}"), "", 500 - i as i64))
        .collect();
    app.on_response(id, page(more, None));
    assert_eq!(app.leads.items().len(), 150);
    // Only the rows on screen are drawn, wherever the selection is.
    press(&mut app, &[key('G')]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Lead 149"), "{screen}");
    assert!(!screen.contains("Lead 100 "), "{screen}");
    // The last page had no cursor: nothing more to ask.
    assert!(list_queries(&press(&mut app, &[key('k')])).is_empty());
}

#[test]
fn at_the_head_of_the_queue_the_selection_follows_the_head() {
    let mut app = leads_loaded(mixed_leads(), None);
    assert_eq!(app.leads.selected(), 0);
    let fresh = lead(20, "Zoe Park", "Park Inc", 9 * 60);
    app.on_event(
        Uuid::from_u128(1),
        event(
            1,
            "lead.created",
            serde_json::json!({ "lead": serde_json::to_value(&fresh).unwrap() }),
        ),
    );
    assert_eq!(app.leads.selected(), 0);
    assert_eq!(app.leads.selected_lead().map(|l| l.id), Some(fresh.id));
}

#[test]
fn a_new_lead_above_the_selection_keeps_the_selection_on_its_lead() {
    let mut app = leads_loaded(mixed_leads(), None);
    press(&mut app, &[key('j'), key('j')]);
    let selected = app.leads.selected_lead().map(|l| l.id);
    assert_eq!(selected, Some(Uuid::from_u128(13)));
    // Due before everything loaded: it goes to the top.
    let fresh = lead(20, "Zoe Park", "Park Inc", 9 * 60);
    let fx = app.on_event(
        Uuid::from_u128(1),
        event(
            1,
            "lead.created",
            serde_json::json!({ "lead": serde_json::to_value(&fresh).unwrap() }),
        ),
    );
    assert_eq!(app.leads.items()[0].id, fresh.id);
    assert_eq!(app.leads.selected_lead().map(|l| l.id), selected);
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "New lead: Zoe Park — Open Arms"));
    // The header's count is refreshed.
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::Usage { .. })));
    // Updated in place, deleted, breached.
    let mut moved = fresh.clone();
    moved.stage = "won".into();
    app.on_event(
        Uuid::from_u128(1),
        event(
            2,
            "lead.updated",
            serde_json::json!({ "lead": serde_json::to_value(&moved).unwrap() }),
        ),
    );
    assert_eq!(app.leads.items()[0].stage, "won");
    app.on_event(
        Uuid::from_u128(1),
        event(
            3,
            "lead.deleted",
            serde_json::json!({ "lead_id": fresh.id }),
        ),
    );
    assert_eq!(app.leads.items().len(), 4);
    assert_eq!(app.leads.selected_lead().map(|l| l.id), selected);
    // A lead assigned away from a member who sees only their own leaves
    // the list the same way (the server withdraws it with `lead.hidden`).
    let away = app.leads.items()[3].id;
    app.on_event(
        Uuid::from_u128(1),
        event(3, "lead.hidden", serde_json::json!({ "lead_id": away })),
    );
    assert_eq!(app.leads.items().len(), 3);
    assert!(app.leads.position(away).is_none());
    app.on_event(
        Uuid::from_u128(1),
        event(
            4,
            "sla.breached",
            serde_json::json!({ "lead_id": Uuid::from_u128(12), "name": "Bob Stone", "sla_due_at": now() }),
        ),
    );
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "SLA breached: Bob Stone"));
    // A burst of breaches (a backlog) shares one toast that counts.
    app.on_event(
        Uuid::from_u128(1),
        event(
            5,
            "sla.breached",
            serde_json::json!({ "lead_id": Uuid::from_u128(13), "name": "Ann Lee", "sla_due_at": now() }),
        ),
    );
    let breaches: Vec<&str> = app
        .toasts
        .iter()
        .filter(|t| t.text.contains("SLA"))
        .map(|t| t.text.as_str())
        .collect();
    assert_eq!(breaches, ["2 leads breached their SLA (latest: Ann Lee)"]);
    // Another tenant's event is not ours.
    let before = app.leads.items().len();
    app.on_event(
        Uuid::from_u128(2),
        event(
            5,
            "lead.created",
            serde_json::json!({ "lead": serde_json::to_value(lead(30, "X", "", 1)).unwrap() }),
        ),
    );
    assert_eq!(app.leads.items().len(), before);
}

#[test]
fn live_leads_outside_the_filter_are_not_inserted() {
    let mut app = one_tenant_leads_loaded(mixed_leads());
    let fx = press(&mut app, &[key('o')]);
    let id = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    app.on_response(id, page(vec![mixed_leads().remove(0)], None));
    let fresh = lead(21, "New Person", "", 5);
    app.on_event(
        Uuid::from_u128(1),
        event(
            1,
            "lead.created",
            serde_json::json!({ "lead": serde_json::to_value(&fresh).unwrap() }),
        ),
    );
    assert_eq!(app.leads.items().len(), 1);
}

#[test]
fn search_is_debounced_into_one_request() {
    let mut app = leads_loaded(mixed_leads(), None);
    press(&mut app, &[key('/')]);
    let fx = typed(&mut app, "acme");
    // Each keystroke only starts a timer.
    assert!(list_queries(&fx).is_empty());
    let timers: Vec<Action> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::After(d, a) => {
                assert_eq!(d.as_millis(), 300);
                Some(a.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(timers.len(), 4);
    // All four timers fire; only the newest sends.
    let mut sent = Vec::new();
    for t in timers {
        sent.extend(app.update(t));
    }
    let qs = list_queries(&sent);
    assert_eq!(qs.len(), 1, "{qs:?}");
    assert_eq!(qs[0].q.as_deref(), Some("acme"));
    // A reply to an older search is dropped by its id.
    let id = id_of(&sent, |r| matches!(r, Request::ListLeads { .. }));
    typed(&mut app, "x");
    let fx = app.update(Action::FilterDue(app.leads.debounce()));
    let newer = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    app.on_response(id, page(mixed_leads(), None));
    app.on_response(newer, page(vec![], None));
    assert!(app.leads.items().is_empty());
}

fn open_detail(app: &mut App) {
    let fx = press(app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadLead { .. }));
    app.on_response(
        id,
        Response::Lead(Box::new(LeadData {
            lead: Ok(mixed_leads().remove(0)),
            timeline: Ok(timeline()),
        })),
    );
}

#[test]
fn move_stage_picker_sends_the_chosen_stage() {
    let mut app = leads_loaded(mixed_leads(), None);
    open_detail(&mut app);
    press(&mut app, &[key('m')]);
    assert!(matches!(app.modal, Some(Modal::Picker(_))));
    assert!(render(&app, 80, 24).contains("Qualified"));
    // new → contacted → qualified
    let fx = press(&mut app, &[key('j'), key('j'), code(KeyCode::Enter)]);
    let reqs = requests(&fx);
    let [(
        id,
        Request::UpdateLead {
            id: lead_id, patch, ..
        },
    )] = &reqs[..]
    else {
        panic!("expected one update, got {reqs:?}");
    };
    assert_eq!(*lead_id, Uuid::from_u128(11));
    assert_eq!(patch.stage.as_deref(), Some("qualified"));
    assert_eq!(patch.assignee_id, None);
    let mut moved = mixed_leads().remove(0);
    moved.stage = "qualified".into();
    let fx = app.on_response(*id, Response::LeadUpdated(Ok(moved)));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Moved Jane Doe to Qualified"));
    assert_eq!(app.leads.items()[0].stage, "qualified");
    // The timeline is fetched again for the new entry.
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::LoadLead { .. })));
}

#[test]
fn assign_picker_offers_members_and_nobody() {
    let mut app = leads_loaded(mixed_leads(), None);
    open_detail(&mut app);
    press(&mut app, &[key('a')]);
    let fx = press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::UpdateLead { patch, .. })] if patch.assignee_id == Some(Some(Uuid::from_u128(7)))),
        "{reqs:?}"
    );
}

#[test]
fn a_failed_update_shows_the_servers_message_and_keeps_the_state() {
    let mut app = leads_loaded(mixed_leads(), None);
    open_detail(&mut app);
    let fx = press(&mut app, &[key('x')]);
    let (id, req) = requests(&fx).into_iter().next().expect("an update");
    assert!(matches!(&req, Request::UpdateLead { patch, .. } if patch.spam == Some(true)));
    app.on_response(
        id,
        Response::LeadUpdated(Err(server_problem(
            403,
            "Forbidden",
            "viewers cannot change leads",
        ))),
    );
    let toast = app
        .toasts
        .iter()
        .find(|t| t.kind == ToastKind::Error)
        .expect("an error toast");
    assert!(
        toast.text.contains("viewers cannot change leads"),
        "{}",
        toast.text
    );
    assert!(toast.text.starts_with("Could not mark Jane Doe as spam"));
    assert!(app.leads.detail().is_some());
    assert!(!app.leads.items()[0].spam);
    assert_eq!(app.leads.items().len(), 4);
}

#[test]
fn a_reply_note_is_sent_as_a_reply() {
    let mut app = leads_loaded(mixed_leads(), None);
    open_detail(&mut app);
    press(&mut app, &[key('n')]);
    typed(&mut app, "Called back");
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Right)]);
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::AddNote { note, .. })] if note.is_reply && note.body == "Called back"),
        "{reqs:?}"
    );
}

#[test]
fn delete_asks_first() {
    let mut app = leads_loaded(mixed_leads(), None);
    open_detail(&mut app);
    assert!(press(&mut app, &[key('d')]).is_empty());
    let fx = press(&mut app, &[key('y')]);
    let id = id_of(&fx, |r| matches!(r, Request::DeleteLead { .. }));
    app.on_response(id, Response::LeadDeleted(Ok(())));
    assert!(app.leads.detail().is_none());
    assert_eq!(app.leads.items().len(), 3);
    assert!(app.toasts.iter().any(|t| t.text == "Deleted lead Jane Doe"));
}

#[test]
fn a_failed_new_lead_keeps_the_form_and_shows_field_errors() {
    let mut app = leads_loaded(vec![], None);
    press(&mut app, &[key('n')]);
    typed(&mut app, "Jane");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "nope");
    let fx = press(&mut app, &[ctrl('s')]);
    let id = id_of(
        &fx,
        |r| matches!(r, Request::CreateLead { input, .. } if input.email.as_deref() == Some("nope")),
    );
    app.on_response(
        id,
        Response::LeadCreated(Err(validation("email", "is not an email address"))),
    );
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form closed");
    };
    assert_eq!(open.form.value("name"), "Jane");
    app.toasts.clear();
    assert!(render(&app, 80, 24).contains("is not an email address"));
}

#[test]
fn leads_commands_set_the_scope() {
    let mut app = loaded();
    app.now = now();
    for (cmd, check) in [
        ("leads overdue", "sla=overdue"),
        ("leads at_risk", "sla=at_risk"),
        ("leads stage won", "stage=won"),
        ("leads mine", "assignee=me"),
        ("leads spam", "spam"),
        ("leads", "all"),
    ] {
        press(&mut app, &[key(':')]);
        typed(&mut app, cmd);
        let fx = press(&mut app, &[code(KeyCode::Enter)]);
        assert!(app.command.is_none(), "{cmd}");
        let qs = list_queries(&fx);
        assert_eq!(qs.len(), 1, "{cmd}: {qs:?}");
        let q = &qs[0];
        let ok = match check {
            "sla=overdue" => q.sla.as_deref() == Some("overdue"),
            "sla=at_risk" => q.sla.as_deref() == Some("at_risk"),
            "stage=won" => q.stage.as_deref() == Some("won"),
            "assignee=me" => q.assignee.as_deref() == Some("me"),
            "spam" => q.spam == Some(true),
            _ => *q == switchboard::console::leads::LeadFilter::default().query(None),
        };
        assert!(ok, "{cmd}: {q:?}");
    }
    assert_eq!(app.leads.filter().scope, LeadScope::All);
    press(&mut app, &[key(':')]);
    typed(&mut app, "leads stage nowhere");
    press(&mut app, &[code(KeyCode::Enter)]);
    assert!(app
        .command
        .as_ref()
        .and_then(|c| c.error.as_deref())
        .is_some_and(|e| e.contains("no stage")));
}

#[test]
fn header_lead_usage_warns_near_and_at_the_limit() {
    let mut all = three_tenants();
    all[0].usage.leads_this_month = 850;
    let app = loaded_with(true, all.clone());
    assert!(render(&app, 100, 24).contains("850/1000 leads"));
    all[0].usage.leads_this_month = 1000;
    let mut app = loaded_with(true, all);
    app.theme = Theme::default();
    let mut term = Terminal::new(TestBackend::new(100, 24)).unwrap();
    term.draw(|f| ui::draw(f, &app)).unwrap();
    let text = buffer_text(term.backend().buffer());
    let x = text.lines().next().unwrap().find("1000/1000").unwrap();
    assert_eq!(
        term.backend().buffer()[(x as u16, 0)].bg,
        ratatui::style::Color::Red
    );
}
