//! The workflow worker pool: claims queued workflows fairly across tenants
//! (the store enforces each tier's running cap), runs qualify then draft
//! with the workflow's agent, and leaves the draft awaiting approval.
//!
//! Workers never block the API: they run beside it, each on one workflow at
//! a time. A run holds a lease; if the process dies mid-run, recovery
//! requeues the workflow once the lease is over (or fails it after
//! `store::MAX_ATTEMPTS`), so none stays `running` forever.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::supervise::{catch_panic, PANICKED};
use super::AppState;
use crate::domain::research::{
    draft_system, gets_draft, no_draft_note, qualify_system, setting_facts,
};
use crate::domain::workflow::{approval_request_mail, qualify_lead_text};
use crate::domain::{
    Agent, Lead, Qualification, StepKind, StepOutcome, Tenant, Workflow, WorkflowSources,
    WorkflowStatus,
};
use crate::llm::qualify::{qualify, Method};
use crate::llm::{CancellationToken, ChatMessage, ChatRole, Chunk, GenerateRequest, LlmError};
use crate::store::{
    Actor, ClaimedWorkflow, OutboxRow, StoreError, WorkflowStepRow, WorkflowTransition,
};

/// How long a run may take before another worker may take it over.
pub const LEASE: Duration = Duration::from_secs(10 * 60);
/// How often idle workers look again without being woken.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// How often expired leases are looked for.
const RECOVER_EVERY: Duration = Duration::from_secs(30);

const RUNNING: &[WorkflowStatus] = &[WorkflowStatus::Running];

/// Workflows being run by this process, so a cancel can stop the model.
#[derive(Default)]
pub struct WorkflowRuns {
    running: Mutex<HashMap<Uuid, CancellationToken>>,
}

impl WorkflowRuns {
    fn start(&self, id: Uuid) -> CancellationToken {
        let token = CancellationToken::new();
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.insert(id, token.clone());
        token
    }

    fn finish(&self, id: Uuid) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.remove(&id);
    }

    /// Stops the model if this process is running `id`.
    pub fn cancel(&self, id: Uuid) {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = running.get(&id) {
            token.cancel();
        }
    }
}

/// Runs `workers` workers until the task is aborted.
pub async fn worker_pool(state: AppState, workers: usize) {
    if workers == 0 {
        return;
    }
    recover(&state).await;
    // Dropped (and so aborted) with this task when the server stops.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..workers {
        tasks.spawn(worker(state.clone(), n));
    }
    let mut next = workers;
    let mut tick = tokio::time::interval(RECOVER_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => recover(&state).await,
            // A worker never ends; if one ever does (a panic outside any
            // run's guard), the pool does not shrink.
            Some(ended) = tasks.join_next() => {
                tracing::error!(error = ?ended.err(), "a workflow worker stopped; starting another");
                tasks.spawn(worker(state.clone(), next));
                next += 1;
            }
        }
    }
}

/// Requeues (or fails) runs whose worker died; wakes the workers.
pub async fn recover(state: &AppState) {
    match state.store.recover_workflows(state.clock.now()).await {
        Ok(tenants) => {
            for t in tenants {
                tracing::info!(tenant = %t, "requeued interrupted workflows");
                state.notify(t);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot recover interrupted workflows"),
    }
}

async fn worker(state: AppState, n: usize) {
    let mut wake = state.events.subscribe();
    loop {
        let now = state.clock.now();
        let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        match state.store.claim_workflow(now, lease_until).await {
            Ok(Some(claimed)) => {
                tracing::info!(worker = n, workflow = %claimed.id, tenant = %claimed.tenant_id, "running a workflow");
                run_guarded(&state, claimed).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot claim a workflow"),
        }
        tokio::select! {
            _ = wake.recv() => super::settle(&mut wake).await,
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// [`run_one`], with a panic anywhere in it recorded as the workflow's
/// failure: one lead's run never takes its worker down.
async fn run_guarded(state: &AppState, claimed: ClaimedWorkflow) {
    let what = format!("workflow {}", claimed.id);
    if catch_panic(&what, run_one(state, claimed)).await.is_err() {
        fail(state, claimed, Failure::new(PANICKED)).await;
        state.workflows.finish(claimed.id);
        state.notify(claimed.tenant_id);
    }
}

/// Runs one claimed workflow's remaining steps. Failures end in `failed`
/// with the reason; a workflow cancelled meanwhile is left as it is.
pub async fn run_one(state: &AppState, claimed: ClaimedWorkflow) {
    let cancel = state.workflows.start(claimed.id);
    let result = Run::prepare(state, claimed, cancel).await;
    let outcome = match result {
        Ok(Some(run)) => run.steps().await,
        Ok(None) => Ok(()),
        Err(failure) => Err(failure),
    };
    if let Err(failure) = outcome {
        fail(state, claimed, failure).await;
    }
    state.workflows.finish(claimed.id);
    state.notify(claimed.tenant_id);
}

/// Why a run stopped, said so a person knows what to do.
struct Failure {
    message: String,
    step: Option<WorkflowStepRow>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            step: None,
        }
    }
}

async fn fail(state: &AppState, claimed: ClaimedWorkflow, failure: Failure) {
    let now = state.clock.now();
    let mut t = WorkflowTransition::new(Actor::system(), RUNNING, WorkflowStatus::Failed, now);
    t.error = Some(Some(failure.message.clone()));
    t.step = failure.step;
    t.timeline.push((
        "workflow_failed",
        json!({ "workflow_id": claimed.id, "error": failure.message }),
    ));
    t.events.push((
        "workflow.failed",
        json!({ "workflow_id": claimed.id, "error": failure.message }),
    ));
    match state
        .store
        .transition_workflow(claimed.tenant_id, claimed.id, t)
        .await
    {
        Ok(_) => {}
        // Cancelled (or decided) meanwhile: nothing to record.
        Err(StoreError::StateChanged { .. }) => {}
        Err(e) => {
            tracing::error!(error = %e, workflow = %claimed.id, "cannot record a failed workflow")
        }
    }
}

struct Run<'a> {
    state: &'a AppState,
    claimed: ClaimedWorkflow,
    cancel: CancellationToken,
    workflow: Workflow,
    tenant: Tenant,
    lead: Lead,
    agent: Agent,
}

/// A model's whole answer, with its stats.
struct Answer {
    text: String,
    prompt_tokens: u32,
    completion_tokens: u32,
    duration_ms: u64,
}

impl<'a> Run<'a> {
    /// Everything the steps need; `None` when there is nothing left to run.
    async fn prepare(
        state: &'a AppState,
        claimed: ClaimedWorkflow,
        cancel: CancellationToken,
    ) -> Result<Option<Run<'a>>, Failure> {
        let store = &state.store;
        let internal = |e: StoreError| Failure::new(format!("the store failed: {e}"));
        let Some(workflow) = store
            .workflow(claimed.tenant_id, claimed.id)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        if workflow.status != WorkflowStatus::Running {
            return Ok(None);
        }
        let tenant = store
            .tenant(&claimed.tenant_id.to_string())
            .await
            .map_err(internal)?
            .ok_or_else(|| Failure::new("the tenant is gone"))?;
        let lead = store
            .lead(claimed.tenant_id, workflow.lead_id, state.clock.now())
            .await
            .map_err(internal)?
            .ok_or_else(|| Failure::new("the lead was deleted"))?;
        let agent = store
            .agent(claimed.tenant_id, workflow.agent_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                Failure::new(
                    "the workflow's agent was deleted or is no longer shared with this tenant; \
                     link another agent to the workspace and retry",
                )
            })?;
        Ok(Some(Run {
            state,
            claimed,
            cancel,
            workflow,
            tenant,
            lead,
            agent,
        }))
    }

    /// The agent as knowledge links name it: (owner tenant, id).
    fn agent_key(&self) -> (Uuid, Uuid) {
        (self.agent.tenant_id, self.agent.id)
    }

    /// One use of the agent, for the library's counts: a step it answered.
    async fn count_use(&self) {
        let (owner, id) = self.agent_key();
        super::agents::count_use(self.state, self.tenant.id, owner, id).await;
    }

    fn lead_text(&self) -> String {
        let lead = &self.lead;
        qualify_lead_text(&lead.name, lead.company.as_deref(), &lead.message)
    }

    async fn ask(
        &self,
        system: String,
        temperature: f32,
        max_tokens: u32,
    ) -> Result<Answer, String> {
        let config = &self.agent.config;
        let (provider, model) = self
            .state
            .providers
            .resolve_for(&config.model, &self.tenant.settings.secrets)
            .map_err(|e| self.model_failed(&e))?;
        let req = GenerateRequest {
            model,
            messages: vec![
                ChatMessage::new(ChatRole::System, system),
                ChatMessage::new(ChatRole::User, self.lead_text()),
            ],
            temperature,
            max_tokens,
            starts: Vec::new(),
            stop: Vec::new(),
        };
        // Held until the answer is whole: the tenant's share of the model.
        let _generation = tokio::select! {
            _ = self.cancel.cancelled() => return Err(LlmError::Cancelled.to_string()),
            slot = self.state.generations.take(self.tenant.id) => slot,
        };
        let started = Instant::now();
        let mut rx = provider
            .generate(req, self.cancel.clone())
            .await
            .map_err(|e| self.model_failed(&e))?;
        let mut text = String::new();
        let mut tokens = 0;
        loop {
            let chunk = tokio::select! {
                _ = self.cancel.cancelled() => return Err(LlmError::Cancelled.to_string()),
                chunk = rx.recv() => chunk,
            };
            match chunk {
                Some(Ok(Chunk::Token(t))) => {
                    tokens += 1;
                    text.push_str(&t);
                }
                Some(Ok(Chunk::Done(stats))) => {
                    self.count_use().await;
                    let completion = stats.completion_tokens.max(tokens);
                    self.state
                        .count_generation(self.tenant.id, stats.prompt_tokens, completion);
                    return Ok(Answer {
                        text: text.trim().to_string(),
                        prompt_tokens: stats.prompt_tokens,
                        completion_tokens: completion,
                        duration_ms: started.elapsed().as_millis() as u64,
                    });
                }
                Some(Err(e)) => return Err(self.model_failed(&e)),
                None => return Err("the model provider stopped without finishing".into()),
            }
        }
    }

    /// A model failure as the workflow records it, for every member to
    /// read: without provider URLs or model paths, which go to the log.
    fn model_failed(&self, e: &LlmError) -> String {
        tracing::warn!(workflow = %self.claimed.id, error = %e, "the model failed a workflow step");
        e.public_message()
    }

    fn step(
        &self,
        kind: StepKind,
        outcome: StepOutcome,
        answer: Option<&Answer>,
    ) -> WorkflowStepRow {
        WorkflowStepRow {
            kind,
            outcome,
            output: answer.map(|a| a.text.clone()).unwrap_or_default(),
            error: None,
            model: self.agent.config.model.clone(),
            prompt_version: self.agent.version,
            prompt_tokens: answer.map(|a| a.prompt_tokens).unwrap_or(0),
            completion_tokens: answer.map(|a| a.completion_tokens).unwrap_or(0),
            duration_ms: answer.map(|a| a.duration_ms).unwrap_or(0),
        }
    }

    fn failed_step(&self, kind: StepKind, error: String) -> Failure {
        let mut step = self.step(kind, StepOutcome::Failed, None);
        step.error = Some(error.clone());
        Failure {
            message: format!("the {} step failed: {error}", kind.as_str()),
            step: Some(step),
        }
    }

    async fn steps(self) -> Result<(), Failure> {
        let done = |kind| {
            self.workflow
                .steps
                .iter()
                .any(|s| s.kind == kind && s.outcome != StepOutcome::Failed)
        };
        // Research runs on every run, so a retry sees the knowledge as it is now.
        let what = format!("workflow {} research step", self.claimed.id);
        let sources = match catch_panic(&what, self.research()).await {
            Ok(sources) => sources?,
            Err(_) => {
                return Err(Failure::new(format!(
                    "the research step failed: {PANICKED}"
                )))
            }
        };
        let policy = self.tenant.settings.draft_categories.clone();
        let qualification = if done(StepKind::Qualify) {
            self.workflow.qualification.clone()
        } else {
            self.guarded(StepKind::Qualify, self.qualify(&sources, &policy))
                .await?
        };
        if !gets_draft(&policy, qualification.as_ref()) {
            return self.no_draft(qualification, policy).await;
        }
        self.guarded(StepKind::Draft, self.draft(&sources, policy))
            .await
    }

    /// Runs one step; a panic inside it fails that step (and so the run)
    /// like any other error, with the panic in the log.
    async fn guarded<T>(
        &self,
        kind: StepKind,
        step: impl std::future::Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let what = format!("workflow {} {} step", self.claimed.id, kind.as_str());
        match catch_panic(&what, step).await {
            Ok(done) => done,
            Err(_) => Err(self.failed_step(kind, PANICKED.to_string())),
        }
    }

    /// Gathers what the agent may rely on: the knowledge snippets best
    /// matching the lead's message (as far as the agent may use knowledge),
    /// the lead's earlier leads and notes, and the tenant's settings that
    /// matter; recorded on the workflow before any model runs.
    async fn research(&self) -> Result<WorkflowSources, Failure> {
        let failed = |e: StoreError| {
            Failure::new(format!("the research step failed: the store failed: {e}"))
        };
        let tenant = self.claimed.tenant_id;
        let (knowledge, snippets) =
            super::knowledge::retrieve(self.state, tenant, self.agent_key(), &self.lead.message)
                .await
                .map_err(failed)?;
        let leads = self
            .state
            .store
            .lead_history(tenant, self.lead.id)
            .await
            .map_err(failed)?;
        let sources = WorkflowSources {
            knowledge,
            snippets,
            leads,
            settings: setting_facts(&self.tenant),
        };
        let now = self.state.clock.now();
        let mut t = WorkflowTransition::new(Actor::system(), RUNNING, WorkflowStatus::Running, now);
        t.sources = Some(sources.clone());
        self.transition(t).await?;
        Ok(sources)
    }

    /// Ends a run whose lead's category gets no draft under the tenant's
    /// policy: qualified and recorded, nothing for a person to approve.
    async fn no_draft(
        &self,
        qualification: Option<Qualification>,
        policy: Vec<String>,
    ) -> Result<(), Failure> {
        let category = qualification
            .map(|q| q.category)
            .unwrap_or_else(|| "unqualified".into());
        let note = no_draft_note(&category, &policy);
        let now = self.state.clock.now();
        let to = WorkflowStatus::Qualified;
        let mut t = WorkflowTransition::new(Actor::system(), RUNNING, to, now);
        t.decided_by = Some("draft policy".into());
        t.decision_note = Some(note.clone());
        t.draft_policy = Some(policy);
        t.timeline.push((
            "draft_skipped",
            json!({ "workflow_id": self.claimed.id, "category": category, "reason": note }),
        ));
        self.transition(t).await
    }

    async fn transition(&self, t: WorkflowTransition) -> Result<(), Failure> {
        match self
            .state
            .store
            .transition_workflow(self.claimed.tenant_id, self.claimed.id, t)
            .await
        {
            Ok(_) => {
                self.state.notify(self.claimed.tenant_id);
                Ok(())
            }
            // Cancelled meanwhile: stop quietly (fail() will find it moved on too).
            Err(StoreError::StateChanged { now }) => Err(Failure::new(format!("it is {now} now"))),
            Err(e) => Err(Failure::new(format!("the store failed: {e}"))),
        }
    }

    async fn qualify(
        &self,
        sources: &WorkflowSources,
        policy: &[String],
    ) -> Result<Option<Qualification>, Failure> {
        let failed = |e: String| self.failed_step(StepKind::Qualify, e);
        let (provider, model) = self
            .state
            .providers
            .resolve_for(&self.agent.config.model, &self.tenant.settings.secrets)
            .map_err(|e| failed(self.model_failed(&e)))?;
        // Held until the answer is whole: the tenant's share of the model.
        let _generation = tokio::select! {
            _ = self.cancel.cancelled() => return Err(failed(LlmError::Cancelled.to_string())),
            slot = self.state.generations.take(self.tenant.id) => slot,
        };
        let system = qualify_system(&self.agent.config.system_prompt, sources);
        let qualified = qualify(
            provider.as_ref(),
            &model,
            &system,
            &self.lead_text(),
            Method::Score,
            &self.cancel,
        )
        .await
        .map_err(|e| failed(self.model_failed(&e)))?;
        self.count_use().await;
        self.state.count_generation(
            self.tenant.id,
            qualified.prompt_tokens,
            qualified.completion_tokens,
        );
        let answer = Answer {
            text: qualified.answer,
            prompt_tokens: qualified.prompt_tokens,
            completion_tokens: qualified.completion_tokens,
            duration_ms: qualified.duration_ms,
        };
        let parsed = qualified.qualification;
        let outcome = if parsed.is_some() {
            StepOutcome::Ok
        } else {
            StepOutcome::Unparseable
        };
        let now = self.state.clock.now();
        let mut t = WorkflowTransition::new(Actor::system(), RUNNING, WorkflowStatus::Running, now);
        t.step = Some(self.step(StepKind::Qualify, outcome, Some(&answer)));
        t.draft_policy = Some(policy.to_vec());
        let id = self.claimed.id;
        match parsed.clone() {
            Some(q) => {
                t.timeline.push((
                    "qualified",
                    json!({ "qualification": q, "workflow_id": id, "by": self.agent.name }),
                ));
                t.events.push((
                    "lead.qualified",
                    json!({ "lead_id": self.lead.id, "workflow_id": id, "qualification": q }),
                ));
                t.qualification = Some(q.clone());
                t.lead_qualification = Some(q);
            }
            None => t.timeline.push((
                "qualification_unreadable",
                json!({ "workflow_id": id, "answer": answer.text }),
            )),
        }
        self.transition(t).await?;
        Ok(parsed)
    }

    async fn draft(&self, sources: &WorkflowSources, policy: Vec<String>) -> Result<(), Failure> {
        let channel = self.workspace_channel().await;
        let system = draft_system(
            &self.agent.config.system_prompt,
            channel.0,
            channel.1.as_deref(),
            sources,
        );
        let config = &self.agent.config;
        let answer = self
            .ask(system, config.temperature, config.max_tokens)
            .await
            .map_err(|e| self.failed_step(StepKind::Draft, e))?;
        if answer.text.is_empty() {
            let mut step = self.step(StepKind::Draft, StepOutcome::Failed, Some(&answer));
            step.error = Some("the model answered nothing".into());
            return Err(Failure {
                message: "the draft step failed: the model answered nothing; retry it".into(),
                step: Some(step),
            });
        }
        let now = self.state.clock.now();
        let to = WorkflowStatus::AwaitingApproval;
        let mut t = WorkflowTransition::new(Actor::system(), RUNNING, to, now);
        t.step = Some(self.step(StepKind::Draft, StepOutcome::Ok, Some(&answer)));
        t.draft = Some(answer.text.clone());
        t.draft_policy = Some(policy);
        let id = self.claimed.id;
        t.timeline.push((
            "reply_drafted",
            json!({ "workflow_id": id, "by": self.agent.name }),
        ));
        t.events.push((
            "workflow.awaiting_approval",
            json!({ "workflow_id": id, "lead_id": self.lead.id, "lead_name": self.lead.name }),
        ));
        if let Some(manager) = &self.tenant.settings.manager_email {
            let (subject, body) = approval_request_mail(
                &self.tenant.name,
                &self.agent.name,
                &self.lead.name,
                self.lead.email.as_deref(),
                &answer.text,
            );
            t.outbox = Some(OutboxRow {
                kind: "approval_request",
                recipient: Some(manager.clone()),
                subject,
                body,
            });
        }
        self.transition(t).await
    }

    async fn workspace_channel(&self) -> (crate::domain::Channel, Option<String>) {
        let ws = match self.workflow.workspace_id {
            Some(id) => self
                .state
                .store
                .workspace(self.claimed.tenant_id, id)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        match ws {
            Some(w) => (w.channel, Some(w.name)),
            None => (crate::domain::Channel::WebForm, None),
        }
    }
}
