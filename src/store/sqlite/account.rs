//! Users, sessions, passwords, a user's memberships and pending invitations (SQLite).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{db_error, now_ms, parse_uuid, to_dt, write_audit, SqliteStore};
use crate::domain::{MembershipSummary, PendingInvitation, User};
use crate::store::{
    AccountStore, Actor, AuditEntry, MembershipRecord, PendingInvitationRecord, SessionClock,
    SessionUserRecord, StoreError, StoreResult, UserLoginRecord, USER_COLUMNS,
};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn session_user(
        &self,
        token_hash: &str,
        clock: SessionClock,
    ) -> StoreResult<Option<User>> {
        let now = clock.now.timestamp_millis();
        let row = sqlx::query_as::<_, SessionUserRecord>(&format!(
            "SELECT {USER_COLUMNS}, s.last_used_at FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? \
             AND (s.last_used_at IS NULL OR s.last_used_at > ?)"
        ))
        .bind(token_hash)
        .bind(now)
        .bind(now - clock.idle.num_milliseconds())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "look up a session"))?;
        let Some(row) = row else { return Ok(None) };
        let last = row.last_used_at.map(|l| l.0.timestamp_millis());
        if last.is_none_or(|l| now - l >= clock.touch_every().num_milliseconds()) {
            let _turn = self.writer_turn().await;
            sqlx::query("UPDATE sessions SET last_used_at = ? WHERE token_hash = ?")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await
                .map_err(|e| db_error(e, "record a session's use"))?;
        }
        Ok(Some(row.user.into()))
    }

    async fn end_sessions(&self, user_id: Uuid, keep: Option<&str>) -> StoreResult<u64> {
        let _turn = self.writer_turn().await;
        let done = sqlx::query(
            "DELETE FROM sessions WHERE user_id = ? AND (? IS NULL OR token_hash <> ?)",
        )
        .bind(user_id.to_string())
        .bind(keep)
        .bind(keep)
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(e, "end sessions"))?;
        Ok(done.rows_affected())
    }

    async fn set_password_hash(&self, user_id: Uuid, password_hash: &str) -> StoreResult<()> {
        let _turn = self.writer_turn().await;
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(e, "change a password"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn invitation_email(&self, token_hash: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar(
            "SELECT email FROM invitations WHERE token_hash = ? AND accepted_at IS NULL \
             AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(super::now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "look up an invitation"))
    }

    async fn pending_invitations(&self, email: &str) -> StoreResult<Vec<PendingInvitation>> {
        let rows = sqlx::query_as::<_, PendingInvitationRecord>(
            "SELECT i.id, i.tenant_id, t.slug AS tenant_slug, t.name AS tenant_name, i.role, \
             u.email AS invited_by_email, i.created_at, i.expires_at FROM invitations i \
             JOIN tenants t ON t.id = i.tenant_id LEFT JOIN users u ON u.id = i.invited_by \
             WHERE i.email = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
             AND i.expires_at > ? ORDER BY i.created_at, i.id",
        )
        .bind(email)
        .bind(super::now_ms())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list your invitations"))?;
        Ok(rows.into_iter().map(PendingInvitation::from).collect())
    }

    async fn decline_invitation(&self, user: &User, id: Uuid) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let tenant: Option<String> = sqlx::query_scalar(
            "UPDATE invitations SET revoked_at = ? WHERE id = ? AND email = ? \
             AND accepted_at IS NULL AND revoked_at IS NULL RETURNING tenant_id",
        )
        .bind(super::now_ms())
        .bind(id.to_string())
        .bind(&user.email)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "decline an invitation"))?;
        let tenant = parse_uuid(&tenant.ok_or(StoreError::NotFound)?)?;
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
            created_at: to_dt(now_ms()),
            invited_by_tenant: None,
        };
        let _turn = self.writer_turn().await;
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, platform_admin, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(user.id.to_string())
        .bind(&user.email)
        .bind(&user.name)
        .bind(password_hash)
        .bind(platform_admin as i64)
        .bind(user.created_at.timestamp_millis())
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(e, "create a user"))?;
        Ok(user)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
        let row = sqlx::query_as::<_, UserLoginRecord>(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = ?"
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
        let _turn = self.writer_turn().await;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_used_at) \
             VALUES (?1, ?2, ?3, ?4, ?3)",
        )
        .bind(token_hash)
        .bind(user_id.to_string())
        .bind(now_ms())
        .bind(expires_at.timestamp_millis())
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(e, "create a session"))?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let _turn = self.writer_turn().await;
        sqlx::query("DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?")
            .bind(token_hash)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(e, "delete a session"))?;
        Ok(())
    }

    async fn memberships_of(&self, user_id: Uuid) -> StoreResult<Vec<MembershipSummary>> {
        let rows = sqlx::query_as::<_, MembershipRecord>(
            "SELECT t.id AS tenant_id, t.slug AS tenant_slug, t.name AS tenant_name, t.tier, \
             t.status, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
             WHERE m.user_id = ? ORDER BY t.name",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list memberships"))?;
        Ok(rows.into_iter().map(MembershipSummary::from).collect())
    }
}
