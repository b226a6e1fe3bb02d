//! Accounts: users and their memberships, sessions (with an idle timeout
//! that slides with use under an absolute cap), passwords, and the
//! invitations waiting for a signed-in user. A supertrait of [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::row::{Id, Time};
use super::StoreResult;
use crate::domain::{MembershipSummary, PendingInvitation, Role, TenantStatus, Tier, User};

/// The user columns both backends select (`u` is `users`), read by [`UserRecord`].
pub(crate) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.platform_admin, u.created_at, u.invited_by_tenant";

/// A user as [`USER_COLUMNS`] reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRecord {
    id: Id,
    email: String,
    name: String,
    platform_admin: bool,
    created_at: Time,
    invited_by_tenant: Option<Id>,
}

impl From<UserRecord> for User {
    fn from(r: UserRecord) -> User {
        User {
            id: r.id.into(),
            email: r.email,
            name: r.name,
            platform_admin: r.platform_admin,
            created_at: r.created_at.into(),
            invited_by_tenant: r.invited_by_tenant.map(Uuid::from),
        }
    }
}

/// A session's user with the session's last use.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionUserRecord {
    #[sqlx(flatten)]
    pub user: UserRecord,
    pub last_used_at: Option<Time>,
}

/// A user with their password hash (none before they set one).
#[derive(sqlx::FromRow)]
pub(crate) struct UserLoginRecord {
    #[sqlx(flatten)]
    pub user: UserRecord,
    pub password_hash: Option<String>,
}

/// An invitation waiting for a user, with its tenant.
#[derive(sqlx::FromRow)]
pub(crate) struct PendingInvitationRecord {
    id: Id,
    tenant_id: Id,
    tenant_slug: String,
    tenant_name: String,
    role: Role,
    invited_by_email: Option<String>,
    created_at: Time,
    expires_at: Time,
}

impl From<PendingInvitationRecord> for PendingInvitation {
    fn from(r: PendingInvitationRecord) -> PendingInvitation {
        PendingInvitation {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            tenant_slug: r.tenant_slug,
            tenant_name: r.tenant_name,
            role: r.role,
            invited_by_email: r.invited_by_email,
            created_at: r.created_at.into(),
            expires_at: r.expires_at.into(),
        }
    }
}

/// One of a user's memberships, with its tenant.
#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRecord {
    tenant_id: Id,
    tenant_slug: String,
    tenant_name: String,
    tier: Tier,
    status: TenantStatus,
    role: Role,
}

impl From<MembershipRecord> for MembershipSummary {
    fn from(r: MembershipRecord) -> MembershipSummary {
        MembershipSummary {
            tenant_id: r.tenant_id.into(),
            tenant_slug: r.tenant_slug,
            tenant_name: r.tenant_name,
            tier: r.tier,
            status: r.status,
            role: r.role,
            // The server fills these in from the role and the grants.
            permissions: Vec::new(),
        }
    }
}

/// Which invitation an acceptance names.
#[derive(Debug, Clone, Copy)]
pub enum InvitationRef<'a> {
    /// By its secret token (hashed), from the invitation link.
    Token(&'a str),
    /// By id, for the signed-in user it was sent to (`email`); another
    /// user's invitation answers not found.
    Mine { id: Uuid, email: &'a str },
}

/// Who accepts an invitation. An invitation for an email that already has
/// an account can only be accepted by that account, signed in; one for a
/// new email creates the account (marked with the inviting tenant).
#[derive(Debug, Clone, Copy)]
pub enum Accepter<'a> {
    Existing(&'a User),
    New {
        name: &'a str,
        password_hash: &'a str,
    },
}

/// A session's lifetime: it ends `idle` after its last use, and at
/// `expires_at` whatever the use.
#[derive(Debug, Clone, Copy)]
pub struct SessionClock {
    pub now: DateTime<Utc>,
    pub idle: Duration,
}

impl SessionClock {
    /// Last-use times are written at most this often, so a busy session
    /// does not turn every read into a write.
    pub fn touch_every(&self) -> Duration {
        (self.idle / 4).min(Duration::seconds(60))
    }
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// A new user; the email is stored lowercased.
    async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: Option<&str>,
        platform_admin: bool,
    ) -> StoreResult<User>;
    /// The user and its password hash (`None` for accounts without one).
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>>;
    async fn create_session(
        &self,
        user_id: Uuid,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Ends the session (and sweeps expired ones).
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    async fn memberships_of(&self, user_id: Uuid) -> StoreResult<Vec<MembershipSummary>>;
    /// The session's user, when the session exists, has not reached its
    /// absolute expiry and was used within the idle timeout; records the use.
    async fn session_user(
        &self,
        token_hash: &str,
        clock: SessionClock,
    ) -> StoreResult<Option<User>>;
    /// Ends every session of `user_id` except `keep` (a token hash);
    /// returns how many ended.
    async fn end_sessions(&self, user_id: Uuid, keep: Option<&str>) -> StoreResult<u64>;
    async fn set_password_hash(&self, user_id: Uuid, password_hash: &str) -> StoreResult<()>;
    /// The invitation's email, when the token (hashed) is still valid: lets
    /// the server ask for a password only when no account exists yet.
    async fn invitation_email(&self, token_hash: &str) -> StoreResult<Option<String>>;
    /// Valid invitations sent to `email`, oldest first.
    async fn pending_invitations(&self, email: &str) -> StoreResult<Vec<PendingInvitation>>;
    /// The invitee turns one down: it is revoked (recorded in the tenant's
    /// audit log as the invitee's decision).
    async fn decline_invitation(&self, user: &User, id: Uuid) -> StoreResult<()>;
}
