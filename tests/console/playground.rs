//! The Playground pane and "Initialize tenant": snapshots and the state
//! machine, with replies streamed in as the runtime would feed them.

use super::agents::{mixed_agents, workspaces};
use super::*;
use switchboard::console::playground::ReplyMsg;
use switchboard::domain::{
    Agent, Channel, ImportReport, KnowledgeDocument, KnowledgeFormat, ModelInfo, PlaygroundEvent,
    PlaygroundLane, PlaygroundMessage, PlaygroundRole, PlaygroundSession, PlaygroundTranscript,
    ProblemKind, ReplyStats, ReplyStatus, Workspace,
};

pub(super) const QUESTION: &str = "Hi, do you have a bed for tonight? I'm Maria.";
pub(super) const ANSWER: &str =
    "Hello Maria, thank you for reaching out. A manager will confirm a bed \
                      within the hour. What is the best number to call you on?";

fn at(h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap()
}

pub(super) fn session(compare: bool) -> PlaygroundSession {
    let mut lanes = vec![PlaygroundLane {
        agent_id: Uuid::from_u128(201),
        agent_name: "Receptionist".into(),
        version: None,
    }];
    if compare {
        lanes.push(PlaygroundLane {
            agent_id: Uuid::from_u128(201),
            agent_name: "Receptionist".into(),
            version: Some(1),
        });
    }
    PlaygroundSession {
        id: Uuid::from_u128(700 + u128::from(compare)),
        tenant_id: Uuid::from_u128(1),
        title: if compare {
            "Receptionist vs v1".into()
        } else {
            "Receptionist".into()
        },
        workspace_id: Some(Uuid::from_u128(301)),
        workspace_name: Some("Website — Open Arms".into()),
        channel: Channel::WebForm,
        lanes,
        created_by: Some("admin@local".into()),
        message_count: 2,
        created_at: at(9, 0),
        updated_at: at(9, 5),
    }
}

pub(super) fn stats(version: u32) -> ReplyStats {
    ReplyStats {
        agent_id: Uuid::from_u128(201),
        model: "local/smollm2-135m".into(),
        prompt_version: version,
        prompt_tokens: 58,
        completion_tokens: 31,
        time_to_first_token_ms: 212,
        tokens_per_second: 47.46,
        duration_ms: 870,
        snippets: Vec::new(),
        temperature: None,
        max_tokens: None,
    }
}

pub(super) fn message(
    s: &PlaygroundSession,
    seq: u32,
    lane: Option<u8>,
    content: &str,
    status: Option<ReplyStatus>,
) -> PlaygroundMessage {
    let assistant = lane.is_some();
    PlaygroundMessage {
        id: Uuid::from_u128(800 + u128::from(seq)),
        session_id: s.id,
        seq,
        lane,
        role: if assistant {
            PlaygroundRole::Assistant
        } else {
            PlaygroundRole::User
        },
        content: content.into(),
        status,
        error: None,
        stats: assistant.then(|| stats(3 - u32::from(lane.unwrap_or(0)) * 2)),
        lead_id: None,
        created_at: at(9, seq),
    }
}

/// Open Arms' Playground pane with `sessions` listed and its agents loaded.
pub(super) fn in_playground(sessions: Vec<PlaygroundSession>) -> App {
    in_playground_with(sessions, mixed_agents())
}

/// [`in_playground`], the agents list answered with `agents`.
pub(super) fn in_playground_with(sessions: Vec<PlaygroundSession>, agents: Vec<Agent>) -> App {
    in_playground_offering(sessions, agents, crate::agents::models())
}

/// [`in_playground_with`], the server offering `models`.
pub(super) fn in_playground_offering(
    sessions: Vec<PlaygroundSession>,
    agents: Vec<Agent>,
    models: Vec<ModelInfo>,
) -> App {
    let mut app = loaded();
    let fx = press(&mut app, &[key('5')]);
    assert_eq!(app.pane, Pane::Playground);
    for (id, req) in requests(&fx) {
        let resp = match req {
            Request::ListPlaygroundSessions { .. } => {
                Response::PlaygroundSessions(Ok(sessions.clone()))
            }
            Request::ListAgents { .. } => Response::Agents(Ok(agents.clone())),
            Request::ListWorkspaces { .. } => Response::Workspaces(Ok(workspaces())),
            Request::Models => Response::Models(Ok(models.clone())),
            other => panic!("unexpected request {other:?}"),
        };
        app.on_response(id, resp);
    }
    app
}

/// A session open on its transcript, the input focused.
pub(super) fn chat_with(s: PlaygroundSession, messages: Vec<PlaygroundMessage>) -> App {
    chat_with_agents(s, messages, mixed_agents())
}

/// [`chat_with`], the agents list answered with `agents`.
pub(super) fn chat_with_agents(
    s: PlaygroundSession,
    messages: Vec<PlaygroundMessage>,
    agents: Vec<Agent>,
) -> App {
    let mut app = in_playground_with(vec![s.clone()], agents);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadPlaygroundSession { .. }));
    app.on_response(
        id,
        Response::PlaygroundTranscript(Ok(PlaygroundTranscript {
            session: s,
            messages,
        })),
    );
    app
}

/// Types `text` into the input and presses Enter: the stream's id.
fn send(app: &mut App, text: &str) -> RequestId {
    typed(app, text);
    let fx = press(app, &[code(KeyCode::Enter)]);
    match fx.as_slice() {
        [Effect::StreamReply(id, req)] => {
            assert_eq!(req.content, text);
            *id
        }
        other => panic!("expected a streamed send, got {other:?}"),
    }
}

pub(super) fn feed(app: &mut App, id: RequestId, events: Vec<PlaygroundEvent>) {
    for ev in events {
        app.on_reply(id, ReplyMsg::Event(ev));
    }
}

pub(super) fn tokens(lane: u8, text: &str) -> Vec<PlaygroundEvent> {
    text.split_inclusive(' ')
        .map(|t| PlaygroundEvent::Token {
            lane,
            text: t.into(),
        })
        .collect()
}

/// A chat where `QUESTION` was sent and half the answer streamed in.
fn streaming() -> (App, RequestId) {
    let s = session(false);
    let mut app = chat_with(s.clone(), vec![]);
    let id = send(&mut app, QUESTION);
    feed(
        &mut app,
        id,
        vec![PlaygroundEvent::Message(message(
            &s, 1, None, QUESTION, None,
        ))],
    );
    feed(
        &mut app,
        id,
        tokens(0, "Hello Maria, thank you for reaching"),
    );
    (app, id)
}

#[test]
fn snapshot_playground_empty() {
    let app = in_playground(vec![]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("No sessions yet. Press n"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_playground_new_session_picker_and_its_request() {
    let mut app = in_playground(vec![session(false)]);
    press(&mut app, &[key('c')]);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Compare two agents or versions"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);

    // The second agent: Triage has one version, so its choices follow it.
    press(&mut app, &[code(KeyCode::Tab); 3]);
    press(&mut app, &[code(KeyCode::Right)]);
    let render_now = render(&app, 80, 24);
    assert!(render_now.contains("current (v1)"), "{render_now}");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a create");
    let Request::CreatePlaygroundSession { new, .. } = req else {
        panic!("{req:?}");
    };
    assert_eq!(new.agent_id, Some(Uuid::from_u128(201)));
    assert_eq!(new.version, None);
    assert_eq!(new.compare.map(|c| c.agent_id), Some(Uuid::from_u128(202)));
    let fx = app.on_response(id, Response::PlaygroundSessionCreated(Ok(session(true))));
    assert!(app.modal.is_none());
    let chat = app.playground.chat().expect("the new session is open");
    assert!(chat.input_focused());
    id_of(&fx, |r| matches!(r, Request::LoadPlaygroundSession { .. }));
}

#[test]
fn snapshot_playground_reply_streaming_in() {
    let (mut app, id) = streaming();
    let screen = render(&app, 80, 24);
    assert!(screen.contains("thank you for reaching▍"), "{screen}");
    assert!(screen.contains("esc stop reply"), "{screen}");
    insta::assert_snapshot!(screen);
    // Keys keep working while it streams: letters are typed, not shortcuts.
    typed(&mut app, "q5");
    assert!(!app.quit);
    assert_eq!(app.pane, Pane::Playground);
    assert_eq!(app.playground.chat().unwrap().draft(), "q5");
    feed(&mut app, id, tokens(0, " out."));
    assert!(render(&app, 80, 24).contains("reaching out.▍"));
}

#[test]
fn snapshot_playground_finished_reply_with_stats() {
    let s = session(false);
    let (mut app, id) = streaming();
    feed(
        &mut app,
        id,
        vec![
            PlaygroundEvent::Reply(message(&s, 2, Some(0), ANSWER, Some(ReplyStatus::Complete))),
            PlaygroundEvent::Done,
        ],
    );
    app.on_reply(id, ReplyMsg::Ended);
    assert!(!app.playground.chat().unwrap().is_streaming());
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("local/smollm2-135m · v3 · 58+31 tokens · TTFT 212 ms · 47.5 tok/s"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);

    // y copies it (OSC 52 through the runtime), from the transcript.
    press(&mut app, &[code(KeyCode::Esc)]);
    let fx = press(&mut app, &[key('y')]);
    assert_eq!(fx, vec![Effect::CopyToClipboard(ANSWER.into())]);
}

#[test]
fn a_reply_says_which_session_overrides_it_was_generated_with() {
    let s = session(false);
    let (mut app, id) = streaming();
    let mut reply = message(&s, 2, Some(0), ANSWER, Some(ReplyStatus::Complete));
    if let Some(stats) = reply.stats.as_mut() {
        stats.temperature = Some(0.2);
        stats.max_tokens = Some(64);
    }
    feed(
        &mut app,
        id,
        vec![PlaygroundEvent::Reply(reply), PlaygroundEvent::Done],
    );
    app.on_reply(id, ReplyMsg::Ended);
    let screen = render(&app, 100, 24);
    assert!(
        screen.contains("47.5 tok/s · temp 0.20 · max 64 tokens"),
        "{screen}"
    );
}

#[test]
fn snapshot_playground_cancelled_reply() {
    let s = session(false);
    let (mut app, id) = streaming();
    let fx = press(&mut app, &[code(KeyCode::Esc)]);
    let cancel = id_of(&fx, |r| matches!(r, Request::CancelPlaygroundReply { .. }));
    app.on_response(cancel, Response::PlaygroundCancelled(Ok(true)));
    let mut reply = message(
        &s,
        2,
        Some(0),
        "Hello Maria, thank you for reaching",
        Some(ReplyStatus::Cancelled),
    );
    reply.stats.as_mut().unwrap().completion_tokens = 7;
    feed(
        &mut app,
        id,
        vec![PlaygroundEvent::Reply(reply), PlaygroundEvent::Done],
    );
    app.on_reply(id, ReplyMsg::Ended);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("cancelled · local/smollm2-135m"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn a_stop_the_server_did_not_take_drops_the_stream_and_keeps_the_text() {
    let (mut app, id) = streaming();
    let fx = press(&mut app, &[code(KeyCode::Esc)]);
    let cancel = id_of(&fx, |r| matches!(r, Request::CancelPlaygroundReply { .. }));
    let fx = app.on_response(cancel, Response::PlaygroundCancelled(Err(unreachable())));
    assert!(fx.contains(&Effect::DropReply(id)), "{fx:?}");
    let chat = app.playground.chat().unwrap();
    assert!(!chat.is_streaming());
    let last = chat.items().last().unwrap();
    assert_eq!(last.status, Some(ReplyStatus::Cancelled));
    assert_eq!(last.content, "Hello Maria, thank you for reaching");
}

#[test]
fn snapshot_playground_compare_two_columns() {
    let s = session(true);
    let mut app = chat_with(s.clone(), vec![]);
    let id = send(&mut app, QUESTION);
    feed(
        &mut app,
        id,
        vec![PlaygroundEvent::Message(message(
            &s, 1, None, QUESTION, None,
        ))],
    );
    feed(&mut app, id, tokens(1, "Hi! We have beds."));
    feed(
        &mut app,
        id,
        tokens(0, "Hello Maria, thank you for reaching"),
    );
    feed(
        &mut app,
        id,
        vec![PlaygroundEvent::Reply(message(
            &s,
            2,
            Some(1),
            "Hi! We have beds.",
            Some(ReplyStatus::Complete),
        ))],
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("│Receptionist v1"), "{screen}");
    assert!(screen.contains("v1 · 58+31"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_playground_model_unavailable_keeps_the_draft() {
    let mut app = chat_with(session(false), vec![]);
    let id = send(&mut app, QUESTION);
    assert_eq!(app.playground.chat().unwrap().draft(), "");
    let problem = Problem::new(
        ProblemKind::ModelUnavailable,
        "the local model is not installed at /home/me/.local/share/switchboard/models/\
         SmolLM2-135M-Instruct.Q4_1.gguf; run `switchboard model fetch` to download it",
    );
    app.on_reply(id, ReplyMsg::Refused(ApiError::Problem(problem)));
    let chat = app.playground.chat().unwrap();
    assert_eq!(chat.draft(), QUESTION);
    assert!(!chat.is_streaming());
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Model unavailable"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_view_follows_the_bottom_until_scrolled_up_and_again_once_back() {
    let s = session(false);
    let mut history = Vec::new();
    for i in 0..6 {
        history.push(message(&s, i * 2 + 1, None, QUESTION, None));
        history.push(message(
            &s,
            i * 2 + 2,
            Some(0),
            ANSWER,
            Some(ReplyStatus::Complete),
        ));
    }
    let mut app = chat_with(s.clone(), history);
    app.update(Action::Resize(80, 24));
    let id = send(&mut app, "And tomorrow?");
    feed(&mut app, id, tokens(0, "Tomorrow works"));
    assert!(render(&app, 80, 24).contains("Tomorrow works▍"));

    press(&mut app, &[code(KeyCode::PageUp)]);
    let top = app.playground.chat().unwrap().scroll();
    assert!(top.is_some());
    let before = render(&app, 80, 24);
    assert!(!before.contains("Tomorrow works"), "{before}");
    assert!(before.contains("scrolled up"), "{before}");
    // New tokens do not move a view the user scrolled.
    feed(&mut app, id, tokens(0, " too, from nine."));
    assert_eq!(app.playground.chat().unwrap().scroll(), top);
    assert_eq!(render(&app, 80, 24), before);

    press(&mut app, &[code(KeyCode::PageDown); 3]);
    assert_eq!(app.playground.chat().unwrap().scroll(), None);
    assert!(render(&app, 80, 24).contains("too, from nine.▍"));
}

#[test]
fn alt_enter_is_a_new_line_and_enter_sends_both_lines() {
    let mut app = chat_with(session(false), vec![]);
    typed(&mut app, "line one");
    press(
        &mut app,
        &[KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)],
    );
    typed(&mut app, "line two");
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert!(
        matches!(&fx[..], [Effect::StreamReply(_, r)] if r.content == "line one\nline two"),
        "{fx:?}"
    );
}

#[test]
fn save_as_lead_asks_for_contact_shows_the_422_and_toasts() {
    let s = session(false);
    let mut app = chat_with(
        s.clone(),
        vec![
            message(&s, 1, None, QUESTION, None),
            message(&s, 2, Some(0), ANSWER, Some(ReplyStatus::Complete)),
        ],
    );
    press(&mut app, &[code(KeyCode::Esc), key('s')]);
    assert!(matches!(&app.modal, Some(Modal::Form(_))));
    typed(&mut app, "Maria");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a save");
    assert!(
        matches!(&req, Request::SavePlaygroundLead { message, contact, .. }
            if *message == Uuid::from_u128(801) && contact.name.as_deref() == Some("Maria")),
        "{req:?}"
    );
    app.on_response(
        id,
        Response::PlaygroundLeadSaved(Err(validation("email", "give an email or a phone"))),
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("give an email or a phone"), "{screen}");
    assert!(
        matches!(&app.modal, Some(Modal::Form(_))),
        "the draft stays"
    );

    typed(&mut app, "maria@example.com");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, _) = requests(&fx).into_iter().next().expect("a save");
    let lead = mixed_leads().remove(0);
    let name = lead.name.clone();
    app.on_response(id, Response::PlaygroundLeadSaved(Ok(lead)));
    assert!(app.modal.is_none());
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == format!("Saved {name} as a lead")));
    assert!(render(&app, 80, 24).contains("saved as lead"));
}

#[test]
fn deleting_a_session_asks_first() {
    let mut app = in_playground(vec![session(false), session(true)]);
    assert!(press(&mut app, &[key('d')]).is_empty());
    assert!(matches!(&app.modal, Some(Modal::Confirm { .. })));
    let fx = press(&mut app, &[key('y')]);
    let id = id_of(&fx, |r| {
        matches!(r, Request::DeletePlaygroundSession { .. })
    });
    app.on_response(id, Response::PlaygroundSessionDeleted(Ok(())));
    assert_eq!(app.playground.items().len(), 1);
}

// ------------------------------------------------------ Initialize tenant

fn created_agent(tenant: Uuid, prompt: &str, model: &str) -> Agent {
    let mut a = super::agents::agent(401, "First response", "Open Arms", false);
    a.tenant_id = tenant;
    a.version = 1;
    a.config.system_prompt = prompt.into();
    a.config.model = model.into();
    a
}

/// Runs onboarding to the workspace step, which the server refuses.
fn init_until_workspace_fails() -> (App, Uuid) {
    let mut app = loaded_with(true, vec![platform()]);
    typed(&mut app, "Open Arms");
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Right)]);
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "a night shelter in Leeds");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a create");
    assert!(
        matches!(&req, Request::CreateTenant(n) if n.name == "Open Arms" && n.tier == Some(Tier::Pro)),
        "{req:?}"
    );
    let t = tenant(5, "Open Arms", "open-arms", Tier::Pro, 0);
    let fx = app.on_response(id, Response::TenantCreated(Ok(t.clone())));
    let id = id_of(&fx, |r| *r == Request::Models);
    let models = vec![
        ModelInfo {
            id: "local/smollm2-135m".into(),
            ready: false,
            detail: Some("run `switchboard model fetch`".into()),
        },
        ModelInfo {
            id: "ollama/llama3.2".into(),
            ready: true,
            detail: None,
        },
    ];
    let fx = app.on_response(id, Response::Models(Ok(models)));
    let (id, req) = requests(&fx).into_iter().next().expect("an agent");
    let Request::CreateAgent { new, .. } = req else {
        panic!("{req:?}");
    };
    assert_eq!(new.model, "ollama/llama3.2", "the first ready model");
    assert!(new
        .system_prompt
        .contains("Open Arms, a night shelter in Leeds"));
    let a = created_agent(t.id, &new.system_prompt, &new.model);
    let fx = app.on_response(id, Response::AgentCreated(Ok(a)));
    let (id, req) = requests(&fx).into_iter().next().expect("a workspace");
    assert!(
        matches!(&req, Request::CreateWorkspace { new, .. }
            if new.channel == Channel::WebForm && new.strategy_active
                && new.agent_id == Some(Uuid::from_u128(401))),
        "{req:?}"
    );
    app.on_response(id, Response::WorkspaceSaved(Err(unreachable())));
    (app, t.id)
}

#[test]
fn snapshot_initialize_tenant_step_failed() {
    let (app, _) = init_until_workspace_fails();
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("✗ Create the web-form workspace"),
        "{screen}"
    );
    assert!(
        screen.contains("Open Arms"),
        "the name typed stays: {screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn initialize_tenant_resumes_and_lands_in_the_playground_ready_to_chat() {
    let (mut app, tenant) = init_until_workspace_fails();
    // Saving again resumes at the failed step: no second tenant or agent.
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a retry");
    assert!(matches!(req, Request::CreateWorkspace { .. }), "{req:?}");
    let w: Workspace = workspaces().remove(0);
    let fx = app.on_response(id, Response::WorkspaceSaved(Ok(w)));
    // The starter knowledge, from the business description typed.
    let (id, req) = requests(&fx)
        .into_iter()
        .next()
        .expect("a knowledge document");
    let Request::CreateKnowledge { new, .. } = req else {
        panic!("{req:?}");
    };
    assert_eq!(new.title, "About Open Arms");
    assert!(
        new.body.contains("Open Arms: a night shelter in Leeds"),
        "{}",
        new.body
    );
    let at = chrono::Utc::now();
    let doc = KnowledgeDocument {
        id: Uuid::from_u128(77),
        tenant_id: tenant,
        title: new.title,
        body: new.body,
        format: KnowledgeFormat::Markdown,
        chunks: 1,
        created_by: None,
        created_at: at,
        updated_at: at,
    };
    let fx = app.on_response(id, Response::KnowledgeCreated(Ok(doc)));
    let id = id_of(&fx, |r| matches!(r, Request::ImportSample { .. }));
    let report = ImportReport {
        imported: 27,
        duplicates: 0,
        errors: vec![],
    };
    let fx = app.on_response(id, Response::Imported(Ok(report)));
    let (id, req) = requests(&fx).into_iter().next().expect("a session");
    let Request::CreatePlaygroundSession { new, .. } = req else {
        panic!("{req:?}");
    };
    assert_eq!(new.agent_id, Some(Uuid::from_u128(401)));
    let mut s = session(false);
    s.tenant_id = tenant;
    app.on_response(id, Response::PlaygroundSessionCreated(Ok(s)));
    assert!(!app.onboarding.is_open());
    assert_eq!(app.pane, Pane::Playground);
    assert_eq!(
        app.session.current().map(|t| t.name.as_str()),
        Some("Open Arms")
    );
    assert_eq!(
        app.tenants.selected(&app.session).map(|t| t.name.as_str()),
        Some("Open Arms")
    );
    let chat = app.playground.chat().expect("a session is open");
    assert!(chat.input_focused());
    // Ready to chat: typing goes to the input, Enter sends.
    let id = send(&mut app, "hello");
    assert_eq!(app.playground.chat().unwrap().streaming(), Some(id));
}

#[test]
fn initialize_tenant_without_a_business_description_skips_the_knowledge_and_says_so() {
    let (mut app, _) = init_until_workspace_fails();
    // The description is emptied before saving again.
    let backspaces = vec![code(KeyCode::Backspace); "a night shelter in Leeds".len()];
    press(&mut app, &backspaces);
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a retry");
    assert!(matches!(req, Request::CreateWorkspace { .. }), "{req:?}");
    let w: Workspace = workspaces().remove(0);
    let fx = app.on_response(id, Response::WorkspaceSaved(Ok(w)));
    // No document is written from nothing: the samples come next.
    let (_, req) = requests(&fx).into_iter().next().expect("the samples");
    assert!(matches!(req, Request::ImportSample { .. }), "{req:?}");
    let screen = render(&app, 80, 30);
    assert!(
        screen.contains("✓ Write the starter knowledge: skipped: no business description"),
        "{screen}"
    );
}
