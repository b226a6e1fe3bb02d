//! Memberships and invitations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{effective, Grants, Permission, Role};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// The tenant whose invitation created this account, when one did: an
    /// account another tenant made for an email it may not own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by_tenant: Option<Uuid>,
    /// Permissions granted or withdrawn for this member on top of the role.
    #[serde(default)]
    pub grants: Grants,
}

impl Member {
    /// What this member may do: the role's permissions and the grants.
    pub fn permissions(&self) -> Vec<Permission> {
        effective(self.role, &self.grants)
    }
}

/// One member's permissions: the role's, the grants and withdrawals on top,
/// and the effective set the server checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemberPermissions {
    pub user_id: Uuid,
    pub role: Role,
    pub role_permissions: Vec<Permission>,
    pub grants: Grants,
    pub effective: Vec<Permission>,
}

impl MemberPermissions {
    pub fn of(member: &Member) -> Self {
        Self {
            user_id: member.user_id,
            role: member.role,
            role_permissions: member.role.permissions().to_vec(),
            grants: member.grants.clone(),
            effective: member.permissions(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewMember {
    /// An existing user's email; invite anyone else. A platform admin adds
    /// the account at once; a tenant admin's request becomes an invitation
    /// its owner accepts while signed in.
    #[schema(format = Email)]
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleChange {
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewInvitation {
    #[schema(format = Email)]
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// Returned once, at creation: the token is never shown again.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedInvitation {
    pub invitation: Invitation,
    pub token: String,
}

impl std::fmt::Debug for CreatedInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedInvitation")
            .field("invitation", &self.invitation)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptInvitation {
    pub token: String,
    /// Required when no account exists for the invited email yet (8+ characters).
    #[serde(default)]
    #[schema(min_length = 8, max_length = 1024)]
    pub password: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl std::fmt::Debug for AcceptInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptInvitation")
            .field("token", &"<redacted>")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .finish()
    }
}

/// What `POST …/members` did: a platform admin adds an existing account at
/// once (201, a member); anyone else invites it (202, an invitation the
/// account's owner accepts while signed in).
#[derive(Debug, Clone, PartialEq)]
pub enum MemberAdded {
    Added(Member),
    Invited(Invitation),
}

/// An invitation waiting for the signed-in user (`GET /api/v1/me/invitations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingInvitation {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    pub tenant_name: String,
    pub role: Role,
    pub invited_by_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The answer to accepting an invitation: the membership it gave, and a
/// session only when the acceptance created the account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptedInvitation {
    pub membership: super::MembershipSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<super::LoginResponse>,
}
