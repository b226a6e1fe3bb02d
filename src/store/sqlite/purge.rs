//! Deleting a tenant on SQLite: the mark, the batched purge, the list of
//! purges left unfinished (see `store::purge`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{db_error, parse_uuid, write_audit, SqliteStore};
use crate::domain::Tenant;
use crate::store::{
    deletion_audit, Actor, PurgeStep, PurgeStore, StoreError, StoreResult, PURGE_BATCH, PURGE_ORDER,
};

/// Tables declared WITHOUT ROWID, and the key that picks their rows
/// within a tenant (every other table is picked by `rowid`).
const WITHOUT_ROWID: [(&str, &str); 4] = [
    ("eval_sets", "id"),
    ("eval_cases", "id"),
    ("eval_runs", "id"),
    ("eval_results", "run_id, case_id, lane"),
];

#[async_trait]
impl PurgeStore for SqliteStore {
    async fn mark_tenant_deleting(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let id = tenant.id.to_string();
        let (_writer, mut tx) = self.write().await?;
        let marked = sqlx::query(
            "UPDATE tenants SET deleting_at = ?, deleted_by = ? \
             WHERE id = ? AND deleting_at IS NULL AND is_platform = 0",
        )
        .bind(now.timestamp_millis())
        .bind(actor.email.as_deref())
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "mark a tenant for deletion"))?;
        if marked.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for table in ["memberships", "invitations"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = ?"))
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "remove a deleted tenant's members"))?;
        }
        let platform: String = sqlx::query_scalar("SELECT id FROM tenants WHERE is_platform = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "find the platform tenant"))?;
        let entry = deletion_audit(tenant, now);
        write_audit(&mut tx, parse_uuid(&platform)?, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a tenant's deletion"))
    }

    async fn purge_tenant_step(&self, tenant_id: Uuid) -> StoreResult<PurgeStep> {
        let id = tenant_id.to_string();
        let (_writer, mut tx) = self.write().await?;
        let marked: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM tenants WHERE id = ? AND deleting_at IS NOT NULL")
                .bind(&id)
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
            let key = WITHOUT_ROWID
                .iter()
                .find(|(t, _)| *t == table)
                .map_or("rowid", |(_, k)| k);
            let gone = sqlx::query(&format!(
                "DELETE FROM {table} WHERE tenant_id = ?1 AND ({key}) IN \
                 (SELECT {key} FROM {table} WHERE tenant_id = ?1 LIMIT ?2)"
            ))
            .bind(&id)
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
        sqlx::query("DELETE FROM tenants WHERE id = ? AND deleting_at IS NOT NULL")
            .bind(&id)
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
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM tenants WHERE deleting_at IS NOT NULL")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_error(e, "list tenants being deleted"))?;
        ids.iter().map(|id| parse_uuid(id)).collect()
    }
}
