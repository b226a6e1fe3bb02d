//! Platform settings: one JSON row.

use anyhow::Context;
use async_trait::async_trait;

use super::{db_error, now_ms, parse_uuid, write_audit, SqliteStore};
use crate::domain::platform::PlatformSettings;
use crate::store::{platform_settings_audit, Actor, PlatformStore, StoreError, StoreResult};

fn decode(json: Option<String>) -> StoreResult<PlatformSettings> {
    match json {
        Some(json) => serde_json::from_str(&json)
            .context("bad platform settings in store")
            .map_err(StoreError::Other),
        None => Ok(PlatformSettings::default()),
    }
}

#[async_trait]
impl PlatformStore for SqliteStore {
    async fn platform_settings(&self) -> StoreResult<PlatformSettings> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT settings FROM platform_settings WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_error(e, "read the platform settings"))?;
        decode(json)
    }

    async fn put_platform_settings(
        &self,
        actor: &Actor,
        settings: &PlatformSettings,
    ) -> StoreResult<PlatformSettings> {
        let (_writer, mut tx) = self.write().await?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT settings FROM platform_settings WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| db_error(e, "read the platform settings"))?;
        let before = decode(before)?;
        let json = serde_json::to_string(settings)
            .context("cannot encode the platform settings")
            .map_err(StoreError::Other)?;
        sqlx::query(
            "INSERT INTO platform_settings (id, settings, updated_at) VALUES (1, ?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET settings = ?1, updated_at = ?2",
        )
        .bind(json)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "save the platform settings"))?;
        let platform: String = sqlx::query_scalar("SELECT id FROM tenants WHERE is_platform = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "find the platform tenant"))?;
        let audit = platform_settings_audit(&before, settings);
        write_audit(&mut tx, parse_uuid(&platform)?, actor, &audit).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit the platform settings"))?;
        Ok(settings.clone())
    }
}
