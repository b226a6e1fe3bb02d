//! Eval sets, cases, runs and results in SQLite: ids as text, times as
//! epoch milliseconds, JSON as text. The rules are `store::evals`'.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqliteConnection, Transaction};
use uuid::Uuid;

use super::leads::log_event;
use super::{db_error, parse_uuid, to_dt, write_audit, SqliteStore};
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
use crate::store::{bad_value, Actor, StoreError, StoreResult};

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

async fn set_in(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<EvalSet>> {
    sqlx::query_as::<_, StoredSet>(&format!("{SETS} WHERE s.tenant_id = ? AND s.id = ?"))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error(e, "read an eval set"))?
        .map(StoredSet::into_set)
        .transpose()
}

async fn cases_in(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    set_id: Uuid,
    only: Option<&[Uuid]>,
) -> StoreResult<Vec<EvalCase>> {
    let only = only.map(|ids| to_json(&ids).to_string());
    sqlx::query_as::<_, StoredCase>(&format!(
        "{CASES} WHERE tenant_id = ? AND set_id = ? \
         AND (? IS NULL OR id IN (SELECT value FROM json_each(?))) ORDER BY position"
    ))
    .bind(tenant_id.to_string())
    .bind(set_id.to_string())
    .bind(only.as_deref())
    .bind(only.as_deref())
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db_error(e, "read eval cases"))?
    .into_iter()
    .map(StoredCase::into_case)
    .collect()
}

/// Each lane's counts of the listed runs' results.
async fn counts_in(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    runs: &[Uuid],
) -> StoreResult<Vec<(Uuid, LaneCounts)>> {
    sqlx::query_as::<_, StoredCounts>(
        "SELECT run_id, lane, count(*) AS done, coalesce(sum(passed), 0) AS passed, \
         coalesce(sum(error IS NOT NULL), 0) AS errors FROM eval_results \
         WHERE tenant_id = ? AND run_id IN (SELECT value FROM json_each(?)) \
         GROUP BY run_id, lane",
    )
    .bind(tenant_id.to_string())
    .bind(to_json(&runs).to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db_error(e, "count eval results"))?
    .into_iter()
    .map(|c| {
        let counts = LaneCounts {
            lane: c.lane as u8,
            done: c.done as u32,
            passed: c.passed as u32,
            errors: c.errors as u32,
        };
        Ok((parse_uuid(&c.run_id)?, counts))
    })
    .collect()
}

/// Runs with their summaries, in the order the query gives them.
async fn runs_where(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    condition: &str,
    binds: &[String],
) -> StoreResult<Vec<EvalRun>> {
    let sql = format!("{RUNS} WHERE tenant_id = ? AND {condition}");
    let mut query = sqlx::query_as::<_, StoredRun>(&sql).bind(tenant_id.to_string());
    for b in binds {
        query = query.bind(b);
    }
    let records: Vec<EvalRunRecord> = query
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error(e, "read eval runs"))?
        .into_iter()
        .map(StoredRun::into_record)
        .collect::<StoreResult<_>>()?;
    let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
    let counts = counts_in(conn, tenant_id, &ids).await?;
    records
        .into_iter()
        .map(|r| {
            let mine: Vec<LaneCounts> = counts
                .iter()
                .filter(|(run, _)| *run == r.id)
                .map(|(_, c)| *c)
                .collect();
            r.into_run(&mine)
        })
        .collect()
}

async fn run_in(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<EvalRun>> {
    let found = runs_where(conn, tenant_id, "id = ?", &[id.to_string()]).await?;
    Ok(found.into_iter().next())
}

async fn run_status(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<String>> {
    sqlx::query_scalar("SELECT status FROM eval_runs WHERE tenant_id = ? AND id = ?")
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read an eval run"))
}

/// Appends cases after the set's last position; their ids, in order.
async fn insert_cases(
    tx: &mut Tx,
    tenant_id: Uuid,
    set_id: Uuid,
    cases: &[CaseRow],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let last: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(position), 0) FROM eval_cases WHERE tenant_id = ? AND set_id = ?",
    )
    .bind(tenant_id.to_string())
    .bind(set_id.to_string())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read an eval set's cases"))?;
    let mut ids = Vec::with_capacity(cases.len());
    for (i, row) in cases.iter().enumerate() {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO eval_cases (tenant_id, set_id, id, position, message, lead, expect, \
             source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(set_id.to_string())
        .bind(id.to_string())
        .bind(last + 1 + i as i64)
        .bind(&row.case.message)
        .bind(to_json(&row.case.lead).to_string())
        .bind(to_json(&row.case.expect).to_string())
        .bind(row.source.map(|s| to_json(&s).to_string()))
        .bind(now.timestamp_millis())
        .bind(now.timestamp_millis())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "store an eval case"))?;
        ids.push(id);
    }
    Ok(ids)
}

async fn touch_set(tx: &mut Tx, tenant_id: Uuid, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    let done = sqlx::query("UPDATE eval_sets SET updated_at = ? WHERE tenant_id = ? AND id = ?")
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
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

#[async_trait]
impl EvalStore for SqliteStore {
    async fn list_eval_sets(&self, tenant_id: Uuid) -> StoreResult<Vec<EvalSet>> {
        sqlx::query_as::<_, StoredSet>(&format!(
            "{SETS} WHERE s.tenant_id = ? ORDER BY s.name_key, s.id"
        ))
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list eval sets"))?
        .into_iter()
        .map(StoredSet::into_set)
        .collect()
    }

    async fn eval_set(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "read evals"))?;
        set_in(&mut conn, tenant_id, id).await
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
        let (_writer, mut tx) = self.write().await?;
        let sets: i64 = sqlx::query_scalar("SELECT count(*) FROM eval_sets WHERE tenant_id = ?")
            .bind(tenant_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "count eval sets"))?;
        check_set_room(sets as u32)?;
        check_case_room(0, cases.len())?;
        sqlx::query(
            "INSERT INTO eval_sets (tenant_id, id, name, name_key, description, created_by, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(&set.name)
        .bind(name_key(&set.name))
        .bind(&set.description)
        .bind(actor.email.as_deref())
        .bind(now.timestamp_millis())
        .bind(now.timestamp_millis())
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
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(
            "UPDATE eval_sets SET name = ?, name_key = ?, description = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(&set.name)
        .bind(name_key(&set.name))
        .bind(&set.description)
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
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
        let (_writer, mut tx) = self.write().await?;
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM eval_runs WHERE tenant_id = ? AND set_id = ? \
             AND status = 'running'",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an eval set's runs"))?;
        if running > 0 {
            return Err(refuse_while_running("the set"));
        }
        let done = sqlx::query("DELETE FROM eval_sets WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete an eval set"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let audit = set_audit("eval_set.delete", id, serde_json::json!({}));
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        commit(tx, "commit an eval set's deletion").await
    }

    async fn eval_cases(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalCase>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "read evals"))?;
        cases_in(&mut conn, tenant_id, set_id, None).await
    }

    async fn add_eval_cases(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<EvalCase>> {
        let (_writer, mut tx) = self.write().await?;
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
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(
            "UPDATE eval_cases SET message = ?, lead = ?, expect = ?, updated_at = ? \
             WHERE tenant_id = ? AND set_id = ? AND id = ?",
        )
        .bind(&case.message)
        .bind(to_json(&case.lead).to_string())
        .bind(to_json(&case.expect).to_string())
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(set_id.to_string())
        .bind(id.to_string())
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
        let (_writer, mut tx) = self.write().await?;
        let done =
            sqlx::query("DELETE FROM eval_cases WHERE tenant_id = ? AND set_id = ? AND id = ?")
                .bind(tenant_id.to_string())
                .bind(set_id.to_string())
                .bind(id.to_string())
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
        let (_writer, mut tx) = self.write().await?;
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM eval_runs WHERE tenant_id = ? AND status = 'running'",
        )
        .bind(tenant_id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(e, "count running eval runs"))?;
        check_run_room(running as u32)?;
        sqlx::query(
            "INSERT INTO eval_runs (tenant_id, id, set_id, set_name, agent_id, agent_name, \
             lanes, status, cases, draft_categories, lease_until, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(row.set_id.to_string())
        .bind(&row.set_name)
        .bind(row.agent_id.to_string())
        .bind(&row.agent_name)
        .bind(to_json(&row.lanes).to_string())
        .bind(i64::from(row.cases))
        .bind(to_json(&row.draft_categories).to_string())
        .bind(row.lease_until.timestamp_millis())
        .bind(actor.email.as_deref())
        .bind(row.now.timestamp_millis())
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
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "read evals"))?;
        let condition = format!("set_id = ? ORDER BY created_at DESC, id DESC LIMIT {RECENT_RUNS}");
        runs_where(&mut conn, tenant_id, &condition, &[set_id.to_string()]).await
    }

    async fn eval_run(
        &self,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<EvalRun>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "read evals"))?;
        let binds = [set_id.to_string(), id.to_string()];
        let found = runs_where(&mut conn, tenant_id, "set_id = ? AND id = ?", &binds).await?;
        Ok(found.into_iter().next())
    }

    async fn eval_results(&self, tenant_id: Uuid, run_id: Uuid) -> StoreResult<Vec<EvalResult>> {
        sqlx::query_as::<_, StoredResult>(
            "SELECT case_id, lane, version, case_snapshot, reply, drafted, category, reason, \
             checks, passed, error, prompt_tokens, completion_tokens, latency_ms, finished_at \
             FROM eval_results WHERE tenant_id = ? AND run_id = ? ORDER BY position, lane",
        )
        .bind(tenant_id.to_string())
        .bind(run_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "read eval results"))?
        .into_iter()
        .map(StoredResult::into_result)
        .collect()
    }

    async fn record_eval_result(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        row: EvalResultRow,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalProgress> {
        let (_writer, mut tx) = self.write().await?;
        match run_status(&mut tx, tenant_id, run_id).await? {
            None => return Err(StoreError::NotFound),
            Some(s) if s != EvalRunStatus::Running.as_str() => return Err(run_finished(&s)),
            Some(_) => {}
        }
        sqlx::query(
            "INSERT INTO eval_results (tenant_id, run_id, case_id, lane, version, position, \
             case_snapshot, reply, drafted, category, reason, checks, passed, error, \
             prompt_tokens, completion_tokens, latency_ms, finished_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(run_id.to_string())
        .bind(row.case_id.to_string())
        .bind(i64::from(row.lane))
        .bind(i64::from(row.version))
        .bind(i64::from(row.case.position))
        .bind(to_json(&row.case).to_string())
        .bind(&row.reply)
        .bind(row.drafted)
        .bind(row.category.as_deref())
        .bind(row.reason.as_deref())
        .bind(to_json(&row.checks).to_string())
        .bind(row.passed)
        .bind(row.error.as_deref())
        .bind(i64::from(row.prompt_tokens))
        .bind(i64::from(row.completion_tokens))
        .bind(row.latency_ms as i64)
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "store an eval result"))?;
        sqlx::query("UPDATE eval_runs SET lease_until = ? WHERE tenant_id = ? AND id = ?")
            .bind(lease_until.timestamp_millis())
            .bind(tenant_id.to_string())
            .bind(run_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "renew an eval run"))?;
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
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(
            "UPDATE eval_runs SET lease_until = ? WHERE tenant_id = ? AND id = ? \
             AND status = 'running'",
        )
        .bind(lease_until.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(run_id.to_string())
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
        let (_writer, mut tx) = self.write().await?;
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
        let (_writer, mut tx) = self.write().await?;
        let of_set: Option<String> =
            sqlx::query_scalar("SELECT set_id FROM eval_runs WHERE tenant_id = ? AND id = ?")
                .bind(tenant_id.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| db_error(e, "read an eval run"))?;
        if of_set != Some(set_id.to_string()) {
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
        let (_writer, mut tx) = self.write().await?;
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM eval_runs WHERE tenant_id = ? AND set_id = ? AND id = ?",
        )
        .bind(tenant_id.to_string())
        .bind(set_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an eval run"))?;
        match status.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("running") => return Err(refuse_while_running("the run")),
            Some(_) => {}
        }
        sqlx::query("DELETE FROM eval_runs WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id.to_string())
            .bind(id.to_string())
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
        let (_writer, mut tx) = self.write().await?;
        let stale: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant_id, id FROM eval_runs WHERE status = 'running' AND lease_until < ?",
        )
        .bind(now.timestamp_millis())
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "find interrupted eval runs"))?;
        let mut tenants = Vec::new();
        for (tenant, run) in stale {
            let (tenant, run) = (parse_uuid(&tenant)?, parse_uuid(&run)?);
            let status = EvalRunStatus::Failed;
            let set_id = end_run(&mut tx, tenant, run, status, Some(INTERRUPTED), now).await?;
            let event = finished_event(run, set_id, status, Some(INTERRUPTED));
            log_event(&mut tx, tenant, FINISHED_EVENT, event, now).await?;
            tenants.push(tenant);
        }
        commit(tx, "commit interrupted eval runs").await?;
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }
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
    let ended: Option<String> = sqlx::query_scalar(
        "UPDATE eval_runs SET status = ?, error = ?, finished_at = ?, lease_until = NULL \
         WHERE tenant_id = ? AND id = ? AND status = 'running' RETURNING set_id",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(now.timestamp_millis())
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "end an eval run"))?;
    if let Some(set_id) = ended {
        return parse_uuid(&set_id);
    }
    match run_status(tx, tenant_id, id).await? {
        Some(now) => Err(run_finished(&now)),
        None => Err(StoreError::NotFound),
    }
}
