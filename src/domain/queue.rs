//! The cross-tenant lead queue (`GET /api/v1/leads`): a lead with the tenant
//! it belongs to.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::Lead;

/// Which tenant a lead (or an event) of a cross-tenant list belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// A lead of the cross-tenant queue: the lead, and its tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueLead {
    #[serde(flatten)]
    pub lead: Lead,
    pub tenant: TenantRef,
}

/// The cross-tenant queue's own parameter, besides the per-tenant list's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueTenants {
    /// Only these tenants (id or slug; repeat the parameter for several).
    /// Each must be one the caller may see. Default: every such tenant.
    #[param(style = Form, explode)]
    pub tenant: Option<Vec<String>>,
}
