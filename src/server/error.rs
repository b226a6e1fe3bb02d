//! The one error type at the edge: every failure becomes problem+json.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::domain::{FieldError, Problem, ProblemKind};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("validation failed")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("conflict on {field}")]
    Conflict { field: String, detail: String },
    #[error("limit reached: {0}")]
    LimitReached(String),
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    /// Over a concurrency cap (streams, generations): 429 with the reason.
    #[error("busy: {why}")]
    Busy { retry_after: u64, why: String },
    #[error("tenant suspended")]
    Suspended(String),
    /// The tenant is being deleted: 410 to what still points at it.
    #[error("tenant deleted")]
    TenantDeleted,
    #[error("request body too large")]
    PayloadTooLarge,
    /// A model provider failed, told without the server's internals.
    #[error(transparent)]
    Model(#[from] crate::llm::LlmError),
    /// The same, for a platform admin: with provider URLs and model paths.
    #[error(transparent)]
    ModelDetailed(crate::llm::LlmError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Validation {
            detail: format!("{field} {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// Fails with every collected field error, or passes when there are none.
    pub fn check(errors: Vec<FieldError>) -> ApiResult<()> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(Self::invalid(errors))
    }

    /// A validation error naming every failing field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::Validation { detail, errors }
    }

    pub fn problem(&self) -> Problem {
        match self {
            ApiError::NotFound => Problem::new(
                ProblemKind::NotFound,
                "nothing here: check the id or slug, or whether you have access",
            ),
            ApiError::Unauthorized(why) => Problem::new(ProblemKind::Unauthorized, *why),
            ApiError::Forbidden(why) => Problem::new(ProblemKind::Forbidden, why.clone()),
            ApiError::Validation { detail, errors } => {
                let mut p = Problem::new(ProblemKind::Validation, detail.clone());
                p.errors = errors.clone();
                p
            }
            ApiError::Conflict { field, detail } => {
                let mut p = Problem::new(ProblemKind::Conflict, detail.clone());
                p.errors = vec![FieldError::new(field.clone(), detail.clone())];
                p
            }
            ApiError::LimitReached(why) => Problem::new(ProblemKind::LimitReached, why.clone()),
            ApiError::RateLimited { retry_after } => {
                let mut p = Problem::new(
                    ProblemKind::RateLimited,
                    format!("too many attempts; try again in {retry_after} s"),
                );
                p.retry_after = Some(*retry_after);
                p
            }
            ApiError::Busy { retry_after, why } => {
                let mut p = Problem::new(ProblemKind::RateLimited, why.clone());
                p.retry_after = Some(*retry_after);
                p
            }
            ApiError::Suspended(why) => Problem::new(ProblemKind::Suspended, why.clone()),
            ApiError::TenantDeleted => Problem::new(
                ProblemKind::TenantDeleted,
                "this tenant has been deleted; the form's key no longer takes leads",
            ),
            ApiError::PayloadTooLarge => Problem::new(
                ProblemKind::PayloadTooLarge,
                "the request body is over the server's limit; send less at once",
            ),
            ApiError::Model(e) => model_problem(e, false),
            ApiError::ModelDetailed(e) => model_problem(e, true),
            ApiError::Internal(_) => Problem::new(
                ProblemKind::Internal,
                "the server failed; the details are in its log",
            ),
        }
    }
}

impl ApiError {
    /// A model failure as `platform_admin` (or anyone else) may read it.
    pub fn model(e: crate::llm::LlmError, platform_admin: bool) -> Self {
        if platform_admin {
            ApiError::ModelDetailed(e)
        } else {
            ApiError::Model(e)
        }
    }
}

/// A provider's failure as the console shows it: what happened and what to
/// do; provider URLs and model paths only when `detailed` (issue 13).
pub fn model_problem(e: &crate::llm::LlmError, detailed: bool) -> Problem {
    use crate::llm::LlmError;
    let kind = match e {
        LlmError::ModelMissing { .. } | LlmError::ModelNotFound { .. } => {
            ProblemKind::ModelUnavailable
        }
        LlmError::InvalidConfig(_) => ProblemKind::ModelUnavailable,
        LlmError::Unreachable { .. } | LlmError::Provider { .. } => ProblemKind::ProviderFailed,
        LlmError::Cancelled | LlmError::Internal(_) => ProblemKind::ProviderFailed,
    };
    if detailed {
        return Problem::new(kind, e.to_string());
    }
    // Provider URLs and model paths stay in the log: the problem says what
    // happened and whom to ask.
    tracing::warn!(error = %e, "model provider failed");
    Problem::new(kind, e.public_message())
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { field } => ApiError::Conflict {
                field: field.to_string(),
                detail: match field {
                    "slug" => "this slug is taken; pick another".to_string(),
                    "email" => "this email is already in use here".to_string(),
                    other => format!("{other} is already taken"),
                },
            },
            e @ StoreError::LimitReached { .. } => {
                ApiError::LimitReached(format!("{e}; upgrade the tier or remove someone first"))
            }
            e @ StoreError::UserLimitOverride { .. } => ApiError::LimitReached(format!(
                "{e}; ask a platform admin to raise it, or remove someone first"
            )),
            StoreError::LastAdmin => ApiError::Conflict {
                field: "role".into(),
                detail: "a tenant must keep at least one admin (someone with members:manage); \
                         promote or grant someone else first"
                    .into(),
            },
            StoreError::InvitationInvalid => ApiError::field(
                "token",
                "is invalid, already used, revoked or expired; ask for a new invitation",
            ),
            StoreError::InvitationNeedsSignIn => ApiError::Unauthorized(
                "this invitation is for an existing account: sign in as that account, then accept \
                 it (console `:invitations`, or POST /api/v1/me/invitations/{id}/accept)",
            ),
            StoreError::InvitationNotYours => ApiError::Forbidden(
                "this invitation was sent to another email than your account's; sign in as the \
                 invited account to accept it"
                    .into(),
            ),
            StoreError::IdempotencyMismatch => ApiError::Conflict {
                field: "Idempotency-Key".into(),
                detail: "this Idempotency-Key was already used with a different body; use a new key for a new lead".into(),
            },
            StoreError::BadCursor => ApiError::field(
                "cursor",
                "is not a cursor this server issued; pass next_cursor from the previous page",
            ),
            StoreError::StageInUse { stage, leads } => ApiError::Conflict {
                field: "settings.pipeline_stages".into(),
                detail: format!(
                    "the stage {stage:?} still has {leads} leads; move them to another stage before removing it"
                ),
            },
            StoreError::StateChanged { now } => ApiError::Conflict {
                field: "status".into(),
                detail: format!(
                    "the workflow is {} now (it moved on before this request); reload it",
                    now.replace('_', " ")
                ),
            },
            StoreError::Refused { field, detail } => ApiError::Conflict {
                field: field.to_string(),
                detail,
            },
            StoreError::TenantSuspended { tenant } => ApiError::Suspended(format!(
                "{tenant} is suspended and read-only: its invitations cannot be accepted until \
                 a platform admin reactivates it"
            )),
            StoreError::TenantDeleted => ApiError::TenantDeleted,
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        problem_response(self.problem())
    }
}

pub fn problem_response(problem: Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry = problem.retry_after;
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(secs) = retry {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::PayloadTooLarge;
        }
        ApiError::Validation {
            detail: format!("the request body is not valid: {}", r.body_text()),
            errors: vec![FieldError::new("body", r.body_text())],
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::PayloadTooLarge;
        }
        ApiError::field("body", r.body_text())
    }
}

/// What axum or tower answer by themselves, outside any handler (a body over
/// the limit before it is read, a method the route lacks): problem+json like
/// every other error, keeping the status and headers such as `Allow`.
pub async fn problem_for_bare_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let problem = if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge.problem()
    } else {
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: None,
            errors: Vec::new(),
            retry_after: None,
        }
    };
    let (mut parts, _) = resp.into_parts();
    let fresh = problem_response(problem);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in fresh.headers() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, fresh.into_body())
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::Validation {
            detail: format!("the query string is not valid: {}", r.body_text()),
            errors: vec![FieldError::new("query", r.body_text())],
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::NotFound
    }
}
