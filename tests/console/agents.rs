//! The Agents and Workspaces panes: snapshots, the state machine, and the
//! prompt diff.

use super::*;
use switchboard::console::agents::diff::{line_diff, DiffKind};
use switchboard::domain::{
    Agent, AgentConfig, AgentLink, AgentPatch, AgentVersion, Channel, ModelInfo, Sharing, Workspace,
};

const PROMPT_V1: &str =
    "You are the receptionist of Open Arms.\nGreet the visitor.\nAsk for their name and email.";
const PROMPT_V3: &str = "You are the receptionist of Open Arms, a shelter.\nGreet the visitor warmly.\nAsk for their name and email.\nNever promise a bed before a manager confirms it; say a manager will call back within the day.";

fn at(day: u32, h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, h, m, 0).unwrap()
}

pub(super) fn agent(n: u128, name: &str, owner: &str, read_only: bool) -> Agent {
    Agent {
        id: Uuid::from_u128(n),
        tenant_id: Uuid::from_u128(if read_only { 100 } else { 1 }),
        owner_name: owner.into(),
        name: name.into(),
        description: format!("{name} for the website"),
        version: 3,
        config: AgentConfig {
            system_prompt: PROMPT_V3.into(),
            model: "local/smollm2-135m".into(),
            temperature: 0.3,
            max_tokens: 400,
        },
        sharing: if read_only {
            Sharing::Global
        } else {
            Sharing::Private
        },
        shared_with: vec![],
        read_only,
        tags: vec![],
        category: None,
        use_count: 0,
        last_used_at: None,
        created_at: at(20, 9, 0),
        updated_at: at(25, 14, 2),
    }
}

/// Two of ours (one shared selectively) and one the platform shares.
pub(super) fn mixed_agents() -> Vec<Agent> {
    let mut triage = agent(202, "Triage", "Open Arms", false);
    triage.sharing = Sharing::Selective;
    triage.shared_with = vec![Uuid::from_u128(2)];
    triage.version = 1;
    triage.config.model = "ollama/llama3.2".into();
    let mut receptionist = agent(201, "Receptionist", "Open Arms", false);
    receptionist.tags = vec!["front-desk".into()];
    receptionist.category = Some("Inbound".into());
    receptionist.use_count = 7;
    receptionist.last_used_at = Some(at(24, 9, 0));
    let mut qualifier = agent(203, "Qualifier", "Platform", true);
    qualifier.tags = vec!["qualification".into(), "sales".into(), "triage".into()];
    qualifier.category = Some("Sales".into());
    qualifier.use_count = 12_345;
    qualifier.last_used_at = Some(at(25, 15, 58));
    vec![receptionist, triage, qualifier]
}

/// The clock the agents snapshots are drawn against: every test app's
/// (the fixtures' dates, `at`, are in its month).
pub(super) fn snapshot_now() -> chrono::DateTime<Utc> {
    super::test_clock()
}

pub(super) fn versions() -> Vec<AgentVersion> {
    let v = |n: u32, prompt: &str, who: Option<&str>, from: Option<u32>, day: u32| AgentVersion {
        agent_id: Uuid::from_u128(201),
        version: n,
        config: AgentConfig {
            system_prompt: prompt.into(),
            model: "local/smollm2-135m".into(),
            temperature: 0.3,
            max_tokens: 400,
        },
        created_by: who.map(String::from),
        created_at: at(day, 14, 2),
        restored_from: from,
    };
    vec![
        v(3, PROMPT_V3, Some("alice@openarms.org"), None, 25),
        v(2, PROMPT_V1, Some("bob@openarms.org"), Some(1), 24),
        v(1, PROMPT_V1, Some("alice@openarms.org"), None, 20),
    ]
}

pub(super) fn workspaces() -> Vec<Workspace> {
    let w = |n: u128, name: &str, channel, agent: Option<(u128, &str)>, link, on| Workspace {
        id: Uuid::from_u128(n),
        tenant_id: Uuid::from_u128(1),
        name: name.into(),
        channel,
        agent_id: agent.map(|(id, _)| Uuid::from_u128(id)),
        agent_name: agent.map(|(_, n)| n.to_string()),
        agent_link: link,
        strategy_active: on,
        created_at: at(20, 9, 0),
    };
    vec![
        w(
            301,
            "Website",
            Channel::WebForm,
            Some((201, "Receptionist")),
            AgentLink::Ok,
            true,
        ),
        w(
            302,
            "Inbox",
            Channel::Email,
            Some((299, "Old bot")),
            AgentLink::Deleted,
            false,
        ),
        w(
            303,
            "Chat",
            Channel::Chat,
            Some((298, "Beta helper")),
            AgentLink::Unshared,
            false,
        ),
        w(
            304,
            "Phone line",
            Channel::Phone,
            None,
            AgentLink::None,
            false,
        ),
    ]
}

/// Opens the Agents pane; returns the list request's id.
/// Opens the Agents pane (answering its model list); the agents request.
fn open_agents(app: &mut App) -> RequestId {
    let fx = press(app, &[key('3')]);
    if let Some((id, _)) = requests(&fx)
        .into_iter()
        .find(|(_, r)| *r == Request::Models)
    {
        app.on_response(id, Response::Models(Ok(models())));
    }
    id_of(&fx, |r| matches!(r, Request::ListAgents { .. }))
}

/// What the server's providers offer: the local model (ready) and one
/// configured OpenAI-compatible model.
pub fn models() -> Vec<ModelInfo> {
    vec![
        ModelInfo {
            id: "local/smollm2-135m".into(),
            ready: true,
            detail: None,
        },
        ModelInfo {
            id: "ollama/llama3.2".into(),
            ready: true,
            detail: None,
        },
    ]
}

pub(super) fn agents_loaded() -> App {
    let mut app = loaded();
    let id = open_agents(&mut app);
    app.on_response(id, Response::Agents(Ok(mixed_agents())));
    app
}

/// The Receptionist's detail with its versions loaded.
fn detail_loaded() -> App {
    let mut app = agents_loaded();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::AgentVersions { .. }));
    app.on_response(id, Response::AgentVersions(Ok(versions())));
    app
}

fn workspaces_loaded() -> App {
    let mut app = loaded();
    let fx = press(&mut app, &[key('4')]);
    let ws = id_of(&fx, |r| matches!(r, Request::ListWorkspaces { .. }));
    let ag = id_of(&fx, |r| matches!(r, Request::ListAgents { .. }));
    let models = id_of(&fx, |r| matches!(r, Request::Models));
    app.on_response(ag, Response::Agents(Ok(mixed_agents())));
    app.on_response(ws, Response::Workspaces(Ok(workspaces())));
    app.on_response(models, Response::Models(Ok(self::models())));
    app
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::Problem(Problem {
        kind: "/problems/forbidden".into(),
        title: "Forbidden".into(),
        status: 403,
        detail: Some(detail.into()),
        errors: vec![],
        retry_after: None,
    })
}

// ---------------------------------------------------------------- diff

#[test]
fn diff_of_equal_texts_is_all_same() {
    let d = line_diff("a\nb\nc", "a\nb\nc");
    assert!(d.iter().all(|l| l.kind == DiffKind::Same));
    assert_eq!(d.len(), 3);
}

#[test]
fn diff_marks_changed_added_and_removed_lines() {
    let d = line_diff("a\nb\nc\nd", "a\nB\nc\nd\ne");
    let text: Vec<String> = d.iter().map(|l| l.unified()).collect();
    assert_eq!(text, ["  a", "- b", "+ B", "  c", "  d", "+ e"]);
}

#[test]
fn diff_handles_empty_sides() {
    let d = line_diff("", "x\ny");
    assert_eq!(d.iter().filter(|l| l.kind == DiffKind::Added).count(), 2);
    let d = line_diff("x\ny", "");
    assert_eq!(d.iter().filter(|l| l.kind == DiffKind::Removed).count(), 2);
    assert!(line_diff("", "").is_empty());
}

#[test]
fn diff_keeps_the_longest_common_lines() {
    // Moving a line costs one removal and one addition, not a rewrite.
    let d = line_diff("a\nb\nc\nd", "b\nc\nd\na");
    let same: Vec<&str> = d
        .iter()
        .filter(|l| l.kind == DiffKind::Same)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(same, ["b", "c", "d"]);
    assert_eq!(d.len(), 5);
}

#[test]
fn diff_replays_to_both_texts() {
    let (old, new) = (PROMPT_V1, PROMPT_V3);
    let d = line_diff(old, new);
    let keep = |skip: DiffKind| {
        d.iter()
            .filter(|l| l.kind != skip)
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(keep(DiffKind::Added), old);
    assert_eq!(keep(DiffKind::Removed), new);
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_agents_table() {
    let mut app = agents_loaded();
    app.now = snapshot_now();
    let screen = render(&app, 80, 24);
    // At 80 columns: the library mark, category, tags, uses and last use;
    // model, version and owner wait for a wider terminal.
    for text in [
        "Receptionist",
        "◆ Qualifier",
        "global",
        "selective",
        "Sales",
        "12.3k",
        "4m ago",
        "never",
        "qualification",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    assert!(!screen.contains("ollama/llama3.2"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_agent_detail_with_versions() {
    let mut app = detail_loaded();
    // "last … (Nd ago)" is counted from the app's clock: a fixed one, or
    // the snapshot changes every day at the hour the agent was last used.
    app.now = snapshot_now();
    press(&mut app, &[code(KeyCode::Tab)]);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("v2 · 2026-11-24 14:02 · by bob@openarms.org · restored from v1"),
        "{screen}"
    );
    assert!(screen.contains("Never promise a bed"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_version_diff() {
    let mut app = detail_loaded();
    // Mark v3 and v1, then diff them.
    press(
        &mut app,
        &[code(KeyCode::Tab), key(' '), key('j'), key('j'), key(' ')],
    );
    press(&mut app, &[code(KeyCode::Enter)]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Prompt v1 → v3"), "{screen}");
    assert!(screen.contains("+ Greet the visitor warmly."), "{screen}");
    assert!(screen.contains("- Greet the visitor."), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn diff_lines_use_the_theme() {
    let mut app = detail_loaded();
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Enter)]);
    app.theme = Theme::default();
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| ui::draw(f, &app)).unwrap();
    let buf = term.backend().buffer();
    let text = buffer_text(buf);
    let fg_at = |prefix: &str| {
        let (y, line) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_start_matches('│').starts_with(prefix))
            .expect("diff line shown");
        let x = line
            .find(prefix)
            .map(|b| line[..b].chars().count())
            .unwrap_or(0) as u16;
        buf[(x, y as u16)].fg
    };
    assert_eq!(fg_at("+ "), Theme::default().diff_added.fg.unwrap());
    assert_eq!(fg_at("- "), Theme::default().diff_removed.fg.unwrap());
}

#[test]
fn snapshot_agent_form_with_prompt_error() {
    let mut app = agents_loaded();
    press(&mut app, &[key('e')]);
    press(&mut app, &[code(KeyCode::Tab); 5]);
    typed(&mut app, "Be brief. ");
    let fx = press(&mut app, &[ctrl('s')]);
    let id = id_of(&fx, |r| matches!(r, Request::UpdateAgent { .. }));
    app.on_response(
        id,
        Response::AgentUpdated(Err(validation(
            "system_prompt",
            "must be at most 20000 characters",
        ))),
    );
    app.toasts.clear();
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("must be at most 20000 characters"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_workspaces_table() {
    let app = workspaces_loaded();
    let screen = render(&app, 80, 24);
    for text in [
        "Receptionist",
        "Old bot: deleted",
        "Beta helper: no longer shared",
        "— none",
        "active",
        "inactive",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_agents_load_error() {
    let mut app = loaded();
    let id = open_agents(&mut app);
    app.on_response(id, Response::Agents(Err(unreachable())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Press r to retry"), "{screen}");
    insta::assert_snapshot!(screen);
    let fx = press(&mut app, &[key('r')]);
    assert!(matches!(
        &requests(&fx)[..],
        [(_, Request::ListAgents { .. })]
    ));
}

#[test]
fn snapshot_workspaces_load_error() {
    let mut app = loaded();
    let fx = press(&mut app, &[key('4')]);
    let id = id_of(&fx, |r| matches!(r, Request::ListWorkspaces { .. }));
    app.on_response(id, Response::Workspaces(Err(unreachable())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Could not load workspaces"), "{screen}");
    insta::assert_snapshot!(screen);
}

// ---------------------------------------------------------------- state machine

#[test]
fn opening_the_pane_lists_the_current_tenants_agents() {
    let mut app = loaded();
    let fx = press(&mut app, &[key('3')]);
    let reqs = requests(&fx);
    let open_arms = Uuid::from_u128(1).to_string();
    assert!(
        matches!(&reqs[..], [(_, Request::ListAgents { tenant }), (_, Request::Models)]
            if *tenant == open_arms),
        "{reqs:?}"
    );
}

#[test]
fn a_stale_agents_list_is_dropped_after_a_tenant_switch() {
    let mut app = loaded();
    let old = open_agents(&mut app);
    press(&mut app, &[key(':')]);
    typed(&mut app, "tenant beta-co");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let new = id_of(
        &fx,
        |r| matches!(r, Request::ListAgents { tenant } if *tenant == Uuid::from_u128(2).to_string()),
    );
    app.on_response(old, Response::Agents(Ok(mixed_agents())));
    assert!(matches!(app.agents.list(), Load::Loading));
    app.on_response(new, Response::Agents(Ok(vec![])));
    assert_eq!(app.agents.list().loaded().map(Vec::len), Some(0));
}

#[test]
fn editing_the_prompt_sends_only_the_prompt_and_toasts_the_version() {
    let mut app = agents_loaded();
    press(&mut app, &[key('e')]);
    press(&mut app, &[code(KeyCode::Tab); 5]);
    typed(&mut app, "Be brief. ");
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    let [(
        id,
        Request::UpdateAgent {
            id: agent_id,
            patch,
            ..
        },
    )] = &reqs[..]
    else {
        panic!("expected one update, got {reqs:?}");
    };
    assert_eq!(*agent_id, Uuid::from_u128(201));
    let want = AgentPatch {
        system_prompt: Some(format!("Be brief. {PROMPT_V3}")),
        ..AgentPatch::default()
    };
    assert_eq!(*patch, want);
    let mut saved = agent(201, "Receptionist", "Open Arms", false);
    saved.version = 4;
    app.on_response(*id, Response::AgentUpdated(Ok(saved)));
    assert!(app.modal.is_none());
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text == "Saved Receptionist as v4"),
        "{:?}",
        app.toasts
    );
    assert_eq!(app.agents.items()[0].version, 4);
}

#[test]
fn a_failed_agent_save_keeps_the_draft() {
    let mut app = agents_loaded();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Greeter");
    press(&mut app, &[code(KeyCode::Tab); 5]);
    typed(&mut app, "Hello there");
    let fx = press(&mut app, &[ctrl('s')]);
    let id = id_of(
        &fx,
        |r| matches!(r, Request::CreateAgent { new, .. } if new.model == "local/smollm2-135m" && new.system_prompt == "Hello there"),
    );
    app.on_response(
        id,
        Response::AgentCreated(Err(validation("model", "must be provider/model"))),
    );
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form closed");
    };
    assert_eq!(open.form.value("name"), "Greeter");
    assert_eq!(open.form.value("system_prompt"), "Hello there");
    assert_eq!(
        open.form.field("model").and_then(|f| f.error.as_deref()),
        Some("must be provider/model")
    );
    assert!(app.toasts.iter().any(|t| t.kind == ToastKind::Error));
}

#[test]
fn numbers_that_do_not_parse_are_flagged_before_sending() {
    let mut app = agents_loaded();
    press(&mut app, &[key('n')]);
    press(&mut app, &[code(KeyCode::Tab); 3]);
    typed(&mut app, "x");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty());
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form closed");
    };
    assert!(open
        .form
        .field("temperature")
        .and_then(|f| f.error.as_deref())
        .is_some());
    assert!(open
        .form
        .field("max_tokens")
        .and_then(|f| f.error.as_deref())
        .is_none());
}

#[test]
fn editing_a_shared_agent_is_refused_locally() {
    let mut app = agents_loaded();
    let fx = press(&mut app, &[key('G'), key('e')]);
    assert!(fx.is_empty());
    assert!(app.modal.is_none());
    let toast = app
        .toasts
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(toast.contains("global library"), "{toast}");
    assert!(toast.contains("read-only"), "{toast}");
    assert!(toast.contains("Press c to use it as a template"), "{toast}");
}

#[test]
fn restore_sends_the_selected_version_and_toasts_the_new_one() {
    let mut app = detail_loaded();
    press(
        &mut app,
        &[code(KeyCode::Tab), key('j'), key('j'), key('R')],
    );
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    let fx = press(&mut app, &[key('y')]);
    let reqs = requests(&fx);
    let [(id, Request::RestoreAgentVersion { version, .. })] = &reqs[..] else {
        panic!("expected a restore, got {reqs:?}");
    };
    assert_eq!(*version, 1);
    let mut restored = agent(201, "Receptionist", "Open Arms", false);
    restored.version = 4;
    let fx = app.on_response(*id, Response::AgentRestored(Ok(restored)));
    assert!(app.toasts.iter().any(|t| t.text == "Restored v1 as v4"));
    // The versions grew: they are fetched again.
    assert!(matches!(
        &requests(&fx)[..],
        [(_, Request::AgentVersions { .. })]
    ));
}

#[test]
fn share_selectively_sends_the_ticked_tenant_ids() {
    let mut app = agents_loaded();
    press(&mut app, &[key('S')]);
    assert!(matches!(app.modal, Some(Modal::Share(_))));
    // Selective, then tick the first tenant listed (Platform) and Beta Co.
    press(
        &mut app,
        &[
            code(KeyCode::Right),
            code(KeyCode::Right),
            key(' '),
            key('j'),
            key(' '),
        ],
    );
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let reqs = requests(&fx);
    let [(id, Request::ShareAgent { change, .. })] = &reqs[..] else {
        panic!("expected a share, got {reqs:?}");
    };
    assert_eq!(change.sharing, Sharing::Selective);
    assert_eq!(
        change.tenants,
        [
            Uuid::from_u128(100).to_string(),
            Uuid::from_u128(2).to_string()
        ]
    );
    app.on_response(
        *id,
        Response::AgentShared(Err(forbidden("only the platform may share globally"))),
    );
    let Some(Modal::Share(d)) = &app.modal else {
        panic!("the dialog closed");
    };
    let error = d.error.clone().unwrap_or_default();
    assert!(
        error.contains("only the platform may share globally"),
        "{error}"
    );
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::ShareAgent { .. }));
    app.on_response(
        id,
        Response::AgentShared(Ok(agent(201, "Receptionist", "Open Arms", false))),
    );
    assert!(app.modal.is_none());
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Shared Receptionist with 2 tenants"));
}

#[test]
fn toggling_a_strategy_sends_the_opposite_and_toasts() {
    let mut app = workspaces_loaded();
    let fx = press(&mut app, &[key(' ')]);
    let reqs = requests(&fx);
    let [(id, Request::UpdateWorkspace { patch, .. })] = &reqs[..] else {
        panic!("expected an update, got {reqs:?}");
    };
    assert_eq!(patch.strategy_active, Some(false));
    assert_eq!(patch.agent_id, None);
    let mut off = workspaces().remove(0);
    off.strategy_active = false;
    app.on_response(*id, Response::WorkspaceSaved(Ok(off)));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Strategy off for Website — Open Arms"));
    assert!(!app.agents.workspace_items()[0].strategy_active);

    // Without a usable agent the server refuses; its message is shown.
    let fx = press(&mut app, &[key('G'), key('t')]);
    let id = id_of(
        &fx,
        |r| matches!(r, Request::UpdateWorkspace { patch, .. } if patch.strategy_active == Some(true)),
    );
    app.on_response(
        id,
        Response::WorkspaceSaved(Err(validation(
            "strategy_active",
            "link an agent before activating the strategy",
        ))),
    );
    let toast = app
        .toasts
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(
        toast.contains("link an agent before activating the strategy"),
        "{toast}"
    );
}

#[test]
fn linking_none_unlinks_the_agent() {
    let mut app = workspaces_loaded();
    press(&mut app, &[key('l')]);
    assert!(matches!(app.modal, Some(Modal::Picker(_))));
    // The picker starts on the linked agent; "— none" is first.
    let fx = press(
        &mut app,
        &[key('g'), key('k'), key('k'), code(KeyCode::Enter)],
    );
    let reqs = requests(&fx);
    assert!(
        matches!(&reqs[..], [(_, Request::UpdateWorkspace { patch, .. })] if patch.agent_id == Some(None)),
        "{reqs:?}"
    );
}

#[test]
fn new_workspace_form_offers_shared_agents() {
    let mut app = workspaces_loaded();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Kiosk");
    // Channel: chat; agent: the third option (Triage).
    press(
        &mut app,
        &[
            code(KeyCode::Tab),
            code(KeyCode::Right),
            code(KeyCode::Right),
        ],
    );
    press(
        &mut app,
        &[
            code(KeyCode::Tab),
            code(KeyCode::Right),
            code(KeyCode::Right),
            code(KeyCode::Right),
        ],
    );
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    let [(_, Request::CreateWorkspace { new, .. })] = &reqs[..] else {
        panic!("expected a create, got {reqs:?}");
    };
    assert_eq!(new.name, "Kiosk");
    assert_eq!(new.channel, Channel::Chat);
    assert_eq!(new.agent_id, Some(Uuid::from_u128(203)));
}

#[test]
fn agent_command_opens_the_detail() {
    let mut app = loaded();
    press(&mut app, &[key(':')]);
    typed(&mut app, "agent triage");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert_eq!(app.pane, Pane::Agents);
    let id = id_of(&fx, |r| matches!(r, Request::ListAgents { .. }));
    let fx = app.on_response(id, Response::Agents(Ok(mixed_agents())));
    assert!(
        matches!(&requests(&fx)[..], [(_, Request::AgentVersions { id, .. })] if *id == Uuid::from_u128(202))
    );
    assert_eq!(
        app.agents.detail().map(|d| d.agent().name.as_str()),
        Some("Triage")
    );
}

#[test]
fn delete_asks_first() {
    let mut app = agents_loaded();
    let fx = press(&mut app, &[key('d')]);
    assert!(fx.is_empty());
    let fx = press(&mut app, &[key('y')]);
    let reqs = requests(&fx);
    let [(id, Request::DeleteAgent { .. })] = &reqs[..] else {
        panic!("expected a delete, got {reqs:?}");
    };
    app.on_response(*id, Response::AgentDeleted(Ok(())));
    assert_eq!(app.agents.items().len(), 2);
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Deleted agent Receptionist"));
}

#[test]
fn the_model_is_picked_from_what_the_server_offers() {
    let mut app = agents_loaded();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Greeter");
    // Name → Description → Model; right picks the next offered model.
    press(
        &mut app,
        &[code(KeyCode::Tab), code(KeyCode::Tab), code(KeyCode::Right)],
    );
    press(&mut app, &[code(KeyCode::Tab); 3]);
    typed(&mut app, "Hello there");
    let fx = press(&mut app, &[ctrl('s')]);
    id_of(
        &fx,
        |r| matches!(r, Request::CreateAgent { new, .. } if new.model == "ollama/llama3.2"),
    );
}
