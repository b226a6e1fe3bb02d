//! Runs an eval set in the background: each case through the same research
//! (the agent's knowledge, the tenant's settings), qualification and draft
//! policy as a lead's workflow, against each lane's version; the reply
//! judged against the case's expectations and stored as it completes, with
//! a progress event.
//!
//! One model call at a time per run, each under the tenant's generation cap
//! (shared with the playground and workflows), so a run never takes the
//! whole cap. A run holds a lease it renews while it runs; a run whose
//! server stopped is failed by [`recovery`] once the lease is over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::supervise::{catch_panic, PANICKED};
use super::AppState;
use crate::domain::eval::{check, CaseOutcome, CaseSnapshot, EvalCase, EvalRunStatus};
use crate::domain::research::{draft_system, gets_draft, qualify_system, setting_facts};
use crate::domain::workflow::qualify_lead_text;
use crate::domain::{AgentConfig, Tenant, WorkflowSources};
use crate::llm::qualify::{qualify, Method};
use crate::llm::{
    complete, CancellationToken, ChatMessage, ChatRole, GenerateRequest, LlmError, Provider,
};
use crate::store::{EvalResultRow, StoreError};

/// How long a run is its server's without renewal.
pub const LEASE: Duration = Duration::from_secs(120);
/// How often a running run renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(30);
/// How often runs whose server stopped are looked for.
const RECOVER_EVERY: Duration = Duration::from_secs(30);

/// Runs this process is running, so a cancel can stop the model at once.
#[derive(Default)]
pub struct EvalRuns {
    running: Mutex<HashMap<Uuid, CancellationToken>>,
}

impl EvalRuns {
    fn start(&self, run: Uuid) -> CancellationToken {
        let token = CancellationToken::new();
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.insert(run, token.clone());
        token
    }

    fn finish(&self, run: Uuid) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.remove(&run);
    }

    /// Stops the model if this process runs `run` (another process's run
    /// stops when its next result or lease renewal finds it cancelled).
    pub fn cancel(&self, run: Uuid) {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = running.get(&run) {
            token.cancel();
        }
    }
}

/// One version a run runs, resolved to its provider.
pub struct Lane {
    pub version: u32,
    pub config: AgentConfig,
    pub provider: Arc<dyn Provider>,
    pub model: String,
}

/// Everything a run needs, resolved before it was stored.
pub struct EvalJob {
    pub run_id: Uuid,
    pub tenant: Tenant,
    /// The agent as knowledge links name it: (owner tenant, id).
    pub agent: (Uuid, Uuid),
    pub cases: Vec<EvalCase>,
    pub lanes: Vec<Lane>,
    /// The categories that get a reply (the tenant's draft policy).
    pub draft_categories: Vec<String>,
}

/// Starts `job` in the background.
pub fn spawn(state: AppState, job: EvalJob) {
    tokio::spawn(run(state, job));
}

/// Why a run stopped before its end.
enum Stop {
    /// Cancelled (here, or elsewhere: the store said it runs no more).
    Ended,
    Store(StoreError),
}

async fn run(state: AppState, job: EvalJob) {
    let (tenant, run_id) = (job.tenant.id, job.run_id);
    let cancel = state.evals.start(run_id);
    let heartbeat = tokio::spawn(renew(state.clone(), tenant, run_id, cancel.clone()));
    let what = format!("eval run {run_id}");
    let outcome = catch_panic(&what, job.cases(&state, &cancel)).await;
    heartbeat.abort();
    let end = match outcome {
        Ok(Ok(())) => Some((EvalRunStatus::Completed, None)),
        Ok(Err(Stop::Ended)) => None,
        Ok(Err(Stop::Store(e))) => {
            tracing::error!(run = %run_id, error = %e, "an eval run failed on the store");
            Some((
                EvalRunStatus::Failed,
                Some(format!("the store failed: {e}")),
            ))
        }
        Err(_) => Some((EvalRunStatus::Failed, Some(PANICKED.to_string()))),
    };
    if let Some((status, error)) = end {
        let now = state.clock.now();
        match state
            .store
            .finish_eval_run(tenant, run_id, status, error, now)
            .await
        {
            // Cancelled meanwhile: it ended already.
            Ok(()) | Err(StoreError::Refused { .. }) => {}
            Err(e) => tracing::error!(run = %run_id, error = %e, "cannot end an eval run"),
        }
    }
    state.evals.finish(run_id);
    state.notify(tenant);
}

/// Renews the run's lease until aborted; cancels the run when the store
/// says it runs no more (cancelled through another server).
async fn renew(state: AppState, tenant: Uuid, run: Uuid, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let until = state.clock.now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
        match state.store.renew_eval_run(tenant, run, until).await {
            Ok(true) => {}
            Ok(false) => {
                cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!(run = %run, error = %e, "cannot renew an eval run's lease"),
        }
    }
}

/// Fails runs whose server stopped, now and every [`RECOVER_EVERY`], until
/// the task is aborted.
pub async fn recovery(state: AppState) {
    let mut tick = tokio::time::interval(RECOVER_EVERY);
    loop {
        tick.tick().await;
        match state.store.recover_eval_runs(state.clock.now()).await {
            Ok(tenants) => {
                for t in tenants {
                    tracing::info!(tenant = %t, "failed interrupted eval runs");
                    state.notify(t);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot recover interrupted eval runs"),
        }
    }
}

/// What running one case in one lane came to.
enum CaseRun {
    Done(Box<EvalResultRow>),
    Cancelled,
}

impl EvalJob {
    /// Every case in every lane, case by case; each result stored as it
    /// completes.
    async fn cases(&self, state: &AppState, cancel: &CancellationToken) -> Result<(), Stop> {
        for case in &self.cases {
            for (index, lane) in self.lanes.iter().enumerate() {
                if cancel.is_cancelled() {
                    return Err(Stop::Ended);
                }
                let row = match self.case(state, index as u8, lane, case, cancel).await {
                    Ok(CaseRun::Done(row)) => *row,
                    Ok(CaseRun::Cancelled) => return Err(Stop::Ended),
                    Err(e) => return Err(Stop::Store(e)),
                };
                let now = state.clock.now();
                let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
                match state
                    .store
                    .record_eval_result(self.tenant.id, self.run_id, row, until, now)
                    .await
                {
                    Ok(_) => state.notify(self.tenant.id),
                    Err(StoreError::Refused { .. }) => return Err(Stop::Ended),
                    Err(e) => return Err(Stop::Store(e)),
                }
            }
        }
        Ok(())
    }

    /// One case against one lane: research, qualify, and a draft when the
    /// policy gives the category one; then the expectations judged.
    async fn case(
        &self,
        state: &AppState,
        index: u8,
        lane: &Lane,
        case: &EvalCase,
        cancel: &CancellationToken,
    ) -> Result<CaseRun, StoreError> {
        let started = Instant::now();
        let (knowledge, snippets) =
            super::knowledge::retrieve(state, self.tenant.id, self.agent, &case.message).await?;
        let sources = WorkflowSources {
            knowledge,
            snippets,
            leads: Vec::new(),
            settings: setting_facts(&self.tenant),
        };
        let lead = &case.lead;
        let lead_text =
            qualify_lead_text(lead.display_name(), lead.company.as_deref(), &case.message);
        let mut row = EvalResultRow {
            case_id: case.id,
            lane: index,
            version: lane.version,
            case: CaseSnapshot::from(case),
            reply: String::new(),
            drafted: false,
            category: None,
            reason: None,
            checks: Vec::new(),
            passed: false,
            error: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            latency_ms: 0,
        };
        let answer = self
            .answer(state, lane, &sources, &lead_text, case, &mut row, cancel)
            .await;
        row.latency_ms = started.elapsed().as_millis() as u64;
        match answer {
            Ok(()) => {
                let outcome = CaseOutcome {
                    category: row.category.as_deref(),
                    reply: &row.reply,
                    drafted: row.drafted,
                };
                row.checks = check(&case.expect, &outcome);
                row.passed = row.checks.iter().all(|c| c.passed);
            }
            Err(LlmError::Cancelled) => return Ok(CaseRun::Cancelled),
            Err(e) => {
                tracing::warn!(run = %self.run_id, error = %e, "the model failed an eval case");
                row.error = Some(e.public_message());
            }
        }
        Ok(CaseRun::Done(Box::new(row)))
    }

    /// Qualifies the case's lead and drafts its reply into `row`, as a
    /// workflow would.
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        state: &AppState,
        lane: &Lane,
        sources: &WorkflowSources,
        lead_text: &str,
        case: &EvalCase,
        row: &mut EvalResultRow,
        cancel: &CancellationToken,
    ) -> Result<(), LlmError> {
        let prompt = &lane.config.system_prompt;
        let qualified = {
            let _generation = self.generation(state, cancel).await?;
            let system = qualify_system(prompt, sources);
            let (provider, model) = (lane.provider.as_ref(), lane.model.as_str());
            qualify(provider, model, &system, lead_text, Method::Score, cancel).await?
        };
        state.count_generation(
            self.tenant.id,
            qualified.prompt_tokens,
            qualified.completion_tokens,
        );
        row.prompt_tokens += qualified.prompt_tokens;
        row.completion_tokens += qualified.completion_tokens;
        if let Some(q) = &qualified.qualification {
            row.category = Some(q.category.clone());
            row.reason = Some(q.reason.clone());
        }
        row.drafted = gets_draft(&self.draft_categories, qualified.qualification.as_ref());
        if !row.drafted {
            return Ok(());
        }
        let system = draft_system(prompt, case.lead.channel(), None, sources);
        let req = GenerateRequest {
            model: lane.model.clone(),
            messages: vec![
                ChatMessage::new(ChatRole::System, system),
                ChatMessage::new(ChatRole::User, lead_text),
            ],
            temperature: lane.config.temperature,
            max_tokens: lane.config.max_tokens,
            starts: Vec::new(),
            stop: Vec::new(),
        };
        let _generation = self.generation(state, cancel).await?;
        let draft = complete(lane.provider.as_ref(), req, cancel).await?;
        state.count_generation(self.tenant.id, draft.prompt_tokens, draft.completion_tokens);
        row.prompt_tokens += draft.prompt_tokens;
        row.completion_tokens += draft.completion_tokens;
        row.reply = draft.text;
        Ok(())
    }

    /// One of the tenant's generations, waited for (as workflow steps do).
    async fn generation(
        &self,
        state: &AppState,
        cancel: &CancellationToken,
    ) -> Result<super::slots::Slot, LlmError> {
        tokio::select! {
            _ = cancel.cancelled() => Err(LlmError::Cancelled),
            slot = state.generations.take(self.tenant.id) => Ok(slot),
        }
    }
}
