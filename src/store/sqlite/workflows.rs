//! Lead workflows: queue, claim, transitions with their lead effects, and
//! recovery of runs whose worker died.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::leads::{lead_in, log_event, timeline_entry};
use super::{db_error, parse_uuid, to_dt, write_audit, SqliteStore};
use crate::domain::{Qualification, StepKind, StepOutcome, Workflow, WorkflowStatus, WorkflowStep};
use crate::store::{
    running_cap_sql, Actor, AuditEntry, ClaimedWorkflow, NewWorkflowRow, StoreError, StoreResult,
    WorkflowStore, WorkflowTransition, MAX_ATTEMPTS,
};

type Tx = Transaction<'static, Sqlite>;

const COLUMNS: &str = "tenant_id, id, lead_id, workspace_id, agent_id, status, qual_category, \
     qual_reason, draft, reply, error, attempts, decided_by, decision_note, sources, \
     draft_policy, created_at, updated_at";

use crate::store::bad_value as bad;

fn workflow_from_row(row: &SqliteRow, steps: Vec<WorkflowStep>) -> StoreResult<Workflow> {
    let err = |e| db_error(e, "read a workflow");
    let status: String = row.try_get("status").map_err(err)?;
    let category: Option<String> = row.try_get("qual_category").map_err(err)?;
    let workspace: Option<String> = row.try_get("workspace_id").map_err(err)?;
    Ok(Workflow {
        id: parse_uuid(&row.try_get::<String, _>("id").map_err(err)?)?,
        tenant_id: parse_uuid(&row.try_get::<String, _>("tenant_id").map_err(err)?)?,
        lead_id: parse_uuid(&row.try_get::<String, _>("lead_id").map_err(err)?)?,
        workspace_id: workspace.as_deref().map(parse_uuid).transpose()?,
        agent_id: parse_uuid(&row.try_get::<String, _>("agent_id").map_err(err)?)?,
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
        attempts: row.try_get::<i64, _>("attempts").map_err(err)? as u32,
        decided_by: row.try_get("decided_by").map_err(err)?,
        decision_note: row.try_get("decision_note").map_err(err)?,
        steps,
        sources: json_column(row, "sources")?,
        draft_policy: json_column(row, "draft_policy")?,
        created_at: to_dt(row.try_get("created_at").map_err(err)?),
        updated_at: to_dt(row.try_get("updated_at").map_err(err)?),
    })
}

/// A JSON column read into its type; NULL is `None`.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
    column: &str,
) -> StoreResult<Option<T>> {
    let text: Option<String> = row
        .try_get(column)
        .map_err(|e| db_error(e, "read a workflow"))?;
    text.map(|t| serde_json::from_str(&t).map_err(|_| bad(column, &t)))
        .transpose()
}

async fn steps_in(
    conn: &mut sqlx::SqliteConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Vec<WorkflowStep>> {
    let rows = sqlx::query(
        "SELECT kind, outcome, output, error, model, prompt_version, prompt_tokens, \
         completion_tokens, duration_ms, created_at FROM workflow_steps \
         WHERE tenant_id = ? AND workflow_id = ? ORDER BY seq",
    )
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .fetch_all(&mut *conn)
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
                prompt_version: row.try_get::<i64, _>("prompt_version").map_err(err)? as u32,
                prompt_tokens: row.try_get::<i64, _>("prompt_tokens").map_err(err)? as u32,
                completion_tokens: row.try_get::<i64, _>("completion_tokens").map_err(err)? as u32,
                duration_ms: row.try_get::<i64, _>("duration_ms").map_err(err)? as u64,
                created_at: to_dt(row.try_get("created_at").map_err(err)?),
            })
        })
        .collect()
}

async fn workflow_in(
    conn: &mut sqlx::SqliteConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<Workflow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM workflows WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| db_error(e, "read a workflow"))?;
    match row {
        None => Ok(None),
        Some(row) => {
            let steps = steps_in(conn, tenant_id, id).await?;
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
         SELECT w.tenant_id, ?, ?, w.id, w.agent_id, 'queued', ?, ? FROM workspaces w \
         WHERE w.tenant_id = ? AND w.id = ? AND w.strategy_active = 1 AND w.agent_id IS NOT NULL",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(lead_id.to_string())
    .bind(now.timestamp_millis())
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
        sqlx::query(
            "INSERT INTO workflows (tenant_id, id, lead_id, workspace_id, agent_id, status, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(row.lead_id.to_string())
        .bind(row.workspace_id.map(|w| w.to_string()))
        .bind(row.agent_id.to_string())
        .bind(now.timestamp_millis())
        .bind(now.timestamp_millis())
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
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM workflows WHERE tenant_id = ? \
             AND (? IS NULL OR status = ?) AND (? IS NULL OR lead_id = ?) \
             ORDER BY created_at DESC, id DESC LIMIT ?"
        ))
        .bind(tenant_id.to_string())
        .bind(status.map(|s| s.as_str()))
        .bind(status.map(|s| s.as_str()))
        .bind(lead_id.map(|l| l.to_string()))
        .bind(lead_id.map(|l| l.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error(e, "list workflows"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id = parse_uuid(
                &row.try_get::<String, _>("id")
                    .map_err(|e| db_error(e, "id"))?,
            )?;
            let steps = steps_in(&mut conn, tenant_id, id).await?;
            out.push(workflow_from_row(&row, steps)?);
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
        sqlx::query(
            "UPDATE workflows SET status = ?, qual_category = coalesce(?, qual_category), \
             qual_reason = coalesce(?, qual_reason), draft = coalesce(?, draft), \
             reply = coalesce(?, reply), error = CASE WHEN ? THEN ? ELSE error END, \
             decided_by = coalesce(?, decided_by), decision_note = coalesce(?, decision_note), \
             sources = coalesce(?, sources), draft_policy = coalesce(?, draft_policy), \
             lease_until = CASE WHEN ? = 'running' THEN lease_until ELSE NULL END, \
             attempts = CASE WHEN ? = 'queued' THEN 0 ELSE attempts END, \
             updated_at = ? WHERE tenant_id = ? AND id = ?",
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
        .bind(json_text(&t.sources)?)
        .bind(json_text(&t.draft_policy)?)
        .bind(t.to.as_str())
        .bind(t.to.as_str())
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "update a workflow"))?;
        if let Some(step) = &t.step {
            sqlx::query(
                "INSERT INTO workflow_steps (tenant_id, workflow_id, seq, kind, outcome, output, \
                 error, model, prompt_version, prompt_tokens, completion_tokens, duration_ms, \
                 created_at) SELECT ?, ?, coalesce(max(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
                 FROM workflow_steps WHERE tenant_id = ? AND workflow_id = ?",
            )
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
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "record a workflow step"))?;
        }
        let lead_id = current.lead_id.to_string();
        if let Some(q) = &t.lead_qualification {
            sqlx::query(
                "UPDATE leads SET qual_category = ?, qual_reason = ?, updated_at = ? \
                 WHERE tenant_id = ? AND id = ?",
            )
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
            sqlx::query(
                "UPDATE leads SET first_response_at = coalesce(first_response_at, ?), \
                 responded = 1, updated_at = ? WHERE tenant_id = ? AND id = ?",
            )
            .bind(now.timestamp_millis())
            .bind(now.timestamp_millis())
            .bind(tenant_id.to_string())
            .bind(&lead_id)
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
            let lead = lead_in(&mut tx, tenant_id, current.lead_id, now).await?;
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
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
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
        let next = sqlx::query(&format!(
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
        let err = |e| db_error(e, "read a queued workflow");
        let tenant_id = parse_uuid(&next.try_get::<String, _>("tenant_id").map_err(err)?)?;
        let id = parse_uuid(&next.try_get::<String, _>("id").map_err(err)?)?;
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
        let rows: Vec<String> = sqlx::query_scalar(
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
        let mut tenants: Vec<Uuid> = rows
            .iter()
            .map(|t| parse_uuid(t))
            .collect::<Result<_, _>>()?;
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }
}
