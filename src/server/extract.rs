//! Extractors whose rejections are problem+json, and the session extractor.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, MissingJsonContentType};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;
use crate::domain::{secret, User};

/// A JSON body, which is always an object here: serde alone would also read
/// a struct from an array (`[null, null]` as an empty patch), which the
/// OpenAPI document refuses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(JsonRejection::from(MissingJsonContentType::default()).into());
        }
        let bytes = Bytes::from_request(req, state).await?;
        json_object(bytes).map(Json)
    }
}

/// A JSON object body already read (its content type checked), as
/// [`Json`] reads one.
pub fn json_object<T: serde::de::DeserializeOwned>(bytes: Bytes) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    let bytes = integral_numbers_as_integers(bytes);
    let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
    Ok(value)
}

/// JSON Schema counts `871.0` as an integer, serde's `u32` does not: a body
/// with such a number is rewritten with it as `871` (others are left as they
/// are, and so is a body without any).
fn integral_numbers_as_integers(bytes: Bytes) -> Bytes {
    fn fix(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                let Some(f) = n.as_f64() else { return false };
                // Within ±2^53 every integral f64 is exact.
                if f.fract() != 0.0 || f.abs() > 9_007_199_254_740_992.0 {
                    return false;
                }
                *value = serde_json::Value::from(f as i64);
                true
            }
            // Every element is visited (no short cut): each may need fixing.
            serde_json::Value::Array(items) => items.iter_mut().map(fix).filter(|c| *c).count() > 0,
            serde_json::Value::Object(map) => map.values_mut().map(fix).filter(|c| *c).count() > 0,
            _ => false,
        }
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return bytes; // axum reports what is wrong with it
    };
    if !fix(&mut value) {
        return bytes;
    }
    serde_json::to_vec(&value).map(Bytes::from).unwrap_or(bytes)
}

/// `application/json` or `application/<anything>+json`, as axum's own `Json` reads it.
pub fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

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
