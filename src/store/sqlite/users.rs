//! Users, sessions and a user's memberships.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::{db_error, now_ms, parse_role, parse_uuid, to_dt, SqliteStore};
use crate::domain::{MembershipSummary, TenantStatus, Tier, User};
use crate::store::{StoreError, StoreResult};

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

impl SqliteStore {
    pub(super) async fn create_user_impl(
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

    pub(super) async fn user_by_email_impl(
        &self,
        email: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
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

    pub(super) async fn create_session_impl(
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

    pub(super) async fn delete_session_impl(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?")
            .bind(token_hash)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(e, "delete a session"))?;
        Ok(())
    }

    pub(super) async fn memberships_of_impl(
        &self,
        user_id: Uuid,
    ) -> StoreResult<Vec<MembershipSummary>> {
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
