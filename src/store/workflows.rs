//! Row types for lead workflows, shared by every store, and the one generic
//! transition every backend applies in a single transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{
    Qualification, StepKind, StepOutcome, Workflow, WorkflowSources, WorkflowStatus,
};

use super::{Actor, AuditEntry, StoreResult};

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
    /// What the research step gathered (replaces what an earlier run did).
    pub sources: Option<WorkflowSources>,
    /// The draft policy the qualification was judged by.
    pub draft_policy: Option<Vec<String>>,
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
            sources: None,
            draft_policy: None,
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

/// Lead workflows: queued, claimed by workers, moved on by transitions.
#[async_trait]
pub trait WorkflowStore: Send + Sync {
    /// Queues a workflow; a lead with an active one is a conflict.
    async fn create_workflow(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewWorkflowRow,
        now: DateTime<Utc>,
    ) -> StoreResult<Workflow>;
    async fn workflow(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workflow>>;
    /// The tenant's workflows, newest first, optionally of one status or lead.
    async fn list_workflows(
        &self,
        tenant_id: Uuid,
        status: Option<WorkflowStatus>,
        lead_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Workflow>>;
    /// Applies a transition atomically (see [`WorkflowTransition`]).
    async fn transition_workflow(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        t: WorkflowTransition,
    ) -> StoreResult<Workflow>;
    /// Claims the next queued workflow for a worker, fairly across tenants
    /// and within each tier's running cap; it stays `running` until
    /// `lease_until` unless a transition moves it on.
    async fn claim_workflow(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<ClaimedWorkflow>>;
    /// Requeues running workflows whose lease ran out (their worker died),
    /// or fails them after [`MAX_ATTEMPTS`]; returns the tenants touched.
    async fn recover_workflows(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>>;
}
