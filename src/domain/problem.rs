//! RFC 9457 problem details: the one error shape of the API.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A problem+json body. `type` is stable and machine-readable; `title` is short
/// and human; `detail` says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying (rate limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// The stable problem types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    Validation,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    LimitReached,
    RateLimited,
    Suspended,
    /// The tenant is being deleted (its forms answer this).
    TenantDeleted,
    PayloadTooLarge,
    /// The agent's model cannot run here (not installed, not configured).
    ModelUnavailable,
    /// The model provider failed or could not be reached.
    ProviderFailed,
    Internal,
}

impl ProblemKind {
    pub const fn uri(self) -> &'static str {
        match self {
            ProblemKind::Validation => "/problems/validation",
            ProblemKind::Unauthorized => "/problems/unauthorized",
            ProblemKind::Forbidden => "/problems/forbidden",
            ProblemKind::NotFound => "/problems/not-found",
            ProblemKind::Conflict => "/problems/conflict",
            ProblemKind::LimitReached => "/problems/limit-reached",
            ProblemKind::RateLimited => "/problems/rate-limited",
            ProblemKind::Suspended => "/problems/tenant-suspended",
            ProblemKind::TenantDeleted => "/problems/tenant-deleted",
            ProblemKind::PayloadTooLarge => "/problems/payload-too-large",
            ProblemKind::ModelUnavailable => "/problems/model-unavailable",
            ProblemKind::ProviderFailed => "/problems/provider-failed",
            ProblemKind::Internal => "/problems/internal",
        }
    }

    pub const fn status(self) -> u16 {
        match self {
            ProblemKind::Validation => 422,
            ProblemKind::Unauthorized => 401,
            ProblemKind::Forbidden => 403,
            ProblemKind::NotFound => 404,
            ProblemKind::Conflict => 409,
            ProblemKind::LimitReached => 402,
            ProblemKind::RateLimited => 429,
            ProblemKind::Suspended => 423,
            ProblemKind::TenantDeleted => 410,
            ProblemKind::PayloadTooLarge => 413,
            ProblemKind::ModelUnavailable => 503,
            ProblemKind::ProviderFailed => 502,
            ProblemKind::Internal => 500,
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            ProblemKind::Validation => "Invalid input",
            ProblemKind::Unauthorized => "Not signed in",
            ProblemKind::Forbidden => "Not allowed",
            ProblemKind::NotFound => "Not found",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::LimitReached => "Tier limit reached",
            ProblemKind::RateLimited => "Too many requests",
            ProblemKind::Suspended => "Tenant suspended",
            ProblemKind::TenantDeleted => "Tenant deleted",
            ProblemKind::PayloadTooLarge => "Request too large",
            ProblemKind::ModelUnavailable => "Model unavailable",
            ProblemKind::ProviderFailed => "Model provider failed",
            ProblemKind::Internal => "Internal error",
        }
    }
}

impl Problem {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.uri().to_string(),
            title: kind.title().to_string(),
            status: kind.status(),
            detail: Some(detail.into()),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn is(&self, kind: ProblemKind) -> bool {
        self.kind == kind.uri()
    }

    /// The error message for one field, if the server named it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    /// One line for a toast: the title, then the detail.
    pub fn summary(&self) -> String {
        match &self.detail {
            Some(d) if !d.is_empty() => format!("{}: {}", self.title, d),
            _ => self.title.clone(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.summary(), self.status)?;
        for e in &self.errors {
            write!(f, "; {}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}
