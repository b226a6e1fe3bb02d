//! Deleting a tenant: the request marks it (gone to every lookup, its
//! members and invitations removed, an audit record on the platform tenant)
//! in one transaction; its data then goes in short batches, table by table
//! in [`PURGE_ORDER`], each batch its own transaction, and the last step
//! deletes the tenant's row, which takes what is left (small tables) through
//! their `ON DELETE CASCADE` keys. The mark is stored, so a restarted server
//! resumes the purge where it stopped.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Actor, AuditEntry, StoreResult};
use crate::domain::Tenant;

/// The tenant's large tables, emptied in batches before its row is deleted:
/// children before the tables their keys point at, webhooks first (so no
/// delivery goes out for a tenant being deleted). Every other tenant table
/// is small and follows the tenant's row through its cascading key; the
/// catalogue test checks that nothing is left either way.
pub const PURGE_ORDER: [&str; 22] = [
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "outbox",
    "events",
    "eval_results",
    "eval_runs",
    "eval_cases",
    "eval_sets",
    "workflow_steps",
    "workflows",
    "lead_events",
    "leads",
    "playground_messages",
    "playground_sessions",
    "knowledge_chunks",
    "agent_knowledge",
    "knowledge_documents",
    "audit_events",
    "idempotency_keys",
    "agent_versions",
    "agents",
];

/// Rows deleted per purge transaction.
pub const PURGE_BATCH: i64 = 1000;

/// What one [`PurgeStore::purge_tenant_step`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeStep {
    /// Rows deleted by this step (the tenant's row not counted).
    pub deleted: u64,
    /// The tenant's row is gone (or was never marked): nothing is left.
    pub done: bool,
}

/// The audit record kept on the platform tenant when `tenant` is deleted:
/// who asked (the entry's actor), what (its id, name and slug) and when.
pub fn deletion_audit(tenant: &Tenant, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        action: "tenant.delete",
        resource: "tenant",
        resource_id: tenant.id.to_string(),
        changes: serde_json::json!({
            "name": tenant.name,
            "slug": tenant.slug,
            "requested_at": at,
        }),
    }
}

#[async_trait]
pub trait PurgeStore: Send + Sync {
    /// Marks `tenant` as being deleted, in one transaction: hidden from
    /// every lookup (404 to all, 410 to its ingest keys), its memberships
    /// and invitations removed, and [`deletion_audit`] written on the
    /// platform tenant. `NotFound` for the platform tenant or one already
    /// being deleted.
    async fn mark_tenant_deleting(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes up to [`PURGE_BATCH`] rows of a tenant being deleted (the
    /// first table of [`PURGE_ORDER`] that still has some), or, when they
    /// are all empty, the tenant's row. Does nothing for a tenant that is
    /// not marked.
    async fn purge_tenant_step(&self, tenant_id: Uuid) -> StoreResult<PurgeStep>;
    /// Tenants marked for deletion whose purge has not finished.
    async fn pending_purges(&self) -> StoreResult<Vec<Uuid>>;
}
