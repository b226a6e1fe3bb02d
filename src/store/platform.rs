//! Platform settings: one document for the whole platform. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use anyhow::Context;
use async_trait::async_trait;
use sqlx::types::Json;

use super::conn::{write_audit, Backend, Conn, Stmt};
use super::row::Id;
use super::{Actor, StoreError, StoreResult};
use crate::domain::platform::PlatformSettings;

#[async_trait]
pub trait PlatformStore: Send + Sync {
    /// The settings in force: the built-in defaults until first saved.
    async fn platform_settings(&self) -> StoreResult<PlatformSettings>;
    /// Replaces the settings; audited on the platform tenant with what
    /// changed. Returns them as stored.
    async fn put_platform_settings(
        &self,
        actor: &Actor,
        settings: &PlatformSettings,
    ) -> StoreResult<PlatformSettings>;
}

/// The audit entry of a change from `before` to `after`.
pub fn platform_settings_audit(
    before: &PlatformSettings,
    after: &PlatformSettings,
) -> super::AuditEntry {
    super::AuditEntry {
        action: "platform.settings.update",
        resource: "platform_settings",
        resource_id: "platform".into(),
        changes: after.changes_from(before),
    }
}

/// The settings stored (`None`: never saved), as the JSON both backends
/// keep them in.
async fn stored<C: Conn>(c: &mut C, sql: &str) -> StoreResult<PlatformSettings> {
    let stmt = Stmt::new(sql, "read the platform settings");
    match c.fetch_optional::<(Json<serde_json::Value>,)>(stmt).await? {
        Some((Json(json),)) => serde_json::from_value(json)
            .context("bad platform settings in store")
            .map_err(StoreError::Other),
        None => Ok(PlatformSettings::default()),
    }
}

/// One JSON row in a table no tenant owns; the audit record is the
/// platform tenant's, written under its RLS on PostgreSQL.
#[async_trait]
impl<B: Backend> PlatformStore for B {
    async fn platform_settings(&self) -> StoreResult<PlatformSettings> {
        let mut tx = self.reading_global().await?;
        let settings = stored(
            &mut tx,
            "SELECT settings FROM platform_settings WHERE id = 1",
        )
        .await?;
        tx.commit("end a read").await?;
        Ok(settings)
    }

    async fn put_platform_settings(
        &self,
        actor: &Actor,
        settings: &PlatformSettings,
    ) -> StoreResult<PlatformSettings> {
        let mut tx = self.writing_global().await?;
        // The row lock orders concurrent saves, so each audit record's
        // "from" is what the save before it stored.
        let before = stored(
            &mut tx,
            "SELECT settings FROM platform_settings WHERE id = 1 FOR UPDATE",
        )
        .await?;
        let json = serde_json::to_value(settings)
            .context("cannot encode the platform settings")
            .map_err(StoreError::Other)?;
        let save = Stmt::new(
            "INSERT INTO platform_settings (id, settings, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET settings = $1, updated_at = $2",
            "save the platform settings",
        )
        .json(json)
        .time(chrono::Utc::now());
        tx.execute(save).await?;
        let platform = Stmt::new(
            "SELECT id FROM tenants WHERE is_platform",
            "find the platform tenant",
        );
        let (Id(platform),) = tx.fetch_one::<(Id,)>(platform).await?;
        tx.set_tenant(platform).await?;
        let audit = platform_settings_audit(&before, settings);
        write_audit(&mut tx, platform, actor, &audit).await?;
        tx.commit("commit the platform settings").await?;
        Ok(settings.clone())
    }
}
