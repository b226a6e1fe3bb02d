//! API keys used by website forms to post leads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ApiKeyScope {
    #[serde(rename = "leads:ingest")]
    LeadsIngest,
}

impl ApiKeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::LeadsIngest => "leads:ingest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        (s == "leads:ingest").then_some(ApiKeyScope::LeadsIngest)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// `sbk_` and the first characters: names the key without revealing it.
    pub prefix: String,
    pub last_four: String,
    pub scope: ApiKeyScope,
    pub created_by: Option<Uuid>,
    /// Leads posted with this key land in this workspace.
    pub workspace_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewApiKey {
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: String,
    #[serde(default)]
    pub scope: Option<ApiKeyScope>,
    /// Bind the key to a workspace of the tenant: its leads land there.
    #[serde(default)]
    pub workspace_id: Option<Uuid>,
}

/// Returned once, at creation: the key itself is never shown again.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    pub api_key: ApiKey,
    pub key: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("api_key", &self.api_key)
            .field("key", &"<redacted>")
            .finish()
    }
}
