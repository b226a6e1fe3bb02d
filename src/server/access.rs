//! The one place where tenant access and permissions are decided.
//! Another tenant's resources answer 404, never 403.

use crate::domain::access::effective;
use crate::domain::{Permission, Role, Tenant, TenantStatus};
use crate::store::Actor;

use super::error::{ApiError, ApiResult};
use super::extract::Session;
use super::AppState;

/// What a request needs from the caller in a tenant.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// Any member (or a platform admin) may read.
    Member,
    /// A member whose effective permissions (role and grants) hold this.
    Permission(Permission),
    /// Platform admins only.
    PlatformAdmin,
}

/// A caller's resolved access to one tenant.
#[derive(Debug, Clone)]
pub struct Access {
    pub tenant: Tenant,
    pub role: Option<Role>,
    /// The member's effective permissions (empty for a platform admin who
    /// is not a member: they may do everything anyway).
    pub permissions: Vec<Permission>,
    pub platform_admin: bool,
    pub actor: Actor,
}

impl Access {
    pub fn can(&self, permission: Permission) -> bool {
        self.platform_admin || self.permissions.contains(&permission)
    }

    /// 403 naming the permission unless the caller holds it.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.can(permission) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "your role ({}) lacks the {permission} permission; ask a tenant admin",
            self.role.map(|r| r.as_str()).unwrap_or("none")
        )))
    }
}

impl Session {
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user)
    }

    /// Resolves `tenant_ref` (id or slug) for reading.
    pub async fn tenant(
        &self,
        state: &AppState,
        tenant_ref: &str,
        need: Need,
    ) -> ApiResult<Access> {
        let tenant = state
            .store
            .tenant(tenant_ref)
            .await?
            .ok_or(ApiError::NotFound)?;
        let rights = state.store.rights_of(tenant.id, self.user.id).await?;
        let platform_admin = self.user.platform_admin;
        if rights.is_none() && !platform_admin {
            return Err(ApiError::NotFound);
        }
        let access = Access {
            tenant,
            role: rights.as_ref().map(|r| r.role),
            permissions: rights
                .as_ref()
                .map(|r| effective(r.role, &r.grants))
                .unwrap_or_default(),
            platform_admin,
            actor: self.actor(),
        };
        match need {
            Need::Member => {}
            Need::Permission(p) => access.require(p)?,
            Need::PlatformAdmin if platform_admin => {}
            Need::PlatformAdmin => {
                return Err(ApiError::Forbidden(
                    "only platform admins can do this".into(),
                ))
            }
        }
        // Counted (and limited) only once the caller may act in the tenant:
        // a stranger cannot spend a tenant's budget.
        state
            .admit_api_call(&access.tenant, access.platform_admin)
            .await?;
        Ok(access)
    }

    /// Like [`Session::tenant`], for changes: a suspended tenant is
    /// read-only to its members (platform admins may still act).
    pub async fn tenant_for_change(
        &self,
        state: &AppState,
        tenant_ref: &str,
        need: Need,
    ) -> ApiResult<Access> {
        let access = self.tenant(state, tenant_ref, need).await?;
        if access.tenant.status == TenantStatus::Suspended && !access.platform_admin {
            return Err(ApiError::Suspended(format!(
                "{} is suspended and read-only; ask a platform admin to reactivate it",
                access.tenant.name
            )));
        }
        Ok(access)
    }
}
