//! Row and filter types for leads, shared by every store backend.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{LeadInput, LeadSource, Qualification, SlaState, Tier};

/// Who an API key belongs to, found by its hash.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub tenant_id: Uuid,
    pub key_id: Uuid,
    pub revoked: bool,
    pub workspace_id: Option<Uuid>,
}

/// A lead to insert, already validated and classified.
#[derive(Debug, Clone)]
pub struct NewLeadRow {
    pub input: LeadInput,
    pub source: LeadSource,
    pub stage: String,
    pub spam_reason: Option<String>,
    pub sla_due_at: DateTime<Utc>,
    pub sla_at_risk_at: DateTime<Utc>,
    /// When the lead arrived, if before now (imports); otherwise now.
    pub received_at: Option<DateTime<Utc>>,
    /// The workspace the lead arrived through (the API key's).
    pub workspace_id: Option<Uuid>,
    /// For imports: a stable key so the same row is never imported twice.
    pub import_key: Option<String>,
}

/// The tenant's monthly lead limit, checked inside the insert transaction.
#[derive(Debug, Clone, Copy)]
pub struct LeadLimit {
    pub tier: Tier,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    /// Hash of the request body: the same key with another body is refused.
    pub body_hash: String,
}

#[derive(Debug, Clone)]
pub enum IngestOutcome {
    Created(Box<crate::domain::Lead>),
    /// The idempotency key was seen before: this is the first result.
    Replayed(Box<crate::domain::Lead>),
    /// An import key matched an existing lead: nothing was added.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AssigneeFilter {
    Nobody,
    User(Uuid),
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LeadSort {
    /// Open leads first, the soonest due first (most overdue on top).
    #[default]
    Sla,
    Newest,
    Oldest,
}

/// A resolved lead listing: the server turns query strings and the caller's
/// permissions into this.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub stage: Option<String>,
    pub sla: Option<SlaState>,
    pub assignee: Option<AssigneeFilter>,
    pub spam: bool,
    pub source: Option<LeadSource>,
    pub text: Option<String>,
    pub sort: LeadSort,
    pub cursor: Option<String>,
    pub limit: u32,
}

/// A change to one lead, validated by the server.
#[derive(Debug, Clone, Default)]
pub struct LeadChange {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub message: Option<String>,
    pub stage: Option<String>,
    pub assignee_id: Option<Option<Uuid>>,
    pub spam: Option<bool>,
    pub qualification: Option<Option<Qualification>>,
    /// The tenant's first stage: moving out of it is a first response.
    pub first_stage: String,
}

/// One entry of the per-tenant event log.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: i64,
    pub tenant_id: Uuid,
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// What one SLA sweep emitted.
#[derive(Debug, Clone, Default)]
pub struct SweepReport {
    pub at_risk: u32,
    pub breached: u32,
    pub tenants: Vec<Uuid>,
}

/// Opaque keyset cursors, the same for every backend: `r.due.id` for the
/// SLA order (responded 0/1, due time in Unix ms, lead id), the id otherwise.
pub(crate) fn parse_lead_cursor(sort: LeadSort, cursor: &str) -> Option<(i64, i64, String)> {
    match sort {
        LeadSort::Sla => {
            let mut parts = cursor.splitn(3, '.');
            let responded = parts.next()?.parse().ok()?;
            let due = parts.next()?.parse().ok()?;
            let id = parts.next()?;
            Uuid::parse_str(id).ok()?;
            Some((responded, due, id.to_string()))
        }
        LeadSort::Newest | LeadSort::Oldest => {
            Uuid::parse_str(cursor).ok()?;
            Some((0, 0, cursor.to_string()))
        }
    }
}
