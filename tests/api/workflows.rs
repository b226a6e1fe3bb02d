//! Lead workflows over HTTP with a scripted model: qualify and draft without
//! anyone touching it, approval (the first response, the outbox), rejection,
//! unreadable answers, provider failures and retry, cancel, a restart in the
//! middle, and fairness across tenants.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use switchboard::api::Client;
use switchboard::domain::workflow::CATEGORIES;
use switchboard::domain::{
    Channel, LeadInput, NewAgent, NewApiKey, NewWorkspace, SlaState, StepKind, StepOutcome,
    TenantPatch, TenantSettingsPatch, Tier, Workflow, WorkflowStatus,
};
use switchboard::llm::{
    CancellationToken, Chunk, ChunkReceiver, GenerateRequest, GenerationStats, LlmError, Provider,
    Providers,
};
use switchboard::server::clock::{Clock, ManualClock, SystemClock};
use switchboard::server::ServerSettings;
use switchboard::store::{Actor, NewWorkflowRow};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::common::{spawn_full, TestApp};

const DRAFT: &str = "Hi! Thanks for your message. We can deliver 40 chairs by Friday.";

/// `test/good` qualifies as hot and drafts [`DRAFT`]; `test/chatty` answers
/// the qualify step with small talk; `test/flaky` fails while `broken` is
/// set; `test/slow` streams until cancelled.
#[derive(Default)]
struct Model {
    broken: AtomicBool,
}

#[async_trait]
impl Provider for Model {
    fn id(&self) -> &str {
        "test"
    }

    async fn generate(
        &self,
        req: GenerateRequest,
        cancel: CancellationToken,
    ) -> Result<ChunkReceiver, LlmError> {
        let qualify = req.messages[0].content.contains("CATEGORY:");
        if req.model == "flaky" && self.broken.load(Ordering::SeqCst) {
            return Err(LlmError::Unreachable {
                url: "http://127.0.0.1:9/v1".into(),
                reason: "connection refused".into(),
                hint: "is the model server running?".into(),
            });
        }
        let text: Vec<String> = match (req.model.as_str(), qualify) {
            ("chatty", true) => vec!["Hello! ".into(), "How can I help?".into()],
            (_, true) => vec!["CATEGORY: hot\n".into(), "REASON: wants 40 chairs".into()],
            (_, false) => DRAFT.split_inclusive(' ').map(String::from).collect(),
        };
        let slow = req.model == "slow";
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(async move {
            for (i, piece) in text.iter().cycle().enumerate() {
                if !slow && i == text.len() {
                    break;
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(if slow { 20 } else { 1 })) => {}
                }
                if tx.send(Ok(Chunk::Token(piece.clone()))).await.is_err() {
                    return;
                }
            }
            let stats = GenerationStats {
                prompt_tokens: 30,
                completion_tokens: text.len() as u32,
                time_to_first_token_ms: 1,
                tokens_per_second: 100.0,
            };
            let _ = tx.send(Ok(Chunk::Done(stats))).await;
        });
        Ok(rx)
    }

    fn models(&self) -> Vec<String> {
        ["good", "chatty", "flaky", "slow"]
            .map(String::from)
            .to_vec()
    }
}

struct Fixture {
    app: TestApp,
    model: Arc<Model>,
    clock: Arc<dyn Clock>,
}

async fn fixture_with(workers: usize, clock: Arc<dyn Clock>) -> Fixture {
    let model = Arc::new(Model::default());
    let mut providers = Providers::default();
    providers.insert(model.clone());
    let settings = ServerSettings {
        workflow_workers: workers,
        ..ServerSettings::default()
    };
    Fixture {
        app: spawn_full(settings, clock.clone(), providers).await,
        model,
        clock,
    }
}

async fn fixture() -> Fixture {
    fixture_with(2, Arc::new(SystemClock)).await
}

/// A tenant with a manager, an agent on `model`, an active web-form
/// workspace linked to it and an ingest key bound to that workspace.
async fn tenant_with_workspace(
    app: &TestApp,
    name: &str,
    tier: Tier,
    model: &str,
) -> (String, String) {
    let tenant = app.tenant(name, tier).await;
    let slug = tenant.slug.clone();
    let patch = TenantPatch {
        settings: Some(TenantSettingsPatch {
            manager_email: Some(format!("manager@{slug}.test")),
            ..Default::default()
        }),
        ..Default::default()
    };
    app.admin.update_tenant(&slug, &patch).await.unwrap();
    let agent = app
        .admin
        .create_agent(
            &slug,
            &NewAgent {
                name: "Front desk".into(),
                system_prompt: "You answer inbound leads for a furniture shop.".into(),
                model: format!("test/{model}"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ws = app
        .admin
        .create_workspace(
            &slug,
            &NewWorkspace {
                name: "Website".into(),
                channel: Channel::WebForm,
                agent_id: Some(agent.id),
                strategy_active: true,
            },
        )
        .await
        .unwrap();
    let key = app
        .admin
        .create_api_key(
            &slug,
            &NewApiKey {
                name: "form".into(),
                scope: None,
                workspace_id: Some(ws.id),
            },
        )
        .await
        .unwrap()
        .key;
    (slug, key)
}

async fn ingest(app: &TestApp, key: &str, n: usize) -> Uuid {
    let lead = LeadInput {
        name: format!("Chair Buyer {n}"),
        email: Some(format!("buyer{n}@example.com")),
        company: Some("Oak & Co".into()),
        message: "Could you deliver 40 chairs by Friday?".into(),
        ..Default::default()
    };
    app.anon().ingest_lead(key, &lead, None).await.unwrap().id
}

/// Polls until the lead's workflow reaches `status` (generous: the local
/// model in a debug build on a busy machine takes a while).
async fn wait_for(client: &Client, slug: &str, lead: Uuid, status: WorkflowStatus) -> Workflow {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        let found = client.workflows(slug, None, Some(lead)).await.unwrap();
        if let Some(wf) = found.into_iter().find(|w| w.status == status) {
            return wf;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let now = client.workflows(slug, None, Some(lead)).await.unwrap();
    panic!("the workflow never became {status:?}: {now:?}")
}

#[tokio::test]
async fn a_new_lead_is_qualified_and_a_reply_drafted_then_a_person_approves_it() {
    let fx = fixture().await;
    let app = &fx.app;
    let (slug, key) = tenant_with_workspace(app, "Oak Shop", Tier::Pro, "good").await;
    let lead_id = ingest(app, &key, 1).await;

    let wf = wait_for(&app.admin, &slug, lead_id, WorkflowStatus::AwaitingApproval).await;
    assert_eq!(wf.draft.as_deref(), Some(DRAFT));
    let q = wf.qualification.clone().expect("qualified");
    assert_eq!(
        (q.category.as_str(), q.reason.as_str()),
        ("hot", "wants 40 chairs")
    );
    let kinds: Vec<(StepKind, StepOutcome)> =
        wf.steps.iter().map(|s| (s.kind, s.outcome)).collect();
    assert_eq!(
        kinds,
        [
            (StepKind::Qualify, StepOutcome::Ok),
            (StepKind::Draft, StepOutcome::Ok)
        ]
    );
    for step in &wf.steps {
        assert_eq!(step.model, "test/good");
        assert_eq!(step.prompt_version, 1);
        assert_eq!(step.prompt_tokens, 30);
        assert!(step.completion_tokens > 0);
    }
    // Each step that ran the agent counted one use of it.
    let agent = app.admin.list_agents(&slug).await.unwrap().remove(0);
    assert_eq!((agent.name.as_str(), agent.use_count), ("Front desk", 2));
    assert!(agent.last_used_at.is_some());
    let lead = app.admin.lead(&slug, lead_id).await.unwrap();
    assert_eq!(lead.qualification, Some(q));
    assert!(
        lead.first_response_at.is_none(),
        "a draft is not a response"
    );
    let outbox = app.store.pending_outbox(wf.tenant_id).await.unwrap();
    let ask = outbox
        .iter()
        .find(|m| m.kind == "approval_request")
        .expect("the manager is asked to approve");
    assert_eq!(ask.recipient.as_deref(), Some("manager@oak-shop.test"));
    assert!(ask.body.contains(DRAFT));

    // Approve an edit: the reply is the first response and goes out by email.
    let edited = "Hi! Yes — 40 chairs by Friday works. Shall I send a quote?";
    let approved = app
        .admin
        .approve_workflow(&slug, wf.id, Some(edited.into()))
        .await
        .unwrap();
    assert_eq!(approved.status, WorkflowStatus::Approved);
    assert_eq!(approved.reply.as_deref(), Some(edited));
    assert_eq!(approved.decided_by.as_deref(), Some("root@platform.test"));
    let lead = app.admin.lead(&slug, lead_id).await.unwrap();
    assert!(lead.first_response_at.is_some());
    assert_eq!(lead.sla, SlaState::Met);
    let outbox = app.store.pending_outbox(wf.tenant_id).await.unwrap();
    let mail = outbox
        .iter()
        .find(|m| m.kind == "lead_reply")
        .expect("reply queued");
    assert_eq!(mail.recipient.as_deref(), Some("buyer1@example.com"));
    assert_eq!(mail.body, edited);
    let timeline: Vec<String> = app
        .admin
        .timeline(&slug, lead_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for kind in [
        "created",
        "qualified",
        "reply_drafted",
        "reply",
        "reply_approved",
    ] {
        assert!(
            timeline.iter().any(|k| k == kind),
            "{kind} missing: {timeline:?}"
        );
    }

    // Decided once: a second decision is a conflict and changes nothing.
    let err = app
        .admin
        .reject_workflow(&slug, wf.id, "too late")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.message().contains("approved now"), "{}", err.message());
    let again = app.admin.workflow(&slug, wf.id).await.unwrap();
    assert_eq!(again.status, WorkflowStatus::Approved);
}

#[tokio::test]
async fn an_unreadable_qualification_is_recorded_as_such_and_a_rejection_needs_a_reason() {
    let fx = fixture().await;
    let app = &fx.app;
    let (slug, key) = tenant_with_workspace(app, "Oak Shop", Tier::Pro, "chatty").await;
    let lead_id = ingest(app, &key, 1).await;
    let wf = wait_for(&app.admin, &slug, lead_id, WorkflowStatus::AwaitingApproval).await;
    assert_eq!(wf.qualification, None, "nothing guessed");
    assert_eq!(wf.steps[0].outcome, StepOutcome::Unparseable);
    assert_eq!(wf.steps[0].output, "Hello! How can I help?");
    let lead = app.admin.lead(&slug, lead_id).await.unwrap();
    assert_eq!(lead.qualification, None);

    let err = app
        .admin
        .reject_workflow(&slug, wf.id, "  ")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let rejected = app
        .admin
        .reject_workflow(&slug, wf.id, "too pushy")
        .await
        .unwrap();
    assert_eq!(rejected.status, WorkflowStatus::Rejected);
    assert_eq!(rejected.decision_note.as_deref(), Some("too pushy"));
    let lead = app.admin.lead(&slug, lead_id).await.unwrap();
    assert!(
        lead.first_response_at.is_none(),
        "a rejected draft is no response"
    );
}

#[tokio::test]
async fn a_provider_failure_fails_the_workflow_with_the_reason_and_retry_runs_it_again() {
    let fx = fixture().await;
    let app = &fx.app;
    fx.model.broken.store(true, Ordering::SeqCst);
    let (slug, key) = tenant_with_workspace(app, "Oak Shop", Tier::Pro, "flaky").await;
    let lead_id = ingest(app, &key, 1).await;
    let wf = wait_for(&app.admin, &slug, lead_id, WorkflowStatus::Failed).await;
    let error = wf.error.clone().unwrap_or_default();
    assert!(error.contains("qualify step failed"), "{error}");
    // Said without the provider's URL, which only platform admins see.
    assert!(error.contains("cannot be reached"), "{error}");
    assert!(!error.contains("127.0.0.1:9"), "{error}");
    assert_eq!(wf.steps[0].outcome, StepOutcome::Failed);

    fx.model.broken.store(false, Ordering::SeqCst);
    let retried = app.admin.retry_workflow(&slug, wf.id).await.unwrap();
    assert_eq!(retried.error, None);
    let done = wait_for(&app.admin, &slug, lead_id, WorkflowStatus::AwaitingApproval).await;
    assert_eq!(done.id, wf.id);
    assert_eq!(done.draft.as_deref(), Some(DRAFT));
    // Retrying what is not failed is refused.
    let err = app.admin.retry_workflow(&slug, wf.id).await.unwrap_err();
    assert_eq!(err.status(), Some(409));
}

#[tokio::test]
async fn cancel_stops_a_running_workflow_and_it_stays_cancelled() {
    let fx = fixture().await;
    let app = &fx.app;
    let (slug, key) = tenant_with_workspace(app, "Oak Shop", Tier::Pro, "slow").await;
    let lead_id = ingest(app, &key, 1).await;
    let wf = wait_for(&app.admin, &slug, lead_id, WorkflowStatus::Running).await;
    let cancelled = app.admin.cancel_workflow(&slug, wf.id).await.unwrap();
    assert_eq!(cancelled.status, WorkflowStatus::Cancelled);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let later = app.admin.workflow(&slug, wf.id).await.unwrap();
    assert_eq!(later.status, WorkflowStatus::Cancelled, "{later:?}");
    // A new one can start for the lead now; only one may be active.
    let again = app
        .admin
        .start_workflow(&slug, lead_id, None)
        .await
        .unwrap();
    let err = app
        .admin
        .start_workflow(&slug, lead_id, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    app.admin.cancel_workflow(&slug, again.id).await.unwrap();
}

#[tokio::test]
async fn a_server_that_died_mid_run_leaves_nothing_running_forever() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    // No workers: this "server" claims a workflow and dies holding it.
    let fx = fixture_with(0, clock.clone()).await;
    let app = &fx.app;
    let (slug, key) = tenant_with_workspace(app, "Oak Shop", Tier::Pro, "good").await;
    let lead_id = ingest(app, &key, 1).await;
    let store = &app.store;
    let now = fx.clock.now();
    let claimed = store
        .claim_workflow(now, now + chrono::Duration::minutes(10))
        .await
        .unwrap()
        .expect("queued by the ingest");
    let running = app.admin.workflow(&slug, claimed.id).await.unwrap();
    assert_eq!(
        (running.status, running.attempts),
        (WorkflowStatus::Running, 1)
    );
    // Within the lease nothing is taken over.
    assert!(store
        .recover_workflows(fx.clock.now())
        .await
        .unwrap()
        .is_empty());

    // The lease runs out; a new server on the same store picks it up.
    clock.advance(chrono::Duration::minutes(11));
    let model = Arc::new(Model::default());
    let mut providers = Providers::default();
    providers.insert(model);
    let state = switchboard::server::AppState::with_clock(
        store.clone(),
        ServerSettings::default(),
        fx.clock.clone(),
    )
    .with_providers(providers);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(switchboard::server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    let done = wait_for(&app.admin, &slug, lead_id, WorkflowStatus::AwaitingApproval).await;
    assert_eq!(done.id, claimed.id);
    assert_eq!(done.attempts, 2);
}

#[tokio::test]
async fn a_workflow_interrupted_again_and_again_fails_with_the_reason() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let fx = fixture_with(0, clock.clone()).await;
    let app = &fx.app;
    let (slug, key) = tenant_with_workspace(app, "Oak Shop", Tier::Pro, "good").await;
    let lead_id = ingest(app, &key, 1).await;
    let store = &app.store;
    for _ in 0..3 {
        let now = fx.clock.now();
        store
            .claim_workflow(now, now + chrono::Duration::minutes(10))
            .await
            .unwrap()
            .expect("queued again");
        clock.advance(chrono::Duration::minutes(11));
        store.recover_workflows(fx.clock.now()).await.unwrap();
    }
    let wf = wait_for(&app.admin, &slug, lead_id, WorkflowStatus::Failed).await;
    assert!(wf.error.unwrap_or_default().contains("interrupted 3 times"));
    let now = fx.clock.now();
    let none = store.claim_workflow(now, now).await.unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn workers_are_shared_fairly_and_within_each_tiers_cap() {
    let fx = fixture_with(0, Arc::new(SystemClock)).await;
    let app = &fx.app;
    let (small, small_key) = tenant_with_workspace(app, "Small Shop", Tier::Starter, "good").await;
    let (big, big_key) = tenant_with_workspace(app, "Big Shop", Tier::Pro, "good").await;
    for n in 0..3 {
        ingest(app, &small_key, n).await;
    }
    ingest(app, &big_key, 9).await;
    let small_id = app.admin.tenant(&small).await.unwrap().id;
    let big_id = app.admin.tenant(&big).await.unwrap().id;
    let store = &app.store;
    let mut order = Vec::new();
    loop {
        let now = chrono::Utc::now();
        match store
            .claim_workflow(now, now + chrono::Duration::minutes(10))
            .await
            .unwrap()
        {
            Some(c) => order.push(c.tenant_id),
            None => break,
        }
    }
    // The starter tenant's backlog came first, but its cap is one at a time;
    // the other tenant is not starved behind it.
    assert_eq!(order, [small_id, big_id]);

    // A manual start for a lead outside any workspace names its agent.
    let lead = app
        .admin
        .create_lead(&big, &crate::common::lead("Walk In"))
        .await
        .unwrap();
    let err = app
        .admin
        .start_workflow(&big, lead.id, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    // The console opens its agent picker on this field's error.
    assert!(
        err.problem()
            .is_some_and(|p| p.errors.iter().any(|e| e.field == "agent_id")),
        "{err:?}"
    );
    let agent = app.admin.list_agents(&big).await.unwrap()[0].id;
    let wf = app
        .admin
        .start_workflow(&big, lead.id, Some(agent))
        .await
        .unwrap();
    assert_eq!(wf.status, WorkflowStatus::Queued);
    // The same through the store refuses a second active one.
    let row = NewWorkflowRow {
        lead_id: lead.id,
        workspace_id: None,
        agent_id: agent,
    };
    let dup = store
        .create_workflow(&Actor::system(), big_id, row, chrono::Utc::now())
        .await;
    assert!(dup.is_err());
    // Another tenant's workflow is not there.
    let err = app.admin.workflow(&small, wf.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

/// The embedded model runs a workflow for real, offline. Skips (with the
/// reason) without the weights; CI fetches them and sets
/// SWITCHBOARD_MODEL_PATH.
#[tokio::test]
async fn the_local_model_qualifies_and_drafts_a_real_lead() {
    let Some(path) = std::env::var_os("SWITCHBOARD_MODEL_PATH").map(std::path::PathBuf::from)
    else {
        println!(
            "SKIPPED: set SWITCHBOARD_MODEL_PATH to the fetched model (`switchboard model fetch`)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = switchboard::llm::LlmConfig {
        local: switchboard::llm::LocalConfig {
            enabled: true,
            model_path: Some(path),
            threads: None,
        },
        ..Default::default()
    };
    let providers = Providers::from_config(&cfg, dir.path()).unwrap();
    let settings = ServerSettings {
        workflow_workers: 1,
        ..ServerSettings::default()
    };
    let app = spawn_full(settings, Arc::new(SystemClock), providers).await;
    let (slug, key) = tenant_with_workspace(&app, "Oak Shop", Tier::Pro, "good").await;
    // Point the agent at the embedded model, with short answers.
    let agent = app.admin.list_agents(&slug).await.unwrap()[0].id;
    let patch = switchboard::domain::AgentPatch {
        model: Some("local/smollm2-135m".into()),
        temperature: Some(0.0),
        max_tokens: Some(40),
        ..Default::default()
    };
    app.admin.update_agent(&slug, agent, &patch).await.unwrap();
    let started = std::time::Instant::now();
    let lead_id = ingest(&app, &key, 1).await;
    let wf = wait_for(&app.admin, &slug, lead_id, WorkflowStatus::AwaitingApproval).await;
    println!(
        "local model workflow: {:.1} s from ingest to draft",
        started.elapsed().as_secs_f64()
    );
    assert!(!wf.draft.unwrap_or_default().trim().is_empty());
    assert_eq!(wf.steps.len(), 2);
    assert_eq!(wf.steps[0].kind, StepKind::Qualify);
    // The embedded model is held to the answer's format, so its choice of
    // category is always readable (and is the model's, not a guess).
    assert_eq!(wf.steps[0].outcome, StepOutcome::Ok, "{:?}", wf.steps[0]);
    let q = wf.qualification.expect("a qualification");
    assert!(CATEGORIES.contains(&q.category.as_str()), "{q:?}");
    assert!(
        wf.steps[0]
            .output
            .starts_with(&format!("CATEGORY: {}", q.category)),
        "{:?}",
        wf.steps[0].output
    );
    assert!(wf
        .steps
        .iter()
        .all(|s| s.model == "local/smollm2-135m" && s.prompt_version == 2));
}
