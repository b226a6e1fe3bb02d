//! Eval runs and their results in SQLite.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::{commit, StoredCounts, StoredResult, StoredRun, Tx, RUNS};
use crate::domain::eval::{
    EvalProgress, EvalResult, EvalRun, EvalRunStatus, LaneCounts, RECENT_RUNS,
};
use crate::store::evals::{
    check_run_room, finished_event, progress_event, refuse_while_running, run_audit, run_finished,
    to_json, EvalResultRow, EvalRunRecord, NewEvalRunRow, FINISHED_EVENT, INTERRUPTED,
    PROGRESS_EVENT,
};
use crate::store::sqlite::leads::log_event;
use crate::store::sqlite::{db_error, parse_uuid, write_audit, SqliteStore};
use crate::store::{Actor, StoreError, StoreResult};

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

pub(super) async fn create_eval_run(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    row: NewEvalRunRow,
) -> StoreResult<EvalRun> {
    let id = Uuid::now_v7();
    let (_writer, mut tx) = store.write().await?;
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

pub(super) async fn eval_runs(
    store: &SqliteStore,
    tenant_id: Uuid,
    set_id: Uuid,
) -> StoreResult<Vec<EvalRun>> {
    let mut conn = store
        .pool
        .acquire()
        .await
        .map_err(|e| db_error(e, "read evals"))?;
    let condition = format!("set_id = ? ORDER BY created_at DESC, id DESC LIMIT {RECENT_RUNS}");
    runs_where(&mut conn, tenant_id, &condition, &[set_id.to_string()]).await
}

pub(super) async fn eval_run(
    store: &SqliteStore,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<EvalRun>> {
    let mut conn = store
        .pool
        .acquire()
        .await
        .map_err(|e| db_error(e, "read evals"))?;
    let binds = [set_id.to_string(), id.to_string()];
    let found = runs_where(&mut conn, tenant_id, "set_id = ? AND id = ?", &binds).await?;
    Ok(found.into_iter().next())
}

pub(super) async fn eval_results(
    store: &SqliteStore,
    tenant_id: Uuid,
    run_id: Uuid,
) -> StoreResult<Vec<EvalResult>> {
    sqlx::query_as::<_, StoredResult>(
        "SELECT case_id, lane, version, case_snapshot, reply, drafted, category, reason, \
         checks, passed, error, prompt_tokens, completion_tokens, latency_ms, finished_at \
         FROM eval_results WHERE tenant_id = ? AND run_id = ? ORDER BY position, lane",
    )
    .bind(tenant_id.to_string())
    .bind(run_id.to_string())
    .fetch_all(&store.pool)
    .await
    .map_err(|e| db_error(e, "read eval results"))?
    .into_iter()
    .map(StoredResult::into_result)
    .collect()
}

pub(super) async fn record_eval_result(
    store: &SqliteStore,
    tenant_id: Uuid,
    run_id: Uuid,
    row: EvalResultRow,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<EvalProgress> {
    let (_writer, mut tx) = store.write().await?;
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

pub(super) async fn renew_eval_run(
    store: &SqliteStore,
    tenant_id: Uuid,
    run_id: Uuid,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let (_writer, mut tx) = store.write().await?;
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

pub(super) async fn finish_eval_run(
    store: &SqliteStore,
    tenant_id: Uuid,
    run_id: Uuid,
    status: EvalRunStatus,
    error: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (_writer, mut tx) = store.write().await?;
    let set_id = end_run(&mut tx, tenant_id, run_id, status, error.as_deref(), now).await?;
    let event = finished_event(run_id, set_id, status, error.as_deref());
    log_event(&mut tx, tenant_id, FINISHED_EVENT, event, now).await?;
    commit(tx, "commit an eval run's end").await
}

pub(super) async fn cancel_eval_run(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<EvalRun> {
    let (_writer, mut tx) = store.write().await?;
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

pub(super) async fn delete_eval_run(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    let (_writer, mut tx) = store.write().await?;
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

pub(super) async fn recover_eval_runs(
    store: &SqliteStore,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let (_writer, mut tx) = store.write().await?;
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
