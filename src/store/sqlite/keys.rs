//! API keys and the audit log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::{cursor, db_error, now_ms, parse_uuid, to_dt, write_audit, SqliteStore};
use crate::domain::{ApiKey, ApiKeyScope, AuditEvent, Page, PageQuery, Tenant};
use crate::store::{
    Actor, ApiKeyStore, AuditEntry, AuditStore, KeyOwner, NewApiKeyRow, StoreError, StoreResult,
    TenantStore,
};

const KEY_COLUMNS: &str = "id, name, prefix, last_four, scope, created_by, workspace_id, \
     created_at, last_used_at, revoked_at";

fn key_from_row(row: &SqliteRow) -> StoreResult<ApiKey> {
    let err = |e| db_error(e, "read an API key");
    let scope: String = row.try_get("scope").map_err(err)?;
    let created_by: Option<String> = row.try_get("created_by").map_err(err)?;
    let workspace: Option<String> = row.try_get("workspace_id").map_err(err)?;
    Ok(ApiKey {
        id: parse_uuid(&row.try_get::<String, _>("id").map_err(err)?)?,
        name: row.try_get("name").map_err(err)?,
        prefix: row.try_get("prefix").map_err(err)?,
        last_four: row.try_get("last_four").map_err(err)?,
        scope: ApiKeyScope::parse(&scope)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad scope {scope:?} in store")))?,
        created_by: created_by.as_deref().map(parse_uuid).transpose()?,
        workspace_id: workspace.as_deref().map(parse_uuid).transpose()?,
        created_at: to_dt(row.try_get("created_at").map_err(err)?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")
            .map_err(err)?
            .map(to_dt),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")
            .map_err(err)?
            .map(to_dt),
    })
}

fn audit_from_row(row: &SqliteRow) -> StoreResult<AuditEvent> {
    let err = |e| db_error(e, "read an audit event");
    let actor: Option<String> = row.try_get("actor_id").map_err(err)?;
    let changes: String = row.try_get("changes").map_err(err)?;
    Ok(AuditEvent {
        id: parse_uuid(&row.try_get::<String, _>("id").map_err(err)?)?,
        tenant_id: parse_uuid(&row.try_get::<String, _>("tenant_id").map_err(err)?)?,
        actor_id: actor.as_deref().map(parse_uuid).transpose()?,
        actor_email: row.try_get("actor_email").map_err(err)?,
        action: row.try_get("action").map_err(err)?,
        resource: row.try_get("resource").map_err(err)?,
        resource_id: row.try_get("resource_id").map_err(err)?,
        changes: serde_json::from_str(&changes).unwrap_or(serde_json::Value::Null),
        created_at: to_dt(row.try_get("created_at").map_err(err)?),
    })
}

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
        };
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(
            "INSERT INTO api_keys (tenant_id, id, name, prefix, last_four, key_hash, scope, \
             created_by, workspace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(key.id.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.last_four)
        .bind(&row.key_hash)
        .bind(key.scope.as_str())
        .bind(key.created_by.map(|u| u.to_string()))
        .bind(key.workspace_id.map(|u| u.to_string()))
        .bind(key.created_at.timestamp_millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "create an API key"))?;
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
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?"
        ))
        .bind(tenant_id.to_string())
        .bind(cursor(page).unwrap_or_default())
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list API keys"))?;
        let keys = rows
            .iter()
            .map(key_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
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
        let row = sqlx::query(&format!(
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
        let key = key_from_row(&row)?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an API key revocation"))?;
        Ok(key)
    }

    async fn api_key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>> {
        let row = sqlx::query(
            "SELECT tenant_id, id, revoked_at, workspace_id FROM api_keys \
             WHERE key_hash = ? AND scope = 'leads:ingest'",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "look up an API key"))?;
        row.map(|r| {
            let err = |e| db_error(e, "read an API key");
            Ok(KeyOwner {
                tenant_id: parse_uuid(&r.try_get::<String, _>("tenant_id").map_err(err)?)?,
                key_id: parse_uuid(&r.try_get::<String, _>("id").map_err(err)?)?,
                revoked: r
                    .try_get::<Option<i64>, _>("revoked_at")
                    .map_err(err)?
                    .is_some(),
                workspace_id: r
                    .try_get::<Option<String>, _>("workspace_id")
                    .map_err(err)?
                    .as_deref()
                    .map(parse_uuid)
                    .transpose()?,
            })
        })
        .transpose()
    }

    async fn ingest_context(&self, key_hash: &str) -> StoreResult<Option<(KeyOwner, Tenant)>> {
        // Embedded: two lookups cost no round trip.
        let Some(owner) = self.api_key_owner(key_hash).await? else {
            return Ok(None);
        };
        let tenant = self.tenant(&owner.tenant_id.to_string()).await?;
        Ok(tenant.map(|t| (owner, t)))
    }

    async fn touch_api_key(
        &self,
        tenant_id: Uuid,
        key_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Once a minute is enough for "last used": check with a read (no
        // lock) so most ingests add no write of their own.
        let last: Option<Option<i64>> =
            sqlx::query_scalar("SELECT last_used_at FROM api_keys WHERE tenant_id = ? AND id = ?")
                .bind(tenant_id.to_string())
                .bind(key_id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_error(e, "read an API key's last use"))?;
        let now_ms = now.timestamp_millis();
        if matches!(last, Some(Some(t)) if t > now_ms - 60_000) || last.is_none() {
            return Ok(());
        }
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(
            "UPDATE api_keys SET last_used_at = ?1 WHERE tenant_id = ?2 AND id = ?3 \
             AND (last_used_at IS NULL OR last_used_at < ?1 - 60000)",
        )
        .bind(now_ms)
        .bind(tenant_id.to_string())
        .bind(key_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "record an API key's use"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an API key's use"))?;
        Ok(())
    }
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
        let rows = sqlx::query(
            "SELECT tenant_id, id, actor_id, actor_email, action, resource, resource_id, \
             changes, created_at FROM audit_events WHERE tenant_id = ?1 AND id < ?2 \
             AND (?3 IS NULL OR instr(lower(coalesce(actor_email, '')), lower(?3)) > 0) \
             AND (?4 IS NULL OR substr(action, 1, length(?4)) = ?4) \
             AND (?5 IS NULL OR resource = ?5) AND (?6 IS NULL OR resource_id = ?6) \
             AND (?7 IS NULL OR created_at >= ?7) AND (?8 IS NULL OR created_at < ?8) \
             ORDER BY id DESC LIMIT ?9",
        )
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
        let events = rows
            .iter()
            .map(audit_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(events, limit, |e| e.id.to_string()))
    }
}
