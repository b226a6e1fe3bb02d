//! Memberships and invitations: who belongs to a tenant, with what role. A
//! supertrait of [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::row::{Id, Time};
use super::{Accepter, Actor, InvitationRef, StoreError, StoreResult};
use crate::domain::access::effective;
use crate::domain::{
    Grants, Invitation, Member, Page, PageQuery, Permission, Role, TenantStatus, Tier, User,
};

/// The member columns both backends select, read by [`MemberRecord`].
pub(crate) const MEMBER_SELECT: &str =
    "SELECT m.user_id, u.email, u.name, m.role, m.created_at AS joined_at, \
     u.invited_by_tenant, m.grants, m.withdrawals \
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
    grants: String,
    withdrawals: String,
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
            grants: grants_from_columns(&r.grants, &r.withdrawals),
        }
    }
}

/// The membership columns the last-admin rule reads, by [`RightsRecord`]
/// (both backends add their `WHERE tenant_id = …`).
pub(crate) const RIGHTS_SELECT: &str = "SELECT user_id, role, grants, withdrawals FROM memberships";

/// A membership's role and grants.
#[derive(sqlx::FromRow)]
pub(crate) struct RightsRecord {
    user_id: Id,
    role: Role,
    grants: String,
    withdrawals: String,
}

impl From<RightsRecord> for MemberRights {
    fn from(r: RightsRecord) -> MemberRights {
        MemberRights {
            user_id: r.user_id.into(),
            role: r.role,
            grants: grants_from_columns(&r.grants, &r.withdrawals),
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
/// `i.email, i.role, t.tier, t.user_limit, t.status, t.name`.
#[derive(sqlx::FromRow)]
pub(crate) struct InvitationToAccept {
    pub email: String,
    pub role: Role,
    pub tier: Tier,
    user_limit: Option<i64>,
    status: TenantStatus,
    name: String,
}

impl InvitationToAccept {
    /// The member limit in force: the tenant's override, else its tier's.
    pub fn user_limit(&self) -> Option<u32> {
        let limit = self.user_limit.and_then(|n| u32::try_from(n).ok());
        crate::domain::tenant_profile::effective_user_limit(self.tier, limit)
    }

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

/// The user limit in force (the tenant's override, else its tier's), given
/// how many members the tenant has now.
pub fn within_user_limit(members: i64, limit: u32, tier: Tier) -> StoreResult<()> {
    if members >= i64::from(limit) && tier.user_limit() != Some(limit) {
        return Err(StoreError::UserLimitOverride { limit });
    }
    if members >= i64::from(limit) {
        return Err(StoreError::LimitReached {
            what: "users",
            tier,
            limit,
        });
    }
    Ok(())
}

/// One membership as the last-admin rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRights {
    pub user_id: Uuid,
    pub role: Role,
    pub grants: Grants,
}

impl MemberRights {
    fn manages_members(&self) -> bool {
        effective(self.role, &self.grants).contains(&Permission::MembersManage)
    }
}

/// The last-admin rule on effective permissions: a change of `user_id` to
/// `after` (`None`: removed) that takes away their `members:manage` leaves
/// someone in `members` (the tenant's memberships now) who can still manage
/// members.
pub fn keep_a_member_manager(
    members: &[MemberRights],
    user_id: Uuid,
    after: Option<(Role, &Grants)>,
) -> StoreResult<()> {
    let manages_after = after
        .is_some_and(|(role, grants)| effective(role, grants).contains(&Permission::MembersManage));
    let manages_now = members
        .iter()
        .any(|m| m.user_id == user_id && m.manages_members());
    // Only a change that takes a member manager away can break the rule (a
    // tenant a platform admin runs may have none to begin with).
    if !manages_now || manages_after {
        return Ok(());
    }
    let still = members.iter().any(|m| {
        if m.user_id != user_id {
            return m.manages_members();
        }
        after.is_some_and(|(role, grants)| {
            effective(role, grants).contains(&Permission::MembersManage)
        })
    });
    if still {
        Ok(())
    } else {
        Err(StoreError::LastAdmin)
    }
}

/// A stored list of permissions (space-separated names; names this binary
/// does not know are left out).
pub fn permissions_from_column(column: &str) -> Vec<Permission> {
    let mut out: Vec<Permission> = column
        .split_whitespace()
        .filter_map(Permission::parse)
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn permissions_to_column(list: &[Permission]) -> String {
    list.iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The audit entry of a change of `member`'s grants to `grants`.
pub fn grants_audit(member: &Member, grants: &Grants) -> super::AuditEntry {
    super::AuditEntry {
        action: "member.permissions",
        resource: "member",
        resource_id: member.user_id.to_string(),
        changes: serde_json::json!({
            "email": member.email,
            "role": member.role,
            "granted": { "from": member.grants.granted, "to": grants.granted },
            "withdrawn": { "from": member.grants.withdrawn, "to": grants.withdrawn },
        }),
    }
}

/// The grants of a membership row's `grants` and `withdrawals` columns.
pub fn grants_from_columns(granted: &str, withdrawn: &str) -> Grants {
    Grants {
        granted: permissions_from_column(granted),
        withdrawn: permissions_from_column(withdrawn),
    }
}

#[async_trait]
pub trait MemberStore: Send + Sync {
    async fn role_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Role>>;
    /// The member's role and grants, if they belong to the tenant.
    async fn rights_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<MemberRights>>;
    /// One member, if they belong to the tenant.
    async fn member(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Member>>;
    /// Replaces the member's grants (already normalized for their role);
    /// audited. Fails with `LastAdmin` when nobody could manage members after.
    async fn set_member_grants(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        grants: Grants,
    ) -> StoreResult<Member>;
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
    /// Fails with `LastAdmin` when it would leave nobody able to manage
    /// members.
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
