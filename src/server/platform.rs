//! Platform settings: read and replaced by platform admins only.

use axum::extract::State;
use tracing::instrument;

use super::error::{ApiError, ApiResult};
use super::extract::{Json, Session};
use super::AppState;
use crate::domain::platform::PlatformSettings;
use crate::domain::Problem;

fn only_platform_admins(session: &Session) -> ApiResult<()> {
    if session.user.platform_admin {
        return Ok(());
    }
    Err(ApiError::Forbidden(
        "only platform admins see or change the platform settings".into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/platform/settings", tag = "platform",
    responses((status = 200, body = PlatformSettings), (status = 401, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<PlatformSettings>> {
    only_platform_admins(&session)?;
    Ok(Json(state.store.platform_settings().await?))
}

#[utoipa::path(put, path = "/api/v1/platform/settings", tag = "platform",
    request_body = PlatformSettings,
    responses((status = 200, body = PlatformSettings), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[instrument(skip_all, fields(user = %session.user.id))]
pub async fn put(
    State(state): State<AppState>,
    session: Session,
    Json(settings): Json<PlatformSettings>,
) -> ApiResult<Json<PlatformSettings>> {
    only_platform_admins(&session)?;
    ApiError::check(settings.validate())?;
    let saved = state
        .store
        .put_platform_settings(&session.actor(), &settings)
        .await?;
    tracing::info!("platform settings saved");
    Ok(Json(saved))
}
