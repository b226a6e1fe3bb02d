//! The console's forms: what each one asks, prefilled from the state, and
//! the request its save sends.

use uuid::Uuid;

use super::action::Action;
use super::app::{App, FormPurpose, Modal, OpenForm};
use super::effect::{Effect, Request, RequestId};
use super::widgets::form::{Field, Form};
use super::widgets::toast::Toast;
use crate::domain::{
    NewApiKey, NewInvitation, NewMember, NewTenant, Role, Stage, StageInput, TenantPatch,
    TenantSettingsPatch, Tier,
};

const TIERS: [&str; 3] = ["starter", "pro", "enterprise"];
/// Whether "Initialize tenant" imports the sample leads.
pub(crate) const SAMPLES: [&str; 2] = ["import", "skip"];
const ROLES: [&str; 4] = ["admin", "manager", "agent", "viewer"];

impl App {
    /// Builds and opens the form for `purpose`, prefilled from the state.
    pub(crate) fn open_form(&mut self, purpose: FormPurpose) {
        let (title, fields) = match &purpose {
            FormPurpose::Onboarding => (
                "Initialize tenant".to_string(),
                vec![
                    Field::line("name", "Name", ""),
                    Field::choice("tier", "Tier", &TIERS, "starter"),
                    Field::line_with_placeholder(
                        "business",
                        "Business",
                        "",
                        "what it does, e.g. a family dental clinic in Porto",
                    ),
                    Field::choice("samples", "Sample leads", &SAMPLES, SAMPLES[0]),
                ],
            ),
            FormPurpose::NewTenant => (
                "New tenant".to_string(),
                vec![
                    Field::line("name", "Name", ""),
                    Field::line_with_placeholder("slug", "Slug", "", "derived from the name"),
                    Field::choice("tier", "Tier", &TIERS, "starter"),
                ],
            ),
            FormPurpose::EditTenant(id) => {
                let Some(t) = self.tenant(*id) else { return };
                let s = &t.settings;
                (
                    format!("Edit {}", t.name),
                    vec![
                        Field::line("name", "Name", &t.name),
                        Field::line("slug", "Slug", &t.slug),
                        Field::choice("tier", "Tier", &TIERS, t.tier.as_str()),
                        Field::line("settings.sla_hours", "SLA hours", &s.sla_hours.to_string()),
                        Field::line(
                            "settings.sla_at_risk_percent",
                            "At risk at %",
                            &s.sla_at_risk_percent.to_string(),
                        ),
                        Field::multi(
                            "settings.pipeline_stages",
                            "Stages",
                            &s.pipeline_stages
                                .iter()
                                .map(|st| st.name.as_str())
                                .collect::<Vec<_>>()
                                .join("\n"),
                        ),
                        Field::multi(
                            "settings.spam_keywords",
                            "Spam words",
                            &s.spam_keywords.join("\n"),
                        ),
                        Field::line(
                            "settings.manager_email",
                            "Manager email",
                            s.manager_email.as_deref().unwrap_or(""),
                        ),
                    ],
                )
            }
            FormPurpose::Invite(_) => (
                "Invite a member".to_string(),
                vec![
                    Field::line("email", "Email", ""),
                    Field::choice("role", "Role", &ROLES, "agent"),
                ],
            ),
            FormPurpose::AddMember(_) => (
                "Add an existing user".to_string(),
                vec![
                    Field::line("email", "Email", ""),
                    Field::choice("role", "Role", &ROLES, "agent"),
                ],
            ),
            FormPurpose::ChangeRole { user, .. } => {
                let member = self.detail_member(*user);
                let (email, role) = member.map_or((String::new(), "agent"), |m| {
                    (m.email.clone(), m.role.as_str())
                });
                (
                    format!("Role of {email}"),
                    vec![Field::choice("role", "Role", &ROLES, role)],
                )
            }
            FormPurpose::NewKey(_) => (
                "New API key".to_string(),
                vec![Field::line_with_placeholder(
                    "name",
                    "Name",
                    "",
                    "e.g. website form",
                )],
            ),
            FormPurpose::NewLead(_) => Self::new_lead_fields(),
            FormPurpose::AddNote { lead, .. } => self.note_fields(*lead),
            FormPurpose::NewAgent(_)
            | FormPurpose::EditAgent { .. }
            | FormPurpose::NewWorkspace { .. }
            | FormPurpose::EditWorkspace { .. } => {
                let Some(built) = self.agent_form_fields(&purpose) else {
                    return;
                };
                built
            }
            FormPurpose::AuditFilter(_) => self.audit_filter_fields(),
            FormPurpose::ChangePassword => Self::password_fields(),
            FormPurpose::ApproveEdited { .. } | FormPurpose::RejectDraft { .. } => {
                let Some(built) = self.approval_form_fields(&purpose) else {
                    return;
                };
                built
            }
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

    fn detail_member(&self, user: Uuid) -> Option<&crate::domain::Member> {
        self.detail
            .as_ref()?
            .members
            .loaded()?
            .iter()
            .find(|m| m.user_id == user)
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
            return self.submit_audit_filter(open);
        }
        if open.purpose == FormPurpose::ChangePassword {
            return self.submit_password(open);
        }
        if crate::console::approvals::is_approval_form(&open.purpose) {
            return self.submit_approval_form(open);
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
        let f = &open.form;
        let text = |name: &str| f.value(name).trim().to_string();
        let tier = Tier::parse(&f.value("tier"));
        let role = Role::parse(&f.value("role")).unwrap_or(Role::Agent);
        let (req, ok, fail, tenant) = match &open.purpose {
            FormPurpose::Onboarding | FormPurpose::NewTenant => {
                let slug = text("slug");
                let new = NewTenant {
                    name: text("name"),
                    slug: (!slug.is_empty()).then_some(slug),
                    tier,
                    settings: None,
                };
                let ok = format!("Created tenant {}", new.name);
                (
                    Request::CreateTenant(new),
                    ok,
                    "Could not create the tenant".to_string(),
                    None,
                )
            }
            FormPurpose::EditTenant(id) => {
                let numbers = (
                    text("settings.sla_hours").parse::<u32>(),
                    text("settings.sla_at_risk_percent").parse::<u8>(),
                );
                let (sla_hours, at_risk) = match numbers {
                    (Ok(h), Ok(p)) => (h, p),
                    (hours, percent) => {
                        // Caught here: the server would only see a number.
                        open.form.clear_errors();
                        for (name, bad, msg) in [
                            (
                                "settings.sla_hours",
                                hours.is_err(),
                                "must be a whole number of hours",
                            ),
                            (
                                "settings.sla_at_risk_percent",
                                percent.is_err(),
                                "must be a whole number from 1 to 90",
                            ),
                        ] {
                            if let Some(field) =
                                open.form.fields.iter_mut().find(|x| x.name == name && bad)
                            {
                                field.error = Some(msg.into());
                            }
                        }
                        open.form
                            .set_failure("Fix the marked field and save again.".into());
                        return (Vec::new(), true);
                    }
                };
                let list = |name: &str| -> Vec<String> {
                    f.value(name)
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(String::from)
                        .collect()
                };
                let mut settings = TenantSettingsPatch::default();
                let mut patch = TenantPatch::default();
                if f.changed("name") {
                    patch.name = Some(text("name"));
                }
                if f.changed("slug") {
                    patch.slug = Some(text("slug"));
                }
                if f.changed("tier") {
                    patch.tier = tier;
                }
                if f.changed("settings.sla_hours") {
                    settings.sla_hours = Some(sla_hours);
                }
                if f.changed("settings.sla_at_risk_percent") {
                    settings.sla_at_risk_percent = Some(at_risk);
                }
                if f.changed("settings.pipeline_stages") {
                    let current = self
                        .tenant(*id)
                        .map(|t| t.settings.pipeline_stages.clone())
                        .unwrap_or_default();
                    settings.pipeline_stages =
                        Some(stage_inputs(&current, &list("settings.pipeline_stages")));
                }
                if f.changed("settings.spam_keywords") {
                    settings.spam_keywords = Some(list("settings.spam_keywords"));
                }
                if f.changed("settings.manager_email") {
                    settings.manager_email = Some(text("settings.manager_email"));
                }
                if settings != TenantSettingsPatch::default() {
                    patch.settings = Some(settings);
                }
                if patch == TenantPatch::default() {
                    self.toast(Toast::info("Nothing changed"));
                    return (Vec::new(), false);
                }
                let name = self.tenant(*id).map(|t| t.name.clone()).unwrap_or_default();
                let req = Request::UpdateTenant {
                    tenant: id.to_string(),
                    patch,
                };
                (
                    req,
                    format!("Saved {name}"),
                    format!("Could not save {name}"),
                    Some(*id),
                )
            }
            FormPurpose::Invite(t) => {
                let new = NewInvitation {
                    email: text("email"),
                    role,
                };
                let ok = format!("Invited {} as {}", new.email, role);
                (
                    Request::Invite {
                        tenant: t.to_string(),
                        new,
                    },
                    ok,
                    "Could not invite".into(),
                    Some(*t),
                )
            }
            FormPurpose::AddMember(t) => {
                let new = NewMember {
                    email: text("email"),
                    role,
                };
                let ok = format!("Added {} as {}", new.email, role);
                (
                    Request::AddMember {
                        tenant: t.to_string(),
                        new,
                    },
                    ok,
                    "Could not add the member".into(),
                    Some(*t),
                )
            }
            FormPurpose::ChangeRole { tenant, user } => {
                let email = self
                    .detail_member(*user)
                    .map(|m| m.email.clone())
                    .unwrap_or_default();
                let req = Request::ChangeRole {
                    tenant: tenant.to_string(),
                    user: *user,
                    role,
                };
                (
                    req,
                    format!("{email} is now {role}"),
                    "Could not change the role".into(),
                    Some(*tenant),
                )
            }
            FormPurpose::NewKey(t) => {
                let new = NewApiKey {
                    name: text("name"),
                    scope: None,
                    workspace_id: None,
                };
                let ok = format!("Created API key {}", new.name);
                (
                    Request::CreateKey {
                        tenant: t.to_string(),
                        new,
                    },
                    ok,
                    "Could not create the key".into(),
                    Some(*t),
                )
            }
            FormPurpose::NewLead(t) => Self::submit_new_lead(f, *t),
            FormPurpose::AddNote { tenant, lead } => Self::submit_note(f, *tenant, *lead),
            // Sent by `submit_agent_form` above.
            FormPurpose::NewAgent(_)
            | FormPurpose::EditAgent { .. }
            | FormPurpose::NewWorkspace { .. }
            | FormPurpose::EditWorkspace { .. }
            | FormPurpose::NewPlaygroundSession { .. }
            | FormPurpose::SaveAsLead { .. }
            | FormPurpose::ApproveEdited { .. }
            | FormPurpose::AuditFilter(_)
            | FormPurpose::ChangePassword
            | FormPurpose::RejectDraft { .. } => return (Vec::new(), true),
        };
        let effects = self.send_about(req, None, &ok, &fail, tenant, None);
        open.pending = Some(RequestId(self.next_id));
        open.form.clear_errors();
        open.form.submitting = true;
        (effects, true)
    }
}

/// Turns the edited lines of the stages text area back into stages with ids:
/// a line naming an existing stage keeps it (reorder); a line whose text
/// changed where a stage no longer named anywhere stood is that stage
/// renamed; any other line is a new stage.
pub fn stage_inputs(current: &[Stage], lines: &[String]) -> Vec<StageInput> {
    let named: Vec<Option<&Stage>> = lines
        .iter()
        .map(|l| current.iter().find(|s| s.name.eq_ignore_ascii_case(l)))
        .collect();
    let unnamed: Vec<&Stage> = current
        .iter()
        .filter(|s| !named.iter().flatten().any(|n| n.id == s.id))
        .collect();
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let id = match named[i] {
                Some(stage) => Some(stage.id.clone()),
                None => current
                    .get(i)
                    .filter(|s| unnamed.iter().any(|u| u.id == s.id))
                    .map(|s| s.id.clone()),
            };
            StageInput {
                id,
                name: line.clone(),
            }
        })
        .collect()
}
