//! Eval sets, cases, runs and results in SQLite: ids as text, times as
//! epoch milliseconds, JSON as text. The rules are `store::evals`'.

mod runs;
mod sets;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::{db_error, parse_uuid, to_dt, SqliteStore};
use crate::domain::eval::{
    EvalCase, EvalCaseInput, EvalProgress, EvalResult, EvalRun, EvalRunStatus, EvalSet,
    EvalSetInput,
};
use crate::store::evals::{
    CaseRow, EvalCaseRecord, EvalResultRecord, EvalResultRow, EvalRunRecord, EvalStore,
    NewEvalRunRow,
};
use crate::store::{bad_value, Actor, StoreResult};

type Tx = Transaction<'static, Sqlite>;

fn json_text(text: &str, what: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|_| bad_value(what, text))
}

#[derive(sqlx::FromRow)]
struct StoredSet {
    id: String,
    tenant_id: String,
    name: String,
    description: String,
    cases: i64,
    created_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl StoredSet {
    fn into_set(self) -> StoreResult<EvalSet> {
        Ok(EvalSet {
            id: parse_uuid(&self.id)?,
            tenant_id: parse_uuid(&self.tenant_id)?,
            name: self.name,
            description: self.description,
            cases: self.cases as u32,
            created_by: self.created_by,
            created_at: to_dt(self.created_at),
            updated_at: to_dt(self.updated_at),
        })
    }
}

const SETS: &str = "SELECT s.id, s.tenant_id, s.name, s.description, \
     (SELECT count(*) FROM eval_cases c WHERE c.tenant_id = s.tenant_id AND c.set_id = s.id) \
     AS cases, s.created_by, s.created_at, s.updated_at FROM eval_sets s";

#[derive(sqlx::FromRow)]
struct StoredCase {
    id: String,
    set_id: String,
    position: i64,
    message: String,
    lead: String,
    expect: String,
    source: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl StoredCase {
    fn into_case(self) -> StoreResult<EvalCase> {
        EvalCaseRecord {
            id: parse_uuid(&self.id)?,
            set_id: parse_uuid(&self.set_id)?,
            position: self.position as u32,
            message: self.message,
            lead: json_text(&self.lead, "eval case lead")?,
            expect: json_text(&self.expect, "eval case expectations")?,
            source: self
                .source
                .as_deref()
                .map(|s| json_text(s, "eval case source"))
                .transpose()?,
            created_at: to_dt(self.created_at),
            updated_at: to_dt(self.updated_at),
        }
        .into_case()
    }
}

const CASES: &str = "SELECT id, set_id, position, message, lead, expect, source, created_at, \
     updated_at FROM eval_cases";

#[derive(sqlx::FromRow)]
struct StoredRun {
    id: String,
    set_id: String,
    set_name: String,
    agent_id: String,
    agent_name: String,
    lanes: String,
    status: String,
    cases: i64,
    draft_categories: String,
    error: Option<String>,
    created_by: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
}

impl StoredRun {
    fn into_record(self) -> StoreResult<EvalRunRecord> {
        Ok(EvalRunRecord {
            id: parse_uuid(&self.id)?,
            set_id: parse_uuid(&self.set_id)?,
            set_name: self.set_name,
            agent_id: parse_uuid(&self.agent_id)?,
            agent_name: self.agent_name,
            lanes: json_text(&self.lanes, "eval run lanes")?,
            status: self.status,
            cases: self.cases as u32,
            draft_categories: json_text(&self.draft_categories, "draft categories")?,
            error: self.error,
            created_by: self.created_by,
            created_at: to_dt(self.created_at),
            finished_at: self.finished_at.map(to_dt),
        })
    }
}

const RUNS: &str = "SELECT id, set_id, set_name, agent_id, agent_name, lanes, status, cases, \
     draft_categories, error, created_by, created_at, finished_at FROM eval_runs";

#[derive(sqlx::FromRow)]
struct StoredCounts {
    run_id: String,
    lane: i64,
    done: i64,
    passed: i64,
    errors: i64,
}

#[derive(sqlx::FromRow)]
struct StoredResult {
    case_id: String,
    lane: i64,
    version: i64,
    case_snapshot: String,
    reply: String,
    drafted: bool,
    category: Option<String>,
    reason: Option<String>,
    checks: String,
    passed: bool,
    error: Option<String>,
    prompt_tokens: i64,
    completion_tokens: i64,
    latency_ms: i64,
    finished_at: i64,
}

impl StoredResult {
    fn into_result(self) -> StoreResult<EvalResult> {
        EvalResultRecord {
            case_id: parse_uuid(&self.case_id)?,
            lane: self.lane as u8,
            version: self.version as u32,
            case: json_text(&self.case_snapshot, "eval result case")?,
            reply: self.reply,
            drafted: self.drafted,
            category: self.category,
            reason: self.reason,
            checks: json_text(&self.checks, "eval result checks")?,
            passed: self.passed,
            error: self.error,
            prompt_tokens: self.prompt_tokens as u32,
            completion_tokens: self.completion_tokens as u32,
            latency_ms: self.latency_ms as u64,
            finished_at: to_dt(self.finished_at),
        }
        .into_result()
    }
}

async fn commit(tx: Tx, doing: &str) -> StoreResult<()> {
    tx.commit().await.map_err(|e| db_error(e, doing))
}

#[async_trait]
impl EvalStore for SqliteStore {
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
