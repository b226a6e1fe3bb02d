//! The platform settings' API calls, their replies, and how to perform them.

use crate::api::{ApiError, ApiResult, Client};
use crate::domain::platform::PlatformSettings;

#[derive(Debug, Clone, PartialEq)]
pub enum PlatformRequest {
    /// Read, to open the form with them.
    Load,
    Save(Box<PlatformSettings>),
}

#[derive(Debug, Clone)]
pub enum PlatformResponse {
    Loaded(ApiResult<PlatformSettings>),
    Saved(ApiResult<PlatformSettings>),
}

impl PlatformResponse {
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            PlatformResponse::Loaded(r) | PlatformResponse::Saved(r) => r.as_ref().err(),
        }
    }
}

/// Performs one request. Runs in a spawned task, never in the UI loop.
pub async fn execute(client: &Client, req: PlatformRequest) -> PlatformResponse {
    match req {
        PlatformRequest::Load => PlatformResponse::Loaded(client.platform_settings().await),
        PlatformRequest::Save(s) => PlatformResponse::Saved(client.put_platform_settings(&s).await),
    }
}
