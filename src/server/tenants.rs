//! Tenants: list, create, read, update, delete, suspend and reactivate.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use tracing::instrument;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::AppState;
use crate::domain::tenant::{slugify, validate_name, validate_slug};
use crate::domain::tenant_profile::validate_user_limit;
use crate::domain::{
    NewTenant, Page, PageQuery, Permission, Problem, Tenant, TenantDeletion, TenantPatch,
    TenantStatus,
};
use crate::store::{AuditEntry, TenantRow, TenantScope};

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(PageQuery),
    responses((status = 200, body = Page<Tenant>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Tenant>>> {
    page_check(&page)?;
    let scope = if session.user.platform_admin {
        TenantScope::All
    } else {
        TenantScope::MemberOf(session.user.id)
    };
    let mut page = state.store.list_tenants(scope, &page).await?;
    for t in &mut page.items {
        t.settings = t.settings.masked();
    }
    Ok(Json(page))
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, body = Tenant), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[instrument(skip_all, fields(user = %session.user.id))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Json(new): Json<NewTenant>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    if !session.user.platform_admin {
        return Err(ApiError::Forbidden(
            "only platform admins can create tenants".into(),
        ));
    }
    let mut errors = Vec::new();
    validate_name("name", &new.name, &mut errors);
    let slug = match new.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s.to_string(),
        None => slugify(&new.name),
    };
    if let Err(e) = validate_slug(&slug) {
        if new.slug.is_some() || errors.is_empty() {
            errors.push(crate::domain::FieldError::new("slug", e));
        }
    }
    // The platform's defaults, then what the request says.
    let defaults = state.store.platform_settings().await?.tenant_defaults;
    let mut settings = defaults.settings();
    if let Some(patch) = &new.settings {
        patch.validate(&mut errors);
        patch.apply(&mut settings);
    }
    if let Some(limit) = new.user_limit {
        validate_user_limit("user_limit", limit, &mut errors);
    }
    ApiError::check(errors)?;
    let row = TenantRow {
        name: new.name.trim().to_string(),
        slug,
        tier: new.tier.unwrap_or(defaults.tier),
        settings,
        user_limit: new.user_limit,
    };
    let mut tenant = state.store.create_tenant(&session.actor(), row).await?;
    tenant.settings = tenant.settings.masked();
    tracing::info!(tenant = %tenant.id, "tenant created");
    Ok((StatusCode::CREATED, Json(tenant)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = Tenant), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Tenant>> {
    let mut access = session.tenant(&state, &tenant, Need::Member).await?;
    access.tenant.settings = access.tenant.settings.masked();
    Ok(Json(access.tenant))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    request_body = TenantPatch,
    responses((status = 200, body = Tenant), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[instrument(skip_all, fields(tenant = %tenant))]
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(patch): Json<TenantPatch>,
) -> ApiResult<Json<Tenant>> {
    let access = session
        .tenant_for_change(&state, &tenant, Need::Member)
        .await?;
    // The tier (and so the limits) is billing; anything else is settings.
    let tier_change = patch.tier.is_some_and(|t| t != access.tenant.tier);
    if tier_change {
        access.require(Permission::SettingsBilling)?;
    }
    let limit_change = user_limit_change(&access, &patch)?;
    let needs_manage = patch.name.is_some()
        || patch.slug.is_some()
        || patch.settings.is_some()
        || !(tier_change || limit_change);
    if needs_manage {
        access.require(Permission::SettingsManage)?;
    }
    let current = access.tenant;
    let mut errors = Vec::new();
    let mut changes = serde_json::Map::new();
    let mut row = TenantRow::of(&current);
    if let Some(name) = &patch.name {
        validate_name("name", name, &mut errors);
        row.name = name.trim().to_string();
        changes.insert(
            "name".into(),
            json!({ "from": current.name, "to": row.name }),
        );
    }
    if let Some(slug) = &patch.slug {
        let slug = slug.trim();
        if current.is_platform && slug != current.slug {
            errors.push(crate::domain::FieldError::new(
                "slug",
                "the platform tenant's slug cannot change",
            ));
        }
        if let Err(e) = validate_slug(slug) {
            errors.push(crate::domain::FieldError::new("slug", e));
        }
        row.slug = slug.to_string();
        changes.insert(
            "slug".into(),
            json!({ "from": current.slug, "to": row.slug }),
        );
    }
    if let Some(tier) = patch.tier {
        row.tier = tier;
        changes.insert("tier".into(), json!({ "from": current.tier, "to": tier }));
    }
    if let Some(settings) = &patch.settings {
        settings.validate(&mut errors);
        settings.apply(&mut row.settings);
        changes.insert("fields".into(), json!(settings.changed_fields()));
    }
    if let Some(limit) = patch.user_limit.filter(|_| limit_change) {
        if let Some(n) = limit {
            validate_user_limit("user_limit", n, &mut errors);
        }
        row.user_limit = limit;
        changes.insert(
            "user_limit".into(),
            json!({ "from": current.user_limit_override, "to": limit }),
        );
    }
    ApiError::check(errors)?;
    let audit = AuditEntry {
        action: "tenant.update",
        resource: "tenant",
        resource_id: current.id.to_string(),
        changes: serde_json::Value::Object(changes),
    };
    let reclock = current.settings.clock_differs(&row.settings);
    let mut tenant = state
        .store
        .update_tenant(&access.actor, current.id, row, audit)
        .await?;
    if reclock {
        super::reclock::spawn(&state, tenant.id);
    }
    tenant.settings = tenant.settings.masked();
    Ok(Json(tenant))
}

/// Whether the patch changes the user-limit override; only platform admins
/// may (403 saying so to anyone else).
fn user_limit_change(access: &super::access::Access, patch: &TenantPatch) -> ApiResult<bool> {
    let change = patch
        .user_limit
        .is_some_and(|l| l != access.tenant.user_limit_override);
    if change && !access.platform_admin {
        return Err(ApiError::Forbidden(
            "only platform admins may override a tenant's user limit; leave user_limit out, \
             or ask a platform admin"
                .into(),
        ));
    }
    Ok(change)
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 202, body = TenantDeletion, description = "gone to every lookup now; its data is purged in the background"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the platform tenant"), (status = 423, body = Problem)),
    security(("bearer" = [])))]
#[instrument(skip_all)]
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<(StatusCode, Json<TenantDeletion>)> {
    let access = session
        .tenant_for_change(&state, &tenant, Need::Permission(Permission::TenantDelete))
        .await?;
    let t = access.tenant;
    if t.is_platform {
        return Err(ApiError::Conflict {
            field: "tenant".into(),
            detail: "the platform tenant cannot be deleted".into(),
        });
    }
    if !access.platform_admin
        && !state
            .store
            .platform_settings()
            .await?
            .tenant_admins_may_delete
    {
        return Err(ApiError::Forbidden(
            "a platform setting forbids tenant admins from deleting their tenant; \
             ask a platform admin to delete it"
                .into(),
        ));
    }
    let now = state.clock.now();
    state
        .store
        .mark_tenant_deleting(&access.actor, &t, now)
        .await?;
    super::purge::spawn(&state, t.id);
    tracing::info!(tenant_id = %t.id, slug = %t.slug, "tenant deletion accepted");
    let gone = TenantDeletion {
        id: t.id,
        name: t.name,
        slug: t.slug,
        requested_at: now,
    };
    Ok((StatusCode::ACCEPTED, Json(gone)))
}

async fn set_status(
    state: AppState,
    session: Session,
    tenant: String,
    status: TenantStatus,
) -> ApiResult<Json<Tenant>> {
    let access = session.tenant(&state, &tenant, Need::PlatformAdmin).await?;
    if access.tenant.is_platform {
        return Err(ApiError::Conflict {
            field: "status".into(),
            detail: "the platform tenant cannot be suspended".into(),
        });
    }
    let mut tenant = state
        .store
        .set_tenant_status(&access.actor, access.tenant.id, status)
        .await?;
    tenant.settings = tenant.settings.masked();
    Ok(Json(tenant))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/suspend", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = Tenant), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn suspend(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Tenant>> {
    set_status(state, session, tenant, TenantStatus::Suspended).await
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/reactivate", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = Tenant), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn reactivate(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Tenant>> {
    set_status(state, session, tenant, TenantStatus::Active).await
}

/// Cursors are ids; anything else is the caller's mistake, said plainly.
pub fn page_check(page: &PageQuery) -> ApiResult<()> {
    if let Some(c) = &page.cursor {
        if uuid::Uuid::parse_str(c).is_err() {
            return Err(ApiError::field(
                "cursor",
                "is not a cursor this server issued; pass next_cursor from the previous page",
            ));
        }
    }
    if page.limit == Some(0) {
        return Err(ApiError::field("limit", "must be between 1 and 200"));
    }
    Ok(())
}
