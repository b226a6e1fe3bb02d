//! Live events as the server streams them (server-sent events).

use serde::{Deserialize, Serialize};

use super::lead::Lead;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerEvent {
    /// Position in the tenant's event log; resume after it with `Last-Event-ID`.
    pub id: i64,
    /// `lead.created`, `lead.updated`, `lead.deleted`, `sla.at_risk`, `sla.breached`.
    pub kind: String,
    pub data: serde_json::Value,
}

impl ServerEvent {
    /// The lead carried by `lead.created` and `lead.updated`.
    pub fn lead(&self) -> Option<Lead> {
        serde_json::from_value(self.data.get("lead")?.clone()).ok()
    }

    /// The tenant an event of the all-tenant stream belongs to.
    pub fn tenant(&self) -> Option<super::TenantRef> {
        serde_json::from_value(self.data.get("tenant")?.clone()).ok()
    }
}
