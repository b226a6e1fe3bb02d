//! Memberships and invitations: who belongs to a tenant, with what role. A
//! supertrait of [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use serde_json::json;

use super::conn::{to_ms, write_audit, Arg, Backend, Conn, Stmt};
use super::row::{Id, Time};
use super::sql::Dialect;
use super::{
    Accepter, Actor, AuditEntry, InvitationRef, StoreError, StoreResult, UserRecord, USER_COLUMNS,
};
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
}

/// Accepting an invitation: finding it is a lookup across tenants, which
/// each backend does its own way; the rest is [`accept_open_invitation`].
#[async_trait]
pub trait InvitationAcceptStore: Send + Sync {
    /// Consumes a valid invitation and makes the accepter (created when
    /// new) a member, all at once. See [`Accepter`] for who may accept.
    async fn accept_invitation(
        &self,
        which: InvitationRef<'_>,
        accepter: Accepter<'_>,
    ) -> StoreResult<(User, Uuid)>;
}

async fn member_in<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    user_id: Uuid,
) -> StoreResult<Option<Member>> {
    let stmt = Stmt::new(
        format!("{MEMBER_SELECT} WHERE m.tenant_id = $1 AND m.user_id = $2"),
        "find a member",
    )
    .id(tenant_id)
    .id(user_id);
    Ok(c.fetch_optional::<MemberRecord>(stmt)
        .await?
        .map(Member::from))
}

/// Locks the tenant's row until the transaction ends, so changes to its
/// members from any number of processes take turns (SQLite's write
/// transaction holds the whole database already).
pub(crate) async fn lock_tenant<C: Conn>(c: &mut C, tenant_id: Uuid) -> StoreResult<()> {
    let stmt = Stmt::new(
        "SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
        "lock a tenant",
    )
    .id(tenant_id);
    c.fetch_optional::<(super::row::Int,)>(stmt).await?;
    Ok(())
}

async fn check_user_limit<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    user_limit: Option<u32>,
    tier: Tier,
) -> StoreResult<()> {
    if let Some(limit) = user_limit {
        let stmt = Stmt::new(
            "SELECT count(*) FROM memberships WHERE tenant_id = $1",
            "count members",
        )
        .id(tenant_id);
        let (n,) = c.fetch_one::<(i64,)>(stmt).await?;
        within_user_limit(n, limit, tier)?;
    }
    Ok(())
}

/// Refuses a change of `user_id` to `after` (`None`: removal) that would
/// leave nobody able to manage members. The caller holds the tenant lock.
async fn check_a_manager_stays<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    user_id: Uuid,
    after: Option<(Role, &Grants)>,
) -> StoreResult<()> {
    let stmt = Stmt::new(
        format!("{RIGHTS_SELECT} WHERE tenant_id = $1"),
        "read the members' rights",
    )
    .id(tenant_id);
    let rows = c.fetch_all::<RightsRecord>(stmt).await?;
    let members: Vec<MemberRights> = rows.into_iter().map(MemberRights::from).collect();
    keep_a_member_manager(&members, user_id, after)
}

async fn insert_membership<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> StoreResult<()> {
    let stmt = Stmt::new(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        "add a member",
    )
    .id(tenant_id)
    .id(user_id)
    .text(role.as_str())
    .time(Utc::now());
    c.execute(stmt).await?;
    Ok(())
}

/// A page cursor of ids, as each backend has always read it: PostgreSQL
/// refuses one that is not an id; SQLite compares its text as it is.
pub(crate) fn id_cursor_arg(dialect: Dialect, page: &PageQuery) -> StoreResult<Arg> {
    Ok(match dialect {
        Dialect::Postgres => Arg::OptId(
            page.cursor
                .as_deref()
                .map(|c| Uuid::parse_str(c).map_err(|_| StoreError::BadCursor))
                .transpose()?,
        ),
        Dialect::Sqlite => Arg::OptText(page.cursor.clone()),
    })
}

fn member_audit(action: &'static str, user_id: Uuid, changes: serde_json::Value) -> AuditEntry {
    AuditEntry {
        action,
        resource: "member",
        resource_id: user_id.to_string(),
        changes,
    }
}

fn invitation_audit(action: &'static str, id: Uuid, changes: serde_json::Value) -> AuditEntry {
    AuditEntry {
        action,
        resource: "invitation",
        resource_id: id.to_string(),
        changes,
    }
}

/// Accepts the open invitation `invitation_id` of `tenant_id`, read as
/// `open` in this transaction (the tenant locked): the accepter is the
/// invited user (created when new), made a member unless they are one.
/// The caller commits.
pub(crate) async fn accept_open_invitation<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    invitation_id: Uuid,
    open: InvitationToAccept,
    accepter: Accepter<'_>,
) -> StoreResult<User> {
    open.tenant_may_change()?;
    let user_limit = open.user_limit();
    let InvitationToAccept {
        email, role, tier, ..
    } = open;
    let existing = Stmt::new(
        format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1"),
        "find the invited user",
    )
    .text(email.clone());
    let existing = c
        .fetch_optional::<UserRecord>(existing)
        .await?
        .map(User::from);
    let user = match (existing, accepter) {
        (Some(found), Accepter::Existing(me)) if found.id == me.id => found,
        (_, Accepter::Existing(_)) => return Err(StoreError::InvitationNotYours),
        (Some(_), Accepter::New { .. }) => return Err(StoreError::InvitationNeedsSignIn),
        (
            None,
            Accepter::New {
                name,
                password_hash,
            },
        ) => {
            let user = User {
                id: Uuid::now_v7(),
                email: email.clone(),
                name: name.to_string(),
                platform_admin: false,
                created_at: to_ms(Utc::now()),
                invited_by_tenant: Some(tenant_id),
            };
            let insert = Stmt::new(
                "INSERT INTO users (id, email, name, password_hash, platform_admin, \
                 created_at, invited_by_tenant) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                "create the invited user",
            )
            .id(user.id)
            .text(user.email.clone())
            .text(user.name.clone())
            .text(password_hash)
            .arg(Arg::Bool(false))
            .time(user.created_at)
            .id(tenant_id);
            c.execute(insert).await?;
            user
        }
    };
    if member_in(c, tenant_id, user.id).await?.is_none() {
        check_user_limit(c, tenant_id, user_limit, tier).await?;
        insert_membership(c, tenant_id, user.id, role).await?;
    }
    let accepted = Stmt::new(
        "UPDATE invitations SET accepted_at = $1 WHERE tenant_id = $2 AND id = $3",
        "mark an invitation accepted",
    )
    .time(Utc::now())
    .id(tenant_id)
    .id(invitation_id);
    c.execute(accepted).await?;
    let entry = invitation_audit(
        "invitation.accept",
        invitation_id,
        json!({ "email": email, "role": role }),
    );
    write_audit(c, tenant_id, &Actor::user(&user), &entry).await?;
    Ok(user)
}

/// The tier's user limit and the last-admin rule are checked with the
/// tenant locked (its row on PostgreSQL, the database on SQLite), so
/// concurrent changes from any number of processes take turns.
#[async_trait]
impl<B: Backend> MemberStore for B {
    async fn role_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Role>> {
        let mut tx = self.reading(tenant_id).await?;
        let stmt = Stmt::new(
            "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2",
            "look up a role",
        )
        .id(tenant_id)
        .id(user_id);
        let role = tx.fetch_optional::<(Role,)>(stmt).await?;
        tx.commit("end a read").await?;
        Ok(role.map(|(r,)| r))
    }

    async fn rights_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<MemberRights>> {
        let mut tx = self.reading(tenant_id).await?;
        let stmt = Stmt::new(
            format!("{RIGHTS_SELECT} WHERE tenant_id = $1 AND user_id = $2"),
            "look up a member's rights",
        )
        .id(tenant_id)
        .id(user_id);
        let row = tx.fetch_optional::<RightsRecord>(stmt).await?;
        tx.commit("end a read").await?;
        Ok(row.map(MemberRights::from))
    }

    async fn member(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Member>> {
        let mut tx = self.reading(tenant_id).await?;
        let member = member_in(&mut tx, tenant_id, user_id).await?;
        tx.commit("end a read").await?;
        Ok(member)
    }

    async fn set_member_grants(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        grants: Grants,
    ) -> StoreResult<Member> {
        let mut tx = self.writing(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, Some((current.role, &grants))).await?;
        let update = Stmt::new(
            "UPDATE memberships SET grants = $1, withdrawals = $2 \
             WHERE tenant_id = $3 AND user_id = $4",
            "change a member's grants",
        )
        .text(permissions_to_column(&grants.granted))
        .text(permissions_to_column(&grants.withdrawn))
        .id(tenant_id)
        .id(user_id);
        tx.execute(update).await?;
        let entry = grants_audit(&current, &grants);
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit("commit a change of grants").await?;
        Ok(Member { grants, ..current })
    }

    async fn list_members(&self, tenant_id: Uuid, page: &PageQuery) -> StoreResult<Page<Member>> {
        let limit = page.limit();
        let mut tx = self.reading(tenant_id).await?;
        let after = id_cursor_arg(tx.dialect(), page)?;
        let stmt = Stmt::new(
            format!(
                "{MEMBER_SELECT} WHERE m.tenant_id = $1 AND ($2 IS NULL OR m.user_id > $2) \
                 ORDER BY m.user_id LIMIT $3"
            ),
            "list members",
        )
        .id(tenant_id)
        .arg(after)
        .arg(Arg::Int(limit as i64 + 1));
        let rows = tx.fetch_all::<MemberRecord>(stmt).await?;
        tx.commit("end a read").await?;
        let members = rows.into_iter().map(Member::from).collect();
        Ok(Page::from_rows(members, limit, |m| m.user_id.to_string()))
    }

    async fn add_member(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        role: Role,
        user_limit: Option<u32>,
        tier: Tier,
    ) -> StoreResult<Member> {
        let mut tx = self.writing(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        if member_in(&mut tx, tenant_id, user_id).await?.is_some() {
            return Err(StoreError::Conflict { field: "email" });
        }
        check_user_limit(&mut tx, tenant_id, user_limit, tier).await?;
        insert_membership(&mut tx, tenant_id, user_id, role).await?;
        let entry = member_audit("member.add", user_id, json!({ "role": role }));
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let member = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit a new member").await?;
        Ok(member)
    }

    async fn set_member_role(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        role: Role,
    ) -> StoreResult<Member> {
        let mut tx = self.writing(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, Some((role, &current.grants))).await?;
        let update = Stmt::new(
            "UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3",
            "change a role",
        )
        .text(role.as_str())
        .id(tenant_id)
        .id(user_id);
        tx.execute(update).await?;
        let changes = json!({ "role": { "from": current.role, "to": role } });
        let entry = member_audit("member.role_change", user_id, changes);
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit("commit a role change").await?;
        Ok(Member { role, ..current })
    }

    async fn remove_member(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.writing(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, None).await?;
        let delete = Stmt::new(
            "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2",
            "remove a member",
        )
        .id(tenant_id)
        .id(user_id);
        tx.execute(delete).await?;
        let changes = json!({ "email": current.email, "role": current.role });
        let entry = member_audit("member.remove", user_id, changes);
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit("commit a member removal").await
    }

    async fn create_invitation(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewInvitationRow,
    ) -> StoreResult<Invitation> {
        let invitation = Invitation {
            id: Uuid::now_v7(),
            email: row.email.to_lowercase(),
            role: row.role,
            invited_by: actor.user_id,
            created_at: to_ms(Utc::now()),
            expires_at: to_ms(row.expires_at),
            accepted_at: None,
        };
        let mut tx = self.writing(tenant_id).await?;
        let insert = Stmt::new(
            "INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            "create an invitation",
        )
        .id(tenant_id)
        .id(invitation.id)
        .text(invitation.email.clone())
        .text(row.role.as_str())
        .text(row.token_hash.clone())
        .arg(Arg::OptId(actor.user_id))
        .time(invitation.created_at)
        .time(invitation.expires_at);
        tx.execute(insert).await?;
        let changes = json!({ "email": invitation.email, "role": row.role });
        let entry = invitation_audit("invitation.create", invitation.id, changes);
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit("commit an invitation").await?;
        Ok(invitation)
    }

    async fn list_invitations(
        &self,
        tenant_id: Uuid,
        page: &PageQuery,
    ) -> StoreResult<Page<Invitation>> {
        let limit = page.limit();
        let mut tx = self.reading(tenant_id).await?;
        let after = id_cursor_arg(tx.dialect(), page)?;
        let stmt = Stmt::new(
            format!(
                "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1 \
                 AND revoked_at IS NULL AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
            ),
            "list invitations",
        )
        .id(tenant_id)
        .arg(after)
        .arg(Arg::Int(limit as i64 + 1));
        let rows = tx.fetch_all::<InvitationRecord>(stmt).await?;
        tx.commit("end a read").await?;
        let items = rows.into_iter().map(Invitation::from).collect();
        Ok(Page::from_rows(items, limit, |i| i.id.to_string()))
    }

    async fn revoke_invitation(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.writing(tenant_id).await?;
        let revoke = Stmt::new(
            "UPDATE invitations SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 \
             AND revoked_at IS NULL AND accepted_at IS NULL",
            "revoke an invitation",
        )
        .time(Utc::now())
        .id(tenant_id)
        .id(id);
        if tx.execute(revoke).await? == 0 {
            return Err(StoreError::NotFound);
        }
        let entry = invitation_audit("invitation.revoke", id, json!({}));
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit("commit an invitation revocation").await
    }
}
