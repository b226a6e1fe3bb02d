//! Webhook endpoints on SQLite: create, read, update, delete, rotate.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{endpoint, ENDPOINT_COLUMNS};
use crate::domain::Webhook;
use crate::store::sqlite::{db_error, write_audit, SqliteStore};
use crate::store::{Actor, AuditEntry, StoreError, StoreResult, WebhookChange, WebhookRow};

pub(super) async fn create_webhook(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    row: WebhookRow,
    now: DateTime<Utc>,
) -> StoreResult<Webhook> {
    let id = Uuid::now_v7();
    let (_writer, mut tx) = store.write().await?;
    sqlx::query(
        "INSERT INTO webhook_endpoints (tenant_id, id, url, events, secret, enabled, \
         created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .bind(&row.url)
    .bind(serde_json::json!(row.events).to_string())
    .bind(&row.secret)
    .bind(row.enabled)
    .bind(actor.user_id.map(|u| u.to_string()))
    .bind(now.timestamp_millis())
    .bind(now.timestamp_millis())
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "create a webhook"))?;
    let audit = AuditEntry {
        action: "webhook.create",
        resource: "webhook",
        resource_id: id.to_string(),
        changes: serde_json::json!({
            "url": row.url, "events": row.events, "enabled": row.enabled,
        }),
    };
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    let webhook = SqliteStore::endpoint_in(&mut tx, tenant_id, id).await?;
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a webhook"))?;
    Ok(webhook)
}

pub(super) async fn list_webhooks(
    store: &SqliteStore,
    tenant_id: Uuid,
) -> StoreResult<Vec<Webhook>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ? ORDER BY id"
    ))
    .bind(tenant_id.to_string())
    .fetch_all(&store.pool)
    .await
    .map_err(|e| db_error(e, "list webhooks"))?;
    let hooks = rows.iter().map(endpoint).collect::<StoreResult<Vec<_>>>()?;
    store.with_last_delivery(tenant_id, hooks).await
}

pub(super) async fn webhook(
    store: &SqliteStore,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<Webhook>> {
    let row = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&store.pool)
    .await
    .map_err(|e| db_error(e, "read a webhook"))?;
    let Some(hook) = row.as_ref().map(endpoint).transpose()? else {
        return Ok(None);
    };
    Ok(store.with_last_delivery(tenant_id, vec![hook]).await?.pop())
}

pub(super) async fn update_webhook(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    id: Uuid,
    change: WebhookChange,
    now: DateTime<Utc>,
) -> StoreResult<Webhook> {
    let (_writer, mut tx) = store.write().await?;
    let before = SqliteStore::endpoint_in(&mut tx, tenant_id, id).await?;
    let plan = crate::store::plan_webhook_change(&before, &change);
    let url = change.url.unwrap_or(before.url.clone());
    let events = change.events.unwrap_or(before.events.clone());
    let enabled = change.enabled.unwrap_or(before.enabled);
    let reenabled = enabled && !before.enabled;
    sqlx::query(
        "UPDATE webhook_endpoints SET url = ?, events = ?, enabled = ?, updated_at = ?, \
         disabled_reason = CASE WHEN ?5 THEN NULL ELSE disabled_reason END, \
         consecutive_failures = CASE WHEN ?5 THEN 0 ELSE consecutive_failures END, \
         failing_since = CASE WHEN ?5 THEN NULL ELSE failing_since END \
         WHERE tenant_id = ?6 AND id = ?7",
    )
    .bind(&url)
    .bind(serde_json::json!(events).to_string())
    .bind(enabled)
    .bind(now.timestamp_millis())
    .bind(reenabled)
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "update a webhook"))?;
    if let Some(audit) = plan {
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
    }
    let webhook = SqliteStore::endpoint_in(&mut tx, tenant_id, id).await?;
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a webhook change"))?;
    let mut hooks = store.with_last_delivery(tenant_id, vec![webhook]).await?;
    hooks.pop().ok_or(StoreError::NotFound)
}

pub(super) async fn delete_webhook(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    let (_writer, mut tx) = store.write().await?;
    let before = SqliteStore::endpoint_in(&mut tx, tenant_id, id).await?;
    sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?")
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "delete a webhook"))?;
    let audit = AuditEntry {
        action: "webhook.delete",
        resource: "webhook",
        resource_id: id.to_string(),
        changes: serde_json::json!({ "url": before.url }),
    };
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a webhook deletion"))?;
    Ok(())
}

pub(super) async fn rotate_webhook_secret(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    id: Uuid,
    secret: &str,
    now: DateTime<Utc>,
) -> StoreResult<Webhook> {
    let (_writer, mut tx) = store.write().await?;
    SqliteStore::endpoint_in(&mut tx, tenant_id, id).await?;
    sqlx::query(
        "UPDATE webhook_endpoints SET secret = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
    )
    .bind(secret)
    .bind(now.timestamp_millis())
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "rotate a webhook secret"))?;
    let audit = AuditEntry {
        action: "webhook.rotate_secret",
        resource: "webhook",
        resource_id: id.to_string(),
        changes: serde_json::json!({ "fields": ["secret"] }),
    };
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    let webhook = SqliteStore::endpoint_in(&mut tx, tenant_id, id).await?;
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a secret rotation"))?;
    Ok(webhook)
}
