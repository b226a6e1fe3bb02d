//! The signed-in user's own account: password, sessions everywhere, and
//! the invitations waiting for them.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Session};
use super::members::accepted;
use super::{password, AppState};
use crate::domain::{AcceptedInvitation, PasswordChange, PendingInvitation, Problem};
use crate::store::{Accepter, InvitationRef};

#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "changed; every other session of the account ended"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem)),
    security(("bearer" = [])))]
/// Changes the caller's password. The current password is required (a
/// stolen session alone cannot take the account over); every other session
/// of the account ends, this one stays.
pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Json(change): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    password::validate(&change.new_password).map_err(|m| ApiError::field("new_password", m))?;
    // Guesses at the current password count like failed sign-ins.
    let email = &session.user.email;
    let checked = state
        .check_password(email, change.current_password, peer, &headers)
        .await?;
    if checked.is_none() {
        return Err(ApiError::Forbidden(
            "the current password is wrong; nothing was changed".into(),
        ));
    }
    let hash = password::hash(change.new_password).await?;
    state
        .store
        .set_password_hash(session.user.id, &hash)
        .await?;
    let ended = state
        .store
        .end_sessions(session.user.id, Some(&session.token_hash))
        .await?;
    tracing::info!(user = %session.user.id, ended, "password changed");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth",
    responses((status = 204, description = "every session of the account ended, this one too"),
        (status = 401, body = Problem)),
    security(("bearer" = [])))]
/// Signs the caller out everywhere: every session of the account ends,
/// including this one; live event streams close within seconds.
pub async fn logout_all(State(state): State<AppState>, session: Session) -> ApiResult<StatusCode> {
    let ended = state.store.end_sessions(session.user.id, None).await?;
    tracing::info!(user = %session.user.id, ended, "signed out everywhere");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/invitations", tag = "members",
    responses((status = 200, body = Vec<PendingInvitation>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
/// Invitations sent to the caller's email that are still valid.
pub async fn my_invitations(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<Vec<PendingInvitation>>> {
    Ok(Json(
        state.store.pending_invitations(&session.user.email).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/me/invitations/{id}/accept", tag = "members",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AcceptedInvitation), (status = 401, body = Problem),
        (status = 402, body = Problem), (status = 404, body = Problem), (status = 423, body = Problem)),
    security(("bearer" = [])))]
/// Accepts one of the caller's invitations (another user's answers 404).
pub async fn accept_mine(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AcceptedInvitation>> {
    let which = InvitationRef::Mine {
        id,
        email: &session.user.email,
    };
    let (user, tenant) = state
        .store
        .accept_invitation(which, Accepter::Existing(&session.user))
        .await?;
    Ok(Json(accepted(&state, user, tenant, None).await?))
}

#[utoipa::path(post, path = "/api/v1/me/invitations/{id}/decline", tag = "members",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
/// Turns down one of the caller's invitations.
pub async fn decline_mine(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.store.decline_invitation(&session.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
