//! Users, sessions, passwords, a user's memberships and pending invitations
//! (PostgreSQL).
//! Users and sessions carry no tenant; a user's invitations span tenants
//! and come from the owner's `sb_pending_invitations`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::{db_error, ms, now, parse_role, write_audit, PgStore};
use crate::domain::{MembershipSummary, PendingInvitation, TenantStatus, Tier, User};
use crate::store::{AccountStore, Actor, AuditEntry, SessionClock, StoreError, StoreResult};

pub(super) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.platform_admin, u.created_at, u.invited_by_tenant";

pub(super) fn user_from_row(row: &PgRow) -> StoreResult<User> {
    let err = |e| db_error(e, "read a user");
    Ok(User {
        id: row.try_get("id").map_err(err)?,
        email: row.try_get("email").map_err(err)?,
        name: row.try_get("name").map_err(err)?,
        platform_admin: row.try_get("platform_admin").map_err(err)?,
        created_at: row.try_get("created_at").map_err(err)?,
        invited_by_tenant: row.try_get("invited_by_tenant").map_err(err)?,
    })
}

#[async_trait]
impl AccountStore for PgStore {
    async fn session_user(
        &self,
        token_hash: &str,
        clock: SessionClock,
    ) -> StoreResult<Option<User>> {
        let now = ms(clock.now);
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.last_used_at FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 \
             AND (s.last_used_at IS NULL OR s.last_used_at > $3)"
        ))
        .bind(token_hash)
        .bind(now)
        .bind(now - clock.idle)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "look up a session"))?;
        let Some(row) = row else { return Ok(None) };
        let last: Option<DateTime<Utc>> = row
            .try_get("last_used_at")
            .map_err(|e| db_error(e, "read a session"))?;
        if last.is_none_or(|l| now - l >= clock.touch_every()) {
            sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await
                .map_err(|e| db_error(e, "record a session's use"))?;
        }
        user_from_row(&row).map(Some)
    }

    async fn end_sessions(&self, user_id: Uuid, keep: Option<&str>) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND ($2::text IS NULL OR token_hash <> $2)",
        )
        .bind(user_id)
        .bind(keep)
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(e, "end sessions"))?;
        Ok(done.rows_affected())
    }

    async fn set_password_hash(&self, user_id: Uuid, password_hash: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(e, "change a password"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn invitation_email(&self, token_hash: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT email FROM sb_invitation_by_token($1)")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "look up an invitation"))
    }

    async fn pending_invitations(&self, email: &str) -> StoreResult<Vec<PendingInvitation>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, tenant_slug, tenant_name, role, invited_by_email, \
             created_at, expires_at FROM sb_pending_invitations($1)",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list your invitations"))?;
        rows.iter()
            .map(|r| {
                let err = |e| db_error(e, "read an invitation");
                Ok(PendingInvitation {
                    id: r.try_get("id").map_err(err)?,
                    tenant_id: r.try_get("tenant_id").map_err(err)?,
                    tenant_slug: r.try_get("tenant_slug").map_err(err)?,
                    tenant_name: r.try_get("tenant_name").map_err(err)?,
                    role: parse_role(&r.try_get::<String, _>("role").map_err(err)?)?,
                    invited_by_email: r.try_get("invited_by_email").map_err(err)?,
                    created_at: r.try_get("created_at").map_err(err)?,
                    expires_at: r.try_get("expires_at").map_err(err)?,
                })
            })
            .collect()
    }

    async fn decline_invitation(&self, user: &User, id: Uuid) -> StoreResult<()> {
        let tenant: Uuid =
            sqlx::query_scalar("SELECT tenant_id FROM sb_pending_invitations($1) WHERE id = $2")
                .bind(&user.email)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_error(e, "look up an invitation"))?
                .ok_or(StoreError::NotFound)?;
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 \
             AND email = $4 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(super::now())
        .bind(tenant)
        .bind(id)
        .bind(&user.email)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "decline an invitation"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry {
            action: "invitation.decline",
            resource: "invitation",
            resource_id: id.to_string(),
            changes: json!({ "email": user.email }),
        };
        write_audit(&mut tx, tenant, &Actor::user(user), &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a declined invitation"))
    }

    async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: Option<&str>,
        platform_admin: bool,
    ) -> StoreResult<User> {
        let user = User {
            id: Uuid::now_v7(),
            email: email.to_lowercase(),
            name: name.to_string(),
            platform_admin,
            created_at: now(),
            invited_by_tenant: None,
        };
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, platform_admin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(password_hash)
        .bind(platform_admin)
        .bind(user.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(e, "create a user"))?;
        Ok(user)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
        ))
        .bind(email.to_lowercase())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "find a user"))?;
        match row {
            None => Ok(None),
            Some(row) => {
                let hash: Option<String> = row
                    .try_get("password_hash")
                    .map_err(|e| db_error(e, "read a user"))?;
                Ok(Some((user_from_row(&row)?, hash)))
            }
        }
    }

    async fn create_session(
        &self,
        user_id: Uuid,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $3)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now())
        .bind(super::ms(expires_at))
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(e, "create a session"))?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(e, "delete a session"))?;
        Ok(())
    }

    async fn memberships_of(&self, user_id: Uuid) -> StoreResult<Vec<MembershipSummary>> {
        let rows = sqlx::query(
            "SELECT t.id, t.slug, t.name, t.tier, t.status, m.role \
             FROM sb_member_tenants($1) m JOIN tenants t ON t.id = m.tenant_id ORDER BY t.name COLLATE \"C\"",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list memberships"))?;
        rows.iter()
            .map(|r| {
                let get = |c: &str| -> StoreResult<String> {
                    r.try_get(c).map_err(|e| db_error(e, "read a membership"))
                };
                Ok(MembershipSummary {
                    tenant_id: r
                        .try_get("id")
                        .map_err(|e| db_error(e, "read a membership"))?,
                    tenant_slug: get("slug")?,
                    tenant_name: get("name")?,
                    tier: Tier::parse(&get("tier")?)
                        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad tier")))?,
                    status: TenantStatus::parse(&get("status")?)
                        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad status")))?,
                    role: parse_role(&get("role")?)?,
                })
            })
            .collect()
    }
}
