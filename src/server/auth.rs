//! Sign-in, sign-out and who-am-I.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use tracing::instrument;

use super::error::{ApiError, ApiResult};
use super::extract::{Json, Session};
use super::ratelimit::ClientKey;
use super::{password, AppState};
use crate::domain::validate::normalize_email;
use crate::domain::{secret, LoginRequest, LoginResponse, Me, ModelInfo, Problem};

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
#[instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let email = normalize_email(&req.email);
    let user = state
        .check_password(&email, req.password, peer, &headers)
        .await?
        .ok_or(ApiError::Unauthorized("wrong email or password"))?;
    Ok(Json(state.issue_session(user).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = Problem)), security(("bearer" = [])))]
pub async fn logout(State(state): State<AppState>, session: Session) -> ApiResult<StatusCode> {
    state.store.delete_session(&session.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = Problem)), security(("bearer" = [])))]
pub async fn me(State(state): State<AppState>, session: Session) -> ApiResult<Json<Me>> {
    let mut memberships = state.store.memberships_of(session.user.id).await?;
    for m in &mut memberships {
        if let Some(rights) = state.store.rights_of(m.tenant_id, session.user.id).await? {
            m.permissions = crate::domain::access::effective(rights.role, &rights.grants);
        }
    }
    Ok(Json(Me {
        platform_admin: session.user.platform_admin,
        user: session.user,
        memberships,
    }))
}

#[utoipa::path(get, path = "/api/v1/models", tag = "agents",
    responses((status = 200, body = Vec<ModelInfo>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
/// The models agents can name, and whether each can answer right now; why
/// not names provider URLs and model paths for platform admins only.
pub async fn models(State(state): State<AppState>, session: Session) -> Json<Vec<ModelInfo>> {
    let list = state
        .providers
        .list()
        .into_iter()
        .map(|id| match state.providers.resolve(&id) {
            Ok(_) => ModelInfo {
                id,
                ready: true,
                detail: None,
            },
            Err(e) => ModelInfo {
                id,
                ready: false,
                detail: Some(if session.user.platform_admin {
                    e.to_string()
                } else {
                    e.public_message()
                }),
            },
        })
        .collect();
    Json(list)
}

impl AppState {
    /// The account whose password `password` is, or `None` when it is not.
    /// Every guess is counted before the password is checked (parallel
    /// guesses each take a reservation, and past the limit none reaches the
    /// check: 429); a right one gives its reservation back.
    pub(super) async fn check_password(
        &self,
        email: &str,
        password: String,
        peer: SocketAddr,
        headers: &HeaderMap,
    ) -> ApiResult<Option<crate::domain::User>> {
        let trusted = self.settings.trusted_proxy_header.as_deref();
        let client = ClientKey::from_request(peer, headers, trusted);
        let attempt = self
            .login_limiter
            .reserve(email, &client)
            .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
        let (user, stored) = match self.store.user_by_email(email).await? {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        match (password::verify(password, stored).await?, user) {
            (true, Some(user)) => {
                attempt.succeeded();
                Ok(Some(user))
            }
            // The reservation stays: it was a failure.
            _ => Ok(None),
        }
    }

    /// Creates a session for `user` and returns its token (shown once).
    pub async fn issue_session(&self, user: crate::domain::User) -> ApiResult<LoginResponse> {
        let token = secret::generate("sbt_");
        let expires_at = Utc::now() + self.settings.session_ttl;
        self.store
            .create_session(user.id, &secret::hash(&token), expires_at)
            .await?;
        Ok(LoginResponse {
            token,
            expires_at,
            user,
        })
    }
}
