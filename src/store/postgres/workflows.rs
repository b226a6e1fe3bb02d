//! Lead workflows: queue, claim, transitions with their lead effects, and
//! recovery of runs whose worker died.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::leads::{lead_in, log_event, timeline_entry};
use super::{db_error, write_audit, PgStore, Tx};
use crate::domain::{Qualification, StepKind, StepOutcome, Workflow, WorkflowStatus, WorkflowStep};
use crate::store::{
    Actor, AuditEntry, ClaimedWorkflow, NewWorkflowRow, StoreError, StoreResult, WorkflowStore,
    WorkflowTransition, MAX_ATTEMPTS,
};

const COLUMNS: &str = "tenant_id, id, lead_id, workspace_id, agent_id, status, qual_category, \
     qual_reason, draft, reply, error, attempts, decided_by, decision_note, sources, draft_policy, \
     created_at, updated_at";

use crate::store::bad_value as bad;

fn workflow_from_row(row: &PgRow, steps: Vec<WorkflowStep>) -> StoreResult<Workflow> {
    let err = |e| db_error(e, "read a workflow");
    let status: String = row.try_get("status").map_err(err)?;
    let category: Option<String> = row.try_get("qual_category").map_err(err)?;
    Ok(Workflow {
        id: row.try_get("id").map_err(err)?,
        tenant_id: row.try_get("tenant_id").map_err(err)?,
        lead_id: row.try_get("lead_id").map_err(err)?,
        workspace_id: row.try_get("workspace_id").map_err(err)?,
        agent_id: row.try_get("agent_id").map_err(err)?,
        status: WorkflowStatus::parse(&status).ok_or_else(|| bad("workflow status", &status))?,
        qualification: match category {
            Some(category) => Some(Qualification {
                category,
                reason: row
                    .try_get::<Option<String>, _>("qual_reason")
                    .map_err(err)?
                    .unwrap_or_default(),
            }),
            None => None,
        },
        draft: row.try_get("draft").map_err(err)?,
        reply: row.try_get("reply").map_err(err)?,
        error: row.try_get("error").map_err(err)?,
        attempts: row.try_get::<i32, _>("attempts").map_err(err)? as u32,
        decided_by: row.try_get("decided_by").map_err(err)?,
        decision_note: row.try_get("decision_note").map_err(err)?,
        steps,
        sources: json_column(row, "sources")?,
        draft_policy: json_column(row, "draft_policy")?,
        created_at: row.try_get("created_at").map_err(err)?,
        updated_at: row.try_get("updated_at").map_err(err)?,
    })
}

async fn steps_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Vec<WorkflowStep>> {
    let rows = sqlx::query(
        "SELECT kind, outcome, output, error, model, prompt_version, prompt_tokens, \
         completion_tokens, duration_ms, created_at FROM workflow_steps \
         WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY seq",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read workflow steps"))?;
    rows.iter()
        .map(|row| {
            let err = |e| db_error(e, "read a workflow step");
            let kind: String = row.try_get("kind").map_err(err)?;
            let outcome: String = row.try_get("outcome").map_err(err)?;
            Ok(WorkflowStep {
                kind: StepKind::parse(&kind).ok_or_else(|| bad("step", &kind))?,
                outcome: StepOutcome::parse(&outcome).ok_or_else(|| bad("outcome", &outcome))?,
                output: row.try_get("output").map_err(err)?,
                error: row.try_get("error").map_err(err)?,
                model: row.try_get("model").map_err(err)?,
                prompt_version: row.try_get::<i32, _>("prompt_version").map_err(err)? as u32,
                prompt_tokens: row.try_get::<i32, _>("prompt_tokens").map_err(err)? as u32,
                completion_tokens: row.try_get::<i32, _>("completion_tokens").map_err(err)? as u32,
                duration_ms: row.try_get::<i64, _>("duration_ms").map_err(err)? as u64,
                created_at: row.try_get("created_at").map_err(err)?,
            })
        })
        .collect()
}

async fn workflow_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workflow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM workflows WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read a workflow"))?;
    match row {
        None => Ok(None),
        Some(row) => {
            let steps = steps_in(tx, tenant_id, id).await?;
            workflow_from_row(&row, steps).map(Some)
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
    sqlx::query(
        "INSERT INTO workflows (tenant_id, id, lead_id, workspace_id, agent_id, status, \
         created_at, updated_at) \
         SELECT w.tenant_id, $1, $2, w.id, w.agent_id, 'queued', $3, $3 FROM workspaces w \
         WHERE w.tenant_id = $4 AND w.id = $5 AND w.strategy_active AND w.agent_id IS NOT NULL",
    )
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

/// A jsonb column read into its type; NULL is `None`.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    column: &str,
) -> StoreResult<Option<T>> {
    let value: Option<serde_json::Value> = row
        .try_get(column)
        .map_err(|e| db_error(e, "read a workflow"))?;
    value
        .map(|v| {
            serde_json::from_value(v).map_err(|e| crate::store::bad_value(column, &e.to_string()))
        })
        .transpose()
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
        sqlx::query(
            "INSERT INTO workflows (tenant_id, id, lead_id, workspace_id, agent_id, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6)",
        )
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
        let entry = AuditEntry {
            action: "workflow.create",
            resource: "workflow",
            resource_id: id.to_string(),
            changes: json!({ "lead_id": row.lead_id, "agent_id": row.agent_id }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let data = json!({ "workflow_id": id, "agent_id": row.agent_id });
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
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM workflows WHERE tenant_id = $1 \
             AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR lead_id = $3) \
             ORDER BY created_at DESC, id DESC LIMIT $4"
        ))
        .bind(tenant_id)
        .bind(status.map(|s| s.as_str()))
        .bind(lead_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list workflows"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: Uuid = row.try_get("id").map_err(|e| db_error(e, "id"))?;
            let steps = steps_in(&mut tx, tenant_id, id).await?;
            out.push(workflow_from_row(&row, steps)?);
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
        sqlx::query(
            "UPDATE workflows SET status = $1, qual_category = coalesce($2, qual_category), \
             qual_reason = coalesce($3, qual_reason), draft = coalesce($4, draft), \
             reply = coalesce($5, reply), error = CASE WHEN $6 THEN $7 ELSE error END, \
             decided_by = coalesce($8, decided_by), decision_note = coalesce($9, decision_note), \
             lease_until = CASE WHEN $1 = 'running' THEN lease_until ELSE NULL END, \
             attempts = CASE WHEN $1 = 'queued' THEN 0 ELSE attempts END, \
             sources = coalesce($13, sources), draft_policy = coalesce($14, draft_policy), \
             updated_at = $10 WHERE tenant_id = $11 AND id = $12",
        )
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
            sqlx::query(
                "INSERT INTO workflow_steps (tenant_id, workflow_id, seq, kind, outcome, output, \
                 error, model, prompt_version, prompt_tokens, completion_tokens, duration_ms, \
                 created_at) SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11, $12 FROM workflow_steps WHERE tenant_id = $1 AND workflow_id = $2",
            )
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
            sqlx::query(
                "UPDATE leads SET qual_category = $1, qual_reason = $2, updated_at = $3 \
                 WHERE tenant_id = $4 AND id = $5",
            )
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
            sqlx::query(
                "UPDATE leads SET first_response_at = coalesce(first_response_at, $1), \
                 responded = true, updated_at = $1 WHERE tenant_id = $2 AND id = $3",
            )
            .bind(now)
            .bind(tenant_id)
            .bind(current.lead_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "record a first response"))?;
            timeline.push((
                "reply",
                json!({ "body": body, "first_response": first_response, "workflow_id": id }),
            ));
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
            log_event(
                &mut tx,
                tenant_id,
                "lead.updated",
                json!({ "lead": lead }),
                now,
            )
            .await?;
        }
        for (kind, data) in &t.events {
            log_event(&mut tx, tenant_id, kind, data.clone(), now).await?;
        }
        if let Some(mail) = &t.outbox {
            sqlx::query(
                "INSERT INTO outbox (tenant_id, id, kind, recipient, subject, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
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
        let row = sqlx::query("SELECT tenant_id, id FROM sb_claim_workflow($1, $2)")
            .bind(super::ms(now))
            .bind(super::ms(lease_until))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "claim a workflow"))?;
        row.map(|r| {
            let err = |e| db_error(e, "read a claimed workflow");
            Ok(ClaimedWorkflow {
                tenant_id: r.try_get("tenant_id").map_err(err)?,
                id: r.try_get("id").map_err(err)?,
            })
        })
        .transpose()
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
