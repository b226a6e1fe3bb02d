//! Eval runs and their results: one flow for both backends, each statement
//! written once (a [`Dialect`] apart where the engines differ).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    check_run_room, finished_event, progress_event, refuse_while_running, run_audit, run_finished,
    to_json, EvalResultRecord, EvalResultRow, EvalRunRecord, LaneCountsRecord, NewEvalRunRow,
    FINISHED_EVENT, PROGRESS_EVENT, RUNS,
};
use crate::domain::eval::{
    EvalProgress, EvalResult, EvalRun, EvalRunStatus, LaneCounts, RECENT_RUNS,
};
use crate::store::conn::{log_event, write_audit, Arg, Backend, Conn, Stmt};
use crate::store::row::Id;
use crate::store::sql::Dialect;
use crate::store::{Actor, StoreError, StoreResult};

/// Eval runs and their results, each within one tenant.
#[async_trait]
pub trait EvalRunStore: Send + Sync {
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
}

/// Runs matching `condition` (on `$2`, `$3`… bound to `args`), with their
/// summaries, in the order the condition gives them.
async fn runs_where<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    condition: &str,
    args: Vec<Arg>,
) -> StoreResult<Vec<EvalRun>> {
    let mut stmt = Stmt::new(
        format!("{RUNS} WHERE tenant_id = $1 AND {condition}"),
        "read eval runs",
    )
    .id(tenant_id);
    stmt.args.extend(args);
    let records = c.fetch_all::<EvalRunRecord>(stmt).await?;
    let ids: Vec<Uuid> = records.iter().map(|r| r.id.into()).collect();
    let sql = match c.dialect() {
        Dialect::Postgres => {
            "SELECT run_id, lane, count(*) AS done, count(*) FILTER (WHERE passed) AS passed, \
             count(*) FILTER (WHERE error IS NOT NULL) AS errors FROM eval_results \
             WHERE tenant_id = $1 AND run_id = ANY($2) GROUP BY run_id, lane"
        }
        Dialect::Sqlite => {
            "SELECT run_id, lane, count(*) AS done, coalesce(sum(passed), 0) AS passed, \
             coalesce(sum(error IS NOT NULL), 0) AS errors FROM eval_results \
             WHERE tenant_id = $1 AND run_id IN (SELECT value FROM json_each($2)) \
             GROUP BY run_id, lane"
        }
    };
    let counts = Stmt::new(sql, "count eval results")
        .id(tenant_id)
        .arg(Arg::Ids(ids));
    let counts = c.fetch_all::<LaneCountsRecord>(counts).await?;
    records
        .into_iter()
        .map(|r| {
            let mine: Vec<LaneCounts> = counts
                .iter()
                .filter(|c| c.run_id == r.id)
                .map(LaneCounts::from)
                .collect();
            r.into_run(&mine)
        })
        .collect()
}

async fn run_in<C: Conn>(c: &mut C, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalRun>> {
    let found = runs_where(c, tenant_id, "id = $2", vec![Arg::Id(id)]).await?;
    Ok(found.into_iter().next())
}

async fn run_status<C: Conn>(c: &mut C, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<String>> {
    let stmt = Stmt::new(
        "SELECT status FROM eval_runs WHERE tenant_id = $1 AND id = $2",
        "read an eval run",
    )
    .id(tenant_id)
    .id(id);
    Ok(c.fetch_optional::<(String,)>(stmt).await?.map(|(s,)| s))
}

/// Ends a running run as `status`; its set. A run that ended already is
/// refused ([`run_finished`]).
pub(crate) async fn end_run<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    id: Uuid,
    status: EvalRunStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Uuid> {
    let stmt = Stmt::new(
        "UPDATE eval_runs SET status = $3, error = $4, finished_at = $5, lease_until = NULL \
         WHERE tenant_id = $1 AND id = $2 AND status = 'running' RETURNING set_id",
        "end an eval run",
    )
    .id(tenant_id)
    .id(id)
    .text(status.as_str())
    .opt_text(error)
    .time(now);
    if let Some((set_id,)) = c.fetch_optional::<(Id,)>(stmt).await? {
        return Ok(set_id.into());
    }
    match run_status(c, tenant_id, id).await? {
        Some(now) => Err(run_finished(&now)),
        None => Err(StoreError::NotFound),
    }
}

#[async_trait]
impl<B: Backend> EvalRunStore for B {
    async fn create_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewEvalRunRow,
    ) -> StoreResult<EvalRun> {
        let id = Uuid::now_v7();
        let mut tx = self.writing(tenant_id).await?;
        tx.lock(format!("eval_runs:{tenant_id}")).await?;
        let running = Stmt::new(
            "SELECT count(*) FROM eval_runs WHERE tenant_id = $1 AND status = 'running'",
            "count running eval runs",
        )
        .id(tenant_id);
        let (running,) = tx.fetch_one::<(i64,)>(running).await?;
        check_run_room(running as u32)?;
        let insert = Stmt::new(
            "INSERT INTO eval_runs (tenant_id, id, set_id, set_name, agent_id, agent_name, \
             lanes, status, cases, draft_categories, lease_until, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9, $10, $11, $12)",
            "start an eval run",
        )
        .id(tenant_id)
        .id(id)
        .id(row.set_id)
        .text(row.set_name.clone())
        .id(row.agent_id)
        .text(row.agent_name.clone())
        .json(to_json(&row.lanes))
        .arg(Arg::I32(row.cases as i32))
        .json(to_json(&row.draft_categories))
        .time(row.lease_until)
        .opt_text(actor.email.clone())
        .time(row.now);
        tx.execute(insert).await.map_err(|e| match e {
            // The foreign key: the set is gone.
            StoreError::Other(_) => StoreError::NotFound,
            other => other,
        })?;
        let changes = serde_json::json!({
            "set_id": row.set_id, "agent_id": row.agent_id, "lanes": row.lanes,
        });
        let audit = run_audit("eval_run.start", id, changes);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let run = run_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit an eval run").await?;
        Ok(run)
    }

    async fn eval_runs(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalRun>> {
        let mut tx = self.reading(tenant_id).await?;
        let condition =
            format!("set_id = $2 ORDER BY created_at DESC, id DESC LIMIT {RECENT_RUNS}");
        let runs = runs_where(&mut tx, tenant_id, &condition, vec![Arg::Id(set_id)]).await?;
        tx.commit("read eval runs").await?;
        Ok(runs)
    }

    async fn eval_run(
        &self,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<EvalRun>> {
        let mut tx = self.reading(tenant_id).await?;
        let args = vec![Arg::Id(set_id), Arg::Id(id)];
        let found = runs_where(&mut tx, tenant_id, "set_id = $2 AND id = $3", args).await?;
        tx.commit("read an eval run").await?;
        Ok(found.into_iter().next())
    }

    async fn eval_results(&self, tenant_id: Uuid, run_id: Uuid) -> StoreResult<Vec<EvalResult>> {
        let mut tx = self.reading(tenant_id).await?;
        let stmt = Stmt::new(
            "SELECT case_id, lane, version, case_snapshot, reply, drafted, category, reason, \
             checks, passed, error, prompt_tokens, completion_tokens, latency_ms, finished_at \
             FROM eval_results WHERE tenant_id = $1 AND run_id = $2 ORDER BY position, lane",
            "read eval results",
        )
        .id(tenant_id)
        .id(run_id);
        let rows = tx.fetch_all::<EvalResultRecord>(stmt).await?;
        tx.commit("read eval results").await?;
        rows.into_iter()
            .map(EvalResultRecord::into_result)
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
        let mut tx = self.writing(tenant_id).await?;
        // The run's row, locked: a cancel waits for this result, or this
        // result finds the run cancelled.
        let renew = Stmt::new(
            "UPDATE eval_runs SET lease_until = CASE WHEN status = 'running' THEN $3 \
             ELSE lease_until END WHERE tenant_id = $1 AND id = $2 RETURNING status",
            "renew an eval run",
        )
        .id(tenant_id)
        .id(run_id)
        .time(lease_until);
        match tx.fetch_optional::<(String,)>(renew).await? {
            None => return Err(StoreError::NotFound),
            Some((s,)) if s != EvalRunStatus::Running.as_str() => return Err(run_finished(&s)),
            Some(_) => {}
        }
        let insert = Stmt::new(
            "INSERT INTO eval_results (tenant_id, run_id, case_id, lane, version, position, \
             case_snapshot, reply, drafted, category, reason, checks, passed, error, \
             prompt_tokens, completion_tokens, latency_ms, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18)",
            "store an eval result",
        )
        .id(tenant_id)
        .id(run_id)
        .id(row.case_id)
        .arg(Arg::I16(i16::from(row.lane)))
        .arg(Arg::I32(row.version as i32))
        .arg(Arg::I32(row.case.position as i32))
        .json(to_json(&row.case))
        .text(row.reply.clone())
        .arg(Arg::Bool(row.drafted))
        .opt_text(row.category.clone())
        .opt_text(row.reason.clone())
        .json(to_json(&row.checks))
        .arg(Arg::Bool(row.passed))
        .opt_text(row.error.clone())
        .arg(Arg::I32(row.prompt_tokens as i32))
        .arg(Arg::I32(row.completion_tokens as i32))
        .arg(Arg::Int(row.latency_ms as i64))
        .time(now);
        tx.execute(insert).await?;
        let run = run_in(&mut tx, tenant_id, run_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let event = progress_event(run_id, run.set_id, run.progress);
        log_event(&mut tx, tenant_id, PROGRESS_EVENT, event, now).await?;
        tx.commit("commit an eval result").await?;
        Ok(run.progress)
    }

    async fn renew_eval_run(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.writing(tenant_id).await?;
        let renew = Stmt::new(
            "UPDATE eval_runs SET lease_until = $3 WHERE tenant_id = $1 AND id = $2 \
             AND status = 'running'",
            "renew an eval run",
        )
        .id(tenant_id)
        .id(run_id)
        .time(lease_until);
        let renewed = tx.execute(renew).await?;
        tx.commit("commit an eval run's lease").await?;
        Ok(renewed > 0)
    }

    async fn finish_eval_run(
        &self,
        tenant_id: Uuid,
        run_id: Uuid,
        status: EvalRunStatus,
        error: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.writing(tenant_id).await?;
        let set_id = end_run(&mut tx, tenant_id, run_id, status, error.as_deref(), now).await?;
        let event = finished_event(run_id, set_id, status, error.as_deref());
        log_event(&mut tx, tenant_id, FINISHED_EVENT, event, now).await?;
        tx.commit("commit an eval run's end").await
    }

    async fn cancel_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalRun> {
        let mut tx = self.writing(tenant_id).await?;
        let of_set = Stmt::new(
            "SELECT set_id FROM eval_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            "read an eval run",
        )
        .id(tenant_id)
        .id(id);
        if tx.fetch_optional::<(Id,)>(of_set).await? != Some((Id(set_id),)) {
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
        tx.commit("commit an eval run's cancellation").await?;
        Ok(run)
    }

    async fn delete_eval_run(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.writing(tenant_id).await?;
        let status = Stmt::new(
            "SELECT status FROM eval_runs WHERE tenant_id = $1 AND set_id = $2 AND id = $3 \
             FOR UPDATE",
            "read an eval run",
        )
        .id(tenant_id)
        .id(set_id)
        .id(id);
        match tx.fetch_optional::<(String,)>(status).await? {
            None => return Err(StoreError::NotFound),
            Some((s,)) if s == "running" => return Err(refuse_while_running("the run")),
            Some(_) => {}
        }
        let delete = Stmt::new(
            "DELETE FROM eval_runs WHERE tenant_id = $1 AND id = $2",
            "delete an eval run",
        )
        .id(tenant_id)
        .id(id);
        tx.execute(delete).await?;
        let audit = run_audit(
            "eval_run.delete",
            id,
            serde_json::json!({ "set_id": set_id }),
        );
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        tx.commit("commit an eval run's deletion").await
    }
}
