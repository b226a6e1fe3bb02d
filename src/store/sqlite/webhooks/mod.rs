//! Webhook endpoints, deliveries and attempts on SQLite (deliveries come
//! from the `events_webhook_fanout` trigger), and the outbox's send state.

mod deliveries;
mod endpoints;
mod outbox;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::{db_error, parse_uuid, to_dt, SqliteStore};
use crate::domain::{Page, PageQuery, Webhook, WebhookAttempt, WebhookDelivery};
use crate::store::outbound::{
    DeliveryRecord, WebhookAttemptRecord, WebhookRecord, DELIVERY_COLUMNS, ENDPOINT_COLUMNS,
};
use crate::store::{
    Actor, AttemptRecord, DeliveryJob, EventRecord, MailJob, MailQuota, OutboundPurge,
    OutboundStore, StoreError, StoreResult, WebhookChange, WebhookRow,
};

fn endpoint(r: &SqliteRow) -> StoreResult<Webhook> {
    WebhookRecord::from_row(r)
        .map(Webhook::from)
        .map_err(|e| db_error(e, "read a webhook"))
}

fn attempt(r: &SqliteRow) -> StoreResult<WebhookAttempt> {
    WebhookAttemptRecord::from_row(r)
        .map(WebhookAttempt::from)
        .map_err(|e| db_error(e, "read a webhook attempt"))
}

fn delivery(tenant_id: Uuid, r: &SqliteRow) -> StoreResult<WebhookDelivery> {
    DeliveryRecord::from_row(r)
        .map(|d| d.into_delivery(tenant_id))
        .map_err(|e| db_error(e, "read a webhook delivery"))
}

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
