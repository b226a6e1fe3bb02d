//! Webhook endpoints, deliveries and attempts on SQLite (deliveries come
//! from the `events_webhook_fanout` trigger), and the outbox's send state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::leads::log_event;
use super::{db_error, parse_uuid, to_dt, write_audit, SqliteStore};
use crate::domain::webhook::{DELIVERY_EVENT, TEST_EVENT};
use crate::domain::{DeliveryStatus, Page, PageQuery, Webhook, WebhookAttempt, WebhookDelivery};
use crate::store::{
    Actor, AttemptNext, AttemptRecord, AuditEntry, DeliveryJob, EventRecord, MailJob, MailQuota,
    OutboundPurge, OutboundStore, StoreError, StoreResult, WebhookChange, WebhookRow,
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
        let id = Uuid::now_v7();
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (tenant_id, id, url, events, secret, enabled, \
             created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(&row.url)
        .bind(serde_json::json!(row.events).to_string())
        .bind(&row.secret)
        .bind(row.enabled)
        .bind(actor.user_id.map(|u| u.to_string()))
        .bind(now.timestamp_millis())
        .bind(now.timestamp_millis())
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
        let webhook = Self::endpoint_in(&mut tx, tenant_id, id).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a webhook"))?;
        Ok(webhook)
    }

    async fn list_webhooks(&self, tenant_id: Uuid) -> StoreResult<Vec<Webhook>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ? ORDER BY id"
        ))
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list webhooks"))?;
        let hooks = rows.iter().map(endpoint).collect::<StoreResult<Vec<_>>>()?;
        self.with_last_delivery(tenant_id, hooks).await
    }

    async fn webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Webhook>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "read a webhook"))?;
        let Some(hook) = row.as_ref().map(endpoint).transpose()? else {
            return Ok(None);
        };
        Ok(self.with_last_delivery(tenant_id, vec![hook]).await?.pop())
    }

    async fn update_webhook(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: WebhookChange,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let (_writer, mut tx) = self.write().await?;
        let before = Self::endpoint_in(&mut tx, tenant_id, id).await?;
        let plan = crate::store::plan_webhook_change(&before, &change);
        let url = change.url.unwrap_or(before.url.clone());
        let events = change.events.unwrap_or(before.events.clone());
        let enabled = change.enabled.unwrap_or(before.enabled);
        let reenabled = enabled && !before.enabled;
        sqlx::query(
            "UPDATE webhook_endpoints SET url = ?, events = ?, enabled = ?, updated_at = ?, \
             disabled_reason = CASE WHEN ?5 THEN NULL ELSE disabled_reason END, \
             consecutive_failures = CASE WHEN ?5 THEN 0 ELSE consecutive_failures END, \
             failing_since = CASE WHEN ?5 THEN NULL ELSE failing_since END \
             WHERE tenant_id = ?6 AND id = ?7",
        )
        .bind(&url)
        .bind(serde_json::json!(events).to_string())
        .bind(enabled)
        .bind(now.timestamp_millis())
        .bind(reenabled)
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "update a webhook"))?;
        if let Some(audit) = plan {
            write_audit(&mut tx, tenant_id, actor, &audit).await?;
        }
        let webhook = Self::endpoint_in(&mut tx, tenant_id, id).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a webhook change"))?;
        let mut hooks = self.with_last_delivery(tenant_id, vec![webhook]).await?;
        hooks.pop().ok_or(StoreError::NotFound)
    }

    async fn delete_webhook(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let before = Self::endpoint_in(&mut tx, tenant_id, id).await?;
        sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id.to_string())
            .bind(id.to_string())
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
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a webhook deletion"))?;
        Ok(())
    }

    async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let (_writer, mut tx) = self.write().await?;
        Self::endpoint_in(&mut tx, tenant_id, id).await?;
        sqlx::query(
            "UPDATE webhook_endpoints SET secret = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(secret)
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
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
        let webhook = Self::endpoint_in(&mut tx, tenant_id, id).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a secret rotation"))?;
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
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE tenant_id = ? AND webhook_id = ? AND event_id < ? ORDER BY event_id DESC LIMIT ?"
        ))
        .bind(tenant_id.to_string())
        .bind(webhook_id.to_string())
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list webhook deliveries"))?;
        let items = rows
            .iter()
            .map(|r| delivery(tenant_id, r))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut page = Page::from_rows(items, limit, |d| d.event_seq.to_string());
        self.attach_attempts(tenant_id, &mut page.items).await?;
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
        let (_writer, mut tx) = self.write().await?;
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
        self.attach_attempts(tenant_id, &mut d).await?;
        let [d] = d;
        Ok(d)
    }

    async fn webhook_delivery(
        &self,
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
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "read a webhook delivery"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut d = [delivery(tenant_id, &row)?];
        self.attach_attempts(tenant_id, &mut d).await?;
        let [d] = d;
        let event: Option<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, kind, data, created_at FROM events WHERE tenant_id = ? AND id = ?",
        )
        .bind(tenant_id.to_string())
        .bind(d.event_seq)
        .fetch_optional(&self.pool)
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

    async fn send_test_event(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        webhook_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookDelivery> {
        let (_writer, mut tx) = self.write().await?;
        let hook = Self::endpoint_in(&mut tx, tenant_id, webhook_id).await?;
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

    async fn claim_deliveries(
        &self,
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
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_error(e, "look for due webhook deliveries"))?;
        if !due {
            return Ok(Vec::new());
        }
        let (_writer, mut tx) = self.write().await?;
        // Fair across tenants: each tenant's oldest due delivery first, then
        // each one's second, and so on, so one tenant's backlog cannot
        // delay every other tenant's webhooks.
        let rows = sqlx::query(
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
            let err = |e| db_error(e, "read a due webhook delivery");
            let tenant_id = parse_uuid(&r.try_get::<String, _>("tenant_id").map_err(err)?)?;
            let data: String = r.try_get("data").map_err(err)?;
            let job = DeliveryJob {
                tenant_id,
                delivery_id: parse_uuid(&r.try_get::<String, _>("id").map_err(err)?)?,
                webhook_id: parse_uuid(&r.try_get::<String, _>("webhook_id").map_err(err)?)?,
                url: r.try_get("url").map_err(err)?,
                secret: r.try_get("secret").map_err(err)?,
                event: EventRecord {
                    id: r.try_get("event_id").map_err(err)?,
                    tenant_id,
                    kind: r.try_get("kind").map_err(err)?,
                    data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                    created_at: to_dt(r.try_get("event_at").map_err(err)?),
                },
                attempts: r.try_get::<i64, _>("attempts").map_err(err)? as u32,
                created_at: to_dt(r.try_get("created_at").map_err(err)?),
            };
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

    async fn record_attempt(&self, job: &DeliveryJob, record: AttemptRecord) -> StoreResult<bool> {
        let tenant = job.tenant_id.to_string();
        let a = &record.attempt;
        let at = a.at.timestamp_millis();
        let (_writer, mut tx) = self.write().await?;
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
        let after = Self::delivery_in(&mut tx, job.tenant_id, job.delivery_id).await?;
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

    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MailJob>> {
        let due: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL \
             AND recipient IS NOT NULL AND coalesce(next_attempt_at, created_at) <= ?)",
        )
        .bind(now.timestamp_millis())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_error(e, "look for mail to send"))?;
        if !due {
            return Ok(Vec::new());
        }
        let (_writer, mut tx) = self.write().await?;
        let rows = sqlx::query(
            "SELECT tenant_id, id, recipient, subject, body, attempts FROM outbox \
             WHERE sent_at IS NULL AND recipient IS NOT NULL \
               AND coalesce(next_attempt_at, created_at) <= ? \
             ORDER BY created_at LIMIT ?",
        )
        .bind(now.timestamp_millis())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "find mail to send"))?;
        let mut jobs = Vec::with_capacity(rows.len());
        for r in rows {
            let err = |e| db_error(e, "read an outbox message");
            let job = MailJob {
                tenant_id: parse_uuid(&r.try_get::<String, _>("tenant_id").map_err(err)?)?,
                id: parse_uuid(&r.try_get::<String, _>("id").map_err(err)?)?,
                recipient: r.try_get("recipient").map_err(err)?,
                subject: r.try_get("subject").map_err(err)?,
                body: r.try_get("body").map_err(err)?,
                attempts: r.try_get::<i64, _>("attempts").map_err(err)? as u32,
            };
            sqlx::query("UPDATE outbox SET next_attempt_at = ? WHERE tenant_id = ? AND id = ?")
                .bind(lease_until.timestamp_millis())
                .bind(job.tenant_id.to_string())
                .bind(job.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "lease an outbox message"))?;
            jobs.push(job);
        }
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit outbox leases"))?;
        Ok(jobs)
    }

    async fn record_mail(
        &self,
        job: &MailJob,
        outcome: Result<DateTime<Utc>, (DateTime<Utc>, String)>,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let q = match &outcome {
            Ok(at) => sqlx::query(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL \
                 WHERE tenant_id = ? AND id = ?",
            )
            .bind(at.timestamp_millis()),
            Err((retry_at, error)) => sqlx::query(
                "UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1, last_error = ? \
                 WHERE tenant_id = ? AND id = ?",
            )
            .bind(retry_at.timestamp_millis())
            .bind(error.as_str()),
        };
        q.bind(job.tenant_id.to_string())
            .bind(job.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "record a mail attempt"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a mail attempt"))?;
        Ok(())
    }

    async fn take_mail_quota(&self, job: &MailJob, quota: MailQuota) -> StoreResult<bool> {
        let (_writer, mut tx) = self.write().await?;
        // A limit of 0 inserts nothing: every message waits.
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO mail_quota (tenant_id, day, sent) SELECT ?, ?, 1 WHERE ? > 0 \
             ON CONFLICT (tenant_id, day) DO UPDATE SET sent = mail_quota.sent + 1 \
             WHERE mail_quota.sent < ? RETURNING sent",
        )
        .bind(job.tenant_id.to_string())
        .bind(quota.day)
        .bind(i64::from(quota.limit))
        .bind(i64::from(quota.limit))
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "count an email against the daily quota"))?;
        if taken.is_none() {
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = ?, last_error = ? \
                 WHERE tenant_id = ? AND id = ?",
            )
            .bind(quota.defer_until.timestamp_millis())
            .bind(quota.reason())
            .bind(job.tenant_id.to_string())
            .bind(job.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "defer an email over the daily quota"))?;
            write_audit(&mut tx, job.tenant_id, &Actor::system(), &quota.audit(job)).await?;
        }
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit the daily email quota"))?;
        Ok(taken.is_some())
    }

    async fn purge_events(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let (_writer, mut tx) = self.write().await?;
        let gone = sqlx::query(
            "DELETE FROM events WHERE id IN ( \
               SELECT e.id FROM events e WHERE e.created_at < ? \
                  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                                   WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id) \
                ORDER BY e.id LIMIT ?)",
        )
        .bind(before.timestamp_millis())
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "delete events past retention"))?
        .rows_affected();
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an event purge"))?;
        Ok(gone)
    }

    async fn purge_outbound(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<OutboundPurge> {
        let before = before.timestamp_millis();
        let (_writer, mut tx) = self.write().await?;
        // Attempts go with their delivery (ON DELETE CASCADE).
        let deliveries = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE rowid IN ( \
               SELECT d.rowid FROM webhook_deliveries d \
                WHERE d.status IN ('delivered', 'failed') AND d.created_at < ? \
                  AND CASE WHEN d.status = 'delivered' THEN d.delivered_at < ? \
                           ELSE NOT EXISTS (SELECT 1 FROM webhook_attempts a \
                                             WHERE a.tenant_id = d.tenant_id \
                                               AND a.delivery_id = d.id \
                                               AND a.attempted_at >= ?) \
                      END \
                LIMIT ?)",
        )
        .bind(before)
        .bind(before)
        .bind(before)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "delete webhook deliveries past retention"))?
        .rows_affected();
        let mails = sqlx::query(
            "DELETE FROM outbox WHERE rowid IN ( \
               SELECT rowid FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "delete sent mail past retention"))?
        .rows_affected();
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a retention purge"))?;
        Ok(OutboundPurge {
            deliveries,
            mails,
            events: 0,
        })
    }
}
