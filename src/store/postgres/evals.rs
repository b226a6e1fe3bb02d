//! Eval sets, cases, runs and results in PostgreSQL, every statement in a
//! tenant-scoped transaction under RLS; limits held across processes by a
//! row lock (cases of a set) or a transaction-scoped advisory lock per
//! tenant (sets, running runs). The rules are `store::evals`'.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::leads::log_event;
use super::{db_error, ms, write_audit, PgStore, Tx};
use crate::domain::eval::{
    EvalCase, EvalCaseInput, EvalProgress, EvalResult, EvalRun, EvalRunStatus, EvalSet,
    EvalSetInput, LaneCounts, RECENT_RUNS,
};
use crate::store::evals::{
    case_audit, check_case_room, check_run_room, check_set_room, finished_event, name_key,
    progress_event, refuse_while_running, run_audit, run_finished, set_audit, to_json, CaseRow,
    EvalCaseRecord, EvalResultRecord, EvalResultRow, EvalRunRecord, EvalStore, NewEvalRunRow,
    FINISHED_EVENT, INTERRUPTED, PROGRESS_EVENT,
};
use crate::store::{Actor, StoreError, StoreResult};

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

async fn set_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>> {
    Ok(
        sqlx::query_as::<_, StoredSet>(&format!("{SETS} WHERE s.tenant_id = $1 AND s.id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| db_error(e, "read an eval set"))?
            .map(EvalSet::from),
    )
}

async fn cases_in(
    tx: &mut Tx,
    tenant_id: Uuid,
    set_id: Uuid,
    only: Option<&[Uuid]>,
) -> StoreResult<Vec<EvalCase>> {
    sqlx::query_as::<_, StoredCase>(&format!(
        "{CASES} WHERE tenant_id = $1 AND set_id = $2 AND ($3::uuid[] IS NULL OR id = ANY($3)) \
         ORDER BY position"
    ))
    .bind(tenant_id)
    .bind(set_id)
    .bind(only)
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read eval cases"))?
    .into_iter()
    .map(StoredCase::into_case)
    .collect()
}

/// Runs matching `condition` (on `$2`, `$3`… bound to `binds`), with their
/// summaries, in the order the condition gives them.
async fn runs_where(
    tx: &mut Tx,
    tenant_id: Uuid,
    condition: &str,
    binds: &[Uuid],
) -> StoreResult<Vec<EvalRun>> {
    let sql = format!("{RUNS} WHERE tenant_id = $1 AND {condition}");
    let mut query = sqlx::query_as::<_, StoredRun>(&sql).bind(tenant_id);
    for b in binds {
        query = query.bind(b);
    }
    let records: Vec<EvalRunRecord> = query
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read eval runs"))?
        .into_iter()
        .map(EvalRunRecord::from)
        .collect();
    let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
    let counts = sqlx::query_as::<_, StoredCounts>(
        "SELECT run_id, lane, count(*) AS done, count(*) FILTER (WHERE passed) AS passed, \
         count(*) FILTER (WHERE error IS NOT NULL) AS errors FROM eval_results \
         WHERE tenant_id = $1 AND run_id = ANY($2) GROUP BY run_id, lane",
    )
    .bind(tenant_id)
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| db_error(e, "count eval results"))?;
    records
        .into_iter()
        .map(|r| {
            let mine: Vec<LaneCounts> = counts
                .iter()
                .filter(|c| c.run_id == r.id)
                .map(|c| LaneCounts {
                    lane: c.lane as u8,
                    done: c.done as u32,
                    passed: c.passed as u32,
                    errors: c.errors as u32,
                })
                .collect();
            r.into_run(&mine)
        })
        .collect()
}

async fn run_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalRun>> {
    let found = runs_where(tx, tenant_id, "id = $2", &[id]).await?;
    Ok(found.into_iter().next())
}

/// Appends cases after the set's last position; their ids, in order.
async fn insert_cases(
    tx: &mut Tx,
    tenant_id: Uuid,
    set_id: Uuid,
    cases: &[CaseRow],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let last: i32 = sqlx::query_scalar(
        "SELECT coalesce(max(position), 0) FROM eval_cases WHERE tenant_id = $1 AND set_id = $2",
    )
    .bind(tenant_id)
    .bind(set_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read an eval set's cases"))?;
    let ids: Vec<Uuid> = cases.iter().map(|_| Uuid::now_v7()).collect();
    let positions: Vec<i32> = (1..=cases.len() as i32).map(|i| last + i).collect();
    let messages: Vec<&str> = cases.iter().map(|c| c.case.message.as_str()).collect();
    let leads: Vec<serde_json::Value> = cases.iter().map(|c| to_json(&c.case.lead)).collect();
    let expects: Vec<serde_json::Value> = cases.iter().map(|c| to_json(&c.case.expect)).collect();
    let sources: Vec<Option<serde_json::Value>> = cases
        .iter()
        .map(|c| c.source.map(|s| to_json(&s)))
        .collect();
    sqlx::query(
        "INSERT INTO eval_cases (tenant_id, set_id, id, position, message, lead, expect, source, \
         created_at, updated_at) \
         SELECT $1, $2, i, p, m, l, e, s, $8, $8 \
           FROM unnest($3::uuid[], $4::int[], $5::text[], $6::jsonb[], $7::jsonb[], $9::jsonb[]) \
                AS c(i, p, m, l, e, s)",
    )
    .bind(tenant_id)
    .bind(set_id)
    .bind(&ids)
    .bind(&positions)
    .bind(&messages)
    .bind(&leads)
    .bind(&expects)
    .bind(ms(now))
    .bind(&sources)
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "store eval cases"))?;
    Ok(ids)
}

async fn touch_set(tx: &mut Tx, tenant_id: Uuid, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    let done = sqlx::query("UPDATE eval_sets SET updated_at = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .bind(ms(now))
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "update an eval set"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A unique violation on a set's name, as the field it is.
fn name_taken(e: sqlx::Error, doing: &str) -> StoreError {
    match db_error(e, doing) {
        StoreError::Conflict { .. } => StoreError::Conflict { field: "name" },
        other => other,
    }
}

async fn commit(tx: Tx, doing: &str) -> StoreResult<()> {
    tx.commit().await.map_err(|e| db_error(e, doing))
}

/// Ends a running run as `status`; its set. A run that ended already is
/// refused ([`run_finished`]).
async fn end_run(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    status: EvalRunStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Uuid> {
    let ended: Option<Uuid> = sqlx::query_scalar(
        "UPDATE eval_runs SET status = $3, error = $4, finished_at = $5, lease_until = NULL \
         WHERE tenant_id = $1 AND id = $2 AND status = 'running' RETURNING set_id",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(status.as_str())
    .bind(error)
    .bind(ms(now))
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "end an eval run"))?;
    if let Some(set_id) = ended {
        return Ok(set_id);
    }
    match run_status(tx, tenant_id, id).await? {
        Some(now) => Err(run_finished(&now)),
        None => Err(StoreError::NotFound),
    }
}

async fn run_status(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<String>> {
    sqlx::query_scalar("SELECT status FROM eval_runs WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read an eval run"))
}

#[async_trait]
impl EvalStore for PgStore {
    async fn list_eval_sets(&self, tenant_id: Uuid) -> StoreResult<Vec<EvalSet>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let sets = sqlx::query_as::<_, StoredSet>(&format!(
            "{SETS} WHERE s.tenant_id = $1 ORDER BY s.name_key, s.id"
        ))
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list eval sets"))?;
        commit(tx, "list eval sets").await?;
        Ok(sets.into_iter().map(EvalSet::from).collect())
    }

    async fn eval_set(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let set = set_in(&mut tx, tenant_id, id).await?;
        commit(tx, "read an eval set").await?;
        Ok(set)
    }

    async fn create_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set: EvalSetInput,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet> {
        let id = Uuid::now_v7();
        let mut tx = self.tenant_tx(tenant_id).await?;
        lock_tenant(&mut tx, "eval_sets", tenant_id).await?;
        let sets: i64 = sqlx::query_scalar("SELECT count(*) FROM eval_sets WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "count eval sets"))?;
        check_set_room(sets as u32)?;
        check_case_room(0, cases.len())?;
        sqlx::query(
            "INSERT INTO eval_sets (tenant_id, id, name, name_key, description, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(&set.name)
        .bind(name_key(&set.name))
        .bind(&set.description)
        .bind(actor.email.as_deref())
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, "store an eval set"))?;
        insert_cases(&mut tx, tenant_id, id, &cases, now).await?;
        let changes = serde_json::json!({ "name": set.name, "cases": cases.len() });
        write_audit(
            &mut tx,
            tenant_id,
            actor,
            &set_audit("eval_set.create", id, changes),
        )
        .await?;
        let created = set_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        commit(tx, "commit an eval set").await?;
        Ok(created)
    }

    async fn update_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        set: EvalSetInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query(
            "UPDATE eval_sets SET name = $3, name_key = $4, description = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(&set.name)
        .bind(name_key(&set.name))
        .bind(&set.description)
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, "update an eval set"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let changes = serde_json::json!({ "name": set.name, "description": set.description });
        write_audit(
            &mut tx,
            tenant_id,
            actor,
            &set_audit("eval_set.update", id, changes),
        )
        .await?;
        let updated = set_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        commit(tx, "commit an eval set").await?;
        Ok(updated)
    }

    async fn delete_eval_set(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        // Locks the set first: a run starting now waits, then finds it gone.
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM eval_sets WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "lock an eval set"))?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM eval_runs WHERE tenant_id = $1 AND set_id = $2 \
             AND status = 'running'",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an eval set's runs"))?;
        if running > 0 {
            return Err(refuse_while_running("the set"));
        }
        sqlx::query("DELETE FROM eval_sets WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete an eval set"))?;
        let audit = set_audit("eval_set.delete", id, serde_json::json!({}));
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        commit(tx, "commit an eval set's deletion").await
    }

    async fn eval_cases(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalCase>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let cases = cases_in(&mut tx, tenant_id, set_id, None).await?;
        commit(tx, "read eval cases").await?;
        Ok(cases)
    }

    async fn add_eval_cases(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<EvalCase>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        // One writer of a set's cases at a time: the count holds to commit.
        let locked: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM eval_sets WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant_id)
        .bind(set_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "lock an eval set"))?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        let held = set_in(&mut tx, tenant_id, set_id)
            .await?
            .ok_or(StoreError::NotFound)?
            .cases;
        check_case_room(held, cases.len())?;
        let ids = insert_cases(&mut tx, tenant_id, set_id, &cases, now).await?;
        touch_set(&mut tx, tenant_id, set_id, now).await?;
        let audit = case_audit("eval_case.create", set_id, &ids);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let added = cases_in(&mut tx, tenant_id, set_id, Some(&ids)).await?;
        commit(tx, "commit eval cases").await?;
        Ok(added)
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query(
            "UPDATE eval_cases SET message = $4, lead = $5, expect = $6, updated_at = $7 \
             WHERE tenant_id = $1 AND set_id = $2 AND id = $3",
        )
        .bind(tenant_id)
        .bind(set_id)
        .bind(id)
        .bind(&case.message)
        .bind(to_json(&case.lead))
        .bind(to_json(&case.expect))
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "update an eval case"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        touch_set(&mut tx, tenant_id, set_id, now).await?;
        let audit = case_audit("eval_case.update", set_id, &[id]);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let updated = cases_in(&mut tx, tenant_id, set_id, Some(&[id]))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        commit(tx, "commit an eval case").await?;
        Ok(updated)
    }

    async fn delete_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done =
            sqlx::query("DELETE FROM eval_cases WHERE tenant_id = $1 AND set_id = $2 AND id = $3")
                .bind(tenant_id)
                .bind(set_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "delete an eval case"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let audit = case_audit("eval_case.delete", set_id, &[id]);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        commit(tx, "commit an eval case's deletion").await
    }

    async fn create_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewEvalRunRow,
    ) -> StoreResult<EvalRun> {
        let id = Uuid::now_v7();
        let mut tx = self.tenant_tx(tenant_id).await?;
        lock_tenant(&mut tx, "eval_runs", tenant_id).await?;
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM eval_runs WHERE tenant_id = $1 AND status = 'running'",
        )
        .bind(tenant_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(e, "count running eval runs"))?;
        check_run_room(running as u32)?;
        sqlx::query(
            "INSERT INTO eval_runs (tenant_id, id, set_id, set_name, agent_id, agent_name, \
             lanes, status, cases, draft_categories, lease_until, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9, $10, $11, $12)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(row.set_id)
        .bind(&row.set_name)
        .bind(row.agent_id)
        .bind(&row.agent_name)
        .bind(to_json(&row.lanes))
        .bind(row.cases as i32)
        .bind(to_json(&row.draft_categories))
        .bind(ms(row.lease_until))
        .bind(actor.email.as_deref())
        .bind(ms(row.now))
        .execute(&mut *tx)
        .await
        .map_err(|e| match db_error(e, "start an eval run") {
            // The foreign key: the set is gone.
            StoreError::Other(_) => StoreError::NotFound,
            other => other,
        })?;
        let changes = serde_json::json!({
            "set_id": row.set_id, "agent_id": row.agent_id, "lanes": row.lanes,
        });
        write_audit(
            &mut tx,
            tenant_id,
            actor,
            &run_audit("eval_run.start", id, changes),
        )
        .await?;
        let run = run_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        commit(tx, "commit an eval run").await?;
        Ok(run)
    }

    async fn eval_runs(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalRun>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let condition =
            format!("set_id = $2 ORDER BY created_at DESC, id DESC LIMIT {RECENT_RUNS}");
        let runs = runs_where(&mut tx, tenant_id, &condition, &[set_id]).await?;
        commit(tx, "read eval runs").await?;
        Ok(runs)
    }

    async fn eval_run(
        &self,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<EvalRun>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let found =
            runs_where(&mut tx, tenant_id, "set_id = $2 AND id = $3", &[set_id, id]).await?;
        commit(tx, "read an eval run").await?;
        Ok(found.into_iter().next())
    }

    async fn eval_results(&self, tenant_id: Uuid, run_id: Uuid) -> StoreResult<Vec<EvalResult>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, StoredResult>(
            "SELECT case_id, lane, version, case_snapshot, reply, drafted, category, reason, \
             checks, passed, error, prompt_tokens, completion_tokens, latency_ms, finished_at \
             FROM eval_results WHERE tenant_id = $1 AND run_id = $2 ORDER BY position, lane",
        )
        .bind(tenant_id)
        .bind(run_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read eval results"))?;
        commit(tx, "read eval results").await?;
        rows.into_iter().map(StoredResult::into_result).collect()
    }

    async fn record_eval_result(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        row: EvalResultRow,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalProgress> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        // The run's row, locked: a cancel waits for this result, or this
        // result finds the run cancelled.
        let status: Option<String> = sqlx::query_scalar(
            "UPDATE eval_runs SET lease_until = CASE WHEN status = 'running' THEN $3 \
             ELSE lease_until END WHERE tenant_id = $1 AND id = $2 RETURNING status",
        )
        .bind(tenant_id)
        .bind(run_id)
        .bind(ms(lease_until))
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "renew an eval run"))?;
        match status {
            None => return Err(StoreError::NotFound),
            Some(s) if s != EvalRunStatus::Running.as_str() => return Err(run_finished(&s)),
            Some(_) => {}
        }
        sqlx::query(
            "INSERT INTO eval_results (tenant_id, run_id, case_id, lane, version, position, \
             case_snapshot, reply, drafted, category, reason, checks, passed, error, \
             prompt_tokens, completion_tokens, latency_ms, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18)",
        )
        .bind(tenant_id)
        .bind(run_id)
        .bind(row.case_id)
        .bind(i16::from(row.lane))
        .bind(row.version as i32)
        .bind(row.case.position as i32)
        .bind(to_json(&row.case))
        .bind(&row.reply)
        .bind(row.drafted)
        .bind(row.category.as_deref())
        .bind(row.reason.as_deref())
        .bind(to_json(&row.checks))
        .bind(row.passed)
        .bind(row.error.as_deref())
        .bind(row.prompt_tokens as i32)
        .bind(row.completion_tokens as i32)
        .bind(row.latency_ms as i64)
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "store an eval result"))?;
        let run = run_in(&mut tx, tenant_id, run_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let event = progress_event(run_id, run.set_id, run.progress);
        log_event(&mut tx, tenant_id, PROGRESS_EVENT, event, now).await?;
        commit(tx, "commit an eval result").await?;
        Ok(run.progress)
    }

    async fn renew_eval_run(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query(
            "UPDATE eval_runs SET lease_until = $3 WHERE tenant_id = $1 AND id = $2 \
             AND status = 'running'",
        )
        .bind(tenant_id)
        .bind(run_id)
        .bind(ms(lease_until))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "renew an eval run"))?;
        commit(tx, "commit an eval run's lease").await?;
        Ok(done.rows_affected() > 0)
    }

    async fn finish_eval_run(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        status: EvalRunStatus,
        error: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let set_id = end_run(&mut tx, tenant_id, run_id, status, error.as_deref(), now).await?;
        let event = finished_event(run_id, set_id, status, error.as_deref());
        log_event(&mut tx, tenant_id, FINISHED_EVENT, event, now).await?;
        commit(tx, "commit an eval run's end").await
    }

    async fn cancel_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalRun> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let of_set: Option<Uuid> = sqlx::query_scalar(
            "SELECT set_id FROM eval_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an eval run"))?;
        if of_set != Some(set_id) {
            return Err(StoreError::NotFound);
        }
        let status = EvalRunStatus::Cancelled;
        end_run(&mut tx, tenant_id, id, status, None, now).await?;
        let event = finished_event(id, set_id, status, None);
        log_event(&mut tx, tenant_id, FINISHED_EVENT, event, now).await?;
        let audit = run_audit("eval_run.cancel", id, serde_json::json!({}));
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let run = run_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        commit(tx, "commit an eval run's cancellation").await?;
        Ok(run)
    }

    async fn delete_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM eval_runs WHERE tenant_id = $1 AND set_id = $2 AND id = $3 \
             FOR UPDATE",
        )
        .bind(tenant_id)
        .bind(set_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an eval run"))?;
        match status.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("running") => return Err(refuse_while_running("the run")),
            Some(_) => {}
        }
        sqlx::query("DELETE FROM eval_runs WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete an eval run"))?;
        let audit = run_audit(
            "eval_run.delete",
            id,
            serde_json::json!({ "set_id": set_id }),
        );
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        commit(tx, "commit an eval run's deletion").await
    }

    async fn recover_eval_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        let failed: Vec<(Uuid, Uuid, Uuid)> =
            sqlx::query_as("SELECT tenant_id, id, set_id FROM sb_recover_eval_runs($1, $2)")
                .bind(ms(now))
                .bind(INTERRUPTED)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_error(e, "recover eval runs"))?;
        let mut tenants = Vec::new();
        for (tenant, run, set) in failed {
            let mut tx = self.tenant_tx(tenant).await?;
            let status = EvalRunStatus::Failed;
            let event = finished_event(run, set, status, Some(INTERRUPTED));
            log_event(&mut tx, tenant, FINISHED_EVENT, event, now).await?;
            commit(tx, "log an interrupted eval run").await?;
            tenants.push(tenant);
        }
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }
}
