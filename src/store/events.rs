//! The per-tenant event log that live streams and webhooks read, and the SLA
//! sweep that writes alerts into it. Supertraits of [`super::Store`], so
//! `DynStore` offers them too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use uuid::Uuid;

use super::row::{Id, Int, JsonOrNull, Lenient, Time};
use super::{EventRecord, StoreResult, SweepReport};
use crate::domain::TenantSettings;

/// An event as [`EVENTS_AFTER_SQL`] reads it; data that does not parse
/// reads as null.
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: i64,
    kind: String,
    data: JsonOrNull,
    created_at: Time,
}

impl EventRow {
    pub(crate) fn into_event(self, tenant_id: Uuid) -> EventRecord {
        EventRecord {
            id: self.id,
            tenant_id,
            kind: self.kind,
            data: self.data.0,
            created_at: self.created_at.into(),
        }
    }
}

/// Tenant `$1`'s events after id `$2`, in order, at most `$3`.
pub(crate) const EVENTS_AFTER_SQL: &str = "SELECT id, kind, data, created_at FROM events \
     WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3";

/// An outbox message as [`PENDING_OUTBOX_SQL`] reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRecord {
    id: Id,
    kind: String,
    recipient: Option<String>,
    subject: String,
    body: String,
    created_at: Time,
    attempts: Int,
    last_error: Option<String>,
}

impl From<OutboxRecord> for OutboxMessage {
    fn from(r: OutboxRecord) -> OutboxMessage {
        OutboxMessage {
            id: r.id.into(),
            kind: r.kind,
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            created_at: r.created_at.into(),
            attempts: r.attempts.0 as u32,
            last_error: r.last_error,
        }
    }
}

/// Tenant `$1`'s unsent emails, oldest first.
pub(crate) const PENDING_OUTBOX_SQL: &str = "SELECT id, kind, recipient, subject, body, \
     created_at, attempts, last_error FROM outbox \
     WHERE tenant_id = $1 AND sent_at IS NULL ORDER BY id";

/// A lead an SLA alert is due for, with its tenant's name and settings
/// (settings that do not parse read as the defaults).
#[derive(sqlx::FromRow)]
pub(crate) struct SlaCandidate {
    tenant_id: Id,
    id: Id,
    pub name: String,
    sla_due_at: Time,
    pub tenant_name: String,
    settings: Lenient<TenantSettings>,
}

impl SlaCandidate {
    pub(crate) fn tenant_id(&self) -> Uuid {
        self.tenant_id.into()
    }
    pub(crate) fn lead_id(&self) -> Uuid {
        self.id.into()
    }
    pub(crate) fn due(&self) -> DateTime<Utc> {
        self.sla_due_at.into()
    }
    pub(crate) fn manager_email(&self) -> Option<&str> {
        self.settings.0.as_ref()?.manager_email.as_deref()
    }
}

/// A tenant's reclock state: its settings (the defaults where they do not
/// parse) and the last lead reclocked.
#[derive(sqlx::FromRow)]
pub(crate) struct ReclockState {
    settings: Lenient<TenantSettings>,
    reclock_after: Option<Id>,
}

impl ReclockState {
    pub(crate) fn settings(&self) -> TenantSettings {
        self.settings.0.clone().unwrap_or_default()
    }
    pub(crate) fn after(&self) -> Option<Uuid> {
        self.reclock_after.map(Into::into)
    }
}

/// A lead's stored clock, as [`StoredClock`].
#[derive(sqlx::FromRow)]
pub(crate) struct ClockRecord {
    id: Id,
    created_at: Time,
    sla_due_at: Time,
    at_risk_at: Time,
}

impl From<ClockRecord> for StoredClock {
    fn from(r: ClockRecord) -> StoredClock {
        StoredClock {
            id: r.id.into(),
            created_at: r.created_at.into(),
            due: r.sla_due_at.into(),
            at_risk: r.at_risk_at.into(),
        }
    }
}

/// The event log, read in order from an id.
#[async_trait]
pub trait EventStore: Send + Sync {
    async fn events_after(
        &self,
        tenant_id: Uuid,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<EventRecord>>;
    async fn last_event_id(&self, tenant_id: Uuid) -> StoreResult<i64>;
    /// Tenants whose event log grew, written by any process sharing the
    /// store (PostgreSQL LISTEN/NOTIFY), for waking live streams. `None`
    /// when this process is the only writer (SQLite): `AppState::notify`
    /// already covers it.
    async fn event_wakeups(&self) -> StoreResult<Option<BoxStream<'static, Uuid>>> {
        Ok(None)
    }
}

/// An email in the outbox, with its sending state.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub kind: String,
    pub recipient: Option<String>,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// Failed send attempts so far, and the last one's error.
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The SLA watcher and the outbox mail it queues.
#[async_trait]
pub trait SlaStore: Send + Sync {
    /// Emits every due at-risk and breach alert exactly once (claimed with a
    /// persisted flag), with timeline entries, events and outbox mail.
    async fn sla_sweep(&self, now: DateTime<Utc>) -> StoreResult<SweepReport>;
    /// Outbox messages not yet sent (for delivery and for tests).
    async fn pending_outbox(&self, tenant_id: Uuid) -> StoreResult<Vec<OutboxMessage>>;
    /// Recomputes, from the tenant's current settings, the SLA deadlines of
    /// the next [`RECLOCK_BATCH`] of its unanswered leads after the stored
    /// cursor (`reclock_after`), in one short transaction that also moves
    /// the cursor, or clears the pending mark after the last batch. Nothing
    /// happens unless a settings change marked the tenant pending (so a
    /// restart resumes exactly where the last committed batch stopped).
    /// Each lead whose deadline moves gets a `sla_reclocked` timeline
    /// entry, and an alert already sent for a moment now in the future is
    /// sent again when it comes.
    async fn reclock_leads(&self, tenant_id: Uuid, now: DateTime<Utc>) -> StoreResult<Reclocked>;
    /// Tenants whose deadlines still need recomputing (a settings change
    /// marked them; a restart or failure left them unfinished).
    async fn pending_reclocks(&self) -> StoreResult<Vec<Uuid>>;
}

/// Leads read per [`SlaStore::reclock_leads`] transaction.
pub const RECLOCK_BATCH: usize = 500;

/// What one [`SlaStore::reclock_leads`] batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reclocked {
    /// Leads read.
    pub scanned: usize,
    /// Leads whose deadline moved.
    pub changed: usize,
    /// Nothing is left to recompute: the pending mark is cleared (or was
    /// never set).
    pub done: bool,
}

/// An unanswered lead's stored clock, as a reclock batch reads it.
#[derive(Debug, Clone, Copy)]
pub struct StoredClock {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub due: DateTime<Utc>,
    pub at_risk: DateTime<Utc>,
}

/// A lead whose deadline moves: the stored deadline, the new one and the
/// new at-risk moment.
#[derive(Debug, Clone, Copy)]
pub struct Moved {
    pub id: Uuid,
    pub due: DateTime<Utc>,
    pub new_due: DateTime<Utc>,
    pub new_risk: DateTime<Utc>,
}

/// The leads of a batch whose deadline or at-risk moment differs under
/// `rule` from what is stored (compared to the millisecond, the precision
/// both stores keep). The one rule both stores apply.
pub fn moved_clocks(rule: &crate::domain::SlaRule, rows: &[StoredClock]) -> Vec<Moved> {
    let same = |a: DateTime<Utc>, b: DateTime<Utc>| a.timestamp_millis() == b.timestamp_millis();
    rows.iter()
        .filter_map(|r| {
            let (new_due, new_risk) = rule.clock(r.created_at);
            (!same(new_due, r.due) || !same(new_risk, r.at_risk)).then_some(Moved {
                id: r.id,
                due: r.due,
                new_due,
                new_risk,
            })
        })
        .collect()
}

/// Where the cursor goes after a batch that read `rows`: the last lead
/// read, or `None` (done) when the batch was not full.
pub fn next_cursor(rows: &[StoredClock]) -> Option<Uuid> {
    if rows.len() < RECLOCK_BATCH {
        return None;
    }
    rows.last().map(|r| r.id)
}

/// The timeline entry of a moved deadline.
pub fn reclocked_entry(due: DateTime<Utc>, new_due: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({ "from": due, "to": new_due })
}
