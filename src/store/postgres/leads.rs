//! Leads: insert (monthly limit, idempotency keys, import de-duplication),
//! read and list; and the helpers every lead change shares (timeline,
//! event log, usage counter).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::{db_error, ms, write_audit, PgStore, Tx};
use crate::domain::lead::month_key;
use crate::domain::{Lead, Page, SlaState};
use crate::store::leads::{lead_sql, LeadRecord, INSERT_TIMELINE_SQL, LEAD_COLUMNS};
use crate::store::{
    parse_lead_cursor, Actor, AssigneeFilter, AuditEntry, Idempotency, IngestOutcome, KeyOwner,
    KeyedIngest, LeadFilter, LeadLimit, LeadSort, LeadStore, NewLeadRow, StoreError, StoreResult,
};

pub(super) async fn lead_in(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
    for_update: bool,
) -> StoreResult<Option<Lead>> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let row = sqlx::query_as::<_, LeadRecord>(&format!("{}{lock}", lead_sql()))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read a lead"))?;
    Ok(row.map(|r| r.into_lead(now)))
}

pub(super) async fn timeline_entry(
    tx: &mut Tx,
    tenant_id: Uuid,
    lead_id: Uuid,
    kind: &str,
    actor: &Actor,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(INSERT_TIMELINE_SQL)
        .bind(tenant_id)
        .bind(id)
        .bind(lead_id)
        .bind(kind)
        .bind(actor.user_id)
        .bind(actor.email.as_deref())
        .bind(data)
        .bind(ms(now))
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "write a timeline entry"))?;
    Ok(id)
}

/// Appends to the tenant's event log (read by live streams, resumable; the
/// `events_inserted` trigger tells other processes at commit). See
/// `sb_append_event` for why appends are ordered per tenant.
pub(super) async fn log_event(
    tx: &mut Tx,
    tenant_id: Uuid,
    kind: &str,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT sb_append_event($1, $2, $3, $4)")
        .bind(tenant_id)
        .bind(kind)
        .bind(data)
        .bind(ms(now))
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| db_error(e, "write an event"))
}

/// Adds `delta` to a month's lead counter (no limit: corrections only).
pub(super) async fn adjust_usage(
    tx: &mut Tx,
    tenant_id: Uuid,
    month: &str,
    delta: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO lead_usage (tenant_id, month, count) VALUES ($1, $2, greatest($3, 0)) \
         ON CONFLICT (tenant_id, month) \
         DO UPDATE SET count = greatest(lead_usage.count + $3, 0)",
    )
    .bind(tenant_id)
    .bind(month)
    .bind(delta as i32)
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "count a lead"))?;
    Ok(())
}

/// Takes one unit of the month's allowance, or fails when none is left. The
/// conditional UPDATE waits on the counter row's lock and re-checks the
/// condition on the committed value, so concurrent ingests from any number
/// of processes never go over the limit.
async fn take_allowance(
    tx: &mut Tx,
    tenant_id: Uuid,
    limit: LeadLimit,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let month = month_key(now);
    let Some(max) = limit.limit else {
        return adjust_usage(tx, tenant_id, &month, 1).await;
    };
    sqlx::query(
        "INSERT INTO lead_usage (tenant_id, month, count) VALUES ($1, $2, 0) \
         ON CONFLICT (tenant_id, month) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(&month)
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "count a lead"))?;
    let count: Option<i32> = sqlx::query_scalar(
        "UPDATE lead_usage SET count = count + 1 \
         WHERE tenant_id = $1 AND month = $2 AND count < $3 RETURNING count",
    )
    .bind(tenant_id)
    .bind(&month)
    .bind(max as i64)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "count a lead"))?;
    let Some(count) = count.map(i64::from) else {
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

/// Claims an idempotency key for `lead_id`, or returns what the key already
/// names. The insert waits on a concurrent holder of the same key until it
/// commits (then this is a replay) or rolls back (then this claims it).
async fn claim_idempotency_key(
    tx: &mut Tx,
    tenant_id: Uuid,
    idem: &Idempotency,
    lead_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<Option<(String, Uuid)>> {
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (tenant_id, key, body_hash, lead_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, key) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(&idem.key)
    .bind(&idem.body_hash)
    .bind(lead_id)
    .bind(ms(now))
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "remember an idempotency key"))?;
    if claimed.rows_affected() == 1 {
        return Ok(None);
    }
    let seen: Option<(String, Uuid)> = sqlx::query_as(
        "SELECT body_hash, lead_id FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
    )
    .bind(tenant_id)
    .bind(&idem.key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "check an idempotency key"))?;
    // Gone again already (expired between the two statements): a conflict.
    seen.map(Some).ok_or(StoreError::Conflict { field: "id" })
}

#[async_trait]
impl LeadStore for PgStore {
    async fn insert_lead(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewLeadRow,
        limit: LeadLimit,
        idempotency: Option<Idempotency>,
        now: DateTime<Utc>,
    ) -> StoreResult<IngestOutcome> {
        let id = Uuid::now_v7();
        let mut tx = self.tenant_tx(tenant_id).await?;
        if let Some(idem) = &idempotency {
            if let Some((hash, lead_id)) =
                claim_idempotency_key(&mut tx, tenant_id, idem, id, now).await?
            {
                if hash != idem.body_hash {
                    return Err(StoreError::IdempotencyMismatch);
                }
                let lead = lead_in(&mut tx, tenant_id, lead_id, now, false)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                return Ok(IngestOutcome::Replayed(Box::new(lead)));
            }
        }
        if let Some(key) = &row.import_key {
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM leads WHERE tenant_id = $1 AND import_key = $2")
                    .bind(tenant_id)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| db_error(e, "check an import key"))?;
            if exists.is_some() {
                return Ok(IngestOutcome::Duplicate);
            }
        }
        let spam = row.spam_reason.is_some();
        let input = &row.input;
        let utm = serde_json::to_value(input.utm.clone().unwrap_or_default())
            .unwrap_or_else(|_| json!({}));
        let fields = serde_json::to_value(input.fields.clone().unwrap_or_default())
            .unwrap_or_else(|_| json!({}));
        let created_at = ms(row.received_at.unwrap_or(now));
        let sla_due_at = ms(row.sla_due_at);
        // Computed by the server from the tenant's at-risk share.
        let at_risk = ms(row.sla_at_risk_at);
        // A concurrent import of the same row may have committed since the
        // check above: the unique index decides, and this transaction (with
        // its allowance) is dropped.
        let inserted = sqlx::query(&format!(
            "INSERT INTO leads ({LEAD_COLUMNS}, import_key) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, $13, $14, NULL, NULL, \
              $15, $16, $17, $18, NULL, false, $19, $20) \
             ON CONFLICT (tenant_id, import_key) WHERE import_key IS NOT NULL DO NOTHING"
        ))
        .bind(tenant_id)
        .bind(id)
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
        .bind(spam)
        .bind(row.spam_reason.as_deref())
        .bind(created_at)
        .bind(ms(now))
        .bind(sla_due_at)
        .bind(at_risk)
        .bind(row.workspace_id)
        .bind(row.import_key.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "store a lead"))?;
        if inserted.rows_affected() == 0 {
            return Ok(IngestOutcome::Duplicate);
        }
        let lead = lead_in(&mut tx, tenant_id, id, now, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        let created = json!({ "source": row.source, "spam_reason": row.spam_reason });
        timeline_entry(&mut tx, tenant_id, id, "created", actor, created, now).await?;
        let entry = AuditEntry {
            action: "lead.create",
            resource: "lead",
            resource_id: id.to_string(),
            changes: json!({ "source": row.source, "spam": spam }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        // The allowance last: the counter row's lock (which every ingest of
        // the tenant waits on) is then held only until the commit just
        // below. Over the limit, the whole transaction rolls back.
        if crate::store::counts_toward_limit(&row) {
            take_allowance(&mut tx, tenant_id, limit, now).await?;
        }
        log_event(
            &mut tx,
            tenant_id,
            "lead.created",
            json!({ "lead": lead }),
            now,
        )
        .await?;
        if let (Some(workspace), false) = (row.workspace_id, spam) {
            super::workflows::queue_workspace_workflow(&mut tx, tenant_id, id, workspace, now)
                .await?;
        }
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a lead"))?;
        Ok(IngestOutcome::Created(Box::new(lead)))
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
        self.ingest_grouped(key, actor, row, limit, idempotency, now)
            .await
    }

    async fn lead(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Lead>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let lead = lead_in(&mut tx, tenant_id, id, now, false).await?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(lead)
    }

    async fn list_leads(
        &self,
        tenant_id: Uuid,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Page<Lead>> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE tenant_id = "
        ));
        q.push_bind(tenant_id);
        q.push(" AND spam = ").push_bind(filter.spam);
        if let Some(stage) = &filter.stage {
            q.push(" AND stage = ").push_bind(stage.clone());
        }
        match &filter.assignee {
            Some(AssigneeFilter::Nobody) => {
                q.push(" AND assignee_id IS NULL");
            }
            Some(AssigneeFilter::User(u)) => {
                q.push(" AND assignee_id = ").push_bind(*u);
            }
            None => {}
        }
        if let Some(source) = filter.source {
            q.push(" AND source = ").push_bind(source.as_str());
        }
        match filter.sla {
            Some(SlaState::Met) => {
                q.push(" AND responded");
            }
            Some(SlaState::Overdue) => {
                q.push(" AND NOT responded AND sla_due_at <= ")
                    .push_bind(now);
            }
            Some(SlaState::AtRisk) => {
                q.push(" AND NOT responded AND at_risk_at <= ")
                    .push_bind(now)
                    .push(" AND sla_due_at > ")
                    .push_bind(now);
            }
            Some(SlaState::OnTrack) => {
                q.push(" AND NOT responded AND at_risk_at > ")
                    .push_bind(now);
            }
            None => {}
        }
        if let Some(text) = &filter.text {
            // ILIKE: SQLite's LIKE ignores ASCII case, and search should too.
            let pattern = format!(
                "%{}%",
                text.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            q.push(" AND (name ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR email ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR company ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR message ILIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(cursor) = &filter.cursor {
            let (responded, due, id) =
                parse_lead_cursor(filter.sort, cursor).ok_or(StoreError::BadCursor)?;
            let id = Uuid::parse_str(&id).map_err(|_| StoreError::BadCursor)?;
            match filter.sort {
                LeadSort::Sla => {
                    let due = chrono::TimeZone::timestamp_millis_opt(&Utc, due)
                        .single()
                        .ok_or(StoreError::BadCursor)?;
                    q.push(" AND (responded, sla_due_at, id) > (")
                        .push_bind(responded != 0)
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = q
            .build_query_as::<LeadRecord>()
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "list leads"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        let leads: Vec<Lead> = rows.into_iter().map(|r| r.into_lead(now)).collect();
        let sort = filter.sort;
        // The same cursor encoding as the SQLite store: `responded.due_ms.id`.
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let n: Option<i32> =
            sqlx::query_scalar("SELECT count FROM lead_usage WHERE tenant_id = $1 AND month = $2")
                .bind(tenant_id)
                .bind(month_key(now))
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| db_error(e, "read usage"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(n.unwrap_or(0).max(0) as u32)
    }
}
