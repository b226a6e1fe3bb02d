//! Row types for lead workflows, shared by every store, and the one generic
//! transition every backend applies in a single transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{
    Qualification, StepKind, StepOutcome, Workflow, WorkflowSources, WorkflowStatus, WorkflowStep,
};
use sqlx::types::Json;

use super::row::{Id, Int, Time};
use super::{Actor, AuditEntry, StoreResult};

/// A workflow as stored, read by [`WORKFLOW_COLUMNS`]; its steps are read
/// apart.
#[derive(sqlx::FromRow)]
pub(crate) struct WorkflowRecord {
    tenant_id: Id,
    id: Id,
    lead_id: Id,
    workspace_id: Option<Id>,
    agent_id: Id,
    status: WorkflowStatus,
    qual_category: Option<String>,
    qual_reason: Option<String>,
    draft: Option<String>,
    reply: Option<String>,
    error: Option<String>,
    attempts: Int,
    decided_by: Option<String>,
    decision_note: Option<String>,
    sources: Option<Json<WorkflowSources>>,
    draft_policy: Option<Json<Vec<String>>>,
    created_at: Time,
    updated_at: Time,
}

impl WorkflowRecord {
    pub(crate) fn id(&self) -> Uuid {
        self.id.into()
    }

    pub(crate) fn into_workflow(self, steps: Vec<WorkflowStep>) -> Workflow {
        Workflow {
            id: self.id.into(),
            tenant_id: self.tenant_id.into(),
            lead_id: self.lead_id.into(),
            workspace_id: self.workspace_id.map(Into::into),
            agent_id: self.agent_id.into(),
            status: self.status,
            qualification: self.qual_category.map(|category| Qualification {
                category,
                reason: self.qual_reason.unwrap_or_default(),
            }),
            draft: self.draft,
            reply: self.reply,
            error: self.error,
            attempts: self.attempts.0 as u32,
            decided_by: self.decided_by,
            decision_note: self.decision_note,
            steps,
            sources: self.sources.map(|s| s.0),
            draft_policy: self.draft_policy.map(|p| p.0),
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        }
    }
}

/// A workflow's step, read by [`STEPS_SQL`].
#[derive(sqlx::FromRow)]
pub(crate) struct WorkflowStepRecord {
    kind: StepKind,
    outcome: StepOutcome,
    output: String,
    error: Option<String>,
    model: String,
    prompt_version: Int,
    prompt_tokens: Int,
    completion_tokens: Int,
    duration_ms: i64,
    created_at: Time,
}

impl From<WorkflowStepRecord> for WorkflowStep {
    fn from(r: WorkflowStepRecord) -> WorkflowStep {
        WorkflowStep {
            kind: r.kind,
            outcome: r.outcome,
            output: r.output,
            error: r.error,
            model: r.model,
            prompt_version: r.prompt_version.0 as u32,
            prompt_tokens: r.prompt_tokens.0 as u32,
            completion_tokens: r.completion_tokens.0 as u32,
            duration_ms: r.duration_ms as u64,
            created_at: r.created_at.into(),
        }
    }
}

/// A claimed workflow's address.
#[derive(sqlx::FromRow)]
pub(crate) struct ClaimedRecord {
    tenant_id: Id,
    id: Id,
}

impl From<ClaimedRecord> for ClaimedWorkflow {
    fn from(r: ClaimedRecord) -> ClaimedWorkflow {
        ClaimedWorkflow {
            tenant_id: r.tenant_id.into(),
            id: r.id.into(),
        }
    }
}

pub(crate) const WORKFLOW_COLUMNS: &str = "tenant_id, id, lead_id, workspace_id, agent_id, \
     status, qual_category, qual_reason, draft, reply, error, attempts, decided_by, \
     decision_note, sources, draft_policy, created_at, updated_at";

/// Tenant `$1`'s workflow `$2`.
pub(crate) fn workflow_sql() -> String {
    format!("SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE tenant_id = $1 AND id = $2")
}

/// Tenant `$1`'s workflows, of status `$2` and lead `$3` when given,
/// newest first, at most `$4`.
pub(crate) fn list_workflows_sql() -> String {
    format!(
        "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE tenant_id = $1 \
         AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR lead_id = $3) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    )
}

/// Tenant `$1`'s workflow `$2`'s steps, in order.
pub(crate) const STEPS_SQL: &str = "SELECT kind, outcome, output, error, model, prompt_version, \
     prompt_tokens, completion_tokens, duration_ms, created_at FROM workflow_steps \
     WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY seq";

/// A queued workflow: tenant, id, lead, workspace, agent, time.
pub(crate) const INSERT_WORKFLOW_SQL: &str = "INSERT INTO workflows (tenant_id, id, lead_id, \
     workspace_id, agent_id, status, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6)";

/// The workflow (id `$1`) a lead (`$2`, at time `$3`) arriving through
/// tenant `$4`'s workspace `$5` gets: none when the workspace has no agent
/// or its strategy is off.
pub(crate) const QUEUE_WORKSPACE_WORKFLOW_SQL: &str = "INSERT INTO workflows (tenant_id, id, \
     lead_id, workspace_id, agent_id, status, created_at, updated_at) \
     SELECT w.tenant_id, $1, $2, w.id, w.agent_id, 'queued', $3, $3 FROM workspaces w \
     WHERE w.tenant_id = $4 AND w.id = $5 AND w.strategy_active AND w.agent_id IS NOT NULL";

/// A [`WorkflowTransition`] on tenant `$11`'s workflow `$12`: status `$1`,
/// qualification `$2`/`$3`, draft `$4`, reply `$5`, error `$7` when `$6`,
/// decision `$8`/`$9`, time `$10`, sources `$13`, draft policy `$14`; the
/// lease ends unless it runs, and the attempts restart when it is queued.
pub(crate) const TRANSITION_SQL: &str = "UPDATE workflows SET status = $1, \
     qual_category = coalesce($2, qual_category), qual_reason = coalesce($3, qual_reason), \
     draft = coalesce($4, draft), reply = coalesce($5, reply), \
     error = CASE WHEN $6 THEN $7 ELSE error END, \
     decided_by = coalesce($8, decided_by), decision_note = coalesce($9, decision_note), \
     lease_until = CASE WHEN $1 = 'running' THEN lease_until ELSE NULL END, \
     attempts = CASE WHEN $1 = 'queued' THEN 0 ELSE attempts END, \
     sources = coalesce($13, sources), draft_policy = coalesce($14, draft_policy), \
     updated_at = $10 WHERE tenant_id = $11 AND id = $12";

/// A step numbered after the last of tenant `$1`'s workflow `$2`: kind,
/// outcome, output, error, model, prompt version, tokens in and out,
/// duration, time.
pub(crate) const INSERT_STEP_SQL: &str = "INSERT INTO workflow_steps (tenant_id, workflow_id, \
     seq, kind, outcome, output, error, model, prompt_version, prompt_tokens, \
     completion_tokens, duration_ms, created_at) \
     SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
     FROM workflow_steps WHERE tenant_id = $1 AND workflow_id = $2";

/// Qualification `$1`/`$2` at time `$3` on tenant `$4`'s lead `$5`.
pub(crate) const QUALIFY_LEAD_SQL: &str = "UPDATE leads SET qual_category = $1, \
     qual_reason = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5";

/// An email queued: tenant, id, kind, recipient, subject, body, time.
pub(crate) const INSERT_OUTBOX_SQL: &str = "INSERT INTO outbox (tenant_id, id, kind, recipient, \
     subject, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

impl NewWorkflowRow {
    /// What the audit log says of a queued workflow.
    pub fn audit(&self, id: Uuid) -> AuditEntry {
        AuditEntry {
            action: "workflow.create",
            resource: "workflow",
            resource_id: id.to_string(),
            changes: serde_json::json!({ "lead_id": self.lead_id, "agent_id": self.agent_id }),
        }
    }

    /// What the lead's timeline says of it.
    pub fn timeline(&self, id: Uuid) -> serde_json::Value {
        serde_json::json!({ "workflow_id": id, "agent_id": self.agent_id })
    }
}

/// The lead's timeline entry of a reply a workflow sent.
pub fn reply_timeline(body: &str, first_response: bool, id: Uuid) -> serde_json::Value {
    serde_json::json!({ "body": body, "first_response": first_response, "workflow_id": id })
}

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
