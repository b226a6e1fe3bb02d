//! The audit log: who did what to which resource, when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    /// Dotted verb, e.g. `tenant.update`, `member.add`, `api_key.revoke`.
    pub action: String,
    pub resource: String,
    pub resource_id: String,
    /// What changed: names of the fields, and for edits their values before
    /// and after; never secret values.
    pub changes: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Narrows the audit log (`GET …/audit?actor=&action=&resource=&from=&to=`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Part of the actor's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// An action or its start, e.g. `lead.` or `api_key.revoke`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// e.g. `lead`, `tenant`, `api_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// From this instant (RFC 3339), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// Empty strings mean "any".
    pub fn normalized(mut self) -> Self {
        for v in [
            &mut self.actor,
            &mut self.action,
            &mut self.resource,
            &mut self.resource_id,
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *v = None;
            }
        }
        self
    }
}
