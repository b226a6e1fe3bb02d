//! The console's forms: what each one asks, prefilled from the state, and
//! the request its save sends.

use super::action::Action;
use super::app::{App, FormPurpose, Modal, OpenForm};
use super::component::with_cx;
use super::effect::Effect;
use super::leads;
use super::playground;
use super::tenants;
use super::widgets::form::Form;

impl App {
    /// Builds and opens the form for `purpose`, prefilled from the state.
    pub(crate) fn open_form(&mut self, purpose: FormPurpose) {
        let (title, fields) = match &purpose {
            FormPurpose::NewTenant
            | FormPurpose::EditTenant(_)
            | FormPurpose::DeleteTenant(_)
            | FormPurpose::TenantSecret(_)
            | FormPurpose::TenantLimits(_)
            | FormPurpose::Invite(_)
            | FormPurpose::AddMember(_)
            | FormPurpose::ChangeRole { .. }
            | FormPurpose::NewKey(_)
            | FormPurpose::RotateKey { .. } => {
                let built = tenants::form_fields(&purpose, &self.session, self.tenants.detail());
                let Some(built) = built else { return };
                built
            }
            // The agents, audit, approvals and Leads features, the
            // playground's prompt and settings, and onboarding open theirs
            // themselves.
            FormPurpose::NewAgent(_)
            | FormPurpose::EditAgent { .. }
            | FormPurpose::NewWorkspace { .. }
            | FormPurpose::EditWorkspace { .. }
            | FormPurpose::AuditFilter(_)
            | FormPurpose::NewLead(_)
            | FormPurpose::AddNote { .. }
            | FormPurpose::ApproveEdited { .. }
            | FormPurpose::RejectDraft { .. }
            | FormPurpose::PlaygroundPrompt { .. }
            | FormPurpose::PlaygroundSettings { .. }
            | FormPurpose::NewKnowledge(_)
            | FormPurpose::EditKnowledge { .. }
            | FormPurpose::PlatformSettings
            | FormPurpose::EvalSet { .. }
            | FormPurpose::EvalCase { .. }
            | FormPurpose::EvalCaseFrom { .. }
            | FormPurpose::EvalRun { .. }
            | FormPurpose::EvalImport { .. }
            | FormPurpose::Onboarding => return,
            FormPurpose::ChangePassword => Self::password_fields(),
            FormPurpose::NewPlaygroundSession { .. } | FormPurpose::SaveAsLead { .. } => {
                let (agents, workspaces) = (self.agents.items(), self.agents.workspace_items());
                let Some(built) = playground::form_fields(&purpose, agents, workspaces) else {
                    return;
                };
                built
            }
        };
        let open = Box::new(OpenForm {
            form: Form::new(title, fields, &self.theme),
            purpose,
            pending: None,
        });
        self.modal = Some(Modal::Form(open));
    }

    /// Handles an action for an open form; the bool says whether it stays open.
    pub(crate) fn update_form(
        &mut self,
        open: &mut OpenForm,
        action: Action,
    ) -> (Vec<Effect>, bool) {
        match action {
            Action::Save if open.form.submitting => {}
            Action::Save => return self.submit(open),
            Action::Cancel => return (Vec::new(), false),
            Action::NextField => open.form.move_focus(true, &self.theme),
            Action::PrevField => open.form.move_focus(false, &self.theme),
            Action::ChoicePrev => {
                open.form.cycle_choice(false);
                playground::refresh_form(open, self.agents.items());
            }
            Action::ChoiceNext => {
                open.form.cycle_choice(true);
                playground::refresh_form(open, self.agents.items());
            }
            Action::Key(k) => {
                open.form.input(k);
                playground::refresh_form(open, self.agents.items());
            }
            Action::Paste(s) => open.form.paste(&s),
            _ => {}
        }
        (Vec::new(), true)
    }

    fn submit(&mut self, open: &mut OpenForm) -> (Vec<Effect>, bool) {
        if playground::is_playground_form(&open.purpose) {
            // The session form names the agents feature's agents.
            let agents = self.agents.items().to_vec();
            return with_cx!(self, playground, |p, cx| p.submit(open, &agents, &mut cx));
        }
        if crate::console::evals::is_eval_form(&open.purpose) {
            return with_cx!(self, evals, |e, cx| e.submit(open, &mut cx));
        }
        if crate::console::knowledge::is_knowledge_form(&open.purpose) {
            return with_cx!(self, knowledge, |k, cx| k.submit(open, &mut cx));
        }
        if matches!(open.purpose, FormPurpose::AuditFilter(_)) {
            return with_cx!(self, audit, |a, cx| a.submit_filter(open, &mut cx));
        }
        if open.purpose == FormPurpose::ChangePassword {
            return self.submit_password(open);
        }
        if open.purpose == FormPurpose::PlatformSettings {
            return self.submit_platform(open);
        }
        if crate::console::approvals::is_approval_form(&open.purpose) {
            return with_cx!(self, approvals, |a, cx| a.submit(open, &mut cx));
        }
        if crate::console::agents::is_agent_form(&open.purpose) {
            return with_cx!(self, agents, |a, cx| a.submit(open, &mut cx));
        }
        if tenants::is_tenant_form(&open.purpose) {
            return with_cx!(self, tenants, |t, cx| tenants::submit(
                open,
                t.detail(),
                &mut cx
            ));
        }
        if leads::is_lead_form(&open.purpose) {
            return with_cx!(self, leads, |_l, cx| leads::submit(open, &mut cx));
        }
        (Vec::new(), true)
    }
}
