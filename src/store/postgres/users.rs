//! Users, sessions and a user's memberships. Users and sessions are not
//! tenant-owned (a user may belong to several tenants), so they need no
//! tenant in the transaction; a user's memberships span tenants and come
//! from the owner's `sb_member_tenants`.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::{db_error, now, parse_role, PgStore};
use crate::domain::{MembershipSummary, TenantStatus, Tier, User};
use crate::store::{StoreError, StoreResult};

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

impl PgStore {
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

    pub(super) async fn user_by_email_impl(
        &self,
        email: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
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

    pub(super) async fn create_session_impl(
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

    pub(super) async fn delete_session_impl(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now())
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
