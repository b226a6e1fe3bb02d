//! API keys for website forms: shown once, stored as SHA-256.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::tenants::page_check;
use super::AppState;
use crate::domain::{
    secret, ApiKey, ApiKeyScope, AuditEvent, AuditFilter, CreatedApiKey, NewApiKey, Page,
    PageQuery, Permission, Problem,
};
use crate::store::NewApiKeyRow;

const MANAGE: Need = Need::Permission(Permission::KeysManage);

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/api-keys", tag = "api-keys",
    params(("tenant" = String, Path, description = "tenant id or slug"), PageQuery),
    responses((status = 200, body = Page<ApiKey>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    page_check(&page)?;
    let access = session.tenant(&state, &tenant, MANAGE).await?;
    Ok(Json(
        state.store.list_api_keys(access.tenant.id, &page).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/api-keys", tag = "api-keys",
    params(("tenant" = String, Path, description = "tenant id or slug")), request_body = NewApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewApiKey>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::field("name", "needs 1 to 80 characters"));
    }
    if let Some(ws) = new.workspace_id {
        if state.store.workspace(access.tenant.id, ws).await?.is_none() {
            return Err(ApiError::field(
                "workspace_id",
                "is not a workspace of this tenant",
            ));
        }
    }
    let key = secret::generate("sbk_");
    let row = NewApiKeyRow {
        name: name.to_string(),
        // The generated key is ASCII; cut by characters all the same.
        prefix: key.chars().take(10).collect(),
        last_four: key
            .chars()
            .skip(key.chars().count().saturating_sub(4))
            .collect(),
        key_hash: secret::hash(&key),
        scope: new.scope.unwrap_or(ApiKeyScope::LeadsIngest),
        workspace_id: new.workspace_id,
    };
    let api_key = state
        .store
        .create_api_key(&access.actor, access.tenant.id, row)
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKey { api_key, key })))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/api-keys/{id}", tag = "api-keys",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    state
        .store
        .revoke_api_key(&access.actor, access.tenant.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/audit", tag = "audit",
    params(("tenant" = String, Path, description = "tenant id or slug"), PageQuery, AuditFilter),
    responses((status = 200, body = Page<AuditEvent>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn audit(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(page): Query<PageQuery>,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    page_check(&page)?;
    let filter = filter.normalized();
    let access = session
        .tenant(&state, &tenant, Need::Permission(Permission::AuditView))
        .await?;
    Ok(Json(
        state
            .store
            .list_audit(access.tenant.id, &filter, &page)
            .await?,
    ))
}
