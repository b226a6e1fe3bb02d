//! The Leads pane's all-tenants queue: `:leads all` and `T` ask for the
//! cross-tenant list, it names each lead's tenant, and every action on a
//! lead of another tenant names that tenant without switching the current one.

use super::*;
use switchboard::console::app::{Confirmable, PickPurpose};
use switchboard::domain::{Lead, QueueLead, ServerEvent, Stage, TenantRef};

use super::leads::lead;

pub(super) const OPEN_ARMS: u128 = 1;
pub(super) const BETA_CO: u128 = 2;

/// The tenants, Beta Co with a pipeline of its own.
pub(super) fn tenants() -> Vec<Tenant> {
    let mut all = vec![platform()];
    all.extend(three_tenants());
    if let Some(beta) = all.iter_mut().find(|t| t.id == Uuid::from_u128(BETA_CO)) {
        beta.settings.pipeline_stages = vec![
            Stage::new("inbox", "Inbox"),
            Stage::new("booked", "Booked"),
            Stage::new("won", "Won"),
        ];
    }
    all
}

pub(super) fn member(n: u128, name: &str, email: &str) -> Member {
    Member {
        user_id: Uuid::from_u128(n),
        email: email.into(),
        name: name.into(),
        role: Role::Agent,
        joined_at: Utc.with_ymd_and_hms(2025, 2, 3, 0, 0, 0).unwrap(),
        invited_by_tenant: None,
        grants: Default::default(),
    }
}

pub(super) fn of(tenant: u128, mut l: Lead) -> Lead {
    l.tenant_id = Uuid::from_u128(tenant);
    if tenant == BETA_CO {
        l.stage = "inbox".into();
    }
    l
}

/// Overdue leads of Open Arms and Beta Co, most overdue first.
pub(super) fn queue_leads() -> Vec<Lead> {
    vec![
        of(BETA_CO, lead(31, "Marta Ruiz", "Ruiz SL", 12 * 60)),
        of(OPEN_ARMS, lead(11, "Jane Doe", "Acme", 8 * 60 + 35)),
        of(
            BETA_CO,
            lead(32, "Bartholomew Featherstonehaugh", "Feather", 8 * 60 + 10),
        ),
    ]
}

pub(super) fn queue_page(items: Vec<Lead>, next: Option<&str>) -> Response {
    let name = |t: Uuid| {
        if t == Uuid::from_u128(BETA_CO) {
            ("beta-co", "Beta Co")
        } else {
            ("open-arms", "Open Arms")
        }
    };
    Response::Queue(Ok(Page {
        items: items
            .into_iter()
            .map(|lead| {
                let (slug, n) = name(lead.tenant_id);
                QueueLead {
                    tenant: TenantRef {
                        id: lead.tenant_id,
                        slug: slug.into(),
                        name: n.into(),
                    },
                    lead,
                }
            })
            .collect(),
        next_cursor: next.map(String::from),
    }))
}

pub(super) fn command(app: &mut App, text: &str) -> Vec<Effect> {
    press(app, &[key(':')]);
    typed(app, text);
    press(app, &[code(KeyCode::Enter)])
}

/// The Leads pane on the all-tenants overdue queue, loaded.
pub(super) fn queue_loaded() -> App {
    let mut app = loaded_with(true, tenants());
    app.now = now();
    let fx = press(&mut app, &[key('2')]);
    let members = id_of(&fx, |r| matches!(r, Request::ListLeadMembers { .. }));
    app.on_response(
        members,
        Response::LeadMembers(Ok(vec![member(9, "Kim Lee", "kim@example.com")])),
    );
    let fx = command(&mut app, "leads all overdue");
    let id = id_of(&fx, |r| matches!(r, Request::ListQueue { .. }));
    app.on_response(id, queue_page(queue_leads(), Some("c2")));
    app
}

pub(super) fn current(app: &App) -> Option<Uuid> {
    app.session.current_tenant
}

#[test]
fn leads_all_asks_for_the_queue_of_every_tenant_with_the_filter() {
    let mut app = loaded_with(true, tenants());
    app.now = now();
    let fx = command(&mut app, "leads all overdue");
    assert!(app.command.is_none());
    let reqs = requests(&fx);
    assert!(
        !reqs
            .iter()
            .any(|(_, r)| matches!(r, Request::ListLeads { .. })),
        "{reqs:?}"
    );
    let queries: Vec<_> = reqs
        .iter()
        .filter_map(|(_, r)| match r {
            Request::ListQueue { query, tenants } => Some((query.clone(), tenants.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(queries.len(), 1, "{reqs:?}");
    assert_eq!(queries[0].0.sla.as_deref(), Some("overdue"));
    assert_eq!(queries[0].0.cursor, None);
    assert!(queries[0].1.is_empty());
    assert!(app.leads.all_tenants());
    // `:leads` alone is the current tenant's list again.
    let fx = command(&mut app, "leads");
    let reqs = requests(&fx);
    assert!(
        reqs.iter()
            .any(|(_, r)| matches!(r, Request::ListLeads { tenant, query }
            if *tenant == Uuid::from_u128(OPEN_ARMS).to_string() && query.sla.is_none())),
        "{reqs:?}"
    );
    assert!(!app.leads.all_tenants());
}

#[test]
fn t_toggles_between_this_tenant_and_all_tenants_keeping_the_scope() {
    let mut app = queue_loaded();
    let fx = press(&mut app, &[key('T')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::ListLeads { tenant, query })]
            if *tenant == Uuid::from_u128(OPEN_ARMS).to_string()
                && query.sla.as_deref() == Some("overdue")),
        "{reqs:?}"
    );
    assert!(!app.leads.all_tenants());
    let fx = press(&mut app, &[key('T')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::ListQueue { query, .. })]
            if query.sla.as_deref() == Some("overdue")),
        "{reqs:?}"
    );
    // The key is in the one keymap, so help and the footer show it.
    assert_eq!(app.keymap.key_label(Context::LeadList, "all_tenants"), "T");
}

#[test]
fn snapshot_all_tenants_queue() {
    let app = queue_loaded();
    assert_eq!(app.leads.items().len(), 3);
    let screen = render(&app, 120, 24);
    assert!(screen.contains("all tenants"), "{screen}");
    assert!(screen.contains("Tenant"), "{screen}");
    assert!(screen.contains("Beta Co"), "{screen}");
    assert!(screen.contains("Open Arms"), "{screen}");
    // Each lead's stage is named by its own tenant's pipeline.
    assert!(screen.contains("Inbox"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_all_tenants_queue_narrow() {
    let app = queue_loaded();
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Beta Co"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_queue_pages_lazily_through_the_cross_tenant_list() {
    let mut app = queue_loaded();
    // Three rows loaded: moving down nears the end and asks for the next page.
    let fx = press(&mut app, &[key('j')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::ListQueue { query, .. })]
            if query.cursor.as_deref() == Some("c2") && query.sla.as_deref() == Some("overdue")),
        "{reqs:?}"
    );
    let id = id_of(&fx, |r| matches!(r, Request::ListQueue { .. }));
    app.on_response(
        id,
        queue_page(
            vec![of(BETA_CO, lead(33, "Nils Berg", "", 8 * 60 + 5))],
            None,
        ),
    );
    assert_eq!(app.leads.items().len(), 4);
}

#[test]
fn the_search_filters_the_queue_on_the_server() {
    let mut app = queue_loaded();
    press(&mut app, &[key('/')]);
    typed(&mut app, "ruiz");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::ListQueue { query, .. })]
            if query.q.as_deref() == Some("ruiz")),
        "{reqs:?}"
    );
}

/// Opens the first lead (Marta Ruiz, of Beta Co) and answers its requests.
pub(super) fn open_beta_lead(app: &mut App) {
    let fx = press(app, &[code(KeyCode::Enter)]);
    let beta = Uuid::from_u128(BETA_CO).to_string();
    let reqs = requests(&fx);
    assert!(
        reqs.iter()
            .any(|(_, r)| matches!(r, Request::LoadLead { tenant, id }
                if *tenant == beta && *id == Uuid::from_u128(31))),
        "{reqs:?}"
    );
    assert!(
        reqs.iter()
            .any(|(_, r)| matches!(r, Request::LeadWorkflows { tenant, .. } if *tenant == beta)),
        "{reqs:?}"
    );
    let members = id_of(
        &fx,
        |r| matches!(r, Request::ListLeadMembers { tenant } if *tenant == beta),
    );
    app.on_response(
        members,
        Response::LeadMembers(Ok(vec![member(8, "Bo Berg", "bo@beta.co")])),
    );
    let load = id_of(&fx, |r| matches!(r, Request::LoadLead { .. }));
    app.on_response(
        load,
        Response::Lead(Box::new(LeadData {
            lead: Ok(queue_leads().remove(0)),
            timeline: Ok(vec![]),
        })),
    );
}

#[test]
fn actions_on_a_lead_of_another_tenant_name_its_tenant_and_keep_the_current_one() {
    let mut app = queue_loaded();
    let open_arms = Uuid::from_u128(OPEN_ARMS);
    let beta = Uuid::from_u128(BETA_CO);
    assert_eq!(current(&app), Some(open_arms));
    open_beta_lead(&mut app);
    assert!(app.leads.detail_is(Uuid::from_u128(31)));

    // Move stage: the picker offers Beta Co's pipeline, the update names it.
    press(&mut app, &[key('m')]);
    let Some(Modal::Picker(p)) = &app.modal else {
        panic!("no picker: {:?}", app.modal);
    };
    assert_eq!(p.options, ["Inbox", "Booked", "Won"]);
    assert!(matches!(p.purpose, PickPurpose::Stage { tenant, .. } if tenant == beta));
    let fx = press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::UpdateLead { tenant, id, patch })]
            if *tenant == beta.to_string() && *id == Uuid::from_u128(31)
                && patch.stage.as_deref() == Some("booked")),
        "{reqs:?}"
    );
    let id = id_of(&fx, |r| matches!(r, Request::UpdateLead { .. }));
    let mut moved = queue_leads().remove(0);
    moved.stage = "booked".into();
    app.on_response(id, Response::LeadUpdated(Ok(moved)));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Moved Marta Ruiz to Booked"));
    assert_eq!(app.leads.items()[0].stage, "booked");

    // Assign: Beta Co's members, not the current tenant's.
    press(&mut app, &[key('a')]);
    let Some(Modal::Picker(p)) = &app.modal else {
        panic!("no picker: {:?}", app.modal);
    };
    assert_eq!(
        p.options,
        vec!["nobody".to_string(), "Bo Berg <bo@beta.co>".to_string()]
    );
    let fx = press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::UpdateLead { tenant, patch, .. })]
            if *tenant == beta.to_string()
                && patch.assignee_id == Some(Some(Uuid::from_u128(8)))),
        "{reqs:?}"
    );

    // Spam.
    let fx = press(&mut app, &[key('x')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::UpdateLead { tenant, patch, .. })]
            if *tenant == beta.to_string() && patch.spam == Some(true)),
        "{reqs:?}"
    );

    // Note / reply: the form is for Beta Co's lead.
    press(&mut app, &[key('n')]);
    let Some(Modal::Form(f)) = &app.modal else {
        panic!("no form: {:?}", app.modal);
    };
    assert!(
        matches!(f.purpose, FormPurpose::AddNote { tenant, lead } if tenant == beta && lead == Uuid::from_u128(31)),
        "{:?}",
        f.purpose
    );
    press(&mut app, &[code(KeyCode::Esc)]);
    app.modal = None;

    // Delete: the confirmation names Beta Co's lead.
    press(&mut app, &[key('d')]);
    let Some(Modal::Confirm { action, .. }) = &app.modal else {
        panic!("no confirmation: {:?}", app.modal);
    };
    assert!(
        matches!(action, Confirmable::DeleteLead { tenant, id, .. } if *tenant == beta && *id == Uuid::from_u128(31)),
        "{action:?}"
    );
    let fx = press(&mut app, &[key('y')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::DeleteLead { tenant, .. })] if *tenant == beta.to_string()),
        "{reqs:?}"
    );
    let id = id_of(&fx, |r| matches!(r, Request::DeleteLead { .. }));
    app.on_response(id, Response::LeadDeleted(Ok(())));
    assert!(app.leads.detail().is_none());
    assert_eq!(app.leads.items().len(), 2);

    // None of it switched the current tenant.
    assert_eq!(current(&app), Some(open_arms));
}

#[test]
fn a_workflow_run_on_a_lead_of_another_tenant_names_its_tenant() {
    let mut app = queue_loaded();
    open_beta_lead(&mut app);
    let beta = Uuid::from_u128(BETA_CO).to_string();
    // The lead came through no workspace: the agents of Beta Co are asked for.
    let fx = press(&mut app, &[key('w')]);
    let reqs = requests(&fx);
    assert!(!reqs.is_empty(), "w sent nothing");
    let open_arms = Uuid::from_u128(OPEN_ARMS).to_string();
    for (_, r) in &reqs {
        let text = format!("{r:?}");
        assert!(!text.contains(&open_arms), "{r:?}");
        assert!(text.contains(&beta), "{r:?}");
    }
}

#[test]
fn a_live_lead_of_the_current_tenant_joins_the_queue_in_its_place() {
    let mut app = queue_loaded();
    let fresh = of(OPEN_ARMS, lead(40, "Olga Ek", "Ek AB", 20 * 60));
    app.on_event(
        Uuid::from_u128(OPEN_ARMS),
        ServerEvent {
            id: 1,
            kind: "lead.created".into(),
            data: serde_json::json!({ "lead": serde_json::to_value(&fresh).unwrap() }),
        },
    );
    assert_eq!(app.leads.items()[0].id, fresh.id);
}

fn created(l: &Lead, tenant: u128, name: &str) -> ServerEvent {
    ServerEvent {
        id: 2,
        kind: "lead.created".into(),
        data: serde_json::json!({
            "lead": serde_json::to_value(l).unwrap(),
            "tenant": { "id": Uuid::from_u128(tenant), "slug": "beta-co", "name": name },
        }),
    }
}

#[test]
fn a_live_lead_of_another_tenant_joins_the_queue_named_with_its_tenant() {
    let mut app = queue_loaded();
    let fresh = of(BETA_CO, lead(41, "Per Holm", "Holm AB", 20 * 60));
    app.on_event(
        Uuid::from_u128(BETA_CO),
        created(&fresh, BETA_CO, "Beta Co"),
    );
    assert_eq!(app.leads.items()[0].id, fresh.id);
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text == "New lead: Per Holm — Beta Co"),
        "{:?}",
        app.toasts.iter().map(|t| &t.text).collect::<Vec<_>>()
    );
    // The current tenant is still Open Arms.
    assert_eq!(current(&app), Some(Uuid::from_u128(OPEN_ARMS)));
}

#[test]
fn another_tenants_event_is_ignored_outside_the_queue() {
    let mut app = queue_loaded();
    press(&mut app, &[key('T')]);
    let before = app.leads.items().len();
    let fresh = of(BETA_CO, lead(42, "Ida Lund", "", 20 * 60));
    app.on_event(
        Uuid::from_u128(BETA_CO),
        created(&fresh, BETA_CO, "Beta Co"),
    );
    assert_eq!(app.leads.items().len(), before);
    assert!(app.leads.position(fresh.id).is_none());
    assert!(!app.toasts.iter().any(|t| t.text.contains("Ida Lund")));
}

#[test]
fn leads_all_tenant_narrows_the_queue_to_the_named_tenants() {
    let mut app = loaded_with(true, tenants());
    app.now = now();
    let fx = command(&mut app, "leads all tenant Beta-Co,open-arms overdue");
    assert!(app.command.is_none());
    let reqs = requests(&fx);
    assert!(
        reqs.iter()
            .any(|(_, r)| matches!(r, Request::ListQueue { query, tenants }
            if *tenants == ["beta-co", "open-arms"] && query.sla.as_deref() == Some("overdue"))),
        "{reqs:?}"
    );
    let id = id_of(&fx, |r| matches!(r, Request::ListQueue { .. }));
    app.on_response(id, queue_page(queue_leads(), None));
    let screen = render(&app, 120, 24);
    assert!(screen.contains("tenants beta-co, open-arms"), "{screen}");
    // esc widens it to every tenant again, and clears the scope.
    let fx = press(&mut app, &[code(KeyCode::Esc)]);
    assert!(requests(&fx).iter().any(|(_, r)| matches!(r,
        Request::ListQueue { query, tenants } if tenants.is_empty() && query.sla.is_none())));
    // An unknown tenant is refused, saying which there are.
    command(&mut app, "leads all tenant nowhere");
    let err = app.command.as_ref().and_then(|c| c.error.clone());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("no tenant \"nowhere\"") && e.contains("beta-co")),
        "{err:?}"
    );
}

#[test]
fn snapshot_a_queue_lead_open_names_its_tenant() {
    let mut app = queue_loaded();
    open_beta_lead(&mut app);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Marta Ruiz · Inbox · Beta Co"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// A member of Open Arms and Beta Co (not a platform admin), on the Leads
/// pane of Open Arms.
fn two_tenant_member() -> App {
    let mut two = tenants();
    two.retain(|t| t.id == Uuid::from_u128(OPEN_ARMS) || t.id == Uuid::from_u128(BETA_CO));
    let mut app = loaded_with(false, two);
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
    app
}

/// Issue 15: a user with more than one tenant opens the overdue queue of
/// every tenant with `o`, is told how to narrow it to one, and `o` again is
/// the current tenant's list of every lead.
#[test]
fn o_opens_the_overdue_queue_of_every_tenant_for_a_user_with_several() {
    let mut app = two_tenant_member();
    let fx = press(&mut app, &[key('o')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::ListQueue { query, tenants })]
            if query.sla.as_deref() == Some("overdue") && tenants.is_empty()),
        "one cross-tenant read, nothing per tenant: {reqs:?}"
    );
    assert!(app.leads.all_tenants());
    assert_eq!(current(&app), Some(Uuid::from_u128(OPEN_ARMS)));
    let told: Vec<&str> = app.toasts.iter().map(|t| t.text.as_str()).collect();
    assert!(
        told.contains(
            &"Overdue queue across your 2 tenants; T for Open Arms only, :leads all tenant SLUG for another"
        ),
        "{told:?}"
    );
    let id = id_of(&fx, |r| matches!(r, Request::ListQueue { .. }));
    app.on_response(id, queue_page(queue_leads(), None));
    app.toasts.clear();
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Leads (3) · all tenants · overdue queue"),
        "{screen}"
    );
    // The footer says how to narrow it to the current tenant.
    assert!(screen.contains("T this tenant"), "{screen}");
    insta::assert_snapshot!(screen);

    // `o` again: every lead of the current tenant, as before the queue.
    let fx = press(&mut app, &[key('o')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::ListLeads { tenant, query })]
            if *tenant == Uuid::from_u128(OPEN_ARMS).to_string() && query.sla.is_none()),
        "{reqs:?}"
    );
    assert!(!app.leads.all_tenants());
    let screen = render(&app, 80, 24);
    assert!(screen.contains("T all tenants"), "{screen}");
}

#[test]
fn t_narrows_the_overdue_queue_o_opened_to_the_current_tenant_and_o_then_keeps_it() {
    let mut app = two_tenant_member();
    press(&mut app, &[key('o')]);
    let fx = press(&mut app, &[key('T')]);
    assert!(
        matches!(&requests(&fx)[..], [(_, Request::ListLeads { tenant, query })]
            if *tenant == Uuid::from_u128(OPEN_ARMS).to_string()
                && query.sla.as_deref() == Some("overdue")),
        "{fx:?}"
    );
    assert!(!app.leads.all_tenants());
    // Narrowed by hand, leaving the overdue queue stays on this tenant.
    let fx = press(&mut app, &[key('o')]);
    assert!(
        matches!(&requests(&fx)[..], [(_, Request::ListLeads { query, .. })] if query.sla.is_none()),
        "{fx:?}"
    );
    assert!(!app.leads.all_tenants());
    // Esc out of a queue `o` widened is this tenant's list again too.
    press(&mut app, &[key('o')]);
    assert!(app.leads.all_tenants(), "narrowed once, `o` widens again");
    let fx = press(&mut app, &[code(KeyCode::Esc)]);
    assert!(
        matches!(&requests(&fx)[..], [(_, Request::ListLeads { query, .. })] if query.sla.is_none()),
        "{fx:?}"
    );
    assert!(!app.leads.all_tenants());
}

/// A user with one client tenant (a platform admin's own platform tenant
/// does not count) keeps that tenant's overdue queue.
#[test]
fn o_stays_on_the_tenant_for_a_user_with_one_client_tenant() {
    let mut one = tenants();
    one.retain(|t| t.is_platform || t.id == Uuid::from_u128(OPEN_ARMS));
    let mut app = loaded_with(true, one);
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
    let fx = press(&mut app, &[key('o')]);
    assert!(
        matches!(&requests(&fx)[..], [(_, Request::ListLeads { tenant, query })]
            if *tenant == Uuid::from_u128(OPEN_ARMS).to_string()
                && query.sla.as_deref() == Some("overdue")),
        "{fx:?}"
    );
    assert!(!app.leads.all_tenants());
    assert!(app.toasts.iter().all(|t| !t.text.contains("Overdue queue")));
}
