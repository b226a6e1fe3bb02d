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
}
