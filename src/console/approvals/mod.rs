//! The approvals view: the current tenant's workflows whose drafted reply
//! waits for a person (or, switched, its failed, running or all workflows).
//! Shown in the Leads pane instead of the list while open.

mod decide;
pub(crate) mod keys;
mod lists;
mod pane;
mod replies;
pub mod sources;
mod workflows_pane;

pub(crate) use decide::is_approval_form;
pub(crate) use lists::retry_workflow;
pub use lists::{failing_step, failure_text, retryable, WorkflowList};
pub use pane::qualification_text;
pub(crate) use replies::uuid_at;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

use crate::console::action::Action;
use crate::console::component::{Component, Cx, Shared};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::panes::{screen_contexts, ListState};
use crate::console::request::Response;
use crate::console::state::{InFlight, Load, Slot};
use crate::domain::{Lead, Workflow, WorkflowStatus};

pub use crate::console::request::Approval;

#[derive(Debug, Clone, Default)]
pub struct ApprovalsView {
    /// Shown in the Leads pane instead of the list.
    open: bool,
    /// The tenant the list belongs to; another current tenant reloads it.
    tenant: Option<Uuid>,
    /// Which workflows are listed.
    show: WorkflowList,
    list: ListState<Approval>,
    /// Why the last decision or retry failed (e.g. someone else decided
    /// first), shown under the row until the next key.
    error: Option<String>,
    /// The workflow whose decision or retry is in flight.
    deciding: Option<Uuid>,
}

impl ApprovalsView {
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Another view takes the Leads pane.
    pub fn close(&mut self) {
        self.open = false;
    }

    /// Which workflows are listed.
    pub fn show(&self) -> WorkflowList {
        self.show
    }

    pub fn list(&self) -> &Load<Vec<Approval>> {
        &self.list.items
    }

    pub fn items(&self) -> &[Approval] {
        self.list.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn selected(&self) -> usize {
        self.list.selected
    }

    pub fn selected_approval(&self) -> Option<&Approval> {
        self.list.selected_item()
    }

    /// Why the last decision or retry failed, until the next key.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The workflow whose decision or retry is in flight.
    pub fn deciding(&self) -> Option<Uuid> {
        self.deciding
    }

    /// `enter` on a row: the lead behind the draft, for the router to open
    /// in the Leads pane's detail (this view closes).
    pub fn chosen(&self, action: &Action) -> Option<Lead> {
        if *action != Action::Open {
            return None;
        }
        self.selected_approval().and_then(|a| a.lead.clone())
    }

    /// Opens the view and (re)loads the list; the router shows the Leads pane.
    pub(crate) fn open(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.open = true;
        self.error = None;
        self.load(cx)
    }

    fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = cx.session.current_tenant else {
            return Vec::new();
        };
        if self.tenant != Some(tenant) {
            self.list.reset();
            self.list.reloading();
            self.tenant = Some(tenant);
        } else {
            self.list.loading();
        }
        cx.send_about(
            Request::ListApprovals {
                tenant: tenant.to_string(),
                statuses: self.show.statuses(),
            },
            Some(Slot::Approvals),
            "",
            "Could not load the approvals",
            Some(tenant),
            None,
        )
    }

    /// A new current tenant while the view is shown reloads it.
    pub(crate) fn follow_tenant(&mut self, shown: bool, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.open && shown && cx.session.moved_from(self.tenant) {
            return self.load(cx);
        }
        Vec::new()
    }

    /// Drops a decided (or failed) workflow; the selection stays in range.
    fn remove(&mut self, workflow: Uuid) -> bool {
        let before = self.list.row_count();
        self.list.retain(|a| a.workflow.id != workflow);
        self.list.row_count() != before
    }

    /// A workflow changed (decided, queued again): its row follows it, or
    /// leaves when the list is not about its new status.
    fn place(&mut self, workflow: &Workflow) {
        if !self.show.includes(workflow.status) {
            self.remove(workflow.id);
            return;
        }
        if let Some(a) = self
            .list
            .loaded_mut()
            .and_then(|l| l.iter_mut().find(|a| a.workflow.id == workflow.id))
        {
            a.workflow = workflow.clone();
        }
    }

    /// Adds or replaces an approval, newest first as the server lists them.
    fn upsert(&mut self, approval: Approval) {
        let Some(list) = self.list.loaded_mut() else {
            return;
        };
        if let Some(x) = list
            .iter_mut()
            .find(|a| a.workflow.id == approval.workflow.id)
        {
            *x = approval;
            return;
        }
        list.insert(0, approval);
        if list.len() > 1 {
            self.list.selected += 1;
        }
    }

    /// Only a draft awaiting approval can be decided.
    fn deciding_possible(&self) -> bool {
        self.selected_approval()
            .is_some_and(|a| a.workflow.status == WorkflowStatus::AwaitingApproval)
    }
}

impl Component for ApprovalsView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        // What can be done depends on the selected workflow's status.
        let choice = match self.selected_approval().map(|a| a.workflow.status) {
            Some(WorkflowStatus::AwaitingApproval) => Some(Context::ApprovalDecision),
            Some(s) if retryable(s) => Some(Context::WorkflowRetry),
            _ => None,
        };
        let contexts = [choice, Some(Context::Approvals)];
        screen_contexts(self.list.is_failed(), contexts.into_iter().flatten())
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.error = None;
        if self.list.step(&action, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Back => {
                self.open = false;
                cx.requests.forget(Slot::Approvals);
            }
            Action::Retry => return self.load(cx),
            Action::NextStatus => return self.next_list(cx),
            Action::RetryWorkflow => return self.retry_selected(cx),
            Action::Approve | Action::Edit | Action::Reject if !self.deciding_possible() => {}
            Action::Approve => return self.approve_selected(cx),
            Action::Edit => self.open_decision_form(true, cx),
            Action::Reject => self.open_decision_form(false, cx),
            _ => {}
        }
        Vec::new()
    }

    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        self.apply(id, flight, response, cx)
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        if self.show != WorkflowList::Awaiting {
            return workflows_pane::render(self, shared, area, buf);
        }
        pane::render(self, shared, area, buf)
    }
}

/// The lead's name, or a stand-in when it could not be read.
pub fn lead_name(a: &Approval) -> String {
    a.lead.as_ref().map_or_else(
        || format!("lead {}", a.workflow.lead_id),
        |l| l.name.clone(),
    )
}
