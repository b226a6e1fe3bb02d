//! Eval runs and their results in PostgreSQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{commit, lock_tenant, StoredCounts, StoredResult, StoredRun, RUNS};
use crate::domain::eval::{
    EvalProgress, EvalResult, EvalRun, EvalRunStatus, LaneCounts, RECENT_RUNS,
};
use crate::store::evals::{
    check_run_room, finished_event, progress_event, refuse_while_running, run_audit, run_finished,
    to_json, EvalResultRow, EvalRunRecord, NewEvalRunRow, FINISHED_EVENT, INTERRUPTED,
    PROGRESS_EVENT,
};
use crate::store::postgres::leads::log_event;
use crate::store::postgres::{db_error, ms, write_audit, PgStore, Tx};
use crate::store::{Actor, StoreError, StoreResult};

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

pub(super) async fn create_eval_run(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    row: NewEvalRunRow,
) -> StoreResult<EvalRun> {
    let id = Uuid::now_v7();
    let mut tx = store.tenant_tx(tenant_id).await?;
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

pub(super) async fn eval_runs(
    store: &PgStore,
    tenant_id: Uuid,
    set_id: Uuid,
) -> StoreResult<Vec<EvalRun>> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let condition = format!("set_id = $2 ORDER BY created_at DESC, id DESC LIMIT {RECENT_RUNS}");
    let runs = runs_where(&mut tx, tenant_id, &condition, &[set_id]).await?;
    commit(tx, "read eval runs").await?;
    Ok(runs)
}

pub(super) async fn eval_run(
    store: &PgStore,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<EvalRun>> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let found = runs_where(&mut tx, tenant_id, "set_id = $2 AND id = $3", &[set_id, id]).await?;
    commit(tx, "read an eval run").await?;
    Ok(found.into_iter().next())
}

pub(super) async fn eval_results(
    store: &PgStore,
    tenant_id: Uuid,
    run_id: Uuid,
) -> StoreResult<Vec<EvalResult>> {
    let mut tx = store.tenant_tx(tenant_id).await?;
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

pub(super) async fn record_eval_result(
    store: &PgStore,
    tenant_id: Uuid,
    run_id: Uuid,
    row: EvalResultRow,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<EvalProgress> {
    let mut tx = store.tenant_tx(tenant_id).await?;
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

pub(super) async fn renew_eval_run(
    store: &PgStore,
    tenant_id: Uuid,
    run_id: Uuid,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut tx = store.tenant_tx(tenant_id).await?;
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

pub(super) async fn finish_eval_run(
    store: &PgStore,
    tenant_id: Uuid,
    run_id: Uuid,
    status: EvalRunStatus,
    error: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let set_id = end_run(&mut tx, tenant_id, run_id, status, error.as_deref(), now).await?;
    let event = finished_event(run_id, set_id, status, error.as_deref());
    log_event(&mut tx, tenant_id, FINISHED_EVENT, event, now).await?;
    commit(tx, "commit an eval run's end").await
}

pub(super) async fn cancel_eval_run(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<EvalRun> {
    let mut tx = store.tenant_tx(tenant_id).await?;
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

pub(super) async fn delete_eval_run(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    let mut tx = store.tenant_tx(tenant_id).await?;
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

pub(super) async fn recover_eval_runs(
    store: &PgStore,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let failed: Vec<(Uuid, Uuid, Uuid)> =
        sqlx::query_as("SELECT tenant_id, id, set_id FROM sb_recover_eval_runs($1, $2)")
            .bind(ms(now))
            .bind(INTERRUPTED)
            .fetch_all(&store.pool)
            .await
            .map_err(|e| db_error(e, "recover eval runs"))?;
    let mut tenants = Vec::new();
    for (tenant, run, set) in failed {
        let mut tx = store.tenant_tx(tenant).await?;
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
