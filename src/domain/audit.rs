//! The audit log: who did what to which resource, when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    /// Dotted verb, e.g. `tenant.update`, `member.add`, `api_key.revoke`.
    pub action: String,
    pub resource: String,
    pub resource_id: String,
    /// Names of the changed fields; never their secret values.
    pub changes: serde_json::Value,
    pub created_at: DateTime<Utc>,
}
