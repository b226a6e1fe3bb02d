//! The console's forms: what each one asks, prefilled from the state, and
//! the request its save sends.

use super::action::Action;
use super::app::{App, FormPurpose, Modal, OpenForm};
use super::component::with_cx;
use super::effect::Effect;
use super::leads;
use super::tenants;
use super::widgets::form::Form;

impl App {
    /// Builds and opens the form for `purpose`, prefilled from the state.
    pub(crate) fn open_form(&mut self, purpose: FormPurpose) {
        let (title, fields) = match &purpose {
            FormPurpose::Onboarding
            | FormPurpose::NewTenant
            | FormPurpose::EditTenant(_)
            | FormPurpose::Invite(_)
            | FormPurpose::AddMember(_)
            | FormPurpose::ChangeRole { .. }
            | FormPurpose::NewKey(_) => {
                let built = tenants::form_fields(&purpose, &self.session, self.tenants.detail());
                let Some(built) = built else { return };
                built
            }
            FormPurpose::NewAgent(_)
            | FormPurpose::EditAgent { .. }
            | FormPurpose::NewWorkspace { .. }
            | FormPurpose::EditWorkspace { .. } => {
                let Some(built) = self.agent_form_fields(&purpose) else {
                    return;
                };
                built
            }
            // The audit, approvals and Leads features open theirs themselves.
            FormPurpose::AuditFilter(_)
            | FormPurpose::NewLead(_)
            | FormPurpose::AddNote { .. }
            | FormPurpose::ApproveEdited { .. }
            | FormPurpose::RejectDraft { .. } => return,
            FormPurpose::ChangePassword => Self::password_fields(),
            FormPurpose::NewPlaygroundSession { .. } | FormPurpose::SaveAsLead { .. } => {
                let Some(built) = self.playground_form_fields(&purpose) else {
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
        if open.purpose == FormPurpose::Onboarding {
            self.onboarding = Some(open);
        } else {
            self.modal = Some(Modal::Form(open));
        }
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
                self.refresh_playground_form(open);
            }
            Action::ChoiceNext => {
                open.form.cycle_choice(true);
                self.refresh_playground_form(open);
            }
            Action::Key(k) => {
                open.form.input(k);
                self.refresh_playground_form(open);
            }
            Action::Paste(s) => open.form.paste(&s),
            _ => {}
        }
        (Vec::new(), true)
    }

    fn submit(&mut self, open: &mut OpenForm) -> (Vec<Effect>, bool) {
        if crate::console::playground::is_playground_form(&open.purpose) {
            return self.submit_playground_form(open);
        }
        if matches!(open.purpose, FormPurpose::AuditFilter(_)) {
            return with_cx!(self, audit, |a, cx| a.submit_filter(open, &mut cx));
        }
        if open.purpose == FormPurpose::ChangePassword {
            return self.submit_password(open);
        }
        if crate::console::approvals::is_approval_form(&open.purpose) {
            return with_cx!(self, approvals, |a, cx| a.submit(open, &mut cx));
        }
        if open.purpose == FormPurpose::Onboarding {
            return self.submit_init(open);
        }
        if matches!(
            open.purpose,
            FormPurpose::NewAgent(_)
                | FormPurpose::EditAgent { .. }
                | FormPurpose::NewWorkspace { .. }
                | FormPurpose::EditWorkspace { .. }
        ) {
            return self.submit_agent_form(open);
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
