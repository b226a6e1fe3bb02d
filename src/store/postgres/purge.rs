//! Deleting a tenant on PostgreSQL: the mark, the batched purge, the list of
//! purges left unfinished (see `store::purge`). Every statement on a tenant
//! table runs under that tenant's RLS; the last step's cascades (run by the
//! referential triggers) take the small tables with the tenant's row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{db_error, ms, set_tenant, write_audit, PgStore};
use crate::domain::Tenant;
use crate::store::{
    deletion_audit, Actor, PurgeStep, PurgeStore, StoreError, StoreResult, PURGE_BATCH, PURGE_ORDER,
};

#[async_trait]
impl PurgeStore for PgStore {
    async fn mark_tenant_deleting(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant.id).await?;
        let marked = sqlx::query(
            "UPDATE tenants SET deleting_at = $1, deleted_by = $2 \
             WHERE id = $3 AND deleting_at IS NULL AND NOT is_platform",
        )
        .bind(ms(now))
        .bind(actor.email.as_deref())
        .bind(tenant.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "mark a tenant for deletion"))?;
        if marked.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for table in ["memberships", "invitations"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                .bind(tenant.id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "remove a deleted tenant's members"))?;
        }
        let platform: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE is_platform")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "find the platform tenant"))?;
        // The record is the platform tenant's: write it under its RLS.
        set_tenant(&mut tx, platform).await?;
        write_audit(&mut tx, platform, actor, &deletion_audit(tenant, now)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a tenant's deletion"))
    }

    async fn purge_tenant_step(&self, tenant_id: Uuid) -> StoreResult<PurgeStep> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        // FOR UPDATE: two processes resuming one purge take turns.
        let marked: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM tenants WHERE id = $1 AND deleting_at IS NOT NULL FOR UPDATE",
        )
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read a tenant's deletion"))?;
        if marked.is_none() {
            return Ok(PurgeStep {
                deleted: 0,
                done: true,
            });
        }
        for table in PURGE_ORDER {
            let gone = sqlx::query(&format!(
                "DELETE FROM {table} WHERE ctid = ANY (ARRAY( \
                 SELECT ctid FROM {table} WHERE tenant_id = $1 LIMIT $2))"
            ))
            .bind(tenant_id)
            .bind(PURGE_BATCH)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "purge a deleted tenant's rows"))?
            .rows_affected();
            if gone > 0 {
                tx.commit()
                    .await
                    .map_err(|e| db_error(e, "commit a purge batch"))?;
                return Ok(PurgeStep {
                    deleted: gone,
                    done: false,
                });
            }
        }
        // What is left follows the row through its cascading keys.
        sqlx::query("DELETE FROM tenants WHERE id = $1 AND deleting_at IS NOT NULL")
            .bind(tenant_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a purged tenant"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a tenant's deletion"))?;
        Ok(PurgeStep {
            deleted: 0,
            done: true,
        })
    }

    async fn pending_purges(&self) -> StoreResult<Vec<Uuid>> {
        sqlx::query_scalar("SELECT id FROM tenants WHERE deleting_at IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list tenants being deleted"))
    }
}
