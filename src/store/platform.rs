//! Platform settings: one document for the whole platform. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;

use super::{Actor, StoreResult};
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
