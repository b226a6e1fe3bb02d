//! Memberships and invitations. The tier's user limit and the last-admin
//! rule are checked with the tenant row locked (`lock_tenant`), so
//! concurrent changes from any number of processes take turns.

use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use super::tenants::lock_tenant;
use super::{db_error, id_cursor, ms, now, parse_role, write_audit, PgStore, Tx};
use crate::domain::{Grants, Invitation, Member, Page, PageQuery, Role, Tier, User};
use crate::store::{
    grants_audit, keep_a_member_manager, permissions_to_column, within_user_limit, Accepter, Actor,
    AuditEntry, InvitationRecord, InvitationRef, InvitationToAccept, MemberRecord, MemberRights,
    MemberStore, NewInvitationRow, RightsRecord, StoreError, StoreResult, UserRecord,
    INVITATION_COLUMNS, MEMBER_SELECT, RIGHTS_SELECT, USER_COLUMNS,
};

async fn member_in(tx: &mut Tx, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Member>> {
    let row = sqlx::query_as::<_, MemberRecord>(&format!(
        "{MEMBER_SELECT} WHERE m.tenant_id = $1 AND m.user_id = $2"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "find a member"))?;
    Ok(row.map(Member::from))
}

async fn count(tx: &mut Tx, sql: &str, tenant_id: Uuid) -> StoreResult<i64> {
    sqlx::query_scalar(sql)
        .bind(tenant_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| db_error(e, "count members"))
}

async fn check_user_limit(
    tx: &mut Tx,
    tenant_id: Uuid,
    user_limit: Option<u32>,
    tier: Tier,
) -> StoreResult<()> {
    if let Some(limit) = user_limit {
        let n = count(
            tx,
            "SELECT count(*) FROM memberships WHERE tenant_id = $1",
            tenant_id,
        )
        .await?;
        within_user_limit(n, limit, tier)?;
    }
    Ok(())
}

/// Refuses a change of `user_id` to `after` (`None`: removal) that would
/// leave nobody able to manage members. The caller holds the tenant lock.
async fn check_a_manager_stays(
    tx: &mut Tx,
    tenant_id: Uuid,
    user_id: Uuid,
    after: Option<(Role, &Grants)>,
) -> StoreResult<()> {
    let rows = sqlx::query_as::<_, RightsRecord>(&format!("{RIGHTS_SELECT} WHERE tenant_id = $1"))
        .bind(tenant_id)
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read the members' rights"))?;
    let members: Vec<MemberRights> = rows.into_iter().map(MemberRights::from).collect();
    keep_a_member_manager(&members, user_id, after)
}

async fn insert_membership(
    tx: &mut Tx,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now())
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "add a member"))?;
    Ok(())
}

impl PgStore {
    /// The tenant, id and email of a still-valid invitation (a cross-tenant
    /// lookup by token, through the owner's `sb_invitation_by_token`).
    async fn invitation_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(Uuid, Uuid, String)>> {
        sqlx::query_as("SELECT tenant_id, id, email FROM sb_invitation_by_token($1)")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "look up an invitation"))
    }
}

#[async_trait]
impl MemberStore for PgStore {
    async fn role_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Role>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "look up a role"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        role.as_deref().map(parse_role).transpose()
    }

    async fn rights_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<MemberRights>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let row = sqlx::query_as::<_, RightsRecord>(&format!(
            "{RIGHTS_SELECT} WHERE tenant_id = $1 AND user_id = $2"
        ))
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "look up a member's rights"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(row.map(MemberRights::from))
    }

    async fn member(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Member>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let member = member_in(&mut tx, tenant_id, user_id).await?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(member)
    }

    async fn set_member_grants(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        grants: Grants,
    ) -> StoreResult<Member> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, Some((current.role, &grants))).await?;
        sqlx::query(
            "UPDATE memberships SET grants = $1, withdrawals = $2 \
             WHERE tenant_id = $3 AND user_id = $4",
        )
        .bind(permissions_to_column(&grants.granted))
        .bind(permissions_to_column(&grants.withdrawn))
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "change a member's grants"))?;
        let entry = grants_audit(&current, &grants);
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a change of grants"))?;
        Ok(Member { grants, ..current })
    }

    async fn list_members(&self, tenant_id: Uuid, page: &PageQuery) -> StoreResult<Page<Member>> {
        let limit = page.limit();
        let after = id_cursor(page)?;
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, MemberRecord>(&format!(
            "{MEMBER_SELECT} WHERE m.tenant_id = $1 AND ($2::uuid IS NULL OR m.user_id > $2) \
             ORDER BY m.user_id LIMIT $3"
        ))
        .bind(tenant_id)
        .bind(after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list members"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        if member_in(&mut tx, tenant_id, user_id).await?.is_some() {
            return Err(StoreError::Conflict { field: "email" });
        }
        check_user_limit(&mut tx, tenant_id, user_limit, tier).await?;
        insert_membership(&mut tx, tenant_id, user_id, role).await?;
        let entry = AuditEntry {
            action: "member.add",
            resource: "member",
            resource_id: user_id.to_string(),
            changes: json!({ "role": role }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let member = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a new member"))?;
        Ok(member)
    }

    async fn set_member_role(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        role: Role,
    ) -> StoreResult<Member> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, Some((role, &current.grants))).await?;
        sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(tenant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "change a role"))?;
        let entry = AuditEntry {
            action: "member.role_change",
            resource: "member",
            resource_id: user_id.to_string(),
            changes: json!({ "role": { "from": current.role, "to": role } }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a role change"))?;
        Ok(Member { role, ..current })
    }

    async fn remove_member(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, None).await?;
        sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "remove a member"))?;
        let entry = AuditEntry {
            action: "member.remove",
            resource: "member",
            resource_id: user_id.to_string(),
            changes: json!({ "email": current.email, "role": current.role }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a member removal"))
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
            created_at: now(),
            expires_at: ms(row.expires_at),
            accepted_at: None,
        };
        let mut tx = self.tenant_tx(tenant_id).await?;
        sqlx::query(
            "INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant_id)
        .bind(invitation.id)
        .bind(&invitation.email)
        .bind(row.role.as_str())
        .bind(&row.token_hash)
        .bind(actor.user_id)
        .bind(invitation.created_at)
        .bind(invitation.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "create an invitation"))?;
        let entry = AuditEntry {
            action: "invitation.create",
            resource: "invitation",
            resource_id: invitation.id.to_string(),
            changes: json!({ "email": invitation.email, "role": row.role }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an invitation"))?;
        Ok(invitation)
    }

    async fn list_invitations(
        &self,
        tenant_id: Uuid,
        page: &PageQuery,
    ) -> StoreResult<Page<Invitation>> {
        let limit = page.limit();
        let after = id_cursor(page)?;
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, InvitationRecord>(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1 \
             AND revoked_at IS NULL AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(tenant_id)
        .bind(after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list invitations"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        let items = rows.into_iter().map(Invitation::from).collect();
        Ok(Page::from_rows(items, limit, |i| i.id.to_string()))
    }

    async fn revoke_invitation(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 \
             AND revoked_at IS NULL AND accepted_at IS NULL",
        )
        .bind(now())
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "revoke an invitation"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry {
            action: "invitation.revoke",
            resource: "invitation",
            resource_id: id.to_string(),
            changes: json!({}),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an invitation revocation"))
    }

    async fn accept_invitation(
        &self,
        which: InvitationRef<'_>,
        accepter: Accepter<'_>,
    ) -> StoreResult<(User, Uuid)> {
        // Which tenant the invitation belongs to is a cross-tenant lookup,
        // through the owner's functions; the rest runs under that tenant.
        let (tenant_id, invitation_id) = match which {
            InvitationRef::Token(hash) => self
                .invitation_by_token(hash)
                .await?
                .map(|(t, i, _)| (t, i))
                .ok_or(StoreError::InvitationInvalid)?,
            InvitationRef::Mine { id, email } => sqlx::query_as::<_, (Uuid, Uuid)>(
                "SELECT tenant_id, id FROM sb_pending_invitations($1) WHERE id = $2",
            )
            .bind(email)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "look up an invitation"))?
            .ok_or(StoreError::NotFound)?,
        };
        let mut tx = self.tenant_tx(tenant_id).await?;
        lock_tenant(&mut tx, tenant_id).await?;
        // Re-read under the row lock: a concurrent acceptance or revocation
        // that committed first wins.
        let open = sqlx::query_as::<_, InvitationToAccept>(
            "SELECT i.email, i.role, t.tier, t.user_limit, t.status, t.name FROM invitations i \
             JOIN tenants t ON t.id = i.tenant_id \
             WHERE i.tenant_id = $1 AND i.id = $2 \
             AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $3 \
             FOR UPDATE OF i",
        )
        .bind(tenant_id)
        .bind(invitation_id)
        .bind(now())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "look up an invitation"))?
        .ok_or(match which {
            InvitationRef::Token(_) => StoreError::InvitationInvalid,
            InvitationRef::Mine { .. } => StoreError::NotFound,
        })?;
        open.tenant_may_change()?;
        let user_limit = open.user_limit();
        let InvitationToAccept {
            email, role, tier, ..
        } = open;

        let existing = sqlx::query_as::<_, UserRecord>(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1"
        ))
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "find the invited user"))?
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
                    created_at: now(),
                    invited_by_tenant: Some(tenant_id),
                };
                sqlx::query(
                    "INSERT INTO users (id, email, name, password_hash, platform_admin, \
                     created_at, invited_by_tenant) VALUES ($1, $2, $3, $4, false, $5, $6)",
                )
                .bind(user.id)
                .bind(&user.email)
                .bind(&user.name)
                .bind(password_hash)
                .bind(user.created_at)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "create the invited user"))?;
                user
            }
        };
        if member_in(&mut tx, tenant_id, user.id).await?.is_none() {
            check_user_limit(&mut tx, tenant_id, user_limit, tier).await?;
            insert_membership(&mut tx, tenant_id, user.id, role).await?;
        }
        sqlx::query("UPDATE invitations SET accepted_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(now())
            .bind(tenant_id)
            .bind(invitation_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "mark an invitation accepted"))?;
        let entry = AuditEntry {
            action: "invitation.accept",
            resource: "invitation",
            resource_id: invitation_id.to_string(),
            changes: json!({ "email": email, "role": role }),
        };
        write_audit(&mut tx, tenant_id, &Actor::user(&user), &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an accepted invitation"))?;
        Ok((user, tenant_id))
    }
}
