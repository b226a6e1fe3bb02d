//! Users, sessions and who-am-I.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{Permission, Role};
use super::tenant::{TenantStatus, Tier};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub platform_admin: bool,
    pub created_at: DateTime<Utc>,
    /// The tenant whose invitation created this account, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by_tenant: Option<Uuid>,
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Opaque bearer token, shown once.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MembershipSummary {
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    pub tenant_name: String,
    pub tier: Tier,
    pub status: TenantStatus,
    pub role: Role,
    /// The member's effective permissions there (the role's and their
    /// grants), as `GET /me` reports them.
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub platform_admin: bool,
    pub memberships: Vec<MembershipSummary>,
}

/// `POST /api/v1/me/password`: the current password proves it is the
/// account's owner; every other session of the account ends.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// 8 or more characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { <redacted> }")
    }
}
