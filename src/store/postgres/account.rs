//! Users, sessions, passwords, a user's memberships and pending invitations
//! (PostgreSQL).
//! Users and sessions carry no tenant; a user's invitations span tenants
//! and come from the owner's `sb_pending_invitations`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{db_error, ms, now, write_audit, PgStore};
use crate::domain::{MembershipSummary, PendingInvitation, User};
use crate::store::{
    AccountStore, Actor, AuditEntry, MembershipRecord, PendingInvitationRecord, SessionClock,
    SessionUserRecord, StoreError, StoreResult, UserLoginRecord, USER_COLUMNS,
};

#[async_trait]
impl AccountStore for PgStore {
    async fn session_user(
        &self,
        token_hash: &str,
        clock: SessionClock,
    ) -> StoreResult<Option<User>> {
        let now = ms(clock.now);
        let row = sqlx::query_as::<_, SessionUserRecord>(&format!(
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
        if row
            .last_used_at
            .is_none_or(|l| now - l.0 >= clock.touch_every())
        {
            sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await
                .map_err(|e| db_error(e, "record a session's use"))?;
        }
        Ok(Some(row.user.into()))
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
        let rows = sqlx::query_as::<_, PendingInvitationRecord>(
            "SELECT id, tenant_id, tenant_slug, tenant_name, role, invited_by_email, \
             created_at, expires_at FROM sb_pending_invitations($1)",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list your invitations"))?;
        Ok(rows.into_iter().map(PendingInvitation::from).collect())
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
        let row = sqlx::query_as::<_, UserLoginRecord>(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
        ))
        .bind(email.to_lowercase())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "find a user"))?;
        Ok(row.map(|r| (r.user.into(), r.password_hash)))
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
        let rows = sqlx::query_as::<_, MembershipRecord>(
            "SELECT t.id AS tenant_id, t.slug AS tenant_slug, t.name AS tenant_name, t.tier, \
             t.status, m.role FROM sb_member_tenants($1) m JOIN tenants t ON t.id = m.tenant_id ORDER BY t.name COLLATE \"C\"",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list memberships"))?;
        Ok(rows.into_iter().map(MembershipSummary::from).collect())
    }
}
