//! API keys and the audit log, both tenant-owned.

use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use super::{db_error, id_cursor, now, write_audit, PgStore, Tx};
use crate::domain::{ApiKey, AuditEvent, Page, PageQuery, Tenant};
use crate::store::{
    Actor, ApiKeyRecord, ApiKeyStore, AuditEntry, AuditRecord, AuditStore, KeyOwner,
    KeyOwnerRecord, KeyRotation, NewApiKeyRow, RotatedKeys, StoreError, StoreResult, TenantRecord,
    AUDIT_COLUMNS, KEY_COLUMNS,
};

/// A key's owner and its tenant, in one read.
#[derive(sqlx::FromRow)]
struct IngestContextRecord {
    #[sqlx(flatten)]
    owner: KeyOwnerRecord,
    #[sqlx(flatten)]
    tenant: TenantRecord,
    /// Being deleted: a form posting to it is told the tenant is gone.
    tenant_deleting: bool,
}

#[async_trait]
impl ApiKeyStore for PgStore {
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
            created_at: now(),
            last_used_at: None,
            revoked_at: None,
            expires_at: None,
            replaced_by: None,
        };
        let mut tx = self.tenant_tx(tenant_id).await?;
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
        let after = id_cursor(page)?;
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, ApiKeyRecord>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 \
             AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(tenant_id)
        .bind(after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list API keys"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        let keys: Vec<ApiKey> = rows.into_iter().map(ApiKey::from).collect();
        Ok(Page::from_rows(keys, limit, |k| k.id.to_string()))
    }

    async fn revoke_api_key(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<ApiKey> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "revoke an API key"))?;
        let row = sqlx::query_as::<_, ApiKeyRecord>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id)
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        // Locked: two rotations of one key at once make one new key.
        let old = sqlx::query_as::<_, ApiKeyRecord>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an API key"))?
        .map(ApiKey::from)
        .ok_or(StoreError::NotFound)?;
        rotation.check(&old)?;
        let new = rotation.successor(&old, actor);
        insert_key(&mut tx, tenant_id, &new, &rotation.key_hash).await?;
        let revoked_at = rotation.revokes_at_once().then_some(rotation.now);
        let old = sqlx::query_as::<_, ApiKeyRecord>(&format!(
            "UPDATE api_keys SET replaced_by = $1, expires_at = $2, \
             revoked_at = coalesce(revoked_at, $3) WHERE tenant_id = $4 AND id = $5 \
             RETURNING {KEY_COLUMNS}"
        ))
        .bind(new.id)
        .bind(rotation.old_expires_at())
        .bind(revoked_at)
        .bind(tenant_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map(ApiKey::from)
        .map_err(|e| db_error(e, "expire a rotated API key"))?;
        write_audit(&mut tx, tenant_id, actor, &rotation.audit(&old, &new)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an API key rotation"))?;
        Ok(RotatedKeys { new, old })
    }

    /// Ingest learns the tenant from the key, so the lookup is cross-tenant:
    /// the owner's `sb_api_key_owner` answers it for one hash only.
    async fn api_key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>> {
        let row = sqlx::query_as::<_, KeyOwnerRecord>(
            "SELECT tenant_id, id AS key_id, revoked, workspace_id, expires_at \
             FROM sb_api_key_owner($1)",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "look up an API key"))?;
        Ok(row.map(KeyOwner::from))
    }

    async fn ingest_context(&self, key_hash: &str) -> StoreResult<Option<(KeyOwner, Tenant)>> {
        let row = sqlx::query_as::<_, IngestContextRecord>(
            "SELECT k.tenant_id, k.id AS key_id, k.revoked, k.workspace_id, k.expires_at, t.id, t.name, t.slug, \
             t.tier, t.status, t.is_platform, t.settings, t.created_at, t.user_limit, \
             0::bigint AS users, 0::bigint AS leads_this_month, \
             t.deleting_at IS NOT NULL AS tenant_deleting \
             FROM sb_api_key_owner($1) k JOIN tenants t ON t.id = k.tenant_id",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "look up an API key"))?;
        if row.as_ref().is_some_and(|r| r.tenant_deleting) {
            return Err(StoreError::TenantDeleted);
        }
        Ok(row.map(|r| (r.owner.into(), r.tenant.into())))
    }
}

async fn insert_key(tx: &mut Tx, tenant_id: Uuid, key: &ApiKey, key_hash: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (tenant_id, id, name, prefix, last_four, key_hash, scope, \
         created_by, workspace_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant_id)
    .bind(key.id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(&key.last_four)
    .bind(key_hash)
    .bind(key.scope.as_str())
    .bind(key.created_by)
    .bind(key.workspace_id)
    .bind(key.created_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "create an API key"))?;
    Ok(())
}

#[async_trait]
impl AuditStore for PgStore {
    async fn list_audit(
        &self,
        tenant_id: Uuid,
        filter: &crate::domain::AuditFilter,
        page: &PageQuery,
    ) -> StoreResult<Page<AuditEvent>> {
        let limit = page.limit();
        // Newest first: the cursor is the last id seen, and older ids sort lower.
        let before = id_cursor(page)?;
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, AuditRecord>(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE tenant_id = $1 \
             AND ($2::uuid IS NULL OR id < $2) \
             AND ($3::text IS NULL OR strpos(lower(coalesce(actor_email, '')), lower($3)) > 0) \
             AND ($4::text IS NULL OR left(action, length($4)) = $4) \
             AND ($5::text IS NULL OR resource = $5) AND ($6::text IS NULL OR resource_id = $6) \
             AND ($7::timestamptz IS NULL OR created_at >= $7) \
             AND ($8::timestamptz IS NULL OR created_at < $8) \
             ORDER BY id DESC LIMIT $9"
        ))
        .bind(tenant_id)
        .bind(before)
        .bind(filter.actor.as_deref())
        .bind(filter.action.as_deref())
        .bind(filter.resource.as_deref())
        .bind(filter.resource_id.as_deref())
        .bind(filter.from)
        .bind(filter.to)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list the audit log"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        let events: Vec<AuditEvent> = rows.into_iter().map(AuditEvent::from).collect();
        Ok(Page::from_rows(events, limit, |e| e.id.to_string()))
    }
}
