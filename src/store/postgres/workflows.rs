//! Lead workflows: queue, claim, transitions with their lead effects, and
//! recovery of runs whose worker died.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::leads::{lead_in, log_event, timeline_entry};
use super::{db_error, write_audit, PgStore, Tx};
use crate::domain::{Workflow, WorkflowStatus, WorkflowStep};
use crate::store::leads::{lead_updated, LEAD_REPLIED_SQL};
use crate::store::workflows::{
    list_workflows_sql, reply_timeline, workflow_sql, ClaimedRecord, WorkflowRecord,
    WorkflowStepRecord, INSERT_OUTBOX_SQL, INSERT_STEP_SQL, INSERT_WORKFLOW_SQL, QUALIFY_LEAD_SQL,
    QUEUE_WORKSPACE_WORKFLOW_SQL, STEPS_SQL, TRANSITION_SQL,
};
use crate::store::{
    Actor, ClaimedWorkflow, NewWorkflowRow, StoreError, StoreResult, WorkflowStore,
    WorkflowTransition, MAX_ATTEMPTS,
};

async fn steps_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Vec<WorkflowStep>> {
    let rows = sqlx::query_as::<_, WorkflowStepRecord>(STEPS_SQL)
        .bind(tenant_id)
        .bind(id)
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read workflow steps"))?;
    Ok(rows.into_iter().map(WorkflowStep::from).collect())
}

async fn workflow_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workflow>> {
    let row = sqlx::query_as::<_, WorkflowRecord>(&workflow_sql())
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read a workflow"))?;
    match row {
        None => Ok(None),
        Some(row) => {
            let steps = steps_in(tx, tenant_id, id).await?;
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
    sqlx::query(QUEUE_WORKSPACE_WORKFLOW_SQL)
        .bind(Uuid::now_v7())
        .bind(lead_id)
        .bind(now)
        .bind(tenant_id)
        .bind(workspace_id)
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "queue a workflow"))?;
    Ok(())
}

fn json_value<T: serde::Serialize>(value: &Option<T>) -> StoreResult<Option<serde_json::Value>> {
    value
        .as_ref()
        .map(|v| serde_json::to_value(v).map_err(|e| StoreError::Other(e.into())))
        .transpose()
}

#[async_trait]
impl WorkflowStore for PgStore {
    async fn create_workflow(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewWorkflowRow,
        now: DateTime<Utc>,
    ) -> StoreResult<Workflow> {
        let id = Uuid::now_v7();
        let now = super::ms(now);
        let mut tx = self.tenant_tx(tenant_id).await?;
        lead_in(&mut tx, tenant_id, row.lead_id, now, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(INSERT_WORKFLOW_SQL)
            .bind(tenant_id)
            .bind(id)
            .bind(row.lead_id)
            .bind(row.workspace_id)
            .bind(row.agent_id)
            .bind(now)
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let found = workflow_in(&mut tx, tenant_id, id).await?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(found)
    }

    async fn list_workflows(
        &self,
        tenant_id: Uuid,
        status: Option<WorkflowStatus>,
        lead_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Workflow>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, WorkflowRecord>(&list_workflows_sql())
            .bind(tenant_id)
            .bind(status.map(|s| s.as_str()))
            .bind(lead_id)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "list workflows"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let steps = steps_in(&mut tx, tenant_id, row.id()).await?;
            out.push(row.into_workflow(steps));
        }
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(out)
    }

    async fn transition_workflow(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        t: WorkflowTransition,
    ) -> StoreResult<Workflow> {
        let now = super::ms(t.now);
        let mut tx = self.tenant_tx(tenant_id).await?;
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM workflows WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "lock a workflow"))?;
        let current = workflow_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let status = status.unwrap_or_default();
        if !t.from.iter().any(|s| s.as_str() == status) {
            return Err(StoreError::StateChanged { now: status });
        }
        let qual = t.qualification.as_ref();
        let (set_error, error) = match &t.error {
            Some(e) => (true, e.clone()),
            None => (false, None),
        };
        sqlx::query(TRANSITION_SQL)
            .bind(t.to.as_str())
            .bind(qual.map(|q| q.category.clone()))
            .bind(qual.map(|q| q.reason.clone()))
            .bind(t.draft.as_deref())
            .bind(t.reply.as_deref())
            .bind(set_error)
            .bind(error)
            .bind(t.decided_by.as_deref())
            .bind(t.decision_note.as_deref())
            .bind(now)
            .bind(tenant_id)
            .bind(id)
            .bind(json_value(&t.sources)?)
            .bind(json_value(&t.draft_policy)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "update a workflow"))?;
        if let Some(step) = &t.step {
            sqlx::query(INSERT_STEP_SQL)
                .bind(tenant_id)
                .bind(id)
                .bind(step.kind.as_str())
                .bind(step.outcome.as_str())
                .bind(&step.output)
                .bind(step.error.as_deref())
                .bind(&step.model)
                .bind(step.prompt_version as i32)
                .bind(step.prompt_tokens as i32)
                .bind(step.completion_tokens as i32)
                .bind(step.duration_ms as i64)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "record a workflow step"))?;
        }
        if let Some(q) = &t.lead_qualification {
            sqlx::query(QUALIFY_LEAD_SQL)
                .bind(&q.category)
                .bind(&q.reason)
                .bind(now)
                .bind(tenant_id)
                .bind(current.lead_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "qualify a lead"))?;
        }
        let mut timeline = t.timeline.clone();
        if let Some(body) = &t.lead_reply {
            let before = lead_in(&mut tx, tenant_id, current.lead_id, now, true)
                .await?
                .ok_or(StoreError::NotFound)?;
            let first_response = before.first_response_at.is_none();
            sqlx::query(LEAD_REPLIED_SQL)
                .bind(now)
                .bind(tenant_id)
                .bind(current.lead_id)
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
            let lead = lead_in(&mut tx, tenant_id, current.lead_id, now, false).await?;
            log_event(&mut tx, tenant_id, "lead.updated", lead_updated(&lead), now).await?;
        }
        for (kind, data) in &t.events {
            log_event(&mut tx, tenant_id, kind, data.clone(), now).await?;
        }
        if let Some(mail) = &t.outbox {
            sqlx::query(INSERT_OUTBOX_SQL)
                .bind(tenant_id)
                .bind(Uuid::now_v7())
                .bind(mail.kind)
                .bind(mail.recipient.as_deref())
                .bind(&mail.subject)
                .bind(&mail.body)
                .bind(now)
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
        let row = sqlx::query_as::<_, ClaimedRecord>(
            "SELECT tenant_id, id FROM sb_claim_workflow($1, $2)",
        )
        .bind(super::ms(now))
        .bind(super::ms(lease_until))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "claim a workflow"))?;
        Ok(row.map(ClaimedWorkflow::from))
    }

    async fn recover_workflows(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        let mut tenants: Vec<Uuid> =
            sqlx::query_scalar("SELECT tenant_id FROM sb_recover_workflows($1, $2)")
                .bind(super::ms(now))
                .bind(MAX_ATTEMPTS as i32)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_error(e, "recover workflows"))?;
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }
}
