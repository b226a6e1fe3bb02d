//! Webhook endpoints, deliveries and attempts on SQLite (deliveries come
//! from the `events_webhook_fanout` trigger), and the outbox's send state.

mod deliveries;
mod endpoints;
mod outbox;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::{db_error, parse_uuid, to_dt, SqliteStore};
use crate::domain::{DeliveryStatus, Page, PageQuery, Webhook, WebhookAttempt, WebhookDelivery};
use crate::store::{
    Actor, AttemptRecord, DeliveryJob, EventRecord, MailJob, MailQuota, OutboundPurge,
    OutboundStore, StoreError, StoreResult, WebhookChange, WebhookRow,
};

const ENDPOINT_COLUMNS: &str = "id, url, events, secret, enabled, disabled_reason, \
     consecutive_failures, failing_since, created_by, created_at, updated_at";

fn endpoint(r: &SqliteRow) -> StoreResult<Webhook> {
    let err = |e| db_error(e, "read a webhook");
    let events: String = r.try_get("events").map_err(err)?;
    let secret_value: String = r.try_get("secret").map_err(err)?;
    Ok(Webhook {
        id: parse_uuid(&r.try_get::<String, _>("id").map_err(err)?)?,
        url: r.try_get("url").map_err(err)?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        enabled: r.try_get::<i64, _>("enabled").map_err(err)? != 0,
        secret_hint: crate::domain::webhook::secret_hint(&secret_value),
        disabled_reason: r.try_get("disabled_reason").map_err(err)?,
        consecutive_failures: r.try_get::<i64, _>("consecutive_failures").map_err(err)? as u32,
        failing_since: r
            .try_get::<Option<i64>, _>("failing_since")
            .map_err(err)?
            .map(to_dt),
        created_by: r
            .try_get::<Option<String>, _>("created_by")
            .map_err(err)?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        created_at: to_dt(r.try_get("created_at").map_err(err)?),
        updated_at: to_dt(r.try_get("updated_at").map_err(err)?),
        last_delivery_status: None,
        last_delivery_at: None,
    })
}

fn attempt(r: &SqliteRow) -> StoreResult<WebhookAttempt> {
    let err = |e| db_error(e, "read a webhook attempt");
    Ok(WebhookAttempt {
        at: to_dt(r.try_get("attempted_at").map_err(err)?),
        status_code: r
            .try_get::<Option<i64>, _>("status_code")
            .map_err(err)?
            .map(|c| c as u16),
        error: r.try_get("error").map_err(err)?,
        latency_ms: r.try_get::<i64, _>("latency_ms").map_err(err)?.max(0) as u64,
        response_excerpt: r.try_get("response_excerpt").map_err(err)?,
    })
}

fn delivery(tenant_id: Uuid, r: &SqliteRow) -> StoreResult<WebhookDelivery> {
    let err = |e| db_error(e, "read a webhook delivery");
    let seq: i64 = r.try_get("event_id").map_err(err)?;
    let status: String = r.try_get("status").map_err(err)?;
    Ok(WebhookDelivery {
        id: parse_uuid(&r.try_get::<String, _>("id").map_err(err)?)?,
        webhook_id: parse_uuid(&r.try_get::<String, _>("webhook_id").map_err(err)?)?,
        event_id: crate::domain::webhook::event_id(tenant_id, seq),
        event_seq: seq,
        event_type: r.try_get("event_kind").map_err(err)?,
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Pending),
        attempt_count: r.try_get::<i64, _>("attempts").map_err(err)? as u32,
        next_attempt_at: r
            .try_get::<Option<i64>, _>("next_attempt_at")
            .map_err(err)?
            .map(to_dt),
        created_at: to_dt(r.try_get("created_at").map_err(err)?),
        delivered_at: r
            .try_get::<Option<i64>, _>("delivered_at")
            .map_err(err)?
            .map(to_dt),
        attempts: Vec::new(),
    })
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_kind, status, attempts, \
     next_attempt_at, created_at, delivered_at";

impl SqliteStore {
    async fn endpoint_in(
        tx: &mut Transaction<'static, Sqlite>,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Webhook> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read a webhook"))?;
        endpoint(&row.ok_or(StoreError::NotFound)?)
    }

    /// Fills in each endpoint's newest delivery.
    async fn with_last_delivery(
        &self,
        tenant_id: Uuid,
        mut hooks: Vec<Webhook>,
    ) -> StoreResult<Vec<Webhook>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT d.webhook_id, d.status, d.created_at FROM webhook_deliveries d \
              WHERE d.tenant_id = ?1 AND d.event_id = ( \
                SELECT max(x.event_id) FROM webhook_deliveries x \
                 WHERE x.tenant_id = ?1 AND x.webhook_id = d.webhook_id)",
        )
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "read webhooks' last deliveries"))?;
        let last = rows
            .into_iter()
            .map(|(id, status, at)| Ok((parse_uuid(&id)?, status, to_dt(at))))
            .collect::<StoreResult<Vec<_>>>()?;
        crate::store::set_last_deliveries(&mut hooks, last);
        Ok(hooks)
    }

    async fn delivery_in(
        tx: &mut Transaction<'static, Sqlite>,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<WebhookDelivery> {
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read a webhook delivery"))?;
        delivery(tenant_id, &row.ok_or(StoreError::NotFound)?)
    }

    async fn attach_attempts(
        &self,
        tenant_id: Uuid,
        deliveries: &mut [WebhookDelivery],
    ) -> StoreResult<()> {
        for d in deliveries {
            let rows = sqlx::query(
                "SELECT attempted_at, status_code, error, latency_ms, response_excerpt \
                 FROM webhook_attempts WHERE tenant_id = ? AND delivery_id = ? \
                 ORDER BY attempted_at, id",
            )
            .bind(tenant_id.to_string())
            .bind(d.id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "read webhook attempts"))?;
            d.attempts = rows.iter().map(attempt).collect::<StoreResult<_>>()?;
        }
        Ok(())
    }
}

#[async_trait]
impl OutboundStore for SqliteStore {
    async fn create_webhook(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WebhookRow,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        endpoints::create_webhook(self, actor, tenant_id, row, now).await
    }

    async fn list_webhooks(&self, tenant_id: Uuid) -> StoreResult<Vec<Webhook>> {
        endpoints::list_webhooks(self, tenant_id).await
    }

    async fn webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Webhook>> {
        endpoints::webhook(self, tenant_id, id).await
    }

    async fn update_webhook(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: WebhookChange,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        endpoints::update_webhook(self, actor, tenant_id, id, change, now).await
    }

    async fn delete_webhook(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        endpoints::delete_webhook(self, actor, tenant_id, id).await
    }

    async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        endpoints::rotate_webhook_secret(self, actor, tenant_id, id, secret, now).await
    }

    async fn list_deliveries(
        &self,
        tenant_id: Uuid,
        webhook_id: Uuid,
        page: &PageQuery,
    ) -> StoreResult<Page<WebhookDelivery>> {
        deliveries::list_deliveries(self, tenant_id, webhook_id, page).await
    }

    async fn replay_delivery(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        webhook_id: Uuid,
        delivery_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookDelivery> {
        deliveries::replay_delivery(self, actor, tenant_id, webhook_id, delivery_id, now).await
    }

    async fn webhook_delivery(
        &self,
        tenant_id: Uuid,
        webhook_id: Uuid,
        delivery_id: Uuid,
    ) -> StoreResult<Option<(WebhookDelivery, Option<EventRecord>)>> {
        deliveries::webhook_delivery(self, tenant_id, webhook_id, delivery_id).await
    }

    async fn send_test_event(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        webhook_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookDelivery> {
        deliveries::send_test_event(self, actor, tenant_id, webhook_id, now).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryJob>> {
        deliveries::claim_deliveries(self, now, lease_until, limit).await
    }

    async fn record_attempt(&self, job: &DeliveryJob, record: AttemptRecord) -> StoreResult<bool> {
        deliveries::record_attempt(self, job, record).await
    }

    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MailJob>> {
        outbox::claim_mail(self, now, lease_until, limit).await
    }

    async fn record_mail(
        &self,
        job: &MailJob,
        outcome: Result<DateTime<Utc>, (DateTime<Utc>, String)>,
    ) -> StoreResult<()> {
        outbox::record_mail(self, job, outcome).await
    }

    async fn take_mail_quota(&self, job: &MailJob, quota: MailQuota) -> StoreResult<bool> {
        outbox::take_mail_quota(self, job, quota).await
    }

    async fn purge_events(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        outbox::purge_events(self, before, limit).await
    }

    async fn purge_outbound(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<OutboundPurge> {
        outbox::purge_outbound(self, before, limit).await
    }
}
