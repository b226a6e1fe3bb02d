//! Row types for lead workflows, shared by every store, and the one generic
//! transition every backend applies in a single transaction.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{Qualification, StepKind, StepOutcome, WorkflowStatus};

use super::{Actor, AuditEntry};

/// A workflow to queue for a lead.
#[derive(Debug, Clone)]
pub struct NewWorkflowRow {
    pub lead_id: Uuid,
    pub workspace_id: Option<Uuid>,
    pub agent_id: Uuid,
}

/// A step to record with a transition.
#[derive(Debug, Clone)]
pub struct WorkflowStepRow {
    pub kind: StepKind,
    pub outcome: StepOutcome,
    pub output: String,
    pub error: Option<String>,
    pub model: String,
    pub prompt_version: u32,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub duration_ms: u64,
}

/// An email to queue in the outbox with a transition.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub kind: &'static str,
    pub recipient: Option<String>,
    pub subject: String,
    pub body: String,
}

/// Moves a workflow from one of `from` to `to`, with everything that goes
/// with it, in one transaction. Fields left `None` keep their value. A
/// workflow not in one of `from` (someone decided first) is a conflict and
/// nothing changes.
#[derive(Debug, Clone)]
pub struct WorkflowTransition {
    pub actor: Actor,
    pub from: &'static [WorkflowStatus],
    pub to: WorkflowStatus,
    pub qualification: Option<Qualification>,
    pub draft: Option<String>,
    pub reply: Option<String>,
    /// `Some(None)` clears a previous error (on retry).
    pub error: Option<Option<String>>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub step: Option<WorkflowStepRow>,
    /// Sets the lead's qualification.
    pub lead_qualification: Option<Qualification>,
    /// Records this text as a reply to the lead (the first response, if it
    /// is the first).
    pub lead_reply: Option<String>,
    /// Timeline entries on the lead.
    pub timeline: Vec<(&'static str, serde_json::Value)>,
    /// Tenant events (`lead.updated` is added when the lead changed).
    pub events: Vec<(&'static str, serde_json::Value)>,
    pub audit: Option<AuditEntry>,
    pub outbox: Option<OutboxRow>,
    pub now: DateTime<Utc>,
}

impl WorkflowTransition {
    pub fn new(
        actor: Actor,
        from: &'static [WorkflowStatus],
        to: WorkflowStatus,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            actor,
            from,
            to,
            qualification: None,
            draft: None,
            reply: None,
            error: None,
            decided_by: None,
            decision_note: None,
            step: None,
            lead_qualification: None,
            lead_reply: None,
            timeline: Vec::new(),
            events: Vec::new(),
            audit: None,
            outbox: None,
            now,
        }
    }

    /// Whether the lead itself changes (so a `lead.updated` event is due).
    pub fn touches_lead(&self) -> bool {
        self.lead_qualification.is_some() || self.lead_reply.is_some()
    }
}

/// A workflow a worker claimed.
#[derive(Debug, Clone, Copy)]
pub struct ClaimedWorkflow {
    pub tenant_id: Uuid,
    pub id: Uuid,
}

/// Concurrent running workflows a tenant's tier allows (fairness across
/// tenants: one busy tenant cannot take every worker).
pub fn running_cap_sql() -> &'static str {
    "CASE t.tier WHEN 'starter' THEN 1 WHEN 'pro' THEN 2 ELSE 4 END"
}

/// How often a run may be interrupted (a crash, a kill) before the
/// workflow fails instead of starting again.
pub const MAX_ATTEMPTS: u32 = 3;
