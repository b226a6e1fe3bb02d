//! Memberships and invitations: who belongs to a tenant, with what role. A
//! supertrait of [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Accepter, Actor, InvitationRef, StoreError, StoreResult};
use crate::domain::{Invitation, Member, Page, PageQuery, Role, Tier, User};

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
