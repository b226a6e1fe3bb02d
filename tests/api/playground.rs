//! The playground over HTTP: streamed replies, stored transcripts and stats,
//! pinned versions, compare mode, cancel (explicit and by closing the
//! stream), provider failures, save as lead.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use switchboard::api::{Client, ReplyStream};
use switchboard::domain::{
    AgentPatch, Channel, LeadSource, NewAgent, NewPlaygroundSession, NewWorkspace, PlaygroundEvent,
    PlaygroundMessage, PlaygroundRole, PlaygroundTarget, ProblemKind, ReplyStatus, Role,
    SaveAsLead, Sharing, SharingChange, Tier,
};
use switchboard::llm::{
    CancellationToken, ChatMessage, ChatRole, Chunk, ChunkReceiver, GenerateRequest,
    GenerationStats, LlmConfig, LlmError, LocalConfig, Provider, ProviderConfig, ProviderKind,
    Providers,
};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::common::{spawn_with_providers, TestApp};

/// A provider that answers every conversation with the same words, one
/// token every few milliseconds; `endless/…` streams until cancelled.
struct Scripted {
    seen: Arc<Mutex<Vec<GenerateRequest>>>,
    cancelled: Arc<Mutex<u32>>,
}

const WORDS: [&str; 5] = ["Thanks ", "for ", "reaching ", "out", "!"];

#[async_trait]
impl Provider for Scripted {
    fn id(&self) -> &str {
        "test"
    }

    async fn generate(
        &self,
        req: GenerateRequest,
        cancel: CancellationToken,
    ) -> Result<ChunkReceiver, LlmError> {
        let endless = req.model == "endless";
        self.seen.lock().unwrap().push(req);
        let (tx, rx) = mpsc::channel(8);
        let cancelled = self.cancelled.clone();
        tokio::spawn(async move {
            let mut sent = 0u32;
            loop {
                if !endless && sent as usize == WORDS.len() {
                    let stats = GenerationStats {
                        prompt_tokens: 42,
                        completion_tokens: sent,
                        time_to_first_token_ms: 3,
                        tokens_per_second: 250.0,
                    };
                    let _ = tx.send(Ok(Chunk::Done(stats))).await;
                    return;
                }
                tokio::select! {
                    _ = cancel.cancelled() => {
                        *cancelled.lock().unwrap() += 1;
                        return;
                    }
                    _ = tokio::time::sleep(Duration::from_millis(4)) => {}
                }
                let word = WORDS[sent as usize % WORDS.len()].to_string();
                if tx.send(Ok(Chunk::Token(word))).await.is_err() {
                    *cancelled.lock().unwrap() += 1;
                    return;
                }
                sent += 1;
            }
        });
        Ok(rx)
    }

    fn models(&self) -> Vec<String> {
        vec!["echo".into(), "endless".into()]
    }
}

pub(crate) struct Fixture {
    pub(crate) app: TestApp,
    pub(crate) seen: Arc<Mutex<Vec<GenerateRequest>>>,
    cancelled: Arc<Mutex<u32>>,
}

pub(crate) async fn fixture() -> Fixture {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let cancelled = Arc::new(Mutex::new(0));
    let mut providers = Providers::default();
    providers.insert(Arc::new(Scripted {
        seen: seen.clone(),
        cancelled: cancelled.clone(),
    }));
    Fixture {
        app: spawn_with_providers(providers).await,
        seen,
        cancelled,
    }
}

pub(crate) async fn agent(client: &Client, tenant: &str, name: &str, model: &str) -> Uuid {
    let new = NewAgent {
        name: name.into(),
        system_prompt: format!("You are {name}. Answer briefly."),
        model: model.into(),
        ..Default::default()
    };
    client.create_agent(tenant, &new).await.unwrap().id
}

pub(crate) async fn session(client: &Client, tenant: &str, new: NewPlaygroundSession) -> Uuid {
    client
        .create_playground_session(tenant, &new)
        .await
        .unwrap()
        .id
}

pub(crate) fn with_agent(agent_id: Uuid) -> NewPlaygroundSession {
    NewPlaygroundSession {
        agent_id: Some(agent_id),
        ..Default::default()
    }
}

/// Every event until `done` (or the end of the stream).
pub(crate) async fn drain(mut stream: ReplyStream) -> Vec<PlaygroundEvent> {
    let mut events = Vec::new();
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("the reply stream stalled")
    {
        events.push(ev.unwrap());
    }
    events
}

pub(crate) fn replies(events: &[PlaygroundEvent]) -> Vec<PlaygroundMessage> {
    events
        .iter()
        .filter_map(|e| match e {
            PlaygroundEvent::Reply(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn streamed_text(events: &[PlaygroundEvent], lane: u8) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            PlaygroundEvent::Token { lane: l, text } if *l == lane => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_reply_streams_token_by_token_and_is_stored_with_its_stats() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    let ws = app
        .admin
        .create_workspace(
            "open-arms",
            &NewWorkspace {
                name: "Support inbox".into(),
                channel: Channel::Email,
                agent_id: None,
                strategy_active: false,
            },
        )
        .await
        .unwrap();
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let s = session(
        &app.admin,
        "open-arms",
        NewPlaygroundSession {
            agent_id: Some(a),
            workspace_id: Some(ws.id),
            ..Default::default()
        },
    )
    .await;

    let stream = app
        .admin
        .send_playground_message("open-arms", s, "  Do you ship to Norway?  ")
        .await
        .unwrap();
    let events = drain(stream).await;
    let PlaygroundEvent::Message(user) = &events[0] else {
        panic!("the stored user message comes first: {events:?}")
    };
    assert_eq!(user.content, "Do you ship to Norway?");
    assert_eq!(user.role, PlaygroundRole::User);
    let tokens = events
        .iter()
        .filter(|e| matches!(e, PlaygroundEvent::Token { .. }))
        .count();
    assert_eq!(tokens, WORDS.len(), "one event per token");
    assert_eq!(events.last(), Some(&PlaygroundEvent::Done));
    let reply = &replies(&events)[0];
    assert_eq!(reply.content, "Thanks for reaching out!");
    assert_eq!(reply.content, streamed_text(&events, 0));
    assert_eq!(reply.status, Some(ReplyStatus::Complete));
    let stats = reply.stats.as_ref().expect("stats");
    assert_eq!(stats.model, "test/echo");
    assert_eq!(stats.prompt_version, 1);
    assert_eq!((stats.prompt_tokens, stats.completion_tokens), (42, 5));
    assert_eq!(stats.tokens_per_second, 250.0);
    assert!(stats.duration_ms >= stats.time_to_first_token_ms);

    // The agent was told the text is an inbound lead's, through the workspace's channel.
    let req = fx.seen.lock().unwrap()[0].clone();
    assert_eq!(req.messages[0].role, ChatRole::System);
    assert!(req.messages[0].content.starts_with("You are Greeter."));
    assert!(req.messages[0].content.contains("inbound lead"));
    assert!(req.messages[0].content.contains("Support inbox"));
    assert_eq!(
        req.messages[1],
        ChatMessage::new(ChatRole::User, "Do you ship to Norway?")
    );

    // The next message carries the conversation so far.
    let stream = app
        .admin
        .send_playground_message("open-arms", s, "And to Iceland?")
        .await
        .unwrap();
    drain(stream).await;
    let req = fx.seen.lock().unwrap()[1].clone();
    let roles: Vec<ChatRole> = req.messages.iter().map(|m| m.role).collect();
    use ChatRole::*;
    assert_eq!(roles, [System, User, Assistant, User]);
    assert_eq!(req.messages[2].content, "Thanks for reaching out!");

    let transcript = app.admin.playground_session("open-arms", s).await.unwrap();
    assert_eq!(transcript.session.message_count, 4);
    assert_eq!(
        transcript.session.workspace_name.as_deref(),
        Some("Support inbox")
    );
    assert_eq!(transcript.session.channel, Channel::Email);
    let seqs: Vec<u32> = transcript.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(transcript.messages[1], *reply, "stored as streamed");
    let listed = app.admin.playground_sessions("open-arms").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].title, "Greeter");

    // Each reply counts in the tenant's usage: a generation and its tokens.
    let usage = app.admin.usage("open-arms").await.unwrap();
    let today = usage.days.last().map(|d| d.counts).unwrap_or_default();
    assert_eq!(today.generations, 2);
    assert_eq!((today.prompt_tokens, today.completion_tokens), (84, 10));
}

#[tokio::test]
async fn a_pinned_version_keeps_answering_with_its_prompt_after_edits() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let patch = AgentPatch {
        system_prompt: Some("Version two prompt.".into()),
        ..Default::default()
    };
    app.admin
        .update_agent("open-arms", a, &patch)
        .await
        .unwrap();
    let pinned = NewPlaygroundSession {
        agent_id: Some(a),
        version: Some(1),
        ..Default::default()
    };
    let s1 = session(&app.admin, "open-arms", pinned).await;
    let s2 = session(&app.admin, "open-arms", with_agent(a)).await;
    for s in [s1, s2] {
        let stream = app
            .admin
            .send_playground_message("open-arms", s, "Hello")
            .await
            .unwrap();
        drain(stream).await;
    }
    let seen = fx.seen.lock().unwrap().clone();
    assert!(seen[0].messages[0].content.starts_with("You are Greeter."));
    assert!(seen[1].messages[0]
        .content
        .starts_with("Version two prompt."));
    let t1 = app.admin.playground_session("open-arms", s1).await.unwrap();
    let t2 = app.admin.playground_session("open-arms", s2).await.unwrap();
    let version = |m: &PlaygroundMessage| m.stats.as_ref().unwrap().prompt_version;
    assert_eq!(version(&t1.messages[1]), 1);
    assert_eq!(version(&t2.messages[1]), 2);

    let missing = NewPlaygroundSession {
        agent_id: Some(a),
        version: Some(9),
        ..Default::default()
    };
    let err = app
        .admin
        .create_playground_session("open-arms", &missing)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(err.message().contains("no version 9"), "{}", err.message());
}

#[tokio::test]
async fn compare_mode_streams_two_answers_side_by_side() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let b = agent(&app.admin, "open-arms", "Closer", "test/echo").await;
    let new = NewPlaygroundSession {
        agent_id: Some(a),
        compare: Some(PlaygroundTarget {
            agent_id: b,
            version: None,
        }),
        ..Default::default()
    };
    let created = app
        .admin
        .create_playground_session("open-arms", &new)
        .await
        .unwrap();
    assert!(created.is_compare());
    assert_eq!(created.title, "Greeter vs Closer");
    let stream = app
        .admin
        .send_playground_message("open-arms", created.id, "Price for 3 rooms?")
        .await
        .unwrap();
    let events = drain(stream).await;
    let mut got = replies(&events);
    got.sort_by_key(|m| m.lane);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].lane, got[1].lane), (Some(0), Some(1)));
    for (lane, reply) in got.iter().enumerate() {
        assert_eq!(reply.content, streamed_text(&events, lane as u8));
        assert_eq!(reply.status, Some(ReplyStatus::Complete));
        let agent = reply.stats.as_ref().unwrap().agent_id;
        assert_eq!(agent, [a, b][lane]);
    }
    let systems: Vec<String> = fx
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.messages[0].content.clone())
        .collect();
    assert!(systems.iter().any(|s| s.starts_with("You are Greeter.")));
    assert!(systems.iter().any(|s| s.starts_with("You are Closer.")));
    let transcript = app
        .admin
        .playground_session("open-arms", created.id)
        .await
        .unwrap();
    assert_eq!(transcript.messages.len(), 3);
}

pub(crate) async fn first_tokens(stream: &mut ReplyStream, n: usize) {
    let mut seen = 0;
    while seen < n {
        match stream.next().await {
            Some(Ok(PlaygroundEvent::Token { .. })) => seen += 1,
            Some(Ok(_)) => {}
            other => panic!("the reply ended early: {other:?}"),
        }
    }
}

#[tokio::test]
async fn cancel_stops_the_reply_and_keeps_the_text_so_far() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Rambler", "test/endless").await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;
    let mut stream = app
        .admin
        .send_playground_message("open-arms", s, "Tell me everything")
        .await
        .unwrap();
    first_tokens(&mut stream, 3).await;

    // One reply at a time per session: a second message is refused, unstored.
    let err = app
        .admin
        .send_playground_message("open-arms", s, "Hello?")
        .await
        .err()
        .expect("refused while streaming");
    assert_eq!(err.status(), Some(409));

    assert!(app
        .admin
        .cancel_playground_reply("open-arms", s)
        .await
        .unwrap());
    let rest = drain(stream).await;
    let reply = &replies(&rest)[0];
    assert_eq!(reply.status, Some(ReplyStatus::Cancelled));
    assert!(
        reply.content.starts_with("Thanks for reaching "),
        "{reply:?}"
    );
    assert!(reply.stats.as_ref().unwrap().completion_tokens >= 3);
    assert_eq!(rest.last(), Some(&PlaygroundEvent::Done));
    assert_eq!(*fx.cancelled.lock().unwrap(), 1);
    // Nothing is running now.
    assert!(!app
        .admin
        .cancel_playground_reply("open-arms", s)
        .await
        .unwrap());
    let transcript = app.admin.playground_session("open-arms", s).await.unwrap();
    assert_eq!(
        transcript.messages.len(),
        2,
        "the refused message left no trace"
    );
}

#[tokio::test]
async fn closing_the_stream_cancels_and_the_partial_reply_is_kept() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Rambler", "test/endless").await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;
    let mut stream = app
        .admin
        .send_playground_message("open-arms", s, "Tell me everything")
        .await
        .unwrap();
    first_tokens(&mut stream, 2).await;
    drop(stream);
    let mut reply = None;
    for _ in 0..200 {
        let t = app.admin.playground_session("open-arms", s).await.unwrap();
        if let Some(m) = t.messages.get(1) {
            reply = Some(m.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let reply = reply.expect("the reply was stored after the client left");
    assert_eq!(reply.status, Some(ReplyStatus::Cancelled));
    assert!(!reply.content.is_empty());
    assert_eq!(*fx.cancelled.lock().unwrap(), 1);
    // The session is free again.
    let a2 = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let s2 = session(&app.admin, "open-arms", with_agent(a2)).await;
    let events = drain(
        app.admin
            .send_playground_message("open-arms", s2, "Hi")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replies(&events)[0].status, Some(ReplyStatus::Complete));
}

#[tokio::test]
async fn an_unreachable_provider_or_missing_model_is_a_clear_problem_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = LlmConfig {
        local: LocalConfig {
            enabled: true,
            model_path: Some(dir.path().join("absent.gguf")),
            threads: None,
        },
        ..Default::default()
    };
    cfg.providers.insert(
        "ollama".into(),
        ProviderConfig {
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:1/v1".into(),
            api_key_env: None,
            models: vec!["llama3.2".into()],
            timeout_secs: 5,
        },
    );
    let providers = Providers::from_config(&cfg, dir.path()).unwrap();
    let app = spawn_with_providers(providers).await;
    app.tenant("Open Arms", Tier::Pro).await;
    for (model, status, kind, says) in [
        (
            "ollama/llama3.2",
            502,
            ProblemKind::ProviderFailed,
            "provider unreachable at http://127.0.0.1:1",
        ),
        (
            "local/smollm2-135m",
            503,
            ProblemKind::ModelUnavailable,
            "switchboard model fetch",
        ),
    ] {
        let a = agent(&app.admin, "open-arms", "Greeter", model).await;
        let s = session(&app.admin, "open-arms", with_agent(a)).await;
        let err = app
            .admin
            .send_playground_message("open-arms", s, "Hello")
            .await
            .err()
            .expect("refused");
        assert_eq!(err.status(), Some(status), "{model}: {err}");
        assert!(err.is(kind), "{model}: {err}");
        assert!(err.message().contains(says), "{model}: {}", err.message());
        let t = app.admin.playground_session("open-arms", s).await.unwrap();
        assert!(
            t.messages.is_empty(),
            "{model}: a refused message is not stored"
        );
        assert_eq!(t.session.message_count, 0);
    }
}

#[tokio::test]
async fn save_as_lead_makes_one_playground_lead_outside_the_monthly_limit() {
    let fx = fixture().await;
    let app = &fx.app;
    let tenant = app.tenant("Open Arms", Tier::Starter).await;
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;
    let events = drain(
        app.admin
            .send_playground_message("open-arms", s, "I need a quote for 40 chairs")
            .await
            .unwrap(),
    )
    .await;
    let PlaygroundEvent::Message(user) = &events[0] else {
        panic!("{events:?}")
    };
    let reply = &replies(&events)[0];

    let (_, agent_member) = app
        .member(&tenant, "agent@openarms.test", Role::Agent)
        .await;
    // No way to answer the lead: refused, nothing made.
    let err = agent_member
        .save_playground_lead("open-arms", s, user.id, &SaveAsLead::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let err = agent_member
        .save_playground_lead("open-arms", s, reply.id, &SaveAsLead::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "a reply is not a lead's message");

    let contact = SaveAsLead {
        name: Some("Chair Buyer".into()),
        email: Some("buyer@example.com".into()),
        phone: None,
    };
    let lead = agent_member
        .save_playground_lead("open-arms", s, user.id, &contact)
        .await
        .unwrap();
    assert_eq!(lead.source, LeadSource::Playground);
    assert_eq!(lead.message, "I need a quote for 40 chairs");
    assert_eq!(lead.name, "Chair Buyer");
    let again = agent_member
        .save_playground_lead("open-arms", s, user.id, &contact)
        .await
        .unwrap();
    assert_eq!(again.id, lead.id, "saving twice finds the same lead");
    let usage = app.admin.usage("open-arms").await.unwrap();
    assert_eq!(
        usage.leads_this_month, 0,
        "playground leads are not counted"
    );
    let t = app.admin.playground_session("open-arms", s).await.unwrap();
    assert_eq!(t.messages[0].lead_id, Some(lead.id));
}

#[tokio::test]
async fn shared_agents_can_be_used_and_private_ones_of_others_cannot() {
    let fx = fixture().await;
    let app = &fx.app;
    app.tenant("Open Arms", Tier::Pro).await;
    app.tenant("Blue Door", Tier::Pro).await;
    let private = agent(&app.admin, "blue-door", "Secret", "test/echo").await;
    let shared = agent(&app.admin, "blue-door", "Shared", "test/echo").await;
    let change = SharingChange {
        sharing: Sharing::Selective,
        tenants: vec!["open-arms".into()],
    };
    app.admin
        .share_agent("blue-door", shared, &change)
        .await
        .unwrap();
    let err = app
        .admin
        .create_playground_session("open-arms", &with_agent(private))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let s = session(&app.admin, "open-arms", with_agent(shared)).await;
    let events = drain(
        app.admin
            .send_playground_message("open-arms", s, "Hi")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replies(&events)[0].status, Some(ReplyStatus::Complete));

    // Unshared later: the session says so instead of answering.
    let private_again = SharingChange {
        sharing: Sharing::Private,
        tenants: vec![],
    };
    app.admin
        .share_agent("blue-door", shared, &private_again)
        .await
        .unwrap();
    let err = app
        .admin
        .send_playground_message("open-arms", s, "Still there?")
        .await
        .err()
        .expect("refused");
    assert_eq!(err.status(), Some(409));
    assert!(
        err.message().contains("no longer available"),
        "{}",
        err.message()
    );
    // Another tenant's session is not there at all.
    let err = app
        .admin
        .playground_session("blue-door", s)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}

/// OWASP API4 (unrestricted resource consumption): a tenant holds at most
/// its share of the model; over it, a message is refused with 429 and
/// Retry-After, and nothing is stored. Other tenants are not held up.
#[tokio::test]
async fn api4_a_tenant_over_its_generation_cap_is_refused_and_others_are_not() {
    let fx = fixture().await;
    let app = &fx.app;
    let busy = app.tenant("Open Arms", Tier::Pro).await;
    app.tenant("Other", Tier::Pro).await;
    let a = agent(&app.admin, "open-arms", "Greeter", "test/echo").await;
    let s = session(&app.admin, "open-arms", with_agent(a)).await;
    let b = agent(&app.admin, "other", "Greeter", "test/echo").await;
    let other = session(&app.admin, "other", with_agent(b)).await;

    // Two generations held for Open Arms (its workflows, say): the cap.
    let cap = app.state.settings.generations_per_tenant;
    let held: Vec<_> = (0..cap)
        .map(|_| app.state.generations.try_take(busy.id, 1).unwrap())
        .collect();
    let err = app
        .admin
        .send_playground_message("open-arms", s, "Hello")
        .await
        .err()
        .expect("refused over the cap");
    assert_eq!(err.status(), Some(429), "{err}");
    assert!(err.problem().unwrap().retry_after.is_some());
    assert!(err.to_string().contains("at most"), "{err}");
    let transcript = app.admin.playground_session("open-arms", s).await.unwrap();
    assert!(transcript.messages.is_empty(), "nothing stored");
    // Another tenant answers meanwhile.
    let events = drain(
        app.admin
            .send_playground_message("other", other, "Hello")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replies(&events).len(), 1);
    drop(held);
    let events = drain(
        app.admin
            .send_playground_message("open-arms", s, "Hello")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replies(&events).len(), 1);
}
