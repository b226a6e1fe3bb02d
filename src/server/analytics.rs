//! Analytics per tenant (or across tenants for platform admins) and the
//! platform overview: SQL aggregates in the store, shaped here.

use axum::extract::State;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::AppState;
use crate::domain::{Analytics, AnalyticsQuery, Conversion, Permission, Problem, TenantOverview};

fn only_platform_admins(session: &Session) -> ApiResult<()> {
    if session.user.platform_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only platform admins see figures across tenants".into(),
        ))
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/analytics", tag = "analytics",
    params(("tenant" = String, Path, description = "tenant id or slug"), AnalyticsQuery),
    responses((status = 200, body = Analytics), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn tenant(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<Json<Analytics>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    // analytics:view_own gives the same figures over one's own leads.
    let assignee = if access.can(Permission::AnalyticsViewAll) {
        None
    } else if access.can(Permission::AnalyticsViewOwn) {
        access.actor.user_id
    } else {
        return Err(access.require(Permission::AnalyticsViewAll).unwrap_err());
    };
    let now = state.clock.now();
    let (from, to) = q.period(now).map_err(|e| ApiError::field("from", e))?;
    let mut found = state
        .store
        .analytics(Some(access.tenant.id), assignee, from, to, now)
        .await?;
    // Stage ids as the tenant names them.
    for stage in &mut found.by_stage {
        if let Some(s) = access.tenant.settings.stage(&stage.name) {
            stage.name = s.name.clone();
        }
    }
    // The funnel covers the same leads: all of them, or the caller's own.
    let cohort = state
        .store
        .funnel_leads(access.tenant.id, assignee, from, to)
        .await?;
    found.conversion = Some(Conversion::compute(
        &access.tenant.settings.pipeline_stages,
        &cohort,
    ));
    Ok(Json(found))
}

#[utoipa::path(get, path = "/api/v1/analytics", tag = "analytics",
    params(AnalyticsQuery),
    responses((status = 200, body = Analytics), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn platform(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<Json<Analytics>> {
    only_platform_admins(&session)?;
    let now = state.clock.now();
    let (from, to) = q.period(now).map_err(|e| ApiError::field("from", e))?;
    Ok(Json(
        state.store.analytics(None, None, from, to, now).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/analytics/overview", tag = "analytics",
    responses((status = 200, body = Vec<TenantOverview>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn overview(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<Vec<TenantOverview>>> {
    only_platform_admins(&session)?;
    let now = state.clock.now();
    // What this server counted so far is part of today's figures.
    state.usage.flush(&state.store).await?;
    let mut rows = state.store.tenant_overview(now).await?;
    let today = state.store.usage_on(now.date_naive()).await?;
    for row in &mut rows {
        if let Some((_, counts)) = today.iter().find(|(id, _)| *id == row.tenant_id) {
            row.usage_today = *counts;
        }
    }
    Ok(Json(rows))
}
