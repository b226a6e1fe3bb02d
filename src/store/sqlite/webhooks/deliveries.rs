//! Webhook deliveries and their attempts on SQLite: listing, replay, test
//! events, and the sender's claim and record.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{delivery, DELIVERY_COLUMNS};
use crate::domain::webhook::{DELIVERY_EVENT, TEST_EVENT};
use crate::domain::{Page, PageQuery, WebhookDelivery};
use crate::store::outbound::DeliveryJobRecord;
use crate::store::sqlite::leads::log_event;
use crate::store::sqlite::{db_error, to_dt, write_audit, SqliteStore};
use crate::store::{
    Actor, AttemptNext, AttemptRecord, AuditEntry, DeliveryJob, EventRecord, StoreError,
    StoreResult,
};

pub(super) async fn list_deliveries(
    store: &SqliteStore,
    tenant_id: Uuid,
    webhook_id: Uuid,
    page: &PageQuery,
) -> StoreResult<Page<WebhookDelivery>> {
    let before = match &page.cursor {
        Some(c) => c.parse::<i64>().map_err(|_| StoreError::BadCursor)?,
        None => i64::MAX,
    };
    let limit = page.limit();
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
         WHERE tenant_id = ? AND webhook_id = ? AND event_id < ? ORDER BY event_id DESC LIMIT ?"
    ))
    .bind(tenant_id.to_string())
    .bind(webhook_id.to_string())
    .bind(before)
    .bind(i64::from(limit) + 1)
    .fetch_all(&store.pool)
    .await
    .map_err(|e| db_error(e, "list webhook deliveries"))?;
    let items = rows
        .iter()
        .map(|r| delivery(tenant_id, r))
        .collect::<StoreResult<Vec<_>>>()?;
    let mut page = Page::from_rows(items, limit, |d| d.event_seq.to_string());
    store.attach_attempts(tenant_id, &mut page.items).await?;
    Ok(page)
}

pub(super) async fn replay_delivery(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    webhook_id: Uuid,
    delivery_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<WebhookDelivery> {
    let (_writer, mut tx) = store.write().await?;
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? \
         WHERE tenant_id = ? AND webhook_id = ? AND id = ?",
    )
    .bind(now.timestamp_millis())
    .bind(tenant_id.to_string())
    .bind(webhook_id.to_string())
    .bind(delivery_id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "replay a webhook delivery"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let audit = AuditEntry {
        action: "webhook.replay",
        resource: "webhook",
        resource_id: webhook_id.to_string(),
        changes: serde_json::json!({ "delivery": delivery_id }),
    };
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    let row = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant_id.to_string())
    .bind(delivery_id.to_string())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, "read a webhook delivery"))?;
    let mut d = [delivery(tenant_id, &row)?];
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a replay"))?;
    store.attach_attempts(tenant_id, &mut d).await?;
    let [d] = d;
    Ok(d)
}

pub(super) async fn webhook_delivery(
    store: &SqliteStore,
    tenant_id: Uuid,
    webhook_id: Uuid,
    delivery_id: Uuid,
) -> StoreResult<Option<(WebhookDelivery, Option<EventRecord>)>> {
    let row = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
         WHERE tenant_id = ? AND webhook_id = ? AND id = ?"
    ))
    .bind(tenant_id.to_string())
    .bind(webhook_id.to_string())
    .bind(delivery_id.to_string())
    .fetch_optional(&store.pool)
    .await
    .map_err(|e| db_error(e, "read a webhook delivery"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut d = [delivery(tenant_id, &row)?];
    store.attach_attempts(tenant_id, &mut d).await?;
    let [d] = d;
    let event: Option<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, kind, data, created_at FROM events WHERE tenant_id = ? AND id = ?",
    )
    .bind(tenant_id.to_string())
    .bind(d.event_seq)
    .fetch_optional(&store.pool)
    .await
    .map_err(|e| db_error(e, "read a delivery's event"))?;
    let event = event.map(|(id, kind, data, at)| EventRecord {
        id,
        tenant_id,
        kind,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        created_at: to_dt(at),
    });
    Ok(Some((d, event)))
}

pub(super) async fn send_test_event(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    webhook_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<WebhookDelivery> {
    let (_writer, mut tx) = store.write().await?;
    let hook = SqliteStore::endpoint_in(&mut tx, tenant_id, webhook_id).await?;
    let data = crate::store::test_event(&hook);
    let seq = log_event(&mut tx, tenant_id, TEST_EVENT, data, now).await?;
    sqlx::query(crate::store::not_fanned_out(false))
        .bind(tenant_id.to_string())
        .bind(seq)
        .bind(webhook_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "send a test event to one endpoint"))?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_kind, \
         next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
         ON CONFLICT (tenant_id, webhook_id, event_id) DO NOTHING",
    )
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .bind(webhook_id.to_string())
    .bind(seq)
    .bind(TEST_EVENT)
    .bind(now.timestamp_millis())
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "queue a test delivery"))?;
    let row = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
         WHERE tenant_id = ? AND webhook_id = ? AND event_id = ?"
    ))
    .bind(tenant_id.to_string())
    .bind(webhook_id.to_string())
    .bind(seq)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, "read a test delivery"))?;
    let d = delivery(tenant_id, &row)?;
    let audit = AuditEntry {
        action: "webhook.test",
        resource: "webhook",
        resource_id: webhook_id.to_string(),
        changes: serde_json::json!({ "delivery": d.id }),
    };
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a test event"))?;
    Ok(d)
}

pub(super) async fn claim_deliveries(
    store: &SqliteStore,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<DeliveryJob>> {
    // Most looks find nothing due: answer those without the write lock.
    let due: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM webhook_deliveries \
         WHERE status = 'pending' AND next_attempt_at <= ?)",
    )
    .bind(now.timestamp_millis())
    .fetch_one(&store.pool)
    .await
    .map_err(|e| db_error(e, "look for due webhook deliveries"))?;
    if !due {
        return Ok(Vec::new());
    }
    let (_writer, mut tx) = store.write().await?;
    // Fair across tenants: each tenant's oldest due delivery first, then
    // each one's second, and so on, so one tenant's backlog cannot
    // delay every other tenant's webhooks.
    let rows = sqlx::query_as::<_, DeliveryJobRecord>(
        "SELECT * FROM ( \
           SELECT d.tenant_id, d.id, d.webhook_id, d.attempts, d.created_at, w.url, \
                  w.secret, e.id AS event_id, e.kind, e.data, e.created_at AS event_at, \
                  d.next_attempt_at, row_number() OVER ( \
                    PARTITION BY d.tenant_id ORDER BY d.next_attempt_at, d.id) AS turn \
             FROM webhook_deliveries d \
             JOIN webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id \
             JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id \
            WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1) \
          ORDER BY turn, next_attempt_at LIMIT ?",
    )
    .bind(now.timestamp_millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| db_error(e, "find due webhook deliveries"))?;
    let mut jobs = Vec::with_capacity(rows.len());
    for r in rows {
        let job = DeliveryJob::from(r);
        let tenant_id = job.tenant_id;
        sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(lease_until.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(job.delivery_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "lease a webhook delivery"))?;
        jobs.push(job);
    }
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit webhook leases"))?;
    Ok(jobs)
}

pub(super) async fn record_attempt(
    store: &SqliteStore,
    job: &DeliveryJob,
    record: AttemptRecord,
) -> StoreResult<bool> {
    let tenant = job.tenant_id.to_string();
    let a = &record.attempt;
    let at = a.at.timestamp_millis();
    let (_writer, mut tx) = store.write().await?;
    sqlx::query(
        "INSERT INTO webhook_attempts (tenant_id, id, delivery_id, attempted_at, status_code, \
         error, latency_ms, response_excerpt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&tenant)
    .bind(Uuid::now_v7().to_string())
    .bind(job.delivery_id.to_string())
    .bind(at)
    .bind(a.status_code.map(i64::from))
    .bind(a.error.as_deref())
    .bind(a.latency_ms as i64)
    .bind(&a.response_excerpt)
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "log a webhook attempt"))?;
    let (status, next, delivered) = match record.next {
        AttemptNext::Delivered => ("delivered", None, Some(at)),
        AttemptNext::RetryAt(t) => ("pending", Some(t.timestamp_millis()), None),
        AttemptNext::Failed => ("failed", None, None),
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, delivered_at = ?, \
         attempts = attempts + 1 WHERE tenant_id = ? AND id = ?",
    )
    .bind(status)
    .bind(next)
    .bind(delivered)
    .bind(&tenant)
    .bind(job.delivery_id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "update a webhook delivery"))?;
    let after = SqliteStore::delivery_in(&mut tx, job.tenant_id, job.delivery_id).await?;
    let data = crate::store::delivery_event(&after, a);
    let seq = log_event(&mut tx, job.tenant_id, DELIVERY_EVENT, data, a.at).await?;
    sqlx::query(crate::store::not_fanned_out(false))
        .bind(&tenant)
        .bind(seq)
        .bind(None::<String>)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "keep a live event from webhooks"))?;
    let mut disabled = false;
    if matches!(record.next, AttemptNext::Delivered) {
        sqlx::query(
            "UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(&tenant)
        .bind(job.webhook_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "reset a webhook's failures"))?;
    } else {
        let run: Option<(i64, i64, i64)> = sqlx::query_as(
            "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, \
             failing_since = coalesce(failing_since, ?) WHERE tenant_id = ? AND id = ? \
             RETURNING consecutive_failures, failing_since, enabled",
        )
        .bind(at)
        .bind(&tenant)
        .bind(job.webhook_id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "count a webhook's failures"))?;
        if let (Some(policy), Some((failures, since, 1))) = (record.disable, run) {
            if policy.should_disable(failures as u32, to_dt(since), a.at) {
                let reason = crate::store::disabled_reason(failures as u32, to_dt(since));
                sqlx::query(
                    "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, \
                     updated_at = ? WHERE tenant_id = ? AND id = ?",
                )
                .bind(&reason)
                .bind(at)
                .bind(&tenant)
                .bind(job.webhook_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "disable a webhook"))?;
                let data = crate::store::disabled_event(job, failures as u32, &reason);
                log_event(&mut tx, job.tenant_id, "webhook.disabled", data, a.at).await?;
                disabled = true;
            }
        }
    }
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a webhook attempt"))?;
    Ok(disabled)
}
