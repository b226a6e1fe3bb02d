//! Memberships and invitations, with the tier's user limit and the
//! last-admin rule checked inside the write transaction.

use async_trait::async_trait;
use serde_json::json;
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::{cursor, db_error, now_ms, parse_role, to_dt, write_audit, SqliteStore};
use crate::domain::{Grants, Invitation, Member, Page, PageQuery, Role, Tier, User};
use crate::store::row::Id;
use crate::store::{
    grants_audit, keep_a_member_manager, permissions_to_column, within_user_limit, Accepter, Actor,
    AuditEntry, InvitationRecord, InvitationRef, InvitationToAccept, MemberRecord, MemberRights,
    MemberStore, NewInvitationRow, RightsRecord, StoreError, StoreResult, UserRecord,
    INVITATION_COLUMNS, MEMBER_SELECT, RIGHTS_SELECT, USER_COLUMNS,
};

async fn member_in(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    user_id: Uuid,
) -> StoreResult<Option<Member>> {
    let row = sqlx::query_as::<_, MemberRecord>(&format!(
        "{MEMBER_SELECT} WHERE m.tenant_id = ? AND m.user_id = ?"
    ))
    .bind(tenant_id.to_string())
    .bind(user_id.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "find a member"))?;
    Ok(row.map(Member::from))
}

async fn count(
    tx: &mut Transaction<'static, Sqlite>,
    sql: &str,
    tenant_id: Uuid,
) -> StoreResult<i64> {
    sqlx::query_scalar(sql)
        .bind(tenant_id.to_string())
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| db_error(e, "count members"))
}

async fn check_user_limit(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    user_limit: Option<u32>,
    tier: Tier,
) -> StoreResult<()> {
    if let Some(limit) = user_limit {
        let n = count(
            tx,
            "SELECT count(*) FROM memberships WHERE tenant_id = ?",
            tenant_id,
        )
        .await?;
        within_user_limit(n, limit, tier)?;
    }
    Ok(())
}

/// Refuses a change of `user_id` to `after` (`None`: removal) that would
/// leave nobody able to manage members.
async fn check_a_manager_stays(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    user_id: Uuid,
    after: Option<(Role, &Grants)>,
) -> StoreResult<()> {
    let rows = sqlx::query_as::<_, RightsRecord>(&format!("{RIGHTS_SELECT} WHERE tenant_id = ?"))
        .bind(tenant_id.to_string())
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read the members' rights"))?;
    let members: Vec<MemberRights> = rows.into_iter().map(MemberRights::from).collect();
    keep_a_member_manager(&members, user_id, after)
}

async fn insert_membership(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(tenant_id.to_string())
    .bind(user_id.to_string())
    .bind(role.as_str())
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "add a member"))?;
    Ok(())
}

/// An open invitation found by token or id, with which it is.
#[derive(sqlx::FromRow)]
struct AcceptRecord {
    tenant_id: Id,
    id: Id,
    #[sqlx(flatten)]
    open: InvitationToAccept,
}

#[async_trait]
impl MemberStore for SqliteStore {
    async fn role_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Role>> {
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?")
                .bind(tenant_id.to_string())
                .bind(user_id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_error(e, "look up a role"))?;
        role.as_deref().map(parse_role).transpose()
    }

    async fn rights_of(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<MemberRights>> {
        let row = sqlx::query_as::<_, RightsRecord>(&format!(
            "{RIGHTS_SELECT} WHERE tenant_id = ? AND user_id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(user_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "look up a member's rights"))?;
        Ok(row.map(MemberRights::from))
    }

    async fn member(&self, tenant_id: Uuid, user_id: Uuid) -> StoreResult<Option<Member>> {
        let row = sqlx::query_as::<_, MemberRecord>(&format!(
            "{MEMBER_SELECT} WHERE m.tenant_id = ? AND m.user_id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(user_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "find a member"))?;
        Ok(row.map(Member::from))
    }

    async fn set_member_grants(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        user_id: Uuid,
        grants: Grants,
    ) -> StoreResult<Member> {
        let (_writer, mut tx) = self.write().await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, Some((current.role, &grants))).await?;
        sqlx::query(
            "UPDATE memberships SET grants = ?, withdrawals = ? WHERE tenant_id = ? AND user_id = ?",
        )
        .bind(permissions_to_column(&grants.granted))
        .bind(permissions_to_column(&grants.withdrawn))
        .bind(tenant_id.to_string())
        .bind(user_id.to_string())
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
        let rows = sqlx::query_as::<_, MemberRecord>(&format!(
            "{MEMBER_SELECT} WHERE m.tenant_id = ? AND m.user_id > ? ORDER BY m.user_id LIMIT ?"
        ))
        .bind(tenant_id.to_string())
        .bind(cursor(page).unwrap_or_default())
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list members"))?;
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
        let (_writer, mut tx) = self.write().await?;
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
        let (_writer, mut tx) = self.write().await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, Some((role, &current.grants))).await?;
        sqlx::query("UPDATE memberships SET role = ? WHERE tenant_id = ? AND user_id = ?")
            .bind(role.as_str())
            .bind(tenant_id.to_string())
            .bind(user_id.to_string())
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
        let (_writer, mut tx) = self.write().await?;
        let current = member_in(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        check_a_manager_stays(&mut tx, tenant_id, user_id, None).await?;
        sqlx::query("DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?")
            .bind(tenant_id.to_string())
            .bind(user_id.to_string())
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
            created_at: to_dt(now_ms()),
            expires_at: row.expires_at,
            accepted_at: None,
        };
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(
            "INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(invitation.id.to_string())
        .bind(&invitation.email)
        .bind(row.role.as_str())
        .bind(&row.token_hash)
        .bind(actor.user_id.map(|u| u.to_string()))
        .bind(invitation.created_at.timestamp_millis())
        .bind(invitation.expires_at.timestamp_millis())
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
        let rows = sqlx::query_as::<_, InvitationRecord>(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations \
             WHERE tenant_id = ? AND revoked_at IS NULL AND id > ? ORDER BY id LIMIT ?"
        ))
        .bind(tenant_id.to_string())
        .bind(cursor(page).unwrap_or_default())
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list invitations"))?;
        let items = rows.into_iter().map(Invitation::from).collect();
        Ok(Page::from_rows(items, limit, |i| i.id.to_string()))
    }

    async fn revoke_invitation(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = ? WHERE tenant_id = ? AND id = ? \
             AND revoked_at IS NULL AND accepted_at IS NULL",
        )
        .bind(now_ms())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
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
        let (_writer, mut tx) = self.write().await?;
        let (key_clause, key) = match which {
            InvitationRef::Token(hash) => ("i.token_hash = ?", hash.to_string()),
            InvitationRef::Mine { id, .. } => ("i.id = ?", id.to_string()),
        };
        let row = sqlx::query_as::<_, AcceptRecord>(&format!(
            "SELECT i.tenant_id, i.id, i.email, i.role, t.tier, t.user_limit, t.status, t.name FROM invitations i \
             JOIN tenants t ON t.id = i.tenant_id WHERE {key_clause} \
             AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?"
        ))
        .bind(key)
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "look up an invitation"))?;
        let row = match (row, which) {
            (Some(row), InvitationRef::Mine { email, .. }) if row.open.email != email => {
                return Err(StoreError::NotFound)
            }
            (Some(row), _) => row,
            (None, InvitationRef::Mine { .. }) => return Err(StoreError::NotFound),
            (None, InvitationRef::Token(_)) => return Err(StoreError::InvitationInvalid),
        };
        row.open.tenant_may_change()?;
        let tenant_id = Uuid::from(row.tenant_id);
        let invitation_id = row.id.0.to_string();
        let user_limit = row.open.user_limit();
        let InvitationToAccept {
            email, role, tier, ..
        } = row.open;

        let existing = sqlx::query_as::<_, UserRecord>(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.email = ?"
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
                    created_at: to_dt(now_ms()),
                    invited_by_tenant: Some(tenant_id),
                };
                sqlx::query(
                    "INSERT INTO users (id, email, name, password_hash, platform_admin, \
                     created_at, invited_by_tenant) VALUES (?, ?, ?, ?, 0, ?, ?)",
                )
                .bind(user.id.to_string())
                .bind(&user.email)
                .bind(&user.name)
                .bind(password_hash)
                .bind(user.created_at.timestamp_millis())
                .bind(tenant_id.to_string())
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
        sqlx::query("UPDATE invitations SET accepted_at = ? WHERE tenant_id = ? AND id = ?")
            .bind(now_ms())
            .bind(tenant_id.to_string())
            .bind(&invitation_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "mark an invitation accepted"))?;
        let entry = AuditEntry {
            action: "invitation.accept",
            resource: "invitation",
            resource_id: invitation_id,
            changes: json!({ "email": email, "role": role }),
        };
        write_audit(&mut tx, tenant_id, &Actor::user(&user), &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an accepted invitation"))?;
        Ok((user, tenant_id))
    }
}
