//! Routes across the caller's tenants: the lead queue (`GET /api/v1/leads`),
//! and who sees what in each tenant (shared with the all-tenant stream).

use axum::extract::State;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::{Json, Query, Session};
use super::leads::filter_from;
use super::AppState;
use crate::domain::access::effective;
use crate::domain::{LeadQuery, Page, Permission, Problem, QueueLead, QueueTenants};
use crate::store::{TenantAccess, TenantView};

/// What a caller may see of one tenant's live events and leads: the same
/// decisions as [`super::access::Access::can`], for every tenant at once.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TenantRights {
    pub access: TenantAccess,
    pub all_leads: bool,
    pub settings: bool,
    pub evals: bool,
}

impl TenantRights {
    /// `permissions`: the member's effective set there (role and grants);
    /// `None` for a platform admin, who may do everything.
    fn of(access: TenantAccess, permissions: Option<&[Permission]>) -> Option<Self> {
        let can = |p: Permission| permissions.is_none_or(|held| held.contains(&p));
        let all_leads = can(Permission::LeadsViewAll);
        if !all_leads && !can(Permission::LeadsViewAssigned) {
            return None; // a role that sees no lead sees nothing here
        }
        Some(Self {
            settings: can(Permission::SettingsManage),
            evals: can(Permission::EvalsView),
            access,
            all_leads,
        })
    }

    pub fn events(&self, me: Uuid) -> super::events::EventRights {
        super::events::EventRights {
            user: me,
            all_leads: self.all_leads,
            settings: self.settings,
            evals: self.evals,
        }
    }

    pub fn view(&self, me: Uuid) -> TenantView {
        TenantView {
            tenant: self.access.tenant.clone(),
            only_assigned_to: (!self.all_leads).then_some(me),
        }
    }
}

/// Every tenant `user` sees leads of (platform admins, `admin`: all;
/// others: their memberships whose effective permissions, role and grants,
/// see leads), with their rights: the set the one gate checks on the
/// per-tenant routes.
pub(super) async fn tenant_rights(
    state: &AppState,
    user: Uuid,
    admin: bool,
) -> ApiResult<Vec<TenantRights>> {
    let mut out = Vec::new();
    for access in state.store.tenant_access(user, admin).await? {
        let held = if admin {
            None
        } else {
            match state.store.rights_of(access.tenant.id, user).await? {
                Some(rights) => Some(effective(rights.role, &rights.grants)),
                None => continue, // left the tenant since
            }
        };
        out.extend(TenantRights::of(access, held.as_deref()));
    }
    Ok(out)
}

/// The tenants `named` (ids or slugs) among `rights`, or all of them when
/// none is named; a name that is not one of them is not found, whether it
/// exists or not (as on every tenant route).
pub(super) fn narrow(rights: Vec<TenantRights>, named: &[String]) -> ApiResult<Vec<TenantRights>> {
    if named.is_empty() {
        return Ok(rights);
    }
    let is = |r: &TenantRights, name: &str| {
        r.access.tenant.slug == name || r.access.tenant.id.to_string() == name.to_lowercase()
    };
    if named.iter().any(|n| !rights.iter().any(|r| is(r, n))) {
        return Err(ApiError::NotFound);
    }
    Ok(rights
        .into_iter()
        .filter(|r| named.iter().any(|n| is(r, n)))
        .collect())
}

/// The values of a repeatable query parameter.
pub(super) fn repeated(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

#[utoipa::path(get, path = "/api/v1/leads", tag = "leads",
    description = "Leads across every tenant the caller may see (platform admins: all; others: \
        their memberships, each with that tenant's visibility: a member who sees only assigned \
        leads there gets only theirs), each with its tenant, in one keyset-paged order. \
        `sla=overdue` with the default sort is the most overdue first across tenants.",
    params(LeadQuery, QueueTenants),
    responses((status = 200, body = Page<QueueLead>), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<LeadQuery>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Page<QueueLead>>> {
    let me = session.user.id;
    let rights = narrow(
        tenant_rights(&state, me, session.user.platform_admin).await?,
        &repeated(&pairs, "tenant"),
    )?;
    let views: Vec<TenantView> = rights.iter().map(|r| r.view(me)).collect();
    let filter = filter_from(&q, me, None)?;
    let page = state
        .store
        .list_queue(&views, &filter, state.clock.now())
        .await?;
    Ok(Json(page))
}
