//! Tenants, with their usage counted live.

use anyhow::Context;
use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use super::{cursor, db_error, now_ms, write_audit, SqliteStore};
use crate::domain::{Page, PageQuery, Tenant, TenantSettings, TenantStatus};
use crate::store::{
    dropped_stages, stage_may_go, Actor, AuditEntry, StoreError, StoreResult, TenantRecord,
    TenantRow, TenantScope, TenantStore,
};

const TENANT_SELECT: &str = "SELECT t.id, t.name, t.slug, t.tier, t.status, t.is_platform, \
     t.settings, t.created_at, t.user_limit, \
     (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id) AS users, \
     (SELECT u.count FROM lead_usage u WHERE u.tenant_id = t.id \
        AND u.month = strftime('%Y-%m', 'now')) AS leads_this_month FROM tenants t";

fn settings_json(settings: &TenantSettings) -> StoreResult<String> {
    serde_json::to_string(settings)
        .context("cannot encode tenant settings")
        .map_err(StoreError::Other)
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(&self, actor: &Actor, row: TenantRow) -> StoreResult<Tenant> {
        let id = Uuid::now_v7();
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(
            "INSERT INTO tenants (id, name, slug, tier, status, is_platform, settings, created_at, \
             user_limit) VALUES (?, ?, ?, ?, 'active', 0, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(&row.name)
        .bind(&row.slug)
        .bind(row.tier.as_str())
        .bind(settings_json(&row.settings)?)
        .bind(now_ms())
        .bind(row.user_limit.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "create a tenant"))?;
        let entry = AuditEntry {
            action: "tenant.create",
            resource: "tenant",
            resource_id: id.to_string(),
            changes: json!({ "name": row.name, "slug": row.slug, "tier": row.tier,
                "user_limit": row.user_limit }),
        };
        write_audit(&mut tx, id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a new tenant"))?;
        self.tenant(&id.to_string())
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn list_tenants(
        &self,
        scope: TenantScope,
        page: &PageQuery,
    ) -> StoreResult<Page<Tenant>> {
        let limit = page.limit();
        let after = cursor(page).unwrap_or_default();
        let rows = match scope {
            TenantScope::All => {
                sqlx::query_as::<_, TenantRecord>(&format!(
                    "{TENANT_SELECT} WHERE t.deleting_at IS NULL AND t.id > ? ORDER BY t.id LIMIT ?"
                ))
                .bind(after)
                .bind(limit as i64 + 1)
                .fetch_all(&self.pool)
                .await
            }
            TenantScope::MemberOf(user) => {
                sqlx::query_as::<_, TenantRecord>(&format!(
                    "{TENANT_SELECT} JOIN memberships me ON me.tenant_id = t.id AND me.user_id = ? \
                     WHERE t.deleting_at IS NULL AND t.id > ? ORDER BY t.id LIMIT ?"
                ))
                .bind(user.to_string())
                .bind(after)
                .bind(limit as i64 + 1)
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(|e| db_error(e, "list tenants"))?;
        let tenants = rows.into_iter().map(Tenant::from).collect();
        Ok(Page::from_rows(tenants, limit, |t| t.id.to_string()))
    }

    async fn tenant(&self, id_or_slug: &str) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query_as::<_, TenantRecord>(&format!(
            "{TENANT_SELECT} WHERE (t.id = ?1 OR t.slug = ?1) AND t.deleting_at IS NULL"
        ))
        .bind(id_or_slug)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "find a tenant"))?;
        Ok(row.map(Tenant::from))
    }

    async fn update_tenant(
        &self,
        actor: &Actor,
        id: Uuid,
        row: TenantRow,
        audit: AuditEntry,
    ) -> StoreResult<Tenant> {
        let (_writer, mut tx) = self.write().await?;
        // A stage may go only when no lead is in it; checked under the lock.
        let current: Option<String> =
            sqlx::query_scalar("SELECT settings FROM tenants WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| db_error(e, "read tenant settings"))?;
        let current: TenantSettings = match current {
            Some(json) => serde_json::from_str(&json)
                .context("bad tenant settings in store")
                .map_err(StoreError::Other)?,
            None => return Err(StoreError::NotFound),
        };
        for gone in dropped_stages(&current, &row.settings) {
            let leads: i64 =
                sqlx::query_scalar("SELECT count(*) FROM leads WHERE tenant_id = ? AND stage = ?")
                    .bind(id.to_string())
                    .bind(&gone.id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| db_error(e, "count leads in a stage"))?;
            stage_may_go(gone, leads)?;
        }
        // A clock that changes marks the tenant for recomputing from its
        // first lead, in this transaction: a crash cannot lose the request.
        let done = sqlx::query(
            "UPDATE tenants SET name = ?1, slug = ?2, tier = ?3, settings = ?4, user_limit = ?7, \
             reclock_pending = (reclock_pending OR ?6), \
             reclock_after = CASE WHEN ?6 THEN NULL ELSE reclock_after END WHERE id = ?5",
        )
        .bind(&row.name)
        .bind(&row.slug)
        .bind(row.tier.as_str())
        .bind(settings_json(&row.settings)?)
        .bind(id.to_string())
        .bind(current.clock_differs(&row.settings))
        .bind(row.user_limit.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "update a tenant"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        write_audit(&mut tx, id, actor, &audit).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a tenant update"))?;
        self.tenant(&id.to_string())
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn set_tenant_status(
        &self,
        actor: &Actor,
        id: Uuid,
        status: TenantStatus,
    ) -> StoreResult<Tenant> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query("UPDATE tenants SET status = ? WHERE id = ? AND is_platform = 0")
            .bind(status.as_str())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "change a tenant's status"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let action = match status {
            TenantStatus::Active => "tenant.reactivate",
            TenantStatus::Suspended => "tenant.suspend",
        };
        let entry = AuditEntry {
            action,
            resource: "tenant",
            resource_id: id.to_string(),
            changes: json!({ "status": status }),
        };
        write_audit(&mut tx, id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a status change"))?;
        self.tenant(&id.to_string())
            .await?
            .ok_or(StoreError::NotFound)
    }
}
