//! Eval sets, cases, runs and results in PostgreSQL, every statement in a
//! tenant-scoped transaction under RLS; limits held across processes by a
//! row lock (cases of a set) or a transaction-scoped advisory lock per
//! tenant (sets, running runs). The rules are `store::evals`'.

mod runs;
mod sets;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{db_error, PgStore, Tx};
use crate::domain::eval::{
    EvalCase, EvalCaseInput, EvalProgress, EvalResult, EvalRun, EvalRunStatus, EvalSet,
    EvalSetInput,
};
use crate::store::evals::{
    CaseRow, EvalCaseRecord, EvalResultRecord, EvalResultRow, EvalRunRecord, EvalStore,
    NewEvalRunRow,
};
use crate::store::{Actor, StoreResult};

#[derive(sqlx::FromRow)]
struct StoredSet {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    description: String,
    cases: i64,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<StoredSet> for EvalSet {
    fn from(s: StoredSet) -> Self {
        EvalSet {
            id: s.id,
            tenant_id: s.tenant_id,
            name: s.name,
            description: s.description,
            cases: s.cases as u32,
            created_by: s.created_by,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

const SETS: &str = "SELECT s.id, s.tenant_id, s.name, s.description, \
     (SELECT count(*) FROM eval_cases c WHERE c.tenant_id = s.tenant_id AND c.set_id = s.id) \
     AS cases, s.created_by, s.created_at, s.updated_at FROM eval_sets s";

#[derive(sqlx::FromRow)]
struct StoredCase {
    id: Uuid,
    set_id: Uuid,
    position: i32,
    message: String,
    lead: serde_json::Value,
    expect: serde_json::Value,
    source: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl StoredCase {
    fn into_case(self) -> StoreResult<EvalCase> {
        EvalCaseRecord {
            id: self.id,
            set_id: self.set_id,
            position: self.position as u32,
            message: self.message,
            lead: self.lead,
            expect: self.expect,
            source: self.source,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .into_case()
    }
}

const CASES: &str = "SELECT id, set_id, position, message, lead, expect, source, created_at, \
     updated_at FROM eval_cases";

#[derive(sqlx::FromRow)]
struct StoredRun {
    id: Uuid,
    set_id: Uuid,
    set_name: String,
    agent_id: Uuid,
    agent_name: String,
    lanes: serde_json::Value,
    status: String,
    cases: i32,
    draft_categories: serde_json::Value,
    error: Option<String>,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<StoredRun> for EvalRunRecord {
    fn from(r: StoredRun) -> Self {
        EvalRunRecord {
            id: r.id,
            set_id: r.set_id,
            set_name: r.set_name,
            agent_id: r.agent_id,
            agent_name: r.agent_name,
            lanes: r.lanes,
            status: r.status,
            cases: r.cases as u32,
            draft_categories: r.draft_categories,
            error: r.error,
            created_by: r.created_by,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

const RUNS: &str = "SELECT id, set_id, set_name, agent_id, agent_name, lanes, status, cases, \
     draft_categories, error, created_by, created_at, finished_at FROM eval_runs";

#[derive(sqlx::FromRow)]
struct StoredCounts {
    run_id: Uuid,
    lane: i16,
    done: i64,
    passed: i64,
    errors: i64,
}

#[derive(sqlx::FromRow)]
struct StoredResult {
    case_id: Uuid,
    lane: i16,
    version: i32,
    case_snapshot: serde_json::Value,
    reply: String,
    drafted: bool,
    category: Option<String>,
    reason: Option<String>,
    checks: serde_json::Value,
    passed: bool,
    error: Option<String>,
    prompt_tokens: i32,
    completion_tokens: i32,
    latency_ms: i64,
    finished_at: DateTime<Utc>,
}

impl StoredResult {
    fn into_result(self) -> StoreResult<EvalResult> {
        EvalResultRecord {
            case_id: self.case_id,
            lane: self.lane as u8,
            version: self.version as u32,
            case: self.case_snapshot,
            reply: self.reply,
            drafted: self.drafted,
            category: self.category,
            reason: self.reason,
            checks: self.checks,
            passed: self.passed,
            error: self.error,
            prompt_tokens: self.prompt_tokens as u32,
            completion_tokens: self.completion_tokens as u32,
            latency_ms: self.latency_ms as u64,
            finished_at: self.finished_at,
        }
        .into_result()
    }
}

/// Serialises the tenant's transactions that count before they add (sets,
/// running runs) until commit, across every process.
async fn lock_tenant(tx: &mut Tx, what: &str, tenant_id: Uuid) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("{what}:{tenant_id}"))
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "lock the tenant's evals"))?;
    Ok(())
}

async fn commit(tx: Tx, doing: &str) -> StoreResult<()> {
    tx.commit().await.map_err(|e| db_error(e, doing))
}

#[async_trait]
impl EvalStore for PgStore {
    async fn list_eval_sets(&self, tenant_id: Uuid) -> StoreResult<Vec<EvalSet>> {
        sets::list_eval_sets(self, tenant_id).await
    }

    async fn eval_set(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>> {
        sets::eval_set(self, tenant_id, id).await
    }

    async fn create_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set: EvalSetInput,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet> {
        sets::create_eval_set(self, actor, tenant_id, set, cases, now).await
    }

    async fn update_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        set: EvalSetInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet> {
        sets::update_eval_set(self, actor, tenant_id, id, set, now).await
    }

    async fn delete_eval_set(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        sets::delete_eval_set(self, actor, tenant_id, id).await
    }

    async fn eval_cases(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalCase>> {
        sets::eval_cases(self, tenant_id, set_id).await
    }

    async fn add_eval_cases(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<EvalCase>> {
        sets::add_eval_cases(self, actor, tenant_id, set_id, cases, now).await
    }

    async fn update_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
        case: EvalCaseInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalCase> {
        sets::update_eval_case(self, actor, tenant_id, set_id, id, case, now).await
    }

    async fn delete_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        sets::delete_eval_case(self, actor, tenant_id, set_id, id).await
    }

    async fn create_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewEvalRunRow,
    ) -> StoreResult<EvalRun> {
        runs::create_eval_run(self, actor, tenant_id, row).await
    }

    async fn eval_runs(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalRun>> {
        runs::eval_runs(self, tenant_id, set_id).await
    }

    async fn eval_run(
        &self,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<EvalRun>> {
        runs::eval_run(self, tenant_id, set_id, id).await
    }

    async fn eval_results(&self, tenant_id: Uuid, run_id: Uuid) -> StoreResult<Vec<EvalResult>> {
        runs::eval_results(self, tenant_id, run_id).await
    }

    async fn record_eval_result(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        row: EvalResultRow,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalProgress> {
        runs::record_eval_result(self, tenant_id, run_id, row, lease_until, now).await
    }

    async fn renew_eval_run(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        runs::renew_eval_run(self, tenant_id, run_id, lease_until).await
    }

    async fn finish_eval_run(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        status: EvalRunStatus,
        error: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        runs::finish_eval_run(self, tenant_id, run_id, status, error, now).await
    }

    async fn cancel_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalRun> {
        runs::cancel_eval_run(self, actor, tenant_id, set_id, id, now).await
    }

    async fn delete_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        runs::delete_eval_run(self, actor, tenant_id, set_id, id).await
    }

    async fn recover_eval_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        runs::recover_eval_runs(self, now).await
    }
}
