//! Eval sets, their cases, runs and results; the rules every backend
//! applies the same way (limits, what a stored row reads as, the audit
//! entries and events of each change). A supertrait of [`super::Store`], so
//! `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{bad_value, Actor, AuditEntry, StoreError, StoreResult};
use crate::domain::eval::{
    summarize, CaseSnapshot, CaseSource, EvalCase, EvalCaseInput, EvalCheck, EvalExpectations,
    EvalLane, EvalLead, EvalProgress, EvalResult, EvalRun, EvalRunStatus, EvalSet, EvalSetInput,
    LaneCounts, MAX_ACTIVE_RUNS, MAX_CASES, MAX_SETS,
};

/// What an interrupted run (its server stopped mid-run) is failed with.
pub const INTERRUPTED: &str =
    "interrupted: the server running it stopped before it finished; start the run again";

/// A case to store: written out, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    pub case: EvalCaseInput,
    pub source: Option<CaseSource>,
}

/// A run to start, its agent and versions already resolved.
#[derive(Debug, Clone)]
pub struct NewEvalRunRow {
    pub set_id: Uuid,
    pub set_name: String,
    pub agent_id: Uuid,
    pub agent_name: String,
    pub lanes: Vec<EvalLane>,
    pub cases: u32,
    pub draft_categories: Vec<String>,
    /// Until when the run is this process's (renewed while it runs).
    pub lease_until: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// One case's result in one lane, as the runner records it.
#[derive(Debug, Clone)]
pub struct EvalResultRow {
    pub case_id: Uuid,
    pub lane: u8,
    pub version: u32,
    pub case: CaseSnapshot,
    pub reply: String,
    pub drafted: bool,
    pub category: Option<String>,
    pub reason: Option<String>,
    pub checks: Vec<EvalCheck>,
    pub passed: bool,
    pub error: Option<String>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub latency_ms: u64,
}

/// A run as a backend read it, before its counts are summarised.
#[derive(Debug, Clone)]
pub struct EvalRunRecord {
    pub id: Uuid,
    pub set_id: Uuid,
    pub set_name: String,
    pub agent_id: Uuid,
    pub agent_name: String,
    /// JSON of `[EvalLane]`.
    pub lanes: serde_json::Value,
    pub status: String,
    pub cases: u32,
    /// JSON of `[String]`.
    pub draft_categories: serde_json::Value,
    pub error: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, v: serde_json::Value) -> StoreResult<T> {
    serde_json::from_value(v.clone()).map_err(|_| bad_value(what, &v.to_string()))
}

/// JSON a backend stores; the domain types always serialise.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

impl EvalRunRecord {
    /// The run, with each lane's summary from `counts` (of its stored results).
    pub fn into_run(self, counts: &[LaneCounts]) -> StoreResult<EvalRun> {
        let lanes: Vec<EvalLane> = from_json("eval run lanes", self.lanes)?;
        let done = counts.iter().map(|c| c.done).sum();
        Ok(EvalRun {
            id: self.id,
            set_id: self.set_id,
            set_name: self.set_name,
            agent_id: self.agent_id,
            agent_name: self.agent_name,
            status: EvalRunStatus::parse(&self.status)
                .ok_or_else(|| bad_value("eval run status", &self.status))?,
            cases: self.cases,
            progress: EvalProgress {
                done,
                total: self.cases * lanes.len() as u32,
            },
            summary: summarize(&lanes, self.cases, counts),
            lanes,
            draft_categories: from_json("draft categories", self.draft_categories)?,
            error: self.error,
            created_by: self.created_by,
            created_at: self.created_at,
            finished_at: self.finished_at,
        })
    }
}

/// A case as a backend read it.
#[derive(Debug, Clone)]
pub struct EvalCaseRecord {
    pub id: Uuid,
    pub set_id: Uuid,
    pub position: u32,
    pub message: String,
    pub lead: serde_json::Value,
    pub expect: serde_json::Value,
    pub source: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EvalCaseRecord {
    pub fn into_case(self) -> StoreResult<EvalCase> {
        Ok(EvalCase {
            id: self.id,
            set_id: self.set_id,
            position: self.position,
            message: self.message,
            lead: from_json::<EvalLead>("eval case lead", self.lead)?,
            expect: from_json::<EvalExpectations>("eval case expectations", self.expect)?,
            source: self
                .source
                .map(|s| from_json("eval case source", s))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A result as a backend read it.
#[derive(Debug, Clone)]
pub struct EvalResultRecord {
    pub case_id: Uuid,
    pub lane: u8,
    pub version: u32,
    pub case: serde_json::Value,
    pub reply: String,
    pub drafted: bool,
    pub category: Option<String>,
    pub reason: Option<String>,
    pub checks: serde_json::Value,
    pub passed: bool,
    pub error: Option<String>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub latency_ms: u64,
    pub finished_at: DateTime<Utc>,
}

impl EvalResultRecord {
    pub fn into_result(self) -> StoreResult<EvalResult> {
        Ok(EvalResult {
            case_id: self.case_id,
            lane: self.lane,
            version: self.version,
            case: from_json("eval result case", self.case)?,
            reply: self.reply,
            drafted: self.drafted,
            category: self.category,
            reason: self.reason,
            checks: from_json("eval result checks", self.checks)?,
            passed: self.passed,
            error: self.error,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            latency_ms: self.latency_ms,
            finished_at: self.finished_at,
        })
    }
}

/// The key a set's name is unique by in its tenant: any case, either store.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Refuses one more set past [`MAX_SETS`].
pub fn check_set_room(sets: u32) -> StoreResult<()> {
    if sets >= MAX_SETS {
        return Err(StoreError::Refused {
            field: "name",
            detail: format!(
                "a tenant keeps at most {MAX_SETS} eval sets; delete one it no longer needs"
            ),
        });
    }
    Ok(())
}

/// Refuses `adding` more cases to a set holding `held`, past [`MAX_CASES`].
pub fn check_case_room(held: u32, adding: usize) -> StoreResult<()> {
    if held as usize + adding > MAX_CASES as usize {
        return Err(StoreError::Refused {
            field: "cases",
            detail: format!(
                "the set holds {held} cases and a set holds at most {MAX_CASES}; {adding} more \
                 would not fit: delete some or start another set"
            ),
        });
    }
    Ok(())
}

/// Refuses another run while the tenant has [`MAX_ACTIVE_RUNS`] running.
pub fn check_run_room(running: u32) -> StoreResult<()> {
    if running >= MAX_ACTIVE_RUNS {
        return Err(StoreError::Refused {
            field: "runs",
            detail: format!(
                "{running} eval runs are already running in this tenant (at most \
                 {MAX_ACTIVE_RUNS}); wait for one to finish or cancel one"
            ),
        });
    }
    Ok(())
}

/// Refuses to delete a set (or a run) while a run of it is running.
pub fn refuse_while_running(what: &str) -> StoreError {
    StoreError::Refused {
        field: "runs",
        detail: format!("{what} has a run in progress; cancel it first"),
    }
}

/// A run no longer running: what a change to it is refused with.
pub fn run_finished(status: &str) -> StoreError {
    StoreError::Refused {
        field: "status",
        detail: format!("the run is {status} already"),
    }
}

pub fn set_audit(action: &'static str, id: Uuid, changes: serde_json::Value) -> AuditEntry {
    AuditEntry {
        action,
        resource: "eval_set",
        resource_id: id.to_string(),
        changes,
    }
}

pub fn case_audit(action: &'static str, set_id: Uuid, cases: &[Uuid]) -> AuditEntry {
    AuditEntry {
        action,
        resource: "eval_set",
        resource_id: set_id.to_string(),
        changes: json!({ "cases": cases }),
    }
}

pub fn run_audit(action: &'static str, run: Uuid, changes: serde_json::Value) -> AuditEntry {
    AuditEntry {
        action,
        resource: "eval_run",
        resource_id: run.to_string(),
        changes,
    }
}

/// The tenant event a stored result adds: how far the run is.
pub fn progress_event(run: Uuid, set: Uuid, progress: EvalProgress) -> serde_json::Value {
    json!({ "run_id": run, "set_id": set, "done": progress.done, "total": progress.total })
}

/// The tenant event of a run that stopped running, however it stopped.
pub fn finished_event(
    run: Uuid,
    set: Uuid,
    status: EvalRunStatus,
    error: Option<&str>,
) -> serde_json::Value {
    json!({ "run_id": run, "set_id": set, "status": status, "error": error })
}

pub const PROGRESS_EVENT: &str = "eval.progress";
pub const FINISHED_EVENT: &str = "eval.finished";

/// Eval sets, cases, runs and results, each within one tenant.
#[async_trait]
pub trait EvalStore: Send + Sync {
    /// The tenant's sets, by name.
    async fn list_eval_sets(&self, tenant_id: Uuid) -> StoreResult<Vec<EvalSet>>;
    async fn eval_set(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>>;
    /// A set with its first cases, in one transaction; refused past
    /// [`MAX_SETS`], and on a name the tenant already uses.
    async fn create_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set: EvalSetInput,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet>;
    async fn update_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        set: EvalSetInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet>;
    /// Deletes a set with its cases and runs; refused while a run of it runs.
    async fn delete_eval_set(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    /// A set's cases, by position.
    async fn eval_cases(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalCase>>;
    /// Appends cases after the last, all or none; refused past [`MAX_CASES`].
    async fn add_eval_cases(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<EvalCase>>;
    async fn update_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
        case: EvalCaseInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalCase>;
    async fn delete_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()>;
    /// Records a run as running; refused while [`MAX_ACTIVE_RUNS`] run.
    async fn create_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewEvalRunRow,
    ) -> StoreResult<EvalRun>;
    /// A set's runs, newest first (at most `RECENT_RUNS`).
    async fn eval_runs(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalRun>>;
    async fn eval_run(
        &self,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<EvalRun>>;
    /// A run's results, by case position, then lane.
    async fn eval_results(&self, tenant_id: Uuid, run_id: Uuid) -> StoreResult<Vec<EvalResult>>;
    /// Stores one result, renews the run's lease and logs its progress
    /// event, while the run is running (else [`run_finished`]).
    async fn record_eval_result(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        row: EvalResultRow,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalProgress>;
    /// Renews a running run's lease; false when it runs no more.
    async fn renew_eval_run(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Ends a running run as `status` (completed or failed) with its
    /// finished event; refused once it ended ([`run_finished`]).
    async fn finish_eval_run(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        status: EvalRunStatus,
        error: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Cancels a running run (audited, with its finished event).
    async fn cancel_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalRun>;
    /// Deletes a finished run and its results.
    async fn delete_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()>;
    /// Fails every running run whose lease ended before `now` (its server
    /// stopped) with [`INTERRUPTED`] and its finished event, in any tenant;
    /// the tenants they were in.
    async fn recover_eval_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>>;
}
