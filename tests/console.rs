//! The console without a terminal: actions in, effects out, and snapshots of
//! what a user sees, drawn into a `TestBackend`.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use switchboard::api::ApiError;
use switchboard::console::action::Action;
use switchboard::console::app::{App, FormPurpose, Load, Modal, Pane};
use switchboard::console::effect::{Effect, Request, RequestId};
use switchboard::console::keymap::{Context, KeyChord, Keymap};
use switchboard::console::request::{LeadData, Response, TenantDetailData};
use switchboard::console::theme::Theme;
use switchboard::console::ui;
use switchboard::console::widgets::toast::ToastKind;
use switchboard::domain::Page;
use switchboard::domain::{
    ApiKey, ApiKeyScope, CreatedApiKey, FieldError, Me, Member, Problem, Role, StageInput, Tenant,
    TenantSettings, TenantStatus, TenantUsage, Tier, User,
};
use uuid::Uuid;

#[path = "console/account.rs"]
mod account;
#[path = "console/agents.rs"]
mod agents;
#[path = "console/api_keys.rs"]
mod api_keys;
#[path = "console/bulk.rs"]
mod bulk;
#[path = "console/business_hours.rs"]
mod business_hours;
#[path = "console/delete_tenant.rs"]
mod delete_tenant;
#[path = "console/disclosure.rs"]
mod disclosure;
#[path = "console/evals.rs"]
mod evals;
#[path = "console/keys.rs"]
mod keys;
#[path = "console/knowledge.rs"]
mod knowledge;
#[path = "console/leads.rs"]
mod leads;
#[path = "console/library.rs"]
mod library;
#[path = "console/memory.rs"]
mod memory;
#[path = "console/model_fetch.rs"]
mod model_fetch;
#[path = "console/notifications.rs"]
mod notifications;
#[path = "console/onboarding.rs"]
mod onboarding;
#[path = "console/permissions.rs"]
mod permissions;
#[path = "console/platform.rs"]
mod platform;
#[path = "console/playground.rs"]
mod playground;
#[path = "console/playground_rerun.rs"]
mod playground_rerun;
#[path = "console/queue.rs"]
mod queue;
#[path = "console/reports.rs"]
mod reports;
#[path = "console/run_workflow.rs"]
mod run_workflow;
#[path = "console/tenant_profile.rs"]
mod tenant_profile;
#[path = "console/tenant_secrets.rs"]
mod tenant_secrets;
#[path = "console/tenant_usage.rs"]
mod tenant_usage;
#[path = "console/views.rs"]
mod views;
#[path = "console/webhooks.rs"]
mod webhooks;
#[path = "console/wide.rs"]
mod wide;
#[path = "console/workflows.rs"]
mod workflows;
use leads::{mixed_leads, now, timeline};

// ---------------------------------------------------------------- fixtures

fn tenant(n: u128, name: &str, slug: &str, tier: Tier, users: u32) -> Tenant {
    Tenant {
        id: Uuid::from_u128(n),
        name: name.into(),
        slug: slug.into(),
        tier,
        status: TenantStatus::Active,
        is_platform: false,
        created_at: Utc
            .with_ymd_and_hms(2025, 1, n as u32 % 28 + 1, 9, 0, 0)
            .unwrap(),
        settings: TenantSettings::default(),
        user_limit_override: None,
        usage: TenantUsage {
            users,
            user_limit: tier.user_limit(),
            leads_this_month: 12,
            lead_limit: tier.lead_limit(),
        },
    }
}

fn platform() -> Tenant {
    let mut t = tenant(100, "Platform", "platform", Tier::Enterprise, 1);
    t.is_platform = true;
    t
}

fn three_tenants() -> Vec<Tenant> {
    let mut suspended = tenant(3, "Casa Verde", "casa-verde", Tier::Starter, 3);
    suspended.status = TenantStatus::Suspended;
    vec![
        tenant(1, "Open Arms", "open-arms", Tier::Pro, 3),
        tenant(2, "Beta Co", "beta-co", Tier::Enterprise, 41),
        suspended,
    ]
}

fn me(admin: bool) -> Me {
    Me {
        user: User {
            id: Uuid::from_u128(900),
            email: "admin@local".into(),
            name: "Admin".into(),
            platform_admin: admin,
            created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
            invited_by_tenant: None,
        },
        platform_admin: admin,
        memberships: Vec::new(),
    }
}

fn validation(field: &str, message: &str) -> ApiError {
    ApiError::Problem(Problem {
        kind: "/problems/validation".into(),
        title: "Invalid input".into(),
        status: 422,
        detail: Some("Check the marked fields.".into()),
        errors: vec![FieldError::new(field, message)],
        retry_after: None,
    })
}

fn unreachable() -> ApiError {
    ApiError::Unreachable {
        url: "http://127.0.0.1:7070".into(),
        reason: "connection refused or failed".into(),
    }
}

/// The clock every console test starts from: what a screen draws from the
/// time ("3d ago", an SLA's countdown) must not change with the day the
/// suite runs. Tests that move time set `app.now` themselves.
fn test_clock() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 16, 2, 0).unwrap()
}

fn new_app() -> App {
    let mut app = App::new(
        Keymap::default(),
        Theme::no_color(),
        "http://127.0.0.1:7070",
    );
    app.now = test_clock();
    app
}

/// The requests among `effects`.
fn requests(effects: &[Effect]) -> Vec<(RequestId, Request)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Api(id, r) => Some((*id, r.clone())),
            _ => None,
        })
        .collect()
}

fn id_of(effects: &[Effect], pred: impl Fn(&Request) -> bool) -> RequestId {
    requests(effects)
        .into_iter()
        .find(|(_, r)| pred(r))
        .map(|(id, _)| id)
        .expect("the expected request was sent")
}

/// An app that has loaded `me` and `tenants`.
fn loaded_with(admin: bool, tenants: Vec<Tenant>) -> App {
    let mut app = new_app();
    let fx = app.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let list_id = id_of(&fx, |r| *r == Request::ListTenants);
    let mut fx = app.on_response(me_id, Response::Me(Ok(me(admin))));
    fx.extend(app.on_response(list_id, Response::Tenants(Ok(tenants))));
    // The first-run screen asks whether a model is ready: one is.
    if let Some((id, _)) = requests(&fx)
        .into_iter()
        .find(|(_, r)| *r == Request::Models)
    {
        app.on_response(id, Response::Models(Ok(agents::models())));
    }
    app
}

fn loaded() -> App {
    let mut all = vec![platform()];
    all.extend(three_tenants());
    loaded_with(true, all)
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn press(app: &mut App, keys: &[KeyEvent]) -> Vec<Effect> {
    let mut out = Vec::new();
    for k in keys {
        out.extend(app.on_key(*k));
    }
    out
}

fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    let keys: Vec<KeyEvent> = text.chars().map(key).collect();
    press(app, &keys)
}

fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        // A wide character (CJK, emoji) covers the cell after it: skip that.
        let mut covered = 0;
        for x in 0..area.width {
            if covered > 0 {
                covered -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            line.push_str(symbol);
            covered = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    buffer_text(term.backend().buffer())
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_tenants_loading() {
    let mut app = new_app();
    app.start();
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn snapshot_tenants_loaded() {
    let app = loaded();
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn snapshot_tenants_load_error() {
    let mut app = new_app();
    let fx = app.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let list_id = id_of(&fx, |r| *r == Request::ListTenants);
    app.on_response(me_id, Response::Me(Ok(me(true))));
    app.on_response(list_id, Response::Tenants(Err(unreachable())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Press r to retry"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_edit_form_with_server_error() {
    let mut app = loaded();
    press(&mut app, &[key('e')]);
    // Tab to the SLA field and make it 0.
    press(&mut app, &[code(KeyCode::Tab); 3]);
    press(
        &mut app,
        &[code(KeyCode::Backspace), code(KeyCode::Backspace)],
    );
    typed(&mut app, "0");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a save");
    let Request::UpdateTenant { patch, .. } = req else {
        panic!("expected an update, got {req:?}");
    };
    // Only the changed field is sent.
    assert_eq!(patch.name, None);
    assert_eq!(patch.settings.as_ref().and_then(|s| s.sla_hours), Some(0));
    assert_eq!(
        patch
            .settings
            .as_ref()
            .and_then(|s| s.pipeline_stages.clone()),
        None
    );
    app.on_response(
        id,
        Response::TenantUpdated(Err(validation(
            "settings.sla_hours",
            "must be between 1 and 720 hours",
        ))),
    );
    app.toasts.clear(); // the toast is checked elsewhere; keep the form visible
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("must be between 1 and 720 hours"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_onboarding() {
    let app = loaded_with(true, vec![platform()]);
    assert!(app.onboarding.is_open());
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn snapshot_help_overlay() {
    let mut app = loaded();
    press(&mut app, &[key('?')]);
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn snapshot_tiny_terminal() {
    let app = loaded();
    insta::assert_snapshot!(render(&app, 20, 5));
}

#[test]
fn snapshot_detail_members() {
    let mut app = loaded();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    let member = Member {
        user_id: Uuid::from_u128(7),
        email: "ana@openarms.org".into(),
        name: "Ana Silva".into(),
        role: Role::Admin,
        joined_at: Utc.with_ymd_and_hms(2025, 2, 3, 0, 0, 0).unwrap(),
        invited_by_tenant: None,
        grants: Default::default(),
    };
    app.on_response(
        id,
        Response::TenantDetail(Box::new(TenantDetailData {
            members: Ok(vec![member]),
            invitations: Ok(vec![]),
            keys: Err(unreachable()),
            workspaces: Ok(vec![]),
        })),
    );
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn renders_at_every_small_size_without_panicking() {
    let mut app = loaded();
    press(&mut app, &[key('e')]);
    for w in 1..=30 {
        for h in 1..=8 {
            render(&app, w, h);
        }
    }
    let app = loaded_with(true, vec![platform()]);
    render(&app, 1, 1);
    render(&app, 20, 5);
}

// ---------------------------------------------------------------- state machine

#[test]
fn new_tenant_form_sends_the_typed_name() {
    let mut app = loaded();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Open Arms Two");
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::CreateTenant(n))] if n.name == "Open Arms Two" && n.slug.is_none()),
        "{reqs:?}"
    );
}

#[test]
fn a_failed_save_keeps_the_form_its_text_and_shows_the_error() {
    let mut app = loaded();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Open Arms");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::CreateTenant(_)));
    app.on_response(
        id,
        Response::TenantCreated(Err(validation("name", "is taken"))),
    );
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form closed");
    };
    assert_eq!(open.form.value("name"), "Open Arms");
    assert_eq!(
        open.form.field("name").and_then(|f| f.error.as_deref()),
        Some("is taken")
    );
    assert!(open
        .form
        .summary
        .as_deref()
        .unwrap_or("")
        .contains("Invalid input"));
    assert!(!open.form.submitting);
    assert!(app.toasts.iter().any(|t| t.kind == ToastKind::Error));
    assert!(render(&app, 80, 24).contains("is taken"));
}

#[test]
fn a_successful_create_closes_the_form_selects_and_toasts() {
    let mut app = loaded();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Delta");
    let fx = press(&mut app, &[ctrl('s')]);
    let id = id_of(&fx, |r| matches!(r, Request::CreateTenant(_)));
    app.on_response(
        id,
        Response::TenantCreated(Ok(tenant(9, "Delta", "delta", Tier::Starter, 0))),
    );
    assert!(app.modal.is_none());
    assert_eq!(
        app.tenants.selected(&app.session).map(|t| t.slug.as_str()),
        Some("delta")
    );
    assert!(app.toasts.iter().any(|t| t.text == "Created tenant Delta"));
}

#[test]
fn stale_replies_are_dropped() {
    let mut app = new_app();
    let fx = app.start();
    let old = id_of(&fx, |r| *r == Request::ListTenants);
    // The user retries before the first answer arrives.
    let fx = app.update(Action::Retry);
    let new = id_of(&fx, |r| *r == Request::ListTenants);
    assert_ne!(old, new);
    app.on_response(old, Response::Tenants(Ok(vec![platform()])));
    assert_eq!(app.session.tenants, Load::Loading);
    app.on_response(new, Response::Tenants(Ok(three_tenants())));
    assert_eq!(app.session.tenants.loaded().map(Vec::len), Some(3));
    // An id nobody sent is ignored too.
    assert!(app
        .on_response(RequestId(999), Response::Tenants(Ok(vec![])))
        .is_empty());
    assert_eq!(app.session.tenants.loaded().map(Vec::len), Some(3));
}

#[test]
fn detail_reply_after_leaving_the_detail_is_dropped() {
    let mut app = loaded();
    let fx = press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(app.tenants.detail().is_none());
    let data = TenantDetailData {
        members: Ok(vec![]),
        invitations: Ok(vec![]),
        keys: Ok(vec![]),
        workspaces: Ok(vec![]),
    };
    app.on_response(id, Response::TenantDetail(Box::new(data)));
    assert!(app.tenants.detail().is_none());
}

#[test]
fn switching_tenant_toasts_and_changes_the_header() {
    let mut app = loaded();
    assert!(render(&app, 100, 24).contains("tenant: Open Arms (pro 3/10 users)"));
    press(&mut app, &[key('j'), key('s')]);
    assert!(app.toasts.iter().any(|t| t.text == "Switched to Beta Co"));
    assert!(render(&app, 100, 24).contains("tenant: Beta Co (enterprise 41/∞ users)"));
}

#[test]
fn first_non_platform_tenant_is_current() {
    let app = loaded();
    assert_eq!(
        app.session.current().map(|t| t.slug.as_str()),
        Some("open-arms")
    );
    assert!(!app.onboarding.is_open());
}

// Initializing a tenant, step by step, is in console/playground.rs.
#[test]
fn onboarding_creates_the_first_tenant_and_makes_it_current() {
    let mut app = loaded_with(true, vec![platform()]);
    typed(&mut app, "Open Arms");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, _) = requests(&fx).into_iter().next().expect("a create");
    let fx = app.on_response(
        id,
        Response::TenantCreated(Ok(tenant(5, "Open Arms", "open-arms", Tier::Starter, 1))),
    );
    // The next step runs; the screen stays until the playground is ready.
    assert!(requests(&fx).iter().any(|(_, r)| *r == Request::Models));
    assert!(app.onboarding.is_open());
    assert_eq!(
        app.session.current().map(|t| t.name.as_str()),
        Some("Open Arms")
    );
}

#[test]
fn non_admin_without_tenants_gets_no_onboarding() {
    let app = loaded_with(false, vec![]);
    assert!(!app.onboarding.is_open());
}

#[test]
fn filter_narrows_the_table_and_esc_clears_it() {
    let mut app = loaded();
    press(&mut app, &[key('/')]);
    typed(&mut app, "beta");
    assert_eq!(app.tenants.visible(&app.session).len(), 1);
    // q is typed into the filter, it does not quit.
    press(&mut app, &[key('q')]);
    assert!(!app.quit);
    assert_eq!(app.tenants.filter(), "betaq");
    press(&mut app, &[code(KeyCode::Esc)]);
    assert_eq!(app.tenants.filter(), "");
    assert_eq!(app.tenants.visible(&app.session).len(), 4);
}

#[test]
fn quit_keys() {
    let mut app = loaded();
    assert_eq!(press(&mut app, &[key('q')]), vec![Effect::Quit]);
    let mut app = loaded();
    press(&mut app, &[key('n')]);
    // In a form q is text, ctrl-c still quits.
    assert!(press(&mut app, &[key('q')]).is_empty());
    assert_eq!(press(&mut app, &[ctrl('c')]), vec![Effect::Quit]);
}

#[test]
fn number_keys_switch_panes() {
    let mut app = loaded();
    press(&mut app, &[key('2')]);
    assert_eq!(app.pane, Pane::Leads);
    press(&mut app, &[code(KeyCode::Tab)]);
    assert_eq!(app.pane, Pane::Agents);
    press(&mut app, &[key('5')]);
    assert_eq!(app.pane, Pane::Playground);
    assert!(render(&app, 80, 24).contains("Loading playground sessions"));
    press(&mut app, &[key('1')]);
    assert_eq!(app.pane, Pane::Tenants);
}

#[test]
fn suspend_asks_first() {
    let mut app = loaded();
    let fx = press(&mut app, &[key('j'), key('S')]);
    assert!(fx.is_empty());
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    let fx = press(&mut app, &[key('y')]);
    assert!(matches!(&requests(&fx)[..], [(_, Request::Suspend { .. })]));
}

#[test]
fn api_key_is_shown_once_and_copied_with_osc52_effect() {
    let mut app = loaded();
    let fx = press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    let data = TenantDetailData {
        members: Ok(vec![]),
        invitations: Ok(vec![]),
        keys: Ok(vec![]),
        workspaces: Ok(vec![]),
    };
    app.on_response(id, Response::TenantDetail(Box::new(data)));
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Tab)]);
    press(&mut app, &[key('n')]);
    assert!(
        matches!(&app.modal, Some(Modal::Form(f)) if matches!(f.purpose, FormPurpose::NewKey(_)))
    );
    typed(&mut app, "website");
    let fx = press(&mut app, &[ctrl('s')]);
    let id = id_of(
        &fx,
        |r| matches!(r, Request::CreateKey { new, .. } if new.name == "website"),
    );
    let api_key = ApiKey {
        id: Uuid::from_u128(77),
        name: "website".into(),
        prefix: "sbk_ab12".into(),
        last_four: "wxyz".into(),
        scope: ApiKeyScope::LeadsIngest,
        created_by: None,
        workspace_id: None,
        created_at: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
        replaced_by: None,
    };
    let secret = "sbk_ab12SECRETSECRETSECRETSECRETwxyz".to_string();
    app.on_response(
        id,
        Response::KeyCreated(Ok(CreatedApiKey {
            api_key,
            key: secret.clone(),
        })),
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains(&secret), "{screen}");
    assert!(screen.contains("shown only once"));
    let fx = press(&mut app, &[key('c')]);
    assert_eq!(fx, vec![Effect::CopyToClipboard(secret.clone())]);
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(app.modal.is_none());
    assert!(!render(&app, 80, 24).contains(&secret));
}

mod random_keys {
    use super::*;
    use proptest::prelude::*;

    fn any_key() -> impl Strategy<Value = KeyEvent> {
        let codes = prop_oneof![
            any::<char>().prop_map(KeyCode::Char),
            proptest::sample::select(vec![
                'j', 'k', 'n', 'e', 's', 'S', '/', ':', '?', 'q', 'x', 'r', 'i', 'a', 'd', 'c',
                'y', '1', '2', 'g', 'G', 'h', 'l', 'o', 'm', 'N', '!', '2', '2', 'n', '3', '3',
                '4', '4', 't', ' ', 'R', 'S', 'l'
            ])
            .prop_map(KeyCode::Char),
            proptest::sample::select(vec![
                KeyCode::Enter,
                KeyCode::Esc,
                KeyCode::Tab,
                KeyCode::BackTab,
                KeyCode::Backspace,
                KeyCode::Up,
                KeyCode::Down,
                KeyCode::Left,
                KeyCode::Right,
                KeyCode::Home,
                KeyCode::End,
            ]),
        ];
        let mods = proptest::sample::select(vec![
            KeyModifiers::NONE,
            KeyModifiers::NONE,
            KeyModifiers::NONE,
            KeyModifiers::SHIFT,
            KeyModifiers::ALT,
            // ctrl-c quits; any other ctrl key may do anything else.
            KeyModifiers::CONTROL,
        ]);
        (codes, mods).prop_map(|(c, m)| KeyEvent::new(c, m))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_keys_never_panic(
            keys in proptest::collection::vec(any_key(), 1..60),
            onboard in any::<bool>(),
            // The terminal is resized (down to 1×1) every few keys.
            sizes in proptest::collection::vec((1u16..120, 1u16..40), 0..8),
        ) {
            let mut app = if onboard { loaded_with(true, vec![platform()]) } else { loaded() };
            app.now = now();
            let mut term = Terminal::new(TestBackend::new(40, 12)).unwrap();
            for (i, k) in keys.into_iter().enumerate() {
                if let Some(&(w, h)) = sizes.get(i / 7).filter(|_| i % 7 == 3) {
                    term.backend_mut().resize(w, h);
                    app.update(Action::Resize(w, h));
                    term.draw(|f| ui::draw(f, &app)).unwrap();
                }
                let effects = app.on_key(k);
                // Answer every request with a failure, to walk the error paths too.
                for (id, req) in requests(&effects) {
                    let resp = match req {
                        Request::ListTenants => Response::Tenants(Err(unreachable())),
                        Request::LoadTenantDetail { .. } => Response::TenantDetail(Box::new(TenantDetailData {
                            members: Ok(vec![]), invitations: Err(unreachable()), keys: Ok(vec![]), workspaces: Ok(vec![]),
                        })),
                        Request::CreateTenant(_) => Response::TenantCreated(Err(validation("name", "is taken"))),
                        Request::ListLeads { .. } => Response::Leads(Ok(Page { items: mixed_leads(), next_cursor: Some("c".into()) })),
                        Request::LoadLead { .. } => Response::Lead(Box::new(LeadData {
                            lead: Ok(mixed_leads().remove(0)), timeline: Ok(timeline()),
                        })),
                        Request::CreateLead { .. } => Response::LeadCreated(Err(validation("email", "is not an email address"))),
                        Request::ListAgents { .. } => Response::Agents(Ok(agents::mixed_agents())),
                        Request::AgentVersions { .. } => Response::AgentVersions(Ok(agents::versions())),
                        Request::ListWorkspaces { .. } => Response::Workspaces(Ok(agents::workspaces())),
                        Request::CreateAgent { .. } => Response::AgentCreated(Err(validation("system_prompt", "is required"))),
                        Request::UpdateAgent { .. } => Response::AgentUpdated(Err(validation("model", "bad"))),
                        Request::RestoreAgentVersion { .. } => Response::AgentRestored(Ok(agents::agent(201, "Receptionist", "Open Arms", false))),
                        Request::ShareAgent { .. } => Response::AgentShared(Err(unreachable())),
                        Request::DeleteAgent { .. } => Response::AgentDeleted(Ok(())),
                        Request::CreateWorkspace { .. } | Request::UpdateWorkspace { .. } => Response::WorkspaceSaved(Err(validation("strategy_active", "link an agent first"))),
                        Request::DeleteWorkspace { .. } => Response::WorkspaceDeleted(Ok(())),
                        _ => Response::TenantUpdated(Err(validation("settings.sla_hours", "bad"))),
                    };
                    app.on_response(id, resp);
                }
                term.draw(|f| ui::draw(f, &app)).unwrap();
                if app.quit {
                    break;
                }
            }
        }
    }
}

#[test]
fn multi_line_stages_edit_sends_only_the_stages() {
    let mut app = loaded();
    press(&mut app, &[key('e')]);
    press(&mut app, &[code(KeyCode::Tab); 5]);
    typed(&mut app, "intake");
    // Enter is a newline in a multi-line field, not a save.
    assert!(press(&mut app, &[code(KeyCode::Enter)]).is_empty());
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    let [(_, Request::UpdateTenant { patch, .. })] = &reqs[..] else {
        panic!("expected one update, got {reqs:?}");
    };
    let settings = patch.settings.clone().unwrap_or_default();
    // Existing stages keep their ids (leads point at them); the new line is a new stage.
    let mut want = vec![StageInput::named("intake")];
    for (id, name) in [
        ("new", "New"),
        ("contacted", "Contacted"),
        ("qualified", "Qualified"),
        ("won", "Won"),
        ("lost", "Lost"),
    ] {
        want.push(StageInput::keep(id, name));
    }
    assert_eq!(settings.pipeline_stages, Some(want));
    assert_eq!(settings.sla_hours, None);
    assert_eq!(patch.name, None);
    // The form shows it is saving until the answer arrives.
    assert!(matches!(&app.modal, Some(Modal::Form(f)) if f.form.submitting));
}

#[test]
fn settings_tab_shows_masked_secrets() {
    let mut all = three_tenants();
    all[0]
        .settings
        .secrets
        .insert("crm_token".into(), "••••1234".into());
    let mut app = loaded_with(false, all);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    let data = TenantDetailData {
        members: Ok(vec![]),
        invitations: Ok(vec![]),
        keys: Ok(vec![]),
        workspaces: Ok(vec![]),
    };
    app.on_response(id, Response::TenantDetail(Box::new(data)));
    // Back past Usage, the last tab.
    press(&mut app, &[key('h'), key('h')]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("crm_token  set (••••1234)"), "{screen}");
    insta::assert_snapshot!(screen);
}
