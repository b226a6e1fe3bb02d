//! The approvals view's other lists: failed workflows (to run again),
//! those running or queued, and all of them, across the tenant's leads.

use uuid::Uuid;

use super::ApprovalsView;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::domain::{StepOutcome, Workflow, WorkflowStatus, WorkflowStep};

/// Which workflows the view lists; a key cycles them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkflowList {
    /// Drafts waiting for a person: the approvals proper.
    #[default]
    Awaiting,
    Failed,
    InProgress,
    All,
}

impl WorkflowList {
    pub const ALL: [WorkflowList; 4] = [
        WorkflowList::Awaiting,
        WorkflowList::Failed,
        WorkflowList::InProgress,
        WorkflowList::All,
    ];

    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|l| *l == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    pub fn label(self) -> &'static str {
        match self {
            WorkflowList::Awaiting => "awaiting approval",
            WorkflowList::Failed => "failed",
            WorkflowList::InProgress => "running/queued",
            WorkflowList::All => "all",
        }
    }

    /// The statuses to ask for, one request each; empty asks for every one.
    pub fn statuses(self) -> Vec<WorkflowStatus> {
        match self {
            WorkflowList::Awaiting => vec![WorkflowStatus::AwaitingApproval],
            WorkflowList::Failed => vec![WorkflowStatus::Failed],
            WorkflowList::InProgress => vec![WorkflowStatus::Running, WorkflowStatus::Queued],
            WorkflowList::All => Vec::new(),
        }
    }

    /// Whether a workflow in `status` belongs in this list.
    pub fn includes(self, status: WorkflowStatus) -> bool {
        let wanted = self.statuses();
        wanted.is_empty() || wanted.contains(&status)
    }
}

/// A failed, cancelled or rejected workflow can be run again.
pub fn retryable(status: WorkflowStatus) -> bool {
    matches!(
        status,
        WorkflowStatus::Failed | WorkflowStatus::Cancelled | WorkflowStatus::Rejected
    )
}

/// The step that did not go well: the last one that failed, else the last
/// one whose answer could not be read.
pub fn failing_step(w: &Workflow) -> Option<&WorkflowStep> {
    let last = |o: StepOutcome| w.steps.iter().rev().find(|s| s.outcome == o);
    last(StepOutcome::Failed).or_else(|| last(StepOutcome::Unparseable))
}

/// Why it failed: the workflow's error, else its failing step's.
pub fn failure_text(w: &Workflow) -> String {
    w.error
        .clone()
        .or_else(|| failing_step(w).and_then(|s| s.error.clone()))
        .unwrap_or_else(|| "—".into())
}

impl ApprovalsView {
    /// The next list: awaiting approval → failed → running/queued → all.
    pub(super) fn next_list(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.show = self.show.next();
        self.list.reset();
        self.list.reloading();
        self.load(cx)
    }

    /// Runs the selected failed (or cancelled, rejected) workflow again.
    pub(super) fn retry_selected(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(a)) = (self.tenant, self.selected_approval().cloned()) else {
            return Vec::new();
        };
        if !retryable(a.workflow.status) || self.deciding.is_some() {
            return Vec::new();
        }
        self.deciding = Some(a.workflow.id);
        let name = super::lead_name(&a);
        retry_workflow(tenant, a.workflow.id, &name, cx)
    }
}

/// Asks to run a workflow again: from the list, or from a lead's detail.
pub(crate) fn retry_workflow(tenant: Uuid, id: Uuid, lead: &str, cx: &mut Cx<'_>) -> Vec<Effect> {
    cx.send_about(
        Request::RetryWorkflow {
            tenant: tenant.to_string(),
            id,
        },
        None,
        &format!("Running the workflow for {lead} again"),
        &format!("Could not retry the workflow for {lead}"),
        Some(tenant),
        Some(id),
    )
}
