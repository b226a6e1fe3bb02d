//! Changes to leads: edits, stage moves, assignment, spam, qualification,
//! notes and deletion — each with its timeline entry, audit entry and event.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::leads::{adjust_usage, lead_in, log_event, timeline_entry};
use super::{db_error, write_audit, SqliteStore};
use crate::domain::lead::month_key;
use crate::domain::TimelineEntry;
use crate::store::leads::{
    lead_delete_audit, lead_update_audit, lead_updated, Note, TimelineRecord, DELETE_LEAD_SQL,
    LEAD_REPLIED_SQL, TIMELINE_SQL, UPDATE_LEAD_SQL,
};
use crate::store::sql::Dialect;
use crate::store::{
    plan_lead_change, Actor, LeadChange, LeadChangeStore, LeadPlan, StoreError, StoreResult,
};

const SQL: Dialect = Dialect::Sqlite;

#[async_trait]
impl LeadChangeStore for SqliteStore {
    async fn update_lead(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: LeadChange,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Lead> {
        let (_writer, mut tx) = self.write().await?;
        let before = lead_in(&mut tx, tenant_id, id, now)
            .await?
            .ok_or(StoreError::NotFound)?;
        let plan = plan_lead_change(&before, &change, now);
        if plan.changed.is_empty() {
            return Ok(before);
        }
        if let Some(delta) = plan.usage_delta {
            adjust_usage(&mut tx, tenant_id, &month_key(before.created_at), delta).await?;
        }
        let LeadPlan {
            after,
            entries,
            audit,
            ..
        } = plan;
        sqlx::query(&SQL.write(UPDATE_LEAD_SQL))
            .bind(&after.name)
            .bind(after.email.as_deref())
            .bind(after.phone.as_deref())
            .bind(after.company.as_deref())
            .bind(&after.message)
            .bind(&after.stage)
            .bind(after.assignee_id.map(|u| u.to_string()))
            .bind(after.spam as i64)
            .bind(after.spam_reason.as_deref())
            .bind(after.qualification.as_ref().map(|q| q.category.clone()))
            .bind(after.qualification.as_ref().map(|q| q.reason.clone()))
            .bind(after.first_response_at.map(|t| t.timestamp_millis()))
            .bind(after.first_response_at.is_some() as i64)
            .bind(now.timestamp_millis())
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "update a lead"))?;
        for (kind, data) in entries {
            timeline_entry(&mut tx, tenant_id, id, kind, actor, data, now).await?;
        }
        let entry = lead_update_audit(id, audit);
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let lead = lead_in(&mut tx, tenant_id, id, now)
            .await?
            .ok_or(StoreError::NotFound)?;
        log_event(&mut tx, tenant_id, "lead.updated", lead_updated(&lead), now).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a lead update"))?;
        Ok(lead)
    }

    async fn delete_lead(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let now = Utc::now();
        let (_writer, mut tx) = self.write().await?;
        let lead = lead_in(&mut tx, tenant_id, id, now)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(&SQL.write(DELETE_LEAD_SQL))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a lead"))?;
        write_audit(&mut tx, tenant_id, actor, &lead_delete_audit(&lead)).await?;
        // The event log keeps that something happened to the lead, not who
        // the lead was: every event about it is reduced to its id.
        sqlx::query(
            "UPDATE events SET data = json_object('lead_id', ?2, 'redacted', json('true')) \
             WHERE tenant_id = ?1 AND (json_extract(data, '$.lead.id') = ?2 \
             OR json_extract(data, '$.lead_id') = ?2)",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "redact a deleted lead's events"))?;
        log_event(
            &mut tx,
            tenant_id,
            "lead.deleted",
            json!({ "lead_id": id }),
            now,
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a lead deletion"))
    }

    async fn add_note(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        lead_id: Uuid,
        body: &str,
        is_reply: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<TimelineEntry> {
        let (_writer, mut tx) = self.write().await?;
        let lead = lead_in(&mut tx, tenant_id, lead_id, now)
            .await?
            .ok_or(StoreError::NotFound)?;
        let first_response = is_reply && lead.first_response_at.is_none();
        if first_response {
            sqlx::query(&SQL.write(LEAD_REPLIED_SQL))
                .bind(now.timestamp_millis())
                .bind(tenant_id.to_string())
                .bind(lead_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "record a first response"))?;
        }
        let note = Note::new(lead_id, body, is_reply, first_response);
        let data = note.data.clone();
        let id = timeline_entry(&mut tx, tenant_id, lead_id, note.kind, actor, data, now).await?;
        write_audit(&mut tx, tenant_id, actor, &note.audit).await?;
        let lead = lead_in(&mut tx, tenant_id, lead_id, now)
            .await?
            .ok_or(StoreError::NotFound)?;
        log_event(&mut tx, tenant_id, "lead.updated", lead_updated(&lead), now).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a note"))?;
        Ok(note.entry(id, lead_id, actor, now))
    }

    async fn timeline(&self, tenant_id: Uuid, lead_id: Uuid) -> StoreResult<Vec<TimelineEntry>> {
        let rows = sqlx::query_as::<_, TimelineRecord>(&SQL.write(TIMELINE_SQL))
            .bind(tenant_id.to_string())
            .bind(lead_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "read a timeline"))?;
        Ok(rows.into_iter().map(TimelineEntry::from).collect())
    }
}
