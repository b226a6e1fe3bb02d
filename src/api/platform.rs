//! Platform settings (platform admins only).

use reqwest::Method;

use super::{ApiResult, Client};
use crate::domain::platform::PlatformSettings;

impl Client {
    pub async fn platform_settings(&self) -> ApiResult<PlatformSettings> {
        self.get("/api/v1/platform/settings").await
    }

    /// Replaces the platform settings (the whole document).
    pub async fn put_platform_settings(
        &self,
        settings: &PlatformSettings,
    ) -> ApiResult<PlatformSettings> {
        self.json(
            self.request(Method::PUT, "/api/v1/platform/settings")
                .json(settings),
        )
        .await
    }
}
