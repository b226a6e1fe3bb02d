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

use super::conn::{write_audit, Backend, Conn, Stmt};
use super::row::{Id, Int};
use super::sql::Dialect;
use super::{Actor, AuditEntry, StoreError, StoreResult};
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

/// SQLite's tables declared WITHOUT ROWID, and the key that picks their
/// rows within a tenant (every other table is picked by `rowid`).
const WITHOUT_ROWID: [(&str, &str); 4] = [
    ("eval_sets", "id"),
    ("eval_cases", "id"),
    ("eval_runs", "id"),
    ("eval_results", "run_id, case_id, lane"),
];

/// Deletes up to `$2` of tenant `$1`'s rows of `table`, each engine by its
/// own row address.
fn batch_delete_sql(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres => format!(
            "DELETE FROM {table} WHERE ctid = ANY (ARRAY( \
             SELECT ctid FROM {table} WHERE tenant_id = $1 LIMIT $2))"
        ),
        Dialect::Sqlite => {
            let key = WITHOUT_ROWID
                .iter()
                .find(|(t, _)| *t == table)
                .map_or("rowid", |(_, k)| k);
            format!(
                "DELETE FROM {table} WHERE tenant_id = $1 AND ({key}) IN \
                 (SELECT {key} FROM {table} WHERE tenant_id = $1 LIMIT $2)"
            )
        }
    }
}

/// On PostgreSQL every statement on a tenant table runs under that
/// tenant's RLS; the last step's cascades (run by the referential
/// triggers) take the small tables with the tenant's row.
#[async_trait]
impl<B: Backend> PurgeStore for B {
    async fn mark_tenant_deleting(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.writing(tenant.id).await?;
        let mark = Stmt::new(
            "UPDATE tenants SET deleting_at = $1, deleted_by = $2 \
             WHERE id = $3 AND deleting_at IS NULL AND NOT is_platform",
            "mark a tenant for deletion",
        )
        .time(now)
        .opt_text(actor.email.clone())
        .id(tenant.id);
        if tx.execute(mark).await? == 0 {
            return Err(StoreError::NotFound);
        }
        for table in ["memberships", "invitations"] {
            let delete = Stmt::new(
                format!("DELETE FROM {table} WHERE tenant_id = $1"),
                "remove a deleted tenant's members",
            )
            .id(tenant.id);
            tx.execute(delete).await?;
        }
        let platform = Stmt::new(
            "SELECT id FROM tenants WHERE is_platform",
            "find the platform tenant",
        );
        let (Id(platform),) = tx.fetch_one::<(Id,)>(platform).await?;
        // The record is the platform tenant's: write it under its RLS.
        tx.set_tenant(platform).await?;
        write_audit(&mut tx, platform, actor, &deletion_audit(tenant, now)).await?;
        tx.commit("commit a tenant's deletion").await
    }

    async fn purge_tenant_step(&self, tenant_id: Uuid) -> StoreResult<PurgeStep> {
        let mut tx = self.writing(tenant_id).await?;
        // FOR UPDATE: two processes resuming one purge take turns.
        let marked = Stmt::new(
            "SELECT 1 FROM tenants WHERE id = $1 AND deleting_at IS NOT NULL FOR UPDATE",
            "read a tenant's deletion",
        )
        .id(tenant_id);
        if tx.fetch_optional::<(Int,)>(marked).await?.is_none() {
            return Ok(PurgeStep {
                deleted: 0,
                done: true,
            });
        }
        for table in PURGE_ORDER {
            let batch = Stmt::new(
                batch_delete_sql(tx.dialect(), table),
                "purge a deleted tenant's rows",
            )
            .id(tenant_id)
            .arg(super::conn::Arg::Int(PURGE_BATCH));
            let gone = tx.execute(batch).await?;
            if gone > 0 {
                tx.commit("commit a purge batch").await?;
                return Ok(PurgeStep {
                    deleted: gone,
                    done: false,
                });
            }
        }
        // What is left follows the row through its cascading keys.
        let delete = Stmt::new(
            "DELETE FROM tenants WHERE id = $1 AND deleting_at IS NOT NULL",
            "delete a purged tenant",
        )
        .id(tenant_id);
        tx.execute(delete).await?;
        tx.commit("commit a tenant's deletion").await?;
        Ok(PurgeStep {
            deleted: 0,
            done: true,
        })
    }

    async fn pending_purges(&self) -> StoreResult<Vec<Uuid>> {
        let mut tx = self.reading_global().await?;
        let pending = Stmt::new(
            "SELECT id FROM tenants WHERE deleting_at IS NOT NULL",
            "list tenants being deleted",
        );
        let ids = tx.fetch_all::<(Id,)>(pending).await?;
        tx.commit("end a read").await?;
        Ok(ids.into_iter().map(|(id,)| id.into()).collect())
    }
}
