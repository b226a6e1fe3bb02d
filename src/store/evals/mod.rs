//! Eval sets, their cases, runs and results; the rules every backend
//! applies the same way (limits, what a stored row reads as, the audit
//! entries and events of each change). A supertrait of [`super::Store`], so
//! `DynStore` offers it too.

mod runs;
mod sets;

pub(crate) use runs::end_run;
pub use runs::EvalRunStore;
pub use sets::EvalSetStore;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::row::{Id, Int, Time};
use super::{bad_value, AuditEntry, StoreError, StoreResult};
use crate::domain::eval::{
    summarize, CaseSnapshot, CaseSource, EvalCase, EvalCaseInput, EvalCheck, EvalExpectations,
    EvalLane, EvalLead, EvalProgress, EvalResult, EvalRun, EvalRunStatus, EvalSet, LaneCounts,
    MAX_ACTIVE_RUNS, MAX_CASES, MAX_SETS,
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

/// A run as both backends read it ([`RUNS`]), before its counts are
/// summarised.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EvalRunRecord {
    pub id: Id,
    set_id: Id,
    set_name: String,
    agent_id: Id,
    agent_name: String,
    /// JSON of `[EvalLane]`.
    #[sqlx(json)]
    lanes: serde_json::Value,
    status: String,
    cases: Int,
    /// JSON of `[String]`.
    #[sqlx(json)]
    draft_categories: serde_json::Value,
    error: Option<String>,
    created_by: Option<String>,
    created_at: Time,
    finished_at: Option<Time>,
}

/// A run's columns, as [`EvalRunRecord`] reads them.
pub(crate) const RUNS: &str = "SELECT id, set_id, set_name, agent_id, agent_name, lanes, \
     status, cases, draft_categories, error, created_by, created_at, finished_at FROM eval_runs";

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
        let cases = self.cases.0 as u32;
        Ok(EvalRun {
            id: self.id.into(),
            set_id: self.set_id.into(),
            set_name: self.set_name,
            agent_id: self.agent_id.into(),
            agent_name: self.agent_name,
            status: EvalRunStatus::parse(&self.status)
                .ok_or_else(|| bad_value("eval run status", &self.status))?,
            cases,
            progress: EvalProgress {
                done,
                total: cases * lanes.len() as u32,
            },
            summary: summarize(&lanes, cases, counts),
            lanes,
            draft_categories: from_json("draft categories", self.draft_categories)?,
            error: self.error,
            created_by: self.created_by,
            created_at: self.created_at.into(),
            finished_at: self.finished_at.map(Into::into),
        })
    }
}

/// One lane's counts of one run's results.
#[derive(sqlx::FromRow)]
pub(crate) struct LaneCountsRecord {
    pub run_id: Id,
    lane: Int,
    done: i64,
    passed: i64,
    errors: i64,
}

impl From<&LaneCountsRecord> for LaneCounts {
    fn from(c: &LaneCountsRecord) -> LaneCounts {
        LaneCounts {
            lane: c.lane.0 as u8,
            done: c.done as u32,
            passed: c.passed as u32,
            errors: c.errors as u32,
        }
    }
}

/// A set as both backends read it ([`SETS`]).
#[derive(sqlx::FromRow)]
pub(crate) struct EvalSetRecord {
    id: Id,
    tenant_id: Id,
    name: String,
    description: String,
    cases: i64,
    created_by: Option<String>,
    created_at: Time,
    updated_at: Time,
}

impl From<EvalSetRecord> for EvalSet {
    fn from(s: EvalSetRecord) -> Self {
        EvalSet {
            id: s.id.into(),
            tenant_id: s.tenant_id.into(),
            name: s.name,
            description: s.description,
            cases: s.cases as u32,
            created_by: s.created_by,
            created_at: s.created_at.into(),
            updated_at: s.updated_at.into(),
        }
    }
}

/// A set's columns with its count of cases, as [`EvalSetRecord`] reads them.
pub(crate) const SETS: &str = "SELECT s.id, s.tenant_id, s.name, s.description, \
     (SELECT count(*) FROM eval_cases c WHERE c.tenant_id = s.tenant_id AND c.set_id = s.id) \
     AS cases, s.created_by, s.created_at, s.updated_at FROM eval_sets s";

/// A case as both backends read it ([`CASES`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EvalCaseRecord {
    id: Id,
    set_id: Id,
    position: Int,
    message: String,
    #[sqlx(json)]
    lead: serde_json::Value,
    #[sqlx(json)]
    expect: serde_json::Value,
    #[sqlx(json(nullable))]
    source: Option<serde_json::Value>,
    created_at: Time,
    updated_at: Time,
}

/// A case's columns, as [`EvalCaseRecord`] reads them.
pub(crate) const CASES: &str = "SELECT id, set_id, position, message, lead, expect, source, \
     created_at, updated_at FROM eval_cases";

impl EvalCaseRecord {
    pub fn into_case(self) -> StoreResult<EvalCase> {
        Ok(EvalCase {
            id: self.id.into(),
            set_id: self.set_id.into(),
            position: self.position.0 as u32,
            message: self.message,
            lead: from_json::<EvalLead>("eval case lead", self.lead)?,
            expect: from_json::<EvalExpectations>("eval case expectations", self.expect)?,
            source: self
                .source
                .map(|s| from_json("eval case source", s))
                .transpose()?,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

/// A result as both backends read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EvalResultRecord {
    case_id: Id,
    lane: Int,
    version: Int,
    #[sqlx(json)]
    case_snapshot: serde_json::Value,
    reply: String,
    drafted: bool,
    category: Option<String>,
    reason: Option<String>,
    #[sqlx(json)]
    checks: serde_json::Value,
    passed: bool,
    error: Option<String>,
    prompt_tokens: Int,
    completion_tokens: Int,
    latency_ms: i64,
    finished_at: Time,
}

impl EvalResultRecord {
    pub fn into_result(self) -> StoreResult<EvalResult> {
        Ok(EvalResult {
            case_id: self.case_id.into(),
            lane: self.lane.0 as u8,
            version: self.version.0 as u32,
            case: from_json("eval result case", self.case_snapshot)?,
            reply: self.reply,
            drafted: self.drafted,
            category: self.category,
            reason: self.reason,
            checks: from_json("eval result checks", self.checks)?,
            passed: self.passed,
            error: self.error,
            prompt_tokens: self.prompt_tokens.0 as u32,
            completion_tokens: self.completion_tokens.0 as u32,
            latency_ms: self.latency_ms as u64,
            finished_at: self.finished_at.into(),
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

/// All of evals: sets and cases ([`EvalSetStore`]), runs and results
/// ([`EvalRunStore`]), written once for both backends, and the recovery of
/// interrupted runs across tenants, which each backend does its own way.
#[async_trait]
pub trait EvalStore: EvalSetStore + EvalRunStore + Send + Sync {
    /// Fails every running run whose lease ended before `now` (its server
    /// stopped) with [`INTERRUPTED`] and its finished event, in any tenant;
    /// the tenants they were in.
    async fn recover_eval_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>>;
}
