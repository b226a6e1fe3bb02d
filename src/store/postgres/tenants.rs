//! Tenants, with their usage counted live. The tenants table is not
//! tenant-owned (it is what RLS isolates by); its usage counters come from
//! the owner's `sb_tenant_usage`, and the per-tenant writes (audit, the
//! busy-stage check) run under the tenant.

use anyhow::Context;
use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use super::{db_error, id_cursor, now, write_audit, PgStore, Tx};
use crate::domain::{Page, PageQuery, Tenant, TenantSettings, TenantStatus};
use crate::store::{
    dropped_stages, stage_may_go, Actor, AuditEntry, StoreError, StoreResult, TenantRecord,
    TenantRow, TenantScope, TenantStore,
};

const TENANT_SELECT: &str = "SELECT t.id, t.name, t.slug, t.tier, t.status, t.is_platform, \
     t.settings, t.created_at, t.user_limit, u.users, u.leads_this_month \
     FROM tenants t CROSS JOIN LATERAL sb_tenant_usage(t.id) u";

fn settings_json(settings: &TenantSettings) -> StoreResult<serde_json::Value> {
    serde_json::to_value(settings)
        .context("cannot encode tenant settings")
        .map_err(StoreError::Other)
}

/// Locks the tenant row against concurrent membership and settings changes.
/// `FOR NO KEY UPDATE` does not conflict with the key-share locks foreign
/// keys take, so inserts into the tenant's other tables carry on meanwhile.
pub(super) async fn lock_tenant(tx: &mut Tx, id: Uuid) -> StoreResult<Option<serde_json::Value>> {
    sqlx::query_scalar("SELECT settings FROM tenants WHERE id = $1 FOR NO KEY UPDATE")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "lock a tenant"))
}

impl PgStore {
    async fn tenant_by_id(&self, id: Uuid) -> StoreResult<Option<Tenant>> {
        self.tenant(&id.to_string()).await
    }
}

#[async_trait]
impl TenantStore for PgStore {
    async fn create_tenant(&self, actor: &Actor, row: TenantRow) -> StoreResult<Tenant> {
        let id = Uuid::now_v7();
        let mut tx = self.tenant_tx(id).await?;
        sqlx::query(
            "INSERT INTO tenants (id, name, slug, tier, status, is_platform, settings, created_at, \
             user_limit) VALUES ($1, $2, $3, $4, 'active', false, $5, $6, $7)",
        )
        .bind(id)
        .bind(&row.name)
        .bind(&row.slug)
        .bind(row.tier.as_str())
        .bind(settings_json(&row.settings)?)
        .bind(now())
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
        self.tenant_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn list_tenants(
        &self,
        scope: TenantScope,
        page: &PageQuery,
    ) -> StoreResult<Page<Tenant>> {
        let limit = page.limit();
        let after = id_cursor(page)?;
        let rows = match scope {
            TenantScope::All => {
                sqlx::query_as::<_, TenantRecord>(&format!(
                "{TENANT_SELECT} WHERE t.deleting_at IS NULL AND ($1::uuid IS NULL OR t.id > $1) \
                     ORDER BY t.id LIMIT $2"
            ))
                .bind(after)
                .bind(limit as i64 + 1)
                .fetch_all(&self.pool)
                .await
            }
            TenantScope::MemberOf(user) => {
                sqlx::query_as::<_, TenantRecord>(&format!(
                    "{TENANT_SELECT} JOIN sb_member_tenants($1) me ON me.tenant_id = t.id \
                     WHERE t.deleting_at IS NULL AND ($2::uuid IS NULL OR t.id > $2) \
                     ORDER BY t.id LIMIT $3"
                ))
                .bind(user)
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
        let row = match Uuid::parse_str(id_or_slug) {
            Ok(id) => {
                sqlx::query_as::<_, TenantRecord>(&format!(
                    "{TENANT_SELECT} WHERE (t.id = $1 OR t.slug = $2) AND t.deleting_at IS NULL"
                ))
                .bind(id)
                .bind(id_or_slug)
                .fetch_optional(&self.pool)
                .await
            }
            Err(_) => {
                sqlx::query_as::<_, TenantRecord>(&format!(
                    "{TENANT_SELECT} WHERE t.slug = $1 AND t.deleting_at IS NULL"
                ))
                .bind(id_or_slug)
                .fetch_optional(&self.pool)
                .await
            }
        }
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
        let mut tx = self.tenant_tx(id).await?;
        // A stage may go only when no lead is in it; checked under the lock.
        let current: TenantSettings = match lock_tenant(&mut tx, id).await? {
            Some(json) => serde_json::from_value(json)
                .context("bad tenant settings in store")
                .map_err(StoreError::Other)?,
            None => return Err(StoreError::NotFound),
        };
        for gone in dropped_stages(&current, &row.settings) {
            let leads: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM leads WHERE tenant_id = $1 AND stage = $2",
            )
            .bind(id)
            .bind(&gone.id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "count leads in a stage"))?;
            stage_may_go(gone, leads)?;
        }
        // A clock that changes marks the tenant for recomputing from its
        // first lead, in this transaction: a crash cannot lose the request.
        let done = sqlx::query(
            "UPDATE tenants SET name = $1, slug = $2, tier = $3, settings = $4, user_limit = $7, \
             reclock_pending = reclock_pending OR $6, \
             reclock_after = CASE WHEN $6 THEN NULL ELSE reclock_after END WHERE id = $5",
        )
        .bind(&row.name)
        .bind(&row.slug)
        .bind(row.tier.as_str())
        .bind(settings_json(&row.settings)?)
        .bind(id)
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
        self.tenant_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    async fn set_tenant_status(
        &self,
        actor: &Actor,
        id: Uuid,
        status: TenantStatus,
    ) -> StoreResult<Tenant> {
        let mut tx = self.tenant_tx(id).await?;
        let done = sqlx::query("UPDATE tenants SET status = $1 WHERE id = $2 AND NOT is_platform")
            .bind(status.as_str())
            .bind(id)
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
        self.tenant_by_id(id).await?.ok_or(StoreError::NotFound)
    }
}
