//! Leads: insert (limit, idempotency, import de-duplication), read and list.

use super::batch::InsertJob;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{QueryBuilder, Sqlite, Transaction};
use uuid::Uuid;

use super::{db_error, write_audit, SqliteStore};
use crate::domain::lead::month_key;
use crate::domain::{Lead, Page, SlaState};
use crate::store::leads::{lead_sql, LeadRecord, INSERT_TIMELINE_SQL, LEAD_COLUMNS};
use crate::store::row::Id;
use crate::store::sql::Dialect;
use crate::store::{
    parse_lead_cursor, Actor, AssigneeFilter, AuditEntry, Idempotency, IngestOutcome, KeyOwner,
    KeyedIngest, LeadFilter, LeadLimit, LeadSort, LeadStore, NewLeadRow, StoreError, StoreResult,
};

const SQL: Dialect = Dialect::Sqlite;

pub(super) async fn lead_in(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<Option<Lead>> {
    let row = sqlx::query_as::<_, LeadRecord>(&SQL.write(&lead_sql()))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read a lead"))?;
    Ok(row.map(|r| r.into_lead(now)))
}

pub(super) async fn timeline_entry(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    lead_id: Uuid,
    kind: &str,
    actor: &Actor,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(&SQL.write(INSERT_TIMELINE_SQL))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(lead_id.to_string())
        .bind(kind)
        .bind(actor.user_id.map(|u| u.to_string()))
        .bind(actor.email.as_deref())
        .bind(data.to_string())
        .bind(now.timestamp_millis())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "write a timeline entry"))?;
    Ok(id)
}

/// Appends to the tenant's event log (read by live streams, resumable).
pub(super) async fn log_event(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    kind: &str,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let done =
        sqlx::query("INSERT INTO events (tenant_id, kind, data, created_at) VALUES (?, ?, ?, ?)")
            .bind(tenant_id.to_string())
            .bind(kind)
            .bind(data.to_string())
            .bind(now.timestamp_millis())
            .execute(&mut **tx)
            .await
            .map_err(|e| db_error(e, "write an event"))?;
    Ok(done.last_insert_rowid())
}

/// Adds `delta` to a month's lead counter (no limit: corrections only).
pub(super) async fn adjust_usage(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    month: &str,
    delta: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO lead_usage (tenant_id, month, count) VALUES (?1, ?2, max(?3, 0)) \
         ON CONFLICT (tenant_id, month) DO UPDATE SET count = max(count + ?3, 0)",
    )
    .bind(tenant_id.to_string())
    .bind(month)
    .bind(delta)
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "count a lead"))?;
    Ok(())
}

/// Takes one unit of the month's allowance, or fails when none is left.
async fn take_allowance(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    limit: LeadLimit,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let month = month_key(now);
    let Some(max) = limit.limit else {
        return adjust_usage(tx, tenant_id, &month, 1).await;
    };
    // One statement: the month's first lead creates the row, later ones
    // count only under the limit (no row returned: none left).
    let count: Option<i64> = sqlx::query_scalar(
        "INSERT INTO lead_usage (tenant_id, month, count) SELECT ?1, ?2, 1 WHERE ?3 > 0 \
         ON CONFLICT (tenant_id, month) DO UPDATE SET count = count + 1 WHERE count < ?3 \
         RETURNING count",
    )
    .bind(tenant_id.to_string())
    .bind(&month)
    .bind(max as i64)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "count a lead"))?;
    let Some(count) = count else {
        return Err(StoreError::LimitReached {
            what: "leads a month",
            tier: limit.tier,
            limit: max,
        });
    };
    // Warn once when the month's usage crosses 80 %, and once at the limit.
    let near = (max as i64 * 4 + 4) / 5;
    if count == near || count == max as i64 {
        let data = json!({ "leads_this_month": count, "lead_limit": max, "month": month });
        log_event(tx, tenant_id, "usage.near_limit", data, now).await?;
    }
    Ok(())
}

/// Inserts one lead inside `tx` (the caller commits): limit, idempotency,
/// import de-duplication, timeline, audit and event.
pub(super) async fn insert_lead_in(
    tx: &mut Transaction<'static, Sqlite>,
    actor: &Actor,
    tenant_id: Uuid,
    row: NewLeadRow,
    limit: LeadLimit,
    idempotency: Option<Idempotency>,
    now: DateTime<Utc>,
) -> StoreResult<IngestOutcome> {
    {
        if let Some(idem) = &idempotency {
            let seen: Option<(String, Id)> = sqlx::query_as(
                "SELECT body_hash, lead_id FROM idempotency_keys WHERE tenant_id = ? AND key = ?",
            )
            .bind(tenant_id.to_string())
            .bind(&idem.key)
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| db_error(e, "check an idempotency key"))?;
            if let Some((hash, lead_id)) = seen {
                if hash != idem.body_hash {
                    return Err(StoreError::IdempotencyMismatch);
                }
                let lead = lead_in(tx, tenant_id, lead_id.into(), now)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                return Ok(IngestOutcome::Replayed(Box::new(lead)));
            }
        }
        if let Some(key) = &row.import_key {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM leads WHERE tenant_id = ? AND import_key = ?")
                    .bind(tenant_id.to_string())
                    .bind(key)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(|e| db_error(e, "check an import key"))?;
            if exists.is_some() {
                return Ok(IngestOutcome::Duplicate);
            }
        }
        let spam = row.spam_reason.is_some();
        if crate::store::counts_toward_limit(&row) {
            take_allowance(tx, tenant_id, limit, now).await?;
        }
        let id = Uuid::now_v7();
        let input = &row.input;
        let utm = serde_json::to_string(&input.utm.clone().unwrap_or_default())
            .unwrap_or_else(|_| "{}".into());
        let fields = serde_json::to_string(&input.fields.clone().unwrap_or_default())
            .unwrap_or_else(|_| "{}".into());
        let created_at = row.received_at.unwrap_or(now);
        sqlx::query(&format!(
            "INSERT INTO leads ({LEAD_COLUMNS}, import_key) VALUES \
             (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL, ?, ?, ?, ?, NULL, 0, ?, ?)"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(&input.name)
        .bind(input.email.as_deref())
        .bind(input.phone.as_deref())
        .bind(input.company.as_deref())
        .bind(&input.message)
        .bind(row.source.as_str())
        .bind(input.source_page.as_deref())
        .bind(utm)
        .bind(fields)
        .bind(&row.stage)
        .bind(spam as i64)
        .bind(row.spam_reason.as_deref())
        .bind(created_at.timestamp_millis())
        .bind(now.timestamp_millis())
        .bind(row.sla_due_at.timestamp_millis())
        .bind(row.sla_at_risk_at.timestamp_millis())
        .bind(row.workspace_id.map(|w| w.to_string()))
        .bind(row.import_key.as_deref())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "store a lead"))?;
        let lead = row.to_lead(id, tenant_id, now);
        let created = json!({ "source": row.source, "spam_reason": row.spam_reason });
        timeline_entry(tx, tenant_id, id, "created", actor, created, now).await?;
        let entry = AuditEntry {
            action: "lead.create",
            resource: "lead",
            resource_id: id.to_string(),
            changes: json!({ "source": row.source, "spam": spam }),
        };
        write_audit(tx, tenant_id, actor, &entry).await?;
        log_event(tx, tenant_id, "lead.created", json!({ "lead": lead }), now).await?;
        if let (Some(workspace), false) = (row.workspace_id, spam) {
            super::workflows::queue_workspace_workflow(tx, tenant_id, id, workspace, now).await?;
        }
        if let Some(idem) = &idempotency {
            sqlx::query(
                "INSERT INTO idempotency_keys (tenant_id, key, body_hash, lead_id, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(tenant_id.to_string())
            .bind(&idem.key)
            .bind(&idem.body_hash)
            .bind(id.to_string())
            .bind(now.timestamp_millis())
            .execute(&mut **tx)
            .await
            .map_err(|e| db_error(e, "remember an idempotency key"))?;
        }
        Ok(IngestOutcome::Created(Box::new(lead)))
    }
}

impl SqliteStore {
    /// Hands one insert to the batch writer and waits for its commit;
    /// `key` is the API key a form ingest came with (re-checked there).
    #[allow(clippy::too_many_arguments)]
    async fn write_lead(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        key: Option<Uuid>,
        row: NewLeadRow,
        limit: LeadLimit,
        idempotency: Option<Idempotency>,
        now: DateTime<Utc>,
    ) -> StoreResult<IngestOutcome> {
        let (job, answer) = InsertJob::new(actor, tenant_id, key, row, limit, idempotency, now);
        self.inserts
            .send(job)
            .await
            .map_err(|_| StoreError::Other(anyhow::anyhow!("the lead writer has stopped")))?;
        answer
            .await
            .map_err(|_| StoreError::Other(anyhow::anyhow!("the lead writer dropped a request")))?
    }
}

#[async_trait]
impl LeadStore for SqliteStore {
    /// Through the group-commit writer (see `batch`).
    async fn insert_lead(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewLeadRow,
        limit: LeadLimit,
        idempotency: Option<Idempotency>,
        now: DateTime<Utc>,
    ) -> StoreResult<IngestOutcome> {
        self.write_lead(actor, tenant_id, None, row, limit, idempotency, now)
            .await
    }

    async fn ingest_with_key(
        &self,
        key: &KeyOwner,
        actor: &Actor,
        row: NewLeadRow,
        limit: LeadLimit,
        idempotency: Option<Idempotency>,
        now: DateTime<Utc>,
    ) -> StoreResult<KeyedIngest> {
        // The batch writer (batch.rs) already groups concurrent inserts,
        // re-checks the key and the tenant inside the write, and records
        // the key's last use there.
        let written = self
            .write_lead(
                actor,
                key.tenant_id,
                Some(key.key_id),
                row,
                limit,
                idempotency,
                now,
            )
            .await;
        let outcome = match written {
            Err(StoreError::Refused {
                field: "api_key", ..
            }) => return Ok(KeyedIngest::KeyRevoked),
            Err(StoreError::Refused {
                field: "tenant", ..
            }) => return Ok(KeyedIngest::Suspended),
            other => other?,
        };
        Ok(KeyedIngest::Done(outcome))
    }

    async fn lead(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Lead>> {
        let row = sqlx::query_as::<_, LeadRecord>(&SQL.write(&lead_sql()))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "read a lead"))?;
        Ok(row.map(|r| r.into_lead(now)))
    }

    async fn list_leads(
        &self,
        tenant_id: Uuid,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Page<Lead>> {
        let now_ms = now.timestamp_millis();
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE tenant_id = "
        ));
        q.push_bind(tenant_id.to_string());
        q.push(" AND spam = ").push_bind(filter.spam as i64);
        if let Some(stage) = &filter.stage {
            q.push(" AND stage = ").push_bind(stage.clone());
        }
        match &filter.assignee {
            Some(AssigneeFilter::Nobody) => {
                q.push(" AND assignee_id IS NULL");
            }
            Some(AssigneeFilter::User(u)) => {
                q.push(" AND assignee_id = ").push_bind(u.to_string());
            }
            None => {}
        }
        if let Some(source) = filter.source {
            q.push(" AND source = ").push_bind(source.as_str());
        }
        match filter.sla {
            Some(SlaState::Met) => {
                q.push(" AND responded = 1");
            }
            Some(SlaState::Overdue) => {
                q.push(" AND responded = 0 AND sla_due_at <= ")
                    .push_bind(now_ms);
            }
            Some(SlaState::AtRisk) => {
                q.push(" AND responded = 0 AND at_risk_at <= ")
                    .push_bind(now_ms)
                    .push(" AND sla_due_at > ")
                    .push_bind(now_ms);
            }
            Some(SlaState::OnTrack) => {
                q.push(" AND responded = 0 AND at_risk_at > ")
                    .push_bind(now_ms);
            }
            None => {}
        }
        if let Some(text) = &filter.text {
            let pattern = format!(
                "%{}%",
                text.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            q.push(" AND (name LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR email LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR company LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR message LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(cursor) = &filter.cursor {
            let (responded, due, id) =
                parse_lead_cursor(filter.sort, cursor).ok_or(StoreError::BadCursor)?;
            match filter.sort {
                LeadSort::Sla => {
                    q.push(" AND (responded, sla_due_at, id) > (")
                        .push_bind(responded)
                        .push(", ")
                        .push_bind(due)
                        .push(", ")
                        .push_bind(id)
                        .push(")");
                }
                LeadSort::Newest => {
                    q.push(" AND id < ").push_bind(id);
                }
                LeadSort::Oldest => {
                    q.push(" AND id > ").push_bind(id);
                }
            }
        }
        q.push(match filter.sort {
            LeadSort::Sla => " ORDER BY responded, sla_due_at, id",
            LeadSort::Newest => " ORDER BY id DESC",
            LeadSort::Oldest => " ORDER BY id",
        });
        q.push(" LIMIT ").push_bind(filter.limit as i64 + 1);
        let rows = q
            .build_query_as::<LeadRecord>()
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list leads"))?;
        let leads: Vec<Lead> = rows.into_iter().map(|r| r.into_lead(now)).collect();
        let sort = filter.sort;
        Ok(Page::from_rows(leads, filter.limit, |l| match sort {
            LeadSort::Sla => format!(
                "{}.{}.{}",
                l.first_response_at.is_some() as i64,
                l.sla_due_at.timestamp_millis(),
                l.id
            ),
            _ => l.id.to_string(),
        }))
    }

    async fn leads_this_month(&self, tenant_id: Uuid, now: DateTime<Utc>) -> StoreResult<u32> {
        let n: Option<i64> =
            sqlx::query_scalar("SELECT count FROM lead_usage WHERE tenant_id = ? AND month = ?")
                .bind(tenant_id.to_string())
                .bind(month_key(now))
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_error(e, "read usage"))?;
        Ok(n.unwrap_or(0).max(0) as u32)
    }
}
