//! Lead workflows: queue, claim, transitions with their lead effects, and
//! recovery of runs whose worker died.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::leads::{lead_in, log_event, timeline_entry};
use super::{db_error, write_audit, SqliteStore};
use crate::domain::{Workflow, WorkflowStatus, WorkflowStep};
use crate::store::leads::{lead_updated, LEAD_REPLIED_SQL};
use crate::store::row::Id;
use crate::store::sql::Dialect;
use crate::store::workflows::{
    list_workflows_sql, reply_timeline, workflow_sql, ClaimedRecord, WorkflowRecord,
    WorkflowStepRecord, INSERT_OUTBOX_SQL, INSERT_STEP_SQL, INSERT_WORKFLOW_SQL, QUALIFY_LEAD_SQL,
    QUEUE_WORKSPACE_WORKFLOW_SQL, STEPS_SQL, TRANSITION_SQL,
};
use crate::store::{
    running_cap_sql, Actor, ClaimedWorkflow, NewWorkflowRow, StoreError, StoreResult,
    WorkflowStore, WorkflowTransition, MAX_ATTEMPTS,
};

type Tx = Transaction<'static, Sqlite>;

const SQL: Dialect = Dialect::Sqlite;

async fn steps_in(
    conn: &mut sqlx::SqliteConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Vec<WorkflowStep>> {
    let rows = sqlx::query_as::<_, WorkflowStepRecord>(&SQL.write(STEPS_SQL))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error(e, "read workflow steps"))?;
    Ok(rows.into_iter().map(WorkflowStep::from).collect())
}

async fn workflow_in(
    conn: &mut sqlx::SqliteConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<Workflow>> {
    let row = sqlx::query_as::<_, WorkflowRecord>(&SQL.write(&workflow_sql()))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error(e, "read a workflow"))?;
    match row {
        None => Ok(None),
        Some(row) => {
            let steps = steps_in(conn, tenant_id, id).await?;
            Ok(Some(row.into_workflow(steps)))
        }
    }
}

/// Queues the workflow a lead arriving through an active workspace gets,
/// inside the lead's insert transaction (so it cannot be lost between the
/// two). Nothing when the workspace has no agent or its strategy is off.
pub(super) async fn queue_workspace_workflow(
    tx: &mut Tx,
    tenant_id: Uuid,
    lead_id: Uuid,
    workspace_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(&SQL.write(QUEUE_WORKSPACE_WORKFLOW_SQL))
        .bind(Uuid::now_v7().to_string())
        .bind(lead_id.to_string())
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(workspace_id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "queue a workflow"))?;
    Ok(())
}

fn json_text<T: serde::Serialize>(value: &Option<T>) -> StoreResult<Option<String>> {
    value
        .as_ref()
        .map(|v| serde_json::to_string(v).map_err(|e| StoreError::Other(e.into())))
        .transpose()
}

#[async_trait]
impl WorkflowStore for SqliteStore {
    async fn create_workflow(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewWorkflowRow,
        now: DateTime<Utc>,
    ) -> StoreResult<Workflow> {
        let id = Uuid::now_v7();
        let (_writer, mut tx) = self.write().await?;
        lead_in(&mut tx, tenant_id, row.lead_id, now)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(&SQL.write(INSERT_WORKFLOW_SQL))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .bind(row.lead_id.to_string())
            .bind(row.workspace_id.map(|w| w.to_string()))
            .bind(row.agent_id.to_string())
            .bind(now.timestamp_millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| match db_error(e, "queue a workflow") {
                StoreError::Conflict { .. } => StoreError::Conflict { field: "workflow" },
                other => other,
            })?;
        write_audit(&mut tx, tenant_id, actor, &row.audit(id)).await?;
        let data = row.timeline(id);
        timeline_entry(
            &mut tx,
            tenant_id,
            row.lead_id,
            "workflow_queued",
            actor,
            data,
            now,
        )
        .await?;
        let created = workflow_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a workflow"))?;
        Ok(created)
    }

    async fn workflow(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workflow>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "read a workflow"))?;
        workflow_in(&mut conn, tenant_id, id).await
    }

    async fn list_workflows(
        &self,
        tenant_id: Uuid,
        status: Option<WorkflowStatus>,
        lead_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Workflow>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "list workflows"))?;
        let rows = sqlx::query_as::<_, WorkflowRecord>(&SQL.write(&list_workflows_sql()))
            .bind(tenant_id.to_string())
            .bind(status.map(|s| s.as_str()))
            .bind(lead_id.map(|l| l.to_string()))
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| db_error(e, "list workflows"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let steps = steps_in(&mut conn, tenant_id, row.id()).await?;
            out.push(row.into_workflow(steps));
        }
        Ok(out)
    }

    async fn transition_workflow(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        t: WorkflowTransition,
    ) -> StoreResult<Workflow> {
        let now = t.now;
        let (_writer, mut tx) = self.write().await?;
        let current = workflow_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !t.from.contains(&current.status) {
            return Err(StoreError::StateChanged {
                now: current.status.as_str().to_string(),
            });
        }
        let qual = t.qualification.as_ref();
        let (set_error, error) = match &t.error {
            Some(e) => (true, e.clone()),
            None => (false, None),
        };
        sqlx::query(&SQL.write(TRANSITION_SQL))
            .bind(t.to.as_str())
            .bind(qual.map(|q| q.category.clone()))
            .bind(qual.map(|q| q.reason.clone()))
            .bind(t.draft.as_deref())
            .bind(t.reply.as_deref())
            .bind(set_error)
            .bind(error)
            .bind(t.decided_by.as_deref())
            .bind(t.decision_note.as_deref())
            .bind(now.timestamp_millis())
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .bind(json_text(&t.sources)?)
            .bind(json_text(&t.draft_policy)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "update a workflow"))?;
        if let Some(step) = &t.step {
            sqlx::query(&SQL.write(INSERT_STEP_SQL))
                .bind(tenant_id.to_string())
                .bind(id.to_string())
                .bind(step.kind.as_str())
                .bind(step.outcome.as_str())
                .bind(&step.output)
                .bind(step.error.as_deref())
                .bind(&step.model)
                .bind(i64::from(step.prompt_version))
                .bind(i64::from(step.prompt_tokens))
                .bind(i64::from(step.completion_tokens))
                .bind(step.duration_ms as i64)
                .bind(now.timestamp_millis())
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "record a workflow step"))?;
        }
        let lead_id = current.lead_id.to_string();
        if let Some(q) = &t.lead_qualification {
            sqlx::query(&SQL.write(QUALIFY_LEAD_SQL))
                .bind(&q.category)
                .bind(&q.reason)
                .bind(now.timestamp_millis())
                .bind(tenant_id.to_string())
                .bind(&lead_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "qualify a lead"))?;
        }
        let mut timeline = t.timeline.clone();
        if let Some(body) = &t.lead_reply {
            let before = lead_in(&mut tx, tenant_id, current.lead_id, now)
                .await?
                .ok_or(StoreError::NotFound)?;
            let first_response = before.first_response_at.is_none();
            sqlx::query(&SQL.write(LEAD_REPLIED_SQL))
                .bind(now.timestamp_millis())
                .bind(tenant_id.to_string())
                .bind(&lead_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "record a first response"))?;
            timeline.push(("reply", reply_timeline(body, first_response, id)));
        }
        for (kind, data) in timeline {
            timeline_entry(
                &mut tx,
                tenant_id,
                current.lead_id,
                kind,
                &t.actor,
                data,
                now,
            )
            .await?;
        }
        if let Some(entry) = &t.audit {
            write_audit(&mut tx, tenant_id, &t.actor, entry).await?;
        }
        if t.touches_lead() {
            let lead = lead_in(&mut tx, tenant_id, current.lead_id, now).await?;
            log_event(&mut tx, tenant_id, "lead.updated", lead_updated(&lead), now).await?;
        }
        for (kind, data) in &t.events {
            log_event(&mut tx, tenant_id, kind, data.clone(), now).await?;
        }
        if let Some(mail) = &t.outbox {
            sqlx::query(&SQL.write(INSERT_OUTBOX_SQL))
                .bind(tenant_id.to_string())
                .bind(Uuid::now_v7().to_string())
                .bind(mail.kind)
                .bind(mail.recipient.as_deref())
                .bind(&mail.subject)
                .bind(&mail.body)
                .bind(now.timestamp_millis())
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "queue an email"))?;
        }
        let after = workflow_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a workflow change"))?;
        Ok(after)
    }

    async fn claim_workflow(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<ClaimedWorkflow>> {
        let (_writer, mut tx) = self.write().await?;
        let running = "(SELECT count(*) FROM workflows r \
                        WHERE r.tenant_id = w.tenant_id AND r.status = 'running')";
        let next = sqlx::query_as::<_, ClaimedRecord>(&format!(
            "SELECT w.tenant_id, w.id FROM workflows w JOIN tenants t ON t.id = w.tenant_id \
             WHERE w.status = 'queued' AND t.status = 'active' AND {running} < {cap} \
             ORDER BY {running}, w.created_at LIMIT 1",
            cap = running_cap_sql()
        ))
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "find a queued workflow"))?;
        let Some(next) = next else {
            return Ok(None);
        };
        let ClaimedWorkflow { tenant_id, id } = next.into();
        sqlx::query(
            "UPDATE workflows SET status = 'running', attempts = attempts + 1, lease_until = ?, \
             updated_at = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(lease_until.timestamp_millis())
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "claim a workflow"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a claim"))?;
        Ok(Some(ClaimedWorkflow { tenant_id, id }))
    }

    async fn recover_workflows(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        let (_writer, mut tx) = self.write().await?;
        let rows: Vec<Id> = sqlx::query_scalar(
            "UPDATE workflows \
             SET status = CASE WHEN attempts >= ?1 THEN 'failed' ELSE 'queued' END, \
                 error = CASE WHEN attempts >= ?1 THEN 'interrupted ' || attempts || \
                     ' times (the server stopped mid-run); retry it' ELSE error END, \
                 lease_until = NULL, updated_at = ?2 \
             WHERE status = 'running' AND lease_until < ?2 RETURNING tenant_id",
        )
        .bind(i64::from(MAX_ATTEMPTS))
        .bind(now.timestamp_millis())
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "recover workflows"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit recovered workflows"))?;
        let mut tenants: Vec<Uuid> = rows.into_iter().map(Uuid::from).collect();
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }
}
