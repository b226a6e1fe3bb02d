//! The per-tenant event log that live streams and webhooks read, and the SLA
//! sweep that writes alerts into it. Supertraits of [`super::Store`], so
//! `DynStore` offers them too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use uuid::Uuid;

use super::{EventRecord, StoreResult, SweepReport};

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
    /// up to [`RECLOCK_BATCH`] of its unanswered leads with ids after
    /// `after`, in one short transaction; each lead whose deadline moves gets
    /// a `sla_reclocked` timeline entry, and an alert already sent for a
    /// moment now in the future is sent again when it comes.
    async fn reclock_leads(
        &self,
        tenant_id: Uuid,
        after: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> StoreResult<Reclocked>;
}

/// Leads read per [`SlaStore::reclock_leads`] transaction.
pub const RECLOCK_BATCH: usize = 500;

/// What one [`SlaStore::reclock_leads`] batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reclocked {
    /// Leads read; fewer than [`RECLOCK_BATCH`] means the walk is done.
    pub scanned: usize,
    /// Leads whose deadline moved.
    pub changed: usize,
    /// The last lead read: where the next batch starts.
    pub last: Option<Uuid>,
}

/// A lead's new deadline and at-risk moment under the tenant's `rule`, when either
/// differs from what is stored (compared to the millisecond, the precision
/// both stores keep). The one rule both stores apply.
pub fn new_clock(
    rule: &crate::domain::SlaRule,
    created_at: DateTime<Utc>,
    due: DateTime<Utc>,
    at_risk: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (new_due, new_risk) = rule.clock(created_at);
    let same = |a: DateTime<Utc>, b: DateTime<Utc>| a.timestamp_millis() == b.timestamp_millis();
    (!same(new_due, due) || !same(new_risk, at_risk)).then_some((new_due, new_risk))
}

/// The timeline entry of a moved deadline.
pub fn reclocked_entry(due: DateTime<Utc>, new_due: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({ "from": due, "to": new_due })
}
