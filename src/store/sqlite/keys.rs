//! API keys and the audit log.

use async_trait::async_trait;
use serde_json::json;
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::{cursor, db_error, now_ms, to_dt, write_audit, SqliteStore};
use crate::domain::{ApiKey, AuditEvent, Page, PageQuery, Tenant};
use crate::store::{
    Actor, ApiKeyRecord, ApiKeyStore, AuditEntry, AuditRecord, AuditStore, KeyOwner,
    KeyOwnerRecord, KeyRotation, NewApiKeyRow, RotatedKeys, StoreError, StoreResult, TenantStore,
    AUDIT_COLUMNS, KEY_COLUMNS,
};

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn create_api_key(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewApiKeyRow,
    ) -> StoreResult<ApiKey> {
        let key = ApiKey {
            id: Uuid::now_v7(),
            name: row.name,
            prefix: row.prefix,
            last_four: row.last_four,
            scope: row.scope,
            created_by: actor.user_id,
            workspace_id: row.workspace_id,
            created_at: to_dt(now_ms()),
            last_used_at: None,
            revoked_at: None,
            expires_at: None,
            replaced_by: None,
        };
        let (_writer, mut tx) = self.write().await?;
        insert_key(&mut tx, tenant_id, &key, &row.key_hash).await?;
        let entry = AuditEntry {
            action: "api_key.create",
            resource: "api_key",
            resource_id: key.id.to_string(),
            changes: json!({ "name": key.name, "prefix": key.prefix, "scope": key.scope,
                             "workspace_id": key.workspace_id }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an API key"))?;
        Ok(key)
    }

    async fn list_api_keys(&self, tenant_id: Uuid, page: &PageQuery) -> StoreResult<Page<ApiKey>> {
        let limit = page.limit();
        let rows = sqlx::query_as::<_, ApiKeyRecord>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?"
        ))
        .bind(tenant_id.to_string())
        .bind(cursor(page).unwrap_or_default())
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list API keys"))?;
        let keys: Vec<ApiKey> = rows.into_iter().map(ApiKey::from).collect();
        Ok(Page::from_rows(keys, limit, |k| k.id.to_string()))
    }

    async fn revoke_api_key(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<ApiKey> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "revoke an API key"))?;
        let row = sqlx::query_as::<_, ApiKeyRecord>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an API key"))?
        .ok_or(StoreError::NotFound)?;
        if done.rows_affected() > 0 {
            let entry = AuditEntry {
                action: "api_key.revoke",
                resource: "api_key",
                resource_id: id.to_string(),
                changes: json!({}),
            };
            write_audit(&mut tx, tenant_id, actor, &entry).await?;
        }
        let key = ApiKey::from(row);
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an API key revocation"))?;
        Ok(key)
    }

    async fn rotate_api_key(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        rotation: KeyRotation,
    ) -> StoreResult<RotatedKeys> {
        let (_writer, mut tx) = self.write().await?;
        let old = read_key(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        rotation.check(&old)?;
        let new = rotation.successor(&old, actor);
        insert_key(&mut tx, tenant_id, &new, &rotation.key_hash).await?;
        let revoked_at = rotation
            .revokes_at_once()
            .then(|| rotation.now.timestamp_millis());
        sqlx::query(
            "UPDATE api_keys SET replaced_by = ?, expires_at = ?, \
             revoked_at = coalesce(revoked_at, ?) WHERE tenant_id = ? AND id = ?",
        )
        .bind(new.id.to_string())
        .bind(rotation.old_expires_at().timestamp_millis())
        .bind(revoked_at)
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "expire a rotated API key"))?;
        let old = read_key(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        write_audit(&mut tx, tenant_id, actor, &rotation.audit(&old, &new)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an API key rotation"))?;
        Ok(RotatedKeys { new, old })
    }

    async fn api_key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>> {
        let row = sqlx::query_as::<_, KeyOwnerRecord>(
            "SELECT tenant_id, id AS key_id, revoked_at IS NOT NULL AS revoked, workspace_id, \
             expires_at FROM api_keys WHERE key_hash = ? AND scope = 'leads:ingest'",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "look up an API key"))?;
        Ok(row.map(KeyOwner::from))
    }

    async fn ingest_context(&self, key_hash: &str) -> StoreResult<Option<(KeyOwner, Tenant)>> {
        // Embedded: two lookups cost no round trip.
        let Some(owner) = self.api_key_owner(key_hash).await? else {
            return Ok(None);
        };
        let tenant = self.tenant(&owner.tenant_id.to_string()).await?;
        if tenant.is_none() {
            // Hidden from lookups while its data is purged: a form posting
            // to it is told the tenant is gone.
            let deleting: Option<bool> =
                sqlx::query_scalar("SELECT deleting_at IS NOT NULL FROM tenants WHERE id = ?")
                    .bind(owner.tenant_id.to_string())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| db_error(e, "look up an API key's tenant"))?;
            if deleting == Some(true) {
                return Err(StoreError::TenantDeleted);
            }
        }
        Ok(tenant.map(|t| (owner, t)))
    }
}

async fn insert_key(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    key: &ApiKey,
    key_hash: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (tenant_id, id, name, prefix, last_four, key_hash, scope, \
         created_by, workspace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant_id.to_string())
    .bind(key.id.to_string())
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(&key.last_four)
    .bind(key_hash)
    .bind(key.scope.as_str())
    .bind(key.created_by.map(|u| u.to_string()))
    .bind(key.workspace_id.map(|u| u.to_string()))
    .bind(key.created_at.timestamp_millis())
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "create an API key"))?;
    Ok(())
}

async fn read_key(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<ApiKey>> {
    let row = sqlx::query_as::<_, ApiKeyRecord>(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read an API key"))?;
    Ok(row.map(ApiKey::from))
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn list_audit(
        &self,
        tenant_id: Uuid,
        filter: &crate::domain::AuditFilter,
        page: &PageQuery,
    ) -> StoreResult<Page<AuditEvent>> {
        let limit = page.limit();
        // Newest first: the cursor is the last id seen, and older ids sort lower.
        let before = cursor(page).unwrap_or_else(|| "g".to_string());
        let rows = sqlx::query_as::<_, AuditRecord>(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE tenant_id = ?1 AND id < ?2 \
             AND (?3 IS NULL OR instr(lower(coalesce(actor_email, '')), lower(?3)) > 0) \
             AND (?4 IS NULL OR substr(action, 1, length(?4)) = ?4) \
             AND (?5 IS NULL OR resource = ?5) AND (?6 IS NULL OR resource_id = ?6) \
             AND (?7 IS NULL OR created_at >= ?7) AND (?8 IS NULL OR created_at < ?8) \
             ORDER BY id DESC LIMIT ?9"
        ))
        .bind(tenant_id.to_string())
        .bind(before)
        .bind(filter.actor.as_deref())
        .bind(filter.action.as_deref())
        .bind(filter.resource.as_deref())
        .bind(filter.resource_id.as_deref())
        .bind(filter.from.map(|t| t.timestamp_millis()))
        .bind(filter.to.map(|t| t.timestamp_millis()))
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list the audit log"))?;
        let events: Vec<AuditEvent> = rows.into_iter().map(AuditEvent::from).collect();
        Ok(Page::from_rows(events, limit, |e| e.id.to_string()))
    }
}
