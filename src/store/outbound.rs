//! What the store keeps for outbound traffic: webhook endpoints, their
//! deliveries (created by a trigger on the event log, in the same
//! transaction as the event) and attempts; and the email outbox's sending
//! state. A supertrait of [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::row::{Id, Int, JsonOrNull, TextListOrEmpty, Time};
use super::{Actor, EventRecord, StoreResult};
use crate::domain::{DeliveryStatus, Page, PageQuery, Webhook, WebhookAttempt, WebhookDelivery};

/// A webhook endpoint's columns, in [`WebhookRecord`]'s order.
pub(crate) const ENDPOINT_COLUMNS: &str = "id, url, events, secret, enabled, disabled_reason, \
     consecutive_failures, failing_since, created_by, created_at, updated_at";

/// A webhook delivery's columns, in [`DeliveryRecord`]'s order.
pub(crate) const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_kind, status, \
     attempts, next_attempt_at, created_at, delivered_at";

/// A delivery claimed for sending, with its endpoint and event (data that
/// does not parse reads as null).
#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryJobRecord {
    tenant_id: Id,
    id: Id,
    webhook_id: Id,
    attempts: Int,
    created_at: Time,
    url: String,
    secret: String,
    event_id: i64,
    kind: String,
    data: JsonOrNull,
    event_at: Time,
}

impl From<DeliveryJobRecord> for DeliveryJob {
    fn from(r: DeliveryJobRecord) -> DeliveryJob {
        let tenant_id = r.tenant_id.into();
        DeliveryJob {
            tenant_id,
            delivery_id: r.id.into(),
            webhook_id: r.webhook_id.into(),
            url: r.url,
            secret: r.secret,
            event: EventRecord {
                id: r.event_id,
                tenant_id,
                kind: r.kind,
                data: r.data.0,
                created_at: r.event_at.into(),
            },
            attempts: r.attempts.0 as u32,
            created_at: r.created_at.into(),
        }
    }
}

/// An email claimed for sending.
#[derive(sqlx::FromRow)]
pub(crate) struct MailJobRecord {
    tenant_id: Id,
    id: Id,
    recipient: String,
    subject: String,
    body: String,
    attempts: Int,
}

impl From<MailJobRecord> for MailJob {
    fn from(r: MailJobRecord) -> MailJob {
        MailJob {
            tenant_id: r.tenant_id.into(),
            id: r.id.into(),
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            attempts: r.attempts.0 as u32,
        }
    }
}

/// A webhook endpoint as stored; only a hint of its secret leaves the store.
#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRecord {
    id: Id,
    url: String,
    events: TextListOrEmpty,
    secret: String,
    enabled: bool,
    disabled_reason: Option<String>,
    consecutive_failures: Int,
    failing_since: Option<Time>,
    created_by: Option<Id>,
    created_at: Time,
    updated_at: Time,
}

impl From<WebhookRecord> for Webhook {
    fn from(r: WebhookRecord) -> Webhook {
        Webhook {
            id: r.id.into(),
            url: r.url,
            events: r.events.0,
            enabled: r.enabled,
            secret_hint: crate::domain::webhook::secret_hint(&r.secret),
            disabled_reason: r.disabled_reason,
            consecutive_failures: r.consecutive_failures.0 as u32,
            failing_since: r.failing_since.map(Into::into),
            created_by: r.created_by.map(Into::into),
            created_at: r.created_at.into(),
            updated_at: r.updated_at.into(),
            last_delivery_status: None,
            last_delivery_at: None,
        }
    }
}

/// A delivery attempt as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct WebhookAttemptRecord {
    attempted_at: Time,
    status_code: Option<Int>,
    error: Option<String>,
    latency_ms: i64,
    response_excerpt: String,
}

impl From<WebhookAttemptRecord> for WebhookAttempt {
    fn from(r: WebhookAttemptRecord) -> WebhookAttempt {
        WebhookAttempt {
            at: r.attempted_at.into(),
            status_code: r.status_code.map(|c| c.0 as u16),
            error: r.error,
            latency_ms: r.latency_ms.max(0) as u64,
            response_excerpt: r.response_excerpt,
        }
    }
}

/// A delivery as stored (its attempts are read apart); a status no
/// variant reads is pending.
#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRecord {
    id: Id,
    webhook_id: Id,
    event_id: i64,
    event_kind: String,
    status: String,
    attempts: Int,
    next_attempt_at: Option<Time>,
    created_at: Time,
    delivered_at: Option<Time>,
}

impl DeliveryRecord {
    pub(crate) fn into_delivery(self, tenant_id: Uuid) -> WebhookDelivery {
        WebhookDelivery {
            id: self.id.into(),
            webhook_id: self.webhook_id.into(),
            event_id: crate::domain::webhook::event_id(tenant_id, self.event_id),
            event_seq: self.event_id,
            event_type: self.event_kind,
            status: DeliveryStatus::parse(&self.status).unwrap_or(DeliveryStatus::Pending),
            attempt_count: self.attempts.0 as u32,
            next_attempt_at: self.next_attempt_at.map(Into::into),
            created_at: self.created_at.into(),
            delivered_at: self.delivered_at.map(Into::into),
            attempts: Vec::new(),
        }
    }
}

/// An endpoint as stored; `secret` is the signing secret in clear (the
/// server needs it to sign).
#[derive(Clone)]
pub struct WebhookRow {
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub secret: String,
}

/// A change to an endpoint; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// A delivery claimed for one attempt, with what the attempt needs.
#[derive(Clone)]
pub struct DeliveryJob {
    pub tenant_id: Uuid,
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub url: String,
    pub secret: String,
    pub event: EventRecord,
    /// Attempts made before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for DeliveryJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryJob")
            .field("tenant_id", &self.tenant_id)
            .field("delivery_id", &self.delivery_id)
            .field("webhook_id", &self.webhook_id)
            .field("event", &self.event.id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What became of an attempt, decided by the dispatcher.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempt: WebhookAttempt,
    pub next: AttemptNext,
    /// When set, disable the endpoint if its failure run (including this
    /// attempt) meets the policy; the store reports whether it did.
    pub disable: Option<crate::domain::RetryPolicy>,
}

#[derive(Debug, Clone, Copy)]
pub enum AttemptNext {
    Delivered,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// An outbox message claimed for sending.
#[derive(Debug, Clone)]
pub struct MailJob {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: u32,
}

/// A tenant's daily email quota, as the mailer applies it to one message.
#[derive(Debug, Clone, Copy)]
pub struct MailQuota {
    /// Emails a tenant may send per UTC day.
    pub limit: u32,
    /// The UTC day counted, in days since 1970-01-01.
    pub day: i64,
    /// When a message over the quota is due again: the next day's start.
    pub defer_until: DateTime<Utc>,
}

impl MailQuota {
    /// The quota of `limit` for the UTC day of `now`.
    pub fn on(limit: u32, now: DateTime<Utc>) -> MailQuota {
        let day = now.timestamp().div_euclid(86_400);
        let defer_until = DateTime::from_timestamp((day + 1) * 86_400, 0).unwrap_or(now);
        MailQuota {
            limit,
            day,
            defer_until,
        }
    }

    /// What a message over the quota records as its `last_error`.
    pub fn reason(&self) -> String {
        format!(
            "deferred: this tenant reached its daily quota of {} emails; it is sent after {} \
             (the quota is email_daily_quota_per_tenant in the server's configuration)",
            self.limit,
            self.defer_until
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }

    /// The audit entry of a deferred message (system actor).
    pub fn audit(&self, job: &MailJob) -> super::AuditEntry {
        super::AuditEntry {
            action: "email.deferred",
            resource: "email",
            resource_id: job.id.to_string(),
            changes: serde_json::json!({
                "reason": "daily_quota",
                "quota": self.limit,
                "deferred_until": self.defer_until,
            }),
        }
    }
}

/// What one retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundPurge {
    /// Webhook deliveries, each with its attempts.
    pub deliveries: u64,
    /// Sent outbox messages.
    pub mails: u64,
    /// Live events (the log streams resume from).
    pub events: u64,
}

#[async_trait]
pub trait OutboundStore: Send + Sync + 'static {
    async fn create_webhook(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WebhookRow,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook>;
    async fn list_webhooks(&self, tenant_id: Uuid) -> StoreResult<Vec<Webhook>>;
    async fn webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Webhook>>;
    /// Re-enabling clears the failure run.
    async fn update_webhook(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: WebhookChange,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook>;
    async fn delete_webhook(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook>;
    /// Newest event first; the cursor is the last item's `event_seq`.
    async fn list_deliveries(
        &self,
        tenant_id: Uuid,
        webhook_id: Uuid,
        page: &PageQuery,
    ) -> StoreResult<Page<WebhookDelivery>>;
    /// One delivery of an endpoint with its attempts, and the event it
    /// delivers (`None` if the event is gone).
    async fn webhook_delivery(
        &self,
        tenant_id: Uuid,
        webhook_id: Uuid,
        delivery_id: Uuid,
    ) -> StoreResult<Option<(WebhookDelivery, Option<EventRecord>)>>;
    /// Writes a `webhook.test` event delivered to this endpoint only, due
    /// now, with a `webhook.test` audit entry.
    async fn send_test_event(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        webhook_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookDelivery>;
    /// Makes a delivery pending again, due now (same event id).
    async fn replay_delivery(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        webhook_id: Uuid,
        delivery_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<WebhookDelivery>;
    /// Claims up to `limit` due deliveries of enabled endpoints across
    /// tenants, leasing each until `lease_until` (a process that dies
    /// mid-attempt leaves it to be claimed again then). Safe with several
    /// processes: each delivery is claimed by one.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryJob>>;
    /// Logs an attempt and moves the delivery on, with a `webhook.delivery`
    /// live event (see [`delivery_event`]); returns whether the endpoint was
    /// disabled (a `webhook.disabled` event was written).
    async fn record_attempt(&self, job: &DeliveryJob, record: AttemptRecord) -> StoreResult<bool>;

    /// Claims up to `limit` unsent outbox messages that have a recipient and
    /// are due, leasing them until `lease_until`.
    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MailJob>>;
    /// `Ok(at)` marks it sent; `Err((retry_at, error))` counts a failed attempt.
    async fn record_mail(
        &self,
        job: &MailJob,
        outcome: Result<DateTime<Utc>, (DateTime<Utc>, String)>,
    ) -> StoreResult<()>;

    /// Takes one email from `job`'s tenant's daily quota; atomic, so servers
    /// sharing the store never send more than `quota.limit` between them.
    /// When the quota is spent, the message is deferred instead (due at
    /// `quota.defer_until`, `last_error` saying why, attempts unchanged) with
    /// an `email.deferred` audit entry, and `false` is returned.
    async fn take_mail_quota(&self, job: &MailJob, quota: MailQuota) -> StoreResult<bool>;

    /// Retention, across tenants: deletes up to `limit` webhook deliveries
    /// (with their attempts) finished before `before` — delivered then, or
    /// given up (`failed`) with no attempt since — and up to `limit`
    /// messages sent before `before`. Pending deliveries (due, leased,
    /// retrying, or waiting on a disabled endpoint) and unsent mail are
    /// never deleted.
    /// Retention of the live event log, across tenants: deletes up to
    /// `limit` events older than `before` that no webhook delivery still
    /// refers to (a delivery's payload is its event). Returns how many went.
    async fn purge_events(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64>;
    async fn purge_outbound(&self, before: DateTime<Utc>, limit: u32)
        -> StoreResult<OutboundPurge>;
}

/// The data of the `webhook.delivery` live event an attempt writes: the
/// delivery after it and the attempt. Such events (and `webhook.test` ones)
/// are not for the endpoints that subscribe to everything: the event log's
/// fan-out trigger makes deliveries of every event, so the store removes
/// those (see [`not_fanned_out`]) in the transaction that wrote the event.
pub fn delivery_event(delivery: &WebhookDelivery, attempt: &WebhookAttempt) -> serde_json::Value {
    serde_json::json!({ "delivery": delivery, "attempt": attempt })
}

/// The SQL, the same on both stores, that removes the deliveries the
/// fan-out trigger made of one event (`$1`/`?1` the tenant, `$2`/`?2` the
/// event), except to the endpoint `$3`/`?3` when set.
pub fn not_fanned_out(postgres: bool) -> &'static str {
    if postgres {
        "DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND event_id = $2 \
         AND webhook_id IS DISTINCT FROM $3"
    } else {
        "DELETE FROM webhook_deliveries WHERE tenant_id = ?1 AND event_id = ?2 \
         AND webhook_id IS NOT ?3"
    }
}

/// The data of a test event: which endpoint it tests.
pub fn test_event(webhook: &Webhook) -> serde_json::Value {
    serde_json::json!({
        "webhook": { "id": webhook.id, "url": webhook.url },
        "message": "a test event sent from Switchboard",
    })
}

/// Sets each endpoint's newest delivery (status and when its event was
/// written) from `(webhook, status, at)` rows.
pub fn set_last_deliveries(hooks: &mut [Webhook], last: Vec<(Uuid, String, DateTime<Utc>)>) {
    for (id, status, at) in last {
        if let Some(h) = hooks.iter_mut().find(|h| h.id == id) {
            h.last_delivery_status = crate::domain::DeliveryStatus::parse(&status);
            h.last_delivery_at = Some(at);
        }
    }
}

/// The audit entry for a change (`None` when nothing changes): field names
/// and new values, never the secret.
pub fn plan_webhook_change(before: &Webhook, change: &WebhookChange) -> Option<super::AuditEntry> {
    let mut changes = serde_json::Map::new();
    if let Some(url) = change.url.as_ref().filter(|u| **u != before.url) {
        changes.insert(
            "url".into(),
            serde_json::json!({ "from": before.url, "to": url }),
        );
    }
    if let Some(events) = change.events.as_ref().filter(|e| **e != before.events) {
        changes.insert(
            "events".into(),
            serde_json::json!({ "from": before.events, "to": events }),
        );
    }
    if let Some(enabled) = change.enabled.filter(|e| *e != before.enabled) {
        changes.insert(
            "enabled".into(),
            serde_json::json!({ "from": before.enabled, "to": enabled }),
        );
    }
    (!changes.is_empty()).then(|| super::AuditEntry {
        action: "webhook.update",
        resource: "webhook",
        resource_id: before.id.to_string(),
        changes: serde_json::Value::Object(changes),
    })
}

/// Why an endpoint was disabled, for the endpoint and its event.
pub fn disabled_reason(failures: u32, since: DateTime<Utc>) -> String {
    format!(
        "disabled after {failures} failed attempts in a row since {}",
        since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// The `webhook.disabled` event's data.
pub fn disabled_event(job: &DeliveryJob, failures: u32, reason: &str) -> serde_json::Value {
    serde_json::json!({
        "webhook_id": job.webhook_id,
        "url": job.url,
        "consecutive_failures": failures,
        "reason": reason,
    })
}
