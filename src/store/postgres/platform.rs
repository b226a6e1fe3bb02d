//! Platform settings: one JSON row, in a table no tenant owns (no RLS); the
//! audit record is the platform tenant's, written under its RLS.

use anyhow::Context;
use async_trait::async_trait;
use uuid::Uuid;

use super::{db_error, now, set_tenant, write_audit, PgStore};
use crate::domain::platform::PlatformSettings;
use crate::store::{platform_settings_audit, Actor, PlatformStore, StoreError, StoreResult};

fn decode(json: Option<serde_json::Value>) -> StoreResult<PlatformSettings> {
    match json {
        Some(json) => serde_json::from_value(json)
            .context("bad platform settings in store")
            .map_err(StoreError::Other),
        None => Ok(PlatformSettings::default()),
    }
}

#[async_trait]
impl PlatformStore for PgStore {
    async fn platform_settings(&self) -> StoreResult<PlatformSettings> {
        let json: Option<serde_json::Value> =
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
        let mut tx = self.global_tx().await?;
        // The row lock orders concurrent saves, so each audit record's
        // "from" is what the save before it stored.
        let before: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT settings FROM platform_settings WHERE id = 1 FOR UPDATE")
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| db_error(e, "read the platform settings"))?;
        let before = decode(before)?;
        let json = serde_json::to_value(settings)
            .context("cannot encode the platform settings")
            .map_err(StoreError::Other)?;
        sqlx::query(
            "INSERT INTO platform_settings (id, settings, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET settings = $1, updated_at = $2",
        )
        .bind(json)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "save the platform settings"))?;
        let platform: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE is_platform")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "find the platform tenant"))?;
        set_tenant(&mut tx, platform).await?;
        let audit = platform_settings_audit(&before, settings);
        write_audit(&mut tx, platform, actor, &audit).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit the platform settings"))?;
        Ok(settings.clone())
    }
}
