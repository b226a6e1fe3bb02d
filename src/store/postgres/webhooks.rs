//! Webhook endpoints, deliveries and attempts on PostgreSQL (deliveries come
//! from the `events_inserted` trigger), and the outbox's send state.
//! Claims across tenants go through the owner's `sb_claim_*` functions
//! (`FOR UPDATE SKIP LOCKED`); everything else is tenant-scoped under RLS.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::FromRow;
use uuid::Uuid;

use super::leads::log_event;
use super::{db_error, ms, write_audit, PgStore, Tx};
use crate::domain::webhook::{DELIVERY_EVENT, TEST_EVENT};
use crate::domain::{Page, PageQuery, Webhook, WebhookAttempt, WebhookDelivery};
use crate::store::outbound::{
    DeliveryJobRecord, DeliveryRecord, MailJobRecord, WebhookAttemptRecord, WebhookRecord,
    DELIVERY_COLUMNS, ENDPOINT_COLUMNS,
};
use crate::store::{
    Actor, AttemptNext, AttemptRecord, AuditEntry, DeliveryJob, EventRecord, MailJob, MailQuota,
    OutboundPurge, OutboundStore, StoreError, StoreResult, WebhookChange, WebhookRow,
};

fn endpoint(r: &PgRow) -> StoreResult<Webhook> {
    WebhookRecord::from_row(r)
        .map(Webhook::from)
        .map_err(|e| db_error(e, "read a webhook"))
}

fn attempt(r: &PgRow) -> StoreResult<WebhookAttempt> {
    WebhookAttemptRecord::from_row(r)
        .map(WebhookAttempt::from)
        .map_err(|e| db_error(e, "read a webhook attempt"))
}

fn delivery(tenant_id: Uuid, r: &PgRow) -> StoreResult<WebhookDelivery> {
    DeliveryRecord::from_row(r)
        .map(|d| d.into_delivery(tenant_id))
        .map_err(|e| db_error(e, "read a webhook delivery"))
}

async fn endpoint_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Webhook> {
    let row = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read a webhook"))?;
    endpoint(&row.ok_or(StoreError::NotFound)?)
}

/// Fills in each endpoint's newest delivery.
async fn with_last_delivery(
    tx: &mut Tx,
    tenant_id: Uuid,
    mut hooks: Vec<Webhook>,
) -> StoreResult<Vec<Webhook>> {
    let last: Vec<(Uuid, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT DISTINCT ON (webhook_id) webhook_id, status, created_at \
           FROM webhook_deliveries WHERE tenant_id = $1 ORDER BY webhook_id, event_id DESC",
    )
    .bind(tenant_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read webhooks' last deliveries"))?;
    crate::store::set_last_deliveries(&mut hooks, last);
    Ok(hooks)
}

async fn delivery_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<WebhookDelivery> {
    let row = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read a webhook delivery"))?;
    delivery(tenant_id, &row.ok_or(StoreError::NotFound)?)
}

async fn attach_attempts(
    tx: &mut Tx,
    tenant_id: Uuid,
    deliveries: &mut [WebhookDelivery],
) -> StoreResult<()> {
    for d in deliveries {
        let rows = sqlx::query(
            "SELECT attempted_at, status_code, error, latency_ms, response_excerpt \
             FROM webhook_attempts WHERE tenant_id = $1 AND delivery_id = $2 \
             ORDER BY attempted_at, id",
        )
        .bind(tenant_id)
        .bind(d.id)
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read webhook attempts"))?;
        d.attempts = rows.iter().map(attempt).collect::<StoreResult<_>>()?;
    }
    Ok(())
}

async fn commit(tx: Tx, doing: &str) -> StoreResult<()> {
    tx.commit().await.map_err(|e| db_error(e, doing))
}

#[async_trait]
impl OutboundStore for PgStore {
    async fn create_webhook(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WebhookRow,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let id = Uuid::now_v7();
        let now = ms(now);
        let mut tx = self.tenant_tx(tenant_id).await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (tenant_id, id, url, events, secret, enabled, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(&row.url)
        .bind(&row.events)
        .bind(&row.secret)
        .bind(row.enabled)
        .bind(actor.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "create a webhook"))?;
        let audit = AuditEntry {
            action: "webhook.create",
            resource: "webhook",
            resource_id: id.to_string(),
            changes: serde_json::json!({
                "url": row.url, "events": row.events, "enabled": row.enabled,
            }),
        };
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let webhook = endpoint_in(&mut tx, tenant_id, id).await?;
        commit(tx, "commit a webhook").await?;
        Ok(webhook)
    }

    async fn list_webhooks(&self, tenant_id: Uuid) -> StoreResult<Vec<Webhook>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY id"
        ))
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list webhooks"))?;
        let hooks = rows.iter().map(endpoint).collect::<StoreResult<Vec<_>>>()?;
        let hooks = with_last_delivery(&mut tx, tenant_id, hooks).await?;
        commit(tx, "end a read").await?;
        Ok(hooks)
    }

    async fn webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Webhook>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let found = match endpoint_in(&mut tx, tenant_id, id).await {
            Ok(w) => with_last_delivery(&mut tx, tenant_id, vec![w]).await?.pop(),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        commit(tx, "end a read").await?;
        Ok(found)
    }

    async fn update_webhook(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: WebhookChange,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let before = endpoint_in(&mut tx, tenant_id, id).await?;
        let plan = crate::store::plan_webhook_change(&before, &change);
        let url = change.url.unwrap_or(before.url.clone());
        let events = change.events.unwrap_or(before.events.clone());
        let enabled = change.enabled.unwrap_or(before.enabled);
        let reenabled = enabled && !before.enabled;
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, events = $2, enabled = $3, updated_at = $4, \
             disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END, \
             consecutive_failures = CASE WHEN $5 THEN 0 ELSE consecutive_failures END, \
             failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END \
             WHERE tenant_id = $6 AND id = $7",
        )
        .bind(&url)
        .bind(&events)
        .bind(enabled)
        .bind(ms(now))
        .bind(reenabled)
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "update a webhook"))?;
        if let Some(audit) = plan {
            write_audit(&mut tx, tenant_id, actor, &audit).await?;
        }
        let webhook = endpoint_in(&mut tx, tenant_id, id).await?;
        let webhook = with_last_delivery(&mut tx, tenant_id, vec![webhook])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        commit(tx, "commit a webhook change").await?;
        Ok(webhook)
    }

    async fn delete_webhook(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let before = endpoint_in(&mut tx, tenant_id, id).await?;
        sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a webhook"))?;
        let audit = AuditEntry {
            action: "webhook.delete",
            resource: "webhook",
            resource_id: id.to_string(),
            changes: serde_json::json!({ "url": before.url }),
        };
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        commit(tx, "commit a webhook deletion").await
    }

    async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        endpoint_in(&mut tx, tenant_id, id).await?;
        sqlx::query(
            "UPDATE webhook_endpoints SET secret = $1, updated_at = $2 \
             WHERE tenant_id = $3 AND id = $4",
        )
        .bind(secret)
        .bind(ms(now))
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "rotate a webhook secret"))?;
        let audit = AuditEntry {
            action: "webhook.rotate_secret",
            resource: "webhook",
            resource_id: id.to_string(),
            changes: serde_json::json!({ "fields": ["secret"] }),
        };
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let webhook = endpoint_in(&mut tx, tenant_id, id).await?;
        commit(tx, "commit a secret rotation").await?;
        Ok(webhook)
    }

    async fn list_deliveries(
        &self,
        tenant_id: Uuid,
        webhook_id: Uuid,
        page: &PageQuery,
    ) -> StoreResult<Page<WebhookDelivery>> {
        let before = match &page.cursor {
            Some(c) => c.parse::<i64>().map_err(|_| StoreError::BadCursor)?,
            None => i64::MAX,
        };
        let limit = page.limit();
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 \
             AND webhook_id = $2 AND event_id < $3 ORDER BY event_id DESC LIMIT $4"
        ))
        .bind(tenant_id)
        .bind(webhook_id)
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list webhook deliveries"))?;
        let items = rows
            .iter()
            .map(|r| delivery(tenant_id, r))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut page = Page::from_rows(items, limit, |d| d.event_seq.to_string());
        attach_attempts(&mut tx, tenant_id, &mut page.items).await?;
        commit(tx, "end a read").await?;
        Ok(page)
    }

    async fn replay_delivery(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        webhook_id: Uuid,
        delivery_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookDelivery> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let row = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1 \
             WHERE tenant_id = $2 AND webhook_id = $3 AND id = $4 RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(ms(now))
        .bind(tenant_id)
        .bind(webhook_id)
        .bind(delivery_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "replay a webhook delivery"))?;
        let mut d = [delivery(tenant_id, &row.ok_or(StoreError::NotFound)?)?];
        let audit = AuditEntry {
            action: "webhook.replay",
            resource: "webhook",
            resource_id: webhook_id.to_string(),
            changes: serde_json::json!({ "delivery": delivery_id }),
        };
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        attach_attempts(&mut tx, tenant_id, &mut d).await?;
        commit(tx, "commit a replay").await?;
        let [d] = d;
        Ok(d)
    }

    async fn webhook_delivery(
        &self,
        tenant_id: Uuid,
        webhook_id: Uuid,
        delivery_id: Uuid,
    ) -> StoreResult<Option<(WebhookDelivery, Option<EventRecord>)>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE tenant_id = $1 AND webhook_id = $2 AND id = $3"
        ))
        .bind(tenant_id)
        .bind(webhook_id)
        .bind(delivery_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read a webhook delivery"))?;
        let Some(row) = row else {
            commit(tx, "end a read").await?;
            return Ok(None);
        };
        let mut d = [delivery(tenant_id, &row)?];
        attach_attempts(&mut tx, tenant_id, &mut d).await?;
        let [d] = d;
        let event: Option<(i64, String, serde_json::Value, DateTime<Utc>)> = sqlx::query_as(
            "SELECT id, kind, data, created_at FROM events WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(d.event_seq)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read a delivery's event"))?;
        commit(tx, "end a read").await?;
        let event = event.map(|(id, kind, data, created_at)| EventRecord {
            id,
            tenant_id,
            kind,
            data,
            created_at,
        });
        Ok(Some((d, event)))
    }

    async fn send_test_event(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        webhook_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookDelivery> {
        let now = ms(now);
        let mut tx = self.tenant_tx(tenant_id).await?;
        let hook = endpoint_in(&mut tx, tenant_id, webhook_id).await?;
        let data = crate::store::test_event(&hook);
        let seq = log_event(&mut tx, tenant_id, TEST_EVENT, data, now).await?;
        sqlx::query(crate::store::not_fanned_out(true))
            .bind(tenant_id)
            .bind(seq)
            .bind(Some(webhook_id))
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "send a test event to one endpoint"))?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_kind, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (tenant_id, webhook_id, event_id) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(Uuid::now_v7())
        .bind(webhook_id)
        .bind(seq)
        .bind(TEST_EVENT)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "queue a test delivery"))?;
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE tenant_id = $1 AND webhook_id = $2 AND event_id = $3"
        ))
        .bind(tenant_id)
        .bind(webhook_id)
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
        commit(tx, "commit a test event").await?;
        Ok(d)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryJob>> {
        let rows = sqlx::query_as::<_, DeliveryJobRecord>(
            "SELECT tenant_id, id, webhook_id, attempts, created_at, url, secret, event_id, \
             kind, data, event_at FROM sb_claim_webhook_deliveries($1, $2, $3)",
        )
        .bind(ms(now))
        .bind(ms(lease_until))
        .bind(limit as i32)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "claim webhook deliveries"))?;
        Ok(rows.into_iter().map(DeliveryJob::from).collect())
    }

    async fn record_attempt(&self, job: &DeliveryJob, record: AttemptRecord) -> StoreResult<bool> {
        let a = &record.attempt;
        let at = ms(a.at);
        let mut tx = self.tenant_tx(job.tenant_id).await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (tenant_id, id, delivery_id, attempted_at, status_code, \
             error, latency_ms, response_excerpt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(job.tenant_id)
        .bind(Uuid::now_v7())
        .bind(job.delivery_id)
        .bind(at)
        .bind(a.status_code.map(i32::from))
        .bind(a.error.as_deref())
        .bind(a.latency_ms as i64)
        .bind(&a.response_excerpt)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "log a webhook attempt"))?;
        let (status, next, delivered) = match record.next {
            AttemptNext::Delivered => ("delivered", None, Some(at)),
            AttemptNext::RetryAt(t) => ("pending", Some(ms(t)), None),
            AttemptNext::Failed => ("failed", None, None),
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, delivered_at = $3, \
             attempts = attempts + 1 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(status)
        .bind(next)
        .bind(delivered)
        .bind(job.tenant_id)
        .bind(job.delivery_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "update a webhook delivery"))?;
        let after = delivery_in(&mut tx, job.tenant_id, job.delivery_id).await?;
        let data = crate::store::delivery_event(&after, a);
        let seq = log_event(&mut tx, job.tenant_id, DELIVERY_EVENT, data, at).await?;
        sqlx::query(crate::store::not_fanned_out(true))
            .bind(job.tenant_id)
            .bind(seq)
            .bind(None::<Uuid>)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "keep a live event from webhooks"))?;
        let mut disabled = false;
        if matches!(record.next, AttemptNext::Delivered) {
            sqlx::query(
                "UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(job.tenant_id)
            .bind(job.webhook_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "reset a webhook's failures"))?;
        } else {
            let run: Option<(i32, DateTime<Utc>, bool)> = sqlx::query_as(
                "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, \
                 failing_since = coalesce(failing_since, $1) WHERE tenant_id = $2 AND id = $3 \
                 RETURNING consecutive_failures, failing_since, enabled",
            )
            .bind(at)
            .bind(job.tenant_id)
            .bind(job.webhook_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error(e, "count a webhook's failures"))?;
            if let (Some(policy), Some((failures, since, true))) = (record.disable, run) {
                if policy.should_disable(failures as u32, since, at) {
                    let reason = crate::store::disabled_reason(failures as u32, since);
                    sqlx::query(
                        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $1, \
                         updated_at = $2 WHERE tenant_id = $3 AND id = $4",
                    )
                    .bind(&reason)
                    .bind(at)
                    .bind(job.tenant_id)
                    .bind(job.webhook_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error(e, "disable a webhook"))?;
                    let data = crate::store::disabled_event(job, failures as u32, &reason);
                    log_event(&mut tx, job.tenant_id, "webhook.disabled", data, at).await?;
                    disabled = true;
                }
            }
        }
        commit(tx, "commit a webhook attempt").await?;
        Ok(disabled)
    }

    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MailJob>> {
        let rows = sqlx::query_as::<_, MailJobRecord>(
            "SELECT tenant_id, id, recipient, subject, body, attempts \
             FROM sb_claim_outbox($1, $2, $3)",
        )
        .bind(ms(now))
        .bind(ms(lease_until))
        .bind(limit as i32)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "claim mail to send"))?;
        Ok(rows.into_iter().map(MailJob::from).collect())
    }

    async fn record_mail(
        &self,
        job: &MailJob,
        outcome: Result<DateTime<Utc>, (DateTime<Utc>, String)>,
    ) -> StoreResult<()> {
        let mut tx = self.tenant_tx(job.tenant_id).await?;
        let (sent, retry, error) = match outcome {
            Ok(at) => (Some(ms(at)), None, None),
            Err((retry_at, error)) => (None, Some(ms(retry_at)), Some(error)),
        };
        sqlx::query(
            "UPDATE outbox SET sent_at = $1, next_attempt_at = coalesce($2, next_attempt_at), \
             attempts = attempts + 1, last_error = $3 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(sent)
        .bind(retry)
        .bind(error)
        .bind(job.tenant_id)
        .bind(job.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "record a mail attempt"))?;
        commit(tx, "commit a mail attempt").await
    }

    async fn take_mail_quota(&self, job: &MailJob, quota: MailQuota) -> StoreResult<bool> {
        let mut tx = self.tenant_tx(job.tenant_id).await?;
        // The upsert locks the day's row: concurrent servers take in turn.
        // A limit of 0 inserts nothing: every message waits.
        let limit = i32::try_from(quota.limit).unwrap_or(i32::MAX);
        let taken: Option<i32> = sqlx::query_scalar(
            "INSERT INTO mail_quota (tenant_id, day, sent) SELECT $1, $2, 1 WHERE $3 > 0 \
             ON CONFLICT (tenant_id, day) DO UPDATE SET sent = mail_quota.sent + 1 \
             WHERE mail_quota.sent < $3 RETURNING sent",
        )
        .bind(job.tenant_id)
        .bind(i32::try_from(quota.day).unwrap_or(i32::MAX))
        .bind(limit)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "count an email against the daily quota"))?;
        if taken.is_none() {
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1, last_error = $2 \
                 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(ms(quota.defer_until))
            .bind(quota.reason())
            .bind(job.tenant_id)
            .bind(job.id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "defer an email over the daily quota"))?;
            write_audit(&mut tx, job.tenant_id, &Actor::system(), &quota.audit(job)).await?;
        }
        commit(tx, "commit the daily email quota").await?;
        Ok(taken.is_some())
    }

    async fn purge_events(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let gone: i64 = sqlx::query_scalar("SELECT sb_purge_events($1, $2)")
            .bind(ms(before))
            .bind(i32::try_from(limit).unwrap_or(i32::MAX))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_error(e, "delete events past retention"))?;
        Ok(gone.max(0) as u64)
    }

    async fn purge_outbound(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<OutboundPurge> {
        let (deliveries, mails): (i64, i64) =
            sqlx::query_as("SELECT deliveries, mails FROM sb_purge_outbound($1, $2)")
                .bind(ms(before))
                .bind(i32::try_from(limit).unwrap_or(i32::MAX))
                .fetch_one(&self.pool)
                .await
                .map_err(|e| db_error(e, "delete outbound rows past retention"))?;
        Ok(OutboundPurge {
            deliveries: deliveries.max(0) as u64,
            mails: mails.max(0) as u64,
            events: 0,
        })
    }
}
