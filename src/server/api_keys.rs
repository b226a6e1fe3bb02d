//! API keys for website forms: shown once, stored as SHA-256.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::SubsecRound;
use tracing::instrument;
use uuid::Uuid;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::tenants::page_check;
use super::AppState;
use crate::domain::{
    secret, ApiKey, ApiKeyScope, AuditEvent, AuditFilter, CreatedApiKey, NewApiKey, Page,
    PageQuery, Permission, Problem, RotateApiKey, RotatedApiKey,
};
use crate::store::{KeyRotation, NewApiKeyRow, RotatedKeys};

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
    let (prefix, last_four, key_hash) = stored_parts(&key);
    let row = NewApiKeyRow {
        name: name.to_string(),
        prefix,
        last_four,
        key_hash,
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

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/api-keys/{id}/rotate", tag = "api-keys",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = RotateApiKey,
    responses((status = 201, body = RotatedApiKey, description = "the new key (its secret shown only now, with the old key's name, scope and workspace) and the old key, which works until its `expires_at`"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the key is revoked, expired or already rotated"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[instrument(skip_all, fields(key = %id))]
pub async fn rotate(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<RotateApiKey>,
) -> ApiResult<(StatusCode, Json<RotatedApiKey>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let overlap = body.overlap().map_err(|e| ApiError::invalid(vec![e]))?;
    let key = secret::generate("sbk_");
    let (prefix, last_four, key_hash) = stored_parts(&key);
    let rotation = KeyRotation {
        prefix,
        last_four,
        key_hash,
        // Stored to the millisecond: the answer says what a read will.
        now: state.clock.now().trunc_subsecs(3),
        overlap,
    };
    let RotatedKeys { new, old } = state
        .store
        .rotate_api_key(&access.actor, access.tenant.id, id, rotation)
        .await?;
    let rotated = RotatedApiKey {
        api_key: new,
        key,
        previous: old,
    };
    Ok((StatusCode::CREATED, Json(rotated)))
}

/// What the store keeps of a new key: the prefix that names it, its last
/// four characters, and its hash.
fn stored_parts(key: &str) -> (String, String, String) {
    // The generated key is ASCII; cut by characters all the same.
    let prefix = key.chars().take(10).collect();
    let last_four = key
        .chars()
        .skip(key.chars().count().saturating_sub(4))
        .collect();
    (prefix, last_four, secret::hash(key))
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
