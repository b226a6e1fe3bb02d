//! Deciding a draft: approve it as it is, edit then approve it, or reject
//! it with a reason (the two forms are this view's).

use uuid::Uuid;

use super::{lead_name, ApprovalsView};
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::state::{FormPurpose, Modal, OpenForm};
use crate::console::widgets::form::{Field, Form};

pub(crate) fn is_approval_form(p: &FormPurpose) -> bool {
    matches!(
        p,
        FormPurpose::ApproveEdited { .. } | FormPurpose::RejectDraft { .. }
    )
}

impl ApprovalsView {
    pub(super) fn approve_selected(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(a)) = (self.tenant, self.selected_approval().cloned()) else {
            return Vec::new();
        };
        if self.deciding.is_some() {
            return Vec::new();
        }
        self.deciding = Some(a.workflow.id);
        let name = lead_name(&a);
        cx.send_about(
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

    pub(super) fn open_decision_form(&self, edit: bool, cx: &mut Cx<'_>) {
        let (Some(tenant), Some(a)) = (self.tenant, self.selected_approval()) else {
            return;
        };
        let workflow = a.workflow.id;
        let purpose = if edit {
            FormPurpose::ApproveEdited { tenant, workflow }
        } else {
            FormPurpose::RejectDraft { tenant, workflow }
        };
        let Some((title, fields)) = self.form_fields(&purpose) else {
            return;
        };
        *cx.modal = Some(Modal::Form(Box::new(OpenForm {
            form: Form::new(title, fields, cx.theme),
            purpose,
            pending: None,
        })));
    }

    /// The fields of the edit-and-approve and reject forms.
    fn form_fields(&self, p: &FormPurpose) -> Option<(String, Vec<Field>)> {
        let (workflow, edit) = match p {
            FormPurpose::ApproveEdited { workflow, .. } => (*workflow, true),
            FormPurpose::RejectDraft { workflow, .. } => (*workflow, false),
            _ => return None,
        };
        let a = self.find(workflow)?;
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

    fn find(&self, workflow: Uuid) -> Option<&super::Approval> {
        self.items().iter().find(|a| a.workflow.id == workflow)
    }

    /// Saves a decision form: it stays, marked as submitting, until its
    /// reply closes it or shows what was wrong.
    pub(crate) fn submit(&mut self, open: &mut OpenForm, cx: &mut Cx<'_>) -> (Vec<Effect>, bool) {
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
            .find(workflow)
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
        let effects = cx.send_about(req, None, &ok, &fail, Some(tenant), Some(workflow));
        self.deciding = Some(workflow);
        open.pending = Some(cx.requests.last_id());
        open.form.clear_errors();
        open.form.submitting = true;
        (effects, true)
    }
}
