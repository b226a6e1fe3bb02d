//! Memberships and invitations: who belongs to a tenant, with what role. A
//! supertrait of [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::row::{Id, Time};
use super::{Accepter, Actor, InvitationRef, StoreError, StoreResult};
use crate::domain::{Invitation, Member, Page, PageQuery, Role, TenantStatus, Tier, User};

/// The member columns both backends select, read by [`MemberRecord`].
pub(crate) const MEMBER_SELECT: &str =
    "SELECT m.user_id, u.email, u.name, m.role, m.created_at AS joined_at, \
     u.invited_by_tenant \
     FROM memberships m JOIN users u ON u.id = m.user_id";

/// A member as [`MEMBER_SELECT`] reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRecord {
    user_id: Id,
    email: String,
    name: String,
    role: Role,
    joined_at: Time,
    invited_by_tenant: Option<Id>,
}

impl From<MemberRecord> for Member {
    fn from(r: MemberRecord) -> Member {
        Member {
            user_id: r.user_id.into(),
            email: r.email,
            name: r.name,
            role: r.role,
            joined_at: r.joined_at.into(),
            invited_by_tenant: r.invited_by_tenant.map(Uuid::from),
        }
    }
}

/// The invitation columns both backends list, read by [`InvitationRecord`].
pub(crate) const INVITATION_COLUMNS: &str =
    "id, email, role, invited_by, created_at, expires_at, accepted_at";

/// An invitation as [`INVITATION_COLUMNS`] reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct InvitationRecord {
    id: Id,
    email: String,
    role: Role,
    invited_by: Option<Id>,
    created_at: Time,
    expires_at: Time,
    accepted_at: Option<Time>,
}

impl From<InvitationRecord> for Invitation {
    fn from(r: InvitationRecord) -> Invitation {
        Invitation {
            id: r.id.into(),
            email: r.email,
            role: r.role,
            invited_by: r.invited_by.map(Uuid::from),
            created_at: r.created_at.into(),
            expires_at: r.expires_at.into(),
            accepted_at: r.accepted_at.map(Into::into),
        }
    }
}

/// An open invitation as its acceptance reads it, under the tenant's lock:
/// `i.email, i.role, t.tier, t.status, t.name`.
#[derive(sqlx::FromRow)]
pub(crate) struct InvitationToAccept {
    pub email: String,
    pub role: Role,
    pub tier: Tier,
    status: TenantStatus,
    name: String,
}

impl InvitationToAccept {
    /// Joining is a change to the tenant: a suspended one is read-only.
    pub fn tenant_may_change(&self) -> StoreResult<()> {
        if self.status == TenantStatus::Suspended {
            return Err(StoreError::TenantSuspended {
                tenant: self.name.clone(),
            });
        }
        Ok(())
    }
}

/// An invitation as stored: the token only as its hash.
#[derive(Debug, Clone)]
pub struct NewInvitationRow {
    pub email: String,
    pub role: Role,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// The tier's user limit, given how many members the tenant has now.
pub fn within_user_limit(members: i64, limit: u32, tier: Tier) -> StoreResult<()> {
    if members >= i64::from(limit) {
        return Err(StoreError::LimitReached {
            what: "users",
            tier,
            limit,
        });
    }
    Ok(())
}

/// Whether a change of `current` to `new` (`None`: removal) takes an admin
/// away, so the admins must be counted.
pub fn loses_an_admin(current: Role, new: Option<Role>) -> bool {
    current == Role::Admin && new != Some(Role::Admin)
}

/// The last-admin rule, given how many admins the tenant has now: a tenant
/// keeps at least one.
pub fn keep_an_admin(admins: i64) -> StoreResult<()> {
    if admins <= 1 {
        return Err(StoreError::LastAdmin);
    }
    Ok(())
}

#[async_trait]
pub trait MemberStore: Send + Sync {
    async fn role_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Role>>;
    async fn list_members(&self, tenant_id: Uuid, page: &PageQuery) -> StoreResult<Page<Member>>;
    /// Adds a member unless the tier's user limit is reached (checked atomically).
    async fn add_member(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        role: Role,
        user_limit: Option<u32>,
        tier: Tier,
    ) -> StoreResult<Member>;
    /// Fails with `LastAdmin` when it would leave the tenant without an admin.
    async fn set_member_role(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        role: Role,
    ) -> StoreResult<Member>;
    async fn remove_member(&self, actor: &Actor, tenant_id: Uuid, user_id: Uuid)
        -> StoreResult<()>;
    async fn create_invitation(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewInvitationRow,
    ) -> StoreResult<Invitation>;
    async fn list_invitations(
        &self,
        tenant_id: Uuid,
        page: &PageQuery,
    ) -> StoreResult<Page<Invitation>>;
    async fn revoke_invitation(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    /// Consumes a valid invitation and makes the accepter (created when
    /// new) a member, all at once. See [`Accepter`] for who may accept.
    async fn accept_invitation(
        &self,
        which: InvitationRef<'_>,
        accepter: Accepter<'_>,
    ) -> StoreResult<(User, Uuid)>;
}
