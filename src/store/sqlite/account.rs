//! Users, sessions, passwords, a user's memberships and pending invitations (SQLite).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::{db_error, now_ms, parse_role, parse_uuid, to_dt, write_audit, SqliteStore};
use crate::domain::{MembershipSummary, PendingInvitation, TenantStatus, Tier, User};
use crate::store::{AccountStore, Actor, AuditEntry, SessionClock, StoreError, StoreResult};

pub(super) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.platform_admin, u.created_at, u.invited_by_tenant";

pub(super) fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    let id: String = row.try_get("id").map_err(|e| db_error(e, "read a user"))?;
    Ok(User {
        id: parse_uuid(&id)?,
        email: row
            .try_get("email")
            .map_err(|e| db_error(e, "read a user"))?,
        name: row
            .try_get("name")
            .map_err(|e| db_error(e, "read a user"))?,
        platform_admin: row
            .try_get::<i64, _>("platform_admin")
            .map_err(|e| db_error(e, "read a user"))?
            != 0,
        created_at: to_dt(
            row.try_get("created_at")
                .map_err(|e| db_error(e, "read a user"))?,
        ),
        invited_by_tenant: row
            .try_get::<Option<String>, _>("invited_by_tenant")
            .map_err(|e| db_error(e, "read a user"))?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
    })
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn session_user(
        &self,
        token_hash: &str,
        clock: SessionClock,
    ) -> StoreResult<Option<User>> {
        let now = clock.now.timestamp_millis();
        let row = sqlx::query(&format!(
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
        let last: Option<i64> = row
            .try_get("last_used_at")
            .map_err(|e| db_error(e, "read a session"))?;
        if last.is_none_or(|l| now - l >= clock.touch_every().num_milliseconds()) {
            sqlx::query("UPDATE sessions SET last_used_at = ? WHERE token_hash = ?")
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
        let rows = sqlx::query(
            "SELECT i.id, i.tenant_id, t.slug, t.name, i.role, u.email AS invited_by_email, \
             i.created_at, i.expires_at FROM invitations i \
             JOIN tenants t ON t.id = i.tenant_id LEFT JOIN users u ON u.id = i.invited_by \
             WHERE i.email = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
             AND i.expires_at > ? ORDER BY i.created_at, i.id",
        )
        .bind(email)
        .bind(super::now_ms())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list your invitations"))?;
        rows.iter()
            .map(|r| {
                let err = |e| db_error(e, "read an invitation");
                Ok(PendingInvitation {
                    id: parse_uuid(&r.try_get::<String, _>("id").map_err(err)?)?,
                    tenant_id: parse_uuid(&r.try_get::<String, _>("tenant_id").map_err(err)?)?,
                    tenant_slug: r.try_get("slug").map_err(err)?,
                    tenant_name: r.try_get("name").map_err(err)?,
                    role: parse_role(&r.try_get::<String, _>("role").map_err(err)?)?,
                    invited_by_email: r.try_get("invited_by_email").map_err(err)?,
                    created_at: to_dt(r.try_get("created_at").map_err(err)?),
                    expires_at: to_dt(r.try_get("expires_at").map_err(err)?),
                })
            })
            .collect()
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
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = ?"
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
        sqlx::query("DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?")
            .bind(token_hash)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(e, "delete a session"))?;
        Ok(())
    }

    async fn memberships_of(&self, user_id: Uuid) -> StoreResult<Vec<MembershipSummary>> {
        let rows = sqlx::query(
            "SELECT t.id, t.slug, t.name, t.tier, t.status, m.role FROM memberships m \
             JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = ? ORDER BY t.name",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list memberships"))?;
        rows.iter()
            .map(|r| {
                let get = |c: &str| -> StoreResult<String> {
                    r.try_get(c).map_err(|e| db_error(e, "read a membership"))
                };
                Ok(MembershipSummary {
                    tenant_id: parse_uuid(&get("id")?)?,
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
