//! The approvals view: the current tenant's workflows whose drafted reply
//! waits for a person (or, switched, its failed, running or all workflows).

pub(crate) mod keys;
mod lists;
mod replies;

pub(crate) use lists::retry_workflow;
pub use lists::{failing_step, failure_text, retryable, WorkflowList};

use uuid::Uuid;

use crate::console::action::Action;
use crate::console::app::{App, FormPurpose, Load, OpenForm, Pane, Slot};
use crate::console::component::with_cx;
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::widgets::form::Field;
use crate::domain::{Workflow, WorkflowStatus};

pub use crate::console::request::Approval;

#[derive(Debug, Clone, Default)]
pub struct ApprovalsView {
    /// Shown in the Leads pane instead of the list.
    pub open: bool,
    /// The tenant the list belongs to; another current tenant reloads it.
    pub tenant: Option<Uuid>,
    /// Which workflows are listed.
    pub show: WorkflowList,
    pub list: Load<Vec<Approval>>,
    pub selected: usize,
    /// Why the last decision or retry failed (e.g. someone else decided
    /// first), shown under the row until the next key.
    pub error: Option<String>,
    /// The workflow whose decision or retry is in flight.
    pub deciding: Option<Uuid>,
}

impl ApprovalsView {
    pub fn items(&self) -> &[Approval] {
        self.list.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn selected_approval(&self) -> Option<&Approval> {
        self.items().get(self.selected)
    }

    /// Drops a decided (or failed) workflow; the selection stays in range.
    pub fn remove(&mut self, workflow: Uuid) -> bool {
        let Some(list) = self.list.loaded_mut() else {
            return false;
        };
        let before = list.len();
        list.retain(|a| a.workflow.id != workflow);
        let removed = list.len() != before;
        self.selected = self.selected.min(list.len().saturating_sub(1));
        removed
    }

    /// A workflow changed (decided, queued again): its row follows it, or
    /// leaves when the list is not about its new status.
    pub fn place(&mut self, workflow: &Workflow) {
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
    pub fn upsert(&mut self, approval: Approval) {
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
            self.selected += 1;
        }
    }
}

/// The lead's name, or a stand-in when it could not be read.
pub fn lead_name(a: &Approval) -> String {
    a.lead.as_ref().map_or_else(
        || format!("lead {}", a.workflow.lead_id),
        |l| l.name.clone(),
    )
}

pub(crate) fn is_approval_form(p: &FormPurpose) -> bool {
    matches!(
        p,
        FormPurpose::ApproveEdited { .. } | FormPurpose::RejectDraft { .. }
    )
}

impl App {
    /// Opens the view in the Leads pane and (re)loads the list.
    pub(crate) fn open_approvals(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.close_detail();
        self.analytics.close();
        self.audit.close();
        self.approvals.open = true;
        self.approvals.error = None;
        self.load_approvals()
    }

    pub(crate) fn load_approvals(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.session.current_tenant else {
            return Vec::new();
        };
        if self.approvals.tenant != Some(tenant) {
            self.approvals.list = Load::Loading;
            self.approvals.selected = 0;
            self.approvals.tenant = Some(tenant);
        } else if !matches!(self.approvals.list, Load::Loaded(_)) {
            self.approvals.list = Load::Loading;
        }
        self.send_about(
            Request::ListApprovals {
                tenant: tenant.to_string(),
                statuses: self.approvals.show.statuses(),
            },
            Some(Slot::Approvals),
            "",
            "Could not load the approvals",
            Some(tenant),
            None,
        )
    }

    /// A new current tenant while the view is open reloads it.
    pub(crate) fn sync_approvals(&mut self) -> Vec<Effect> {
        let open = self.approvals.open && self.pane == Pane::Leads;
        if open
            && self.session.current_tenant.is_some()
            && self.approvals.tenant != self.session.current_tenant
        {
            return self.load_approvals();
        }
        Vec::new()
    }

    pub(crate) fn update_approvals(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.approvals.items().len();
        let v = &mut self.approvals;
        v.error = None;
        match action {
            Action::Up => v.selected = v.selected.saturating_sub(1),
            Action::Down => v.selected = (v.selected + 1).min(rows.saturating_sub(1)),
            Action::Top => v.selected = 0,
            Action::Bottom => v.selected = rows.saturating_sub(1),
            Action::Back => {
                v.open = false;
                self.requests.latest.remove(&Slot::Approvals);
            }
            Action::Retry => return self.load_approvals(),
            Action::NextStatus => return self.next_workflow_list(),
            Action::RetryWorkflow => return self.retry_selected(),
            // Only a draft awaiting approval can be decided.
            Action::Approve | Action::Edit | Action::Reject if !self.deciding_possible() => {}
            Action::Approve => return self.approve_selected(),
            Action::Edit => self.open_decision_form(true),
            Action::Reject => self.open_decision_form(false),
            Action::Open => {
                // The lead behind the draft, in the Leads pane's detail.
                if let Some(lead) = self
                    .approvals
                    .selected_approval()
                    .and_then(|a| a.lead.clone())
                {
                    self.approvals.open = false;
                    return with_cx!(self, leads, |l, cx| l.open_detail(lead, &mut cx));
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn deciding_possible(&self) -> bool {
        self.approvals
            .selected_approval()
            .is_some_and(|a| a.workflow.status == WorkflowStatus::AwaitingApproval)
    }

    fn approve_selected(&mut self) -> Vec<Effect> {
        let (Some(tenant), Some(a)) = (
            self.approvals.tenant,
            self.approvals.selected_approval().cloned(),
        ) else {
            return Vec::new();
        };
        if self.approvals.deciding.is_some() {
            return Vec::new();
        }
        self.approvals.deciding = Some(a.workflow.id);
        let name = lead_name(&a);
        self.send_about(
            Request::ApproveWorkflow {
                tenant: tenant.to_string(),
                id: a.workflow.id,
                reply: None,
            },
            None,
            &format!("Approved the reply to {name}"),
            &format!("Could not approve the reply to {name}"),
            Some(tenant),
            Some(a.workflow.id),
        )
    }

    fn open_decision_form(&mut self, edit: bool) {
        let (Some(tenant), Some(a)) = (self.approvals.tenant, self.approvals.selected_approval())
        else {
            return;
        };
        let workflow = a.workflow.id;
        self.open_form(if edit {
            FormPurpose::ApproveEdited { tenant, workflow }
        } else {
            FormPurpose::RejectDraft { tenant, workflow }
        });
    }

    /// The fields of the edit-and-approve and reject forms.
    pub(crate) fn approval_form_fields(&self, p: &FormPurpose) -> Option<(String, Vec<Field>)> {
        let (workflow, edit) = match p {
            FormPurpose::ApproveEdited { workflow, .. } => (*workflow, true),
            FormPurpose::RejectDraft { workflow, .. } => (*workflow, false),
            _ => return None,
        };
        let a = self
            .approvals
            .items()
            .iter()
            .find(|a| a.workflow.id == workflow)?;
        let name = lead_name(a);
        Some(if edit {
            let draft = a.workflow.draft.clone().unwrap_or_default();
            (
                format!("Reply to {name}"),
                vec![Field::tall("reply", "Reply", &draft, 10)],
            )
        } else {
            (
                format!("Reject the reply to {name}"),
                vec![Field::line_with_placeholder(
                    "reason",
                    "Reason",
                    "",
                    "e.g. wrong price, too pushy",
                )],
            )
        })
    }

    pub(crate) fn submit_approval_form(&mut self, open: &mut OpenForm) -> (Vec<Effect>, bool) {
        let (tenant, workflow, req) = match &open.purpose {
            FormPurpose::ApproveEdited { tenant, workflow } => {
                let reply = open.form.value("reply").trim().to_string();
                let req = Request::ApproveWorkflow {
                    tenant: tenant.to_string(),
                    id: *workflow,
                    reply: Some(reply),
                };
                (*tenant, *workflow, req)
            }
            FormPurpose::RejectDraft { tenant, workflow } => {
                let req = Request::RejectWorkflow {
                    tenant: tenant.to_string(),
                    id: *workflow,
                    reason: open.form.value("reason").trim().to_string(),
                };
                (*tenant, *workflow, req)
            }
            _ => return (Vec::new(), true),
        };
        let name = self
            .approvals
            .items()
            .iter()
            .find(|a| a.workflow.id == workflow)
            .map_or_else(|| "the lead".to_string(), lead_name);
        let (ok, fail) = match req {
            Request::RejectWorkflow { .. } => (
                format!("Rejected the reply to {name}"),
                format!("Could not reject the reply to {name}"),
            ),
            _ => (
                format!("Approved the edited reply to {name}"),
                format!("Could not approve the reply to {name}"),
            ),
        };
        let effects = self.send_about(req, None, &ok, &fail, Some(tenant), Some(workflow));
        self.approvals.deciding = Some(workflow);
        open.pending = Some(RequestId(self.requests.next_id));
        open.form.clear_errors();
        open.form.submitting = true;
        (effects, true)
    }
}
