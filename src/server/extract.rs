//! Extractors whose rejections are problem+json, and the session extractor.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;
use crate::domain::{secret, User};

#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(Debug, Clone, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// A signed-in user, from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub token_hash: String,
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized(
            "sign in first: send `Authorization: Bearer <token>` from POST /api/v1/auth/login",
        ))?;
        let token_hash = secret::hash(token);
        let user = state
            .store
            .session_user(&token_hash, state.session_clock())
            .await?
            .ok_or(ApiError::Unauthorized(
                "the session token is invalid or expired; sign in again",
            ))?;
        Ok(Session { user, token_hash })
    }
}

/// A session when the request carries one: `None` without an
/// `Authorization` header, and a 401 for a token that is invalid or expired
/// (never silently anonymous).
impl axum::extract::OptionalFromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if parts.headers.get(AUTHORIZATION).is_none() {
            return Ok(None);
        }
        <Session as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}
