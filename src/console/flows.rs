//! What the Tenants pane's actions do: navigation, the forms it opens, what a
//! save sends, and the confirmed destructive actions.

use crossterm::event::{KeyCode, KeyModifiers};
use uuid::Uuid;

use super::action::Action;
use super::app::{App, Confirmable, Detail, DetailTab, FormPurpose, Load, Modal, OpenForm, Slot};
use super::effect::{Effect, Request, RequestId};
use super::widgets::form::{Field, Form};
use super::widgets::toast::{Toast, ToastKind};
use crate::domain::{
    NewApiKey, NewInvitation, NewMember, NewTenant, Role, Tenant, TenantPatch, TenantSettingsPatch,
    Tier,
};

const TIERS: [&str; 3] = ["starter", "pro", "enterprise"];
const ROLES: [&str; 4] = ["admin", "manager", "agent", "viewer"];

impl App {
    pub(crate) fn update_tenants(&mut self, action: Action) -> Vec<Effect> {
        if let Some(mut open) = self.onboarding.take() {
            let (effects, keep) = self.update_form(&mut open, action);
            if keep {
                self.onboarding = Some(open);
            }
            return effects;
        }
        if self.filter_editing {
            self.update_filter(action);
            return Vec::new();
        }
        // Esc backs out of the newest error first: it is the top layer.
        if action == Action::Back && self.toasts.iter().any(|t| t.kind == ToastKind::Error) {
            self.dismiss_toast();
            return Vec::new();
        }
        if self.detail.is_some() {
            return self.update_detail(action);
        }
        let rows = self.visible_tenants().len();
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(rows.saturating_sub(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = rows.saturating_sub(1),
            Action::Filter => self.filter_editing = true,
            Action::Back => {
                self.filter.clear();
                self.selected = 0;
            }
            Action::Retry => {
                let mut out = Vec::new();
                if !matches!(self.me, Load::Loaded(_)) {
                    self.me = Load::Loading;
                    out = self.send(
                        Request::Me,
                        Some(Slot::Me),
                        "",
                        "Could not load your profile",
                    );
                }
                out.extend(self.load_tenants());
                return out;
            }
            Action::New => self.open_form(FormPurpose::NewTenant),
            Action::Open => {
                if let Some(id) = self.selected_tenant().map(|t| t.id) {
                    return self.open_detail(id);
                }
            }
            Action::Edit => {
                if let Some(id) = self.selected_tenant().map(|t| t.id) {
                    self.open_form(FormPurpose::EditTenant(id));
                }
            }
            Action::SwitchTenant => {
                if let Some(t) = self.selected_tenant().cloned() {
                    self.switch_to(&t);
                }
            }
            Action::ToggleSuspend => {
                if let Some(t) = self.selected_tenant().cloned() {
                    let (question, action) = match t.status {
                        crate::domain::TenantStatus::Active => (
                            format!(
                                "Suspend {}? Its users lose access until reactivated.",
                                t.name
                            ),
                            Confirmable::Suspend {
                                tenant: t.id,
                                name: t.name.clone(),
                            },
                        ),
                        crate::domain::TenantStatus::Suspended => (
                            format!("Reactivate {}?", t.name),
                            Confirmable::Reactivate {
                                tenant: t.id,
                                name: t.name.clone(),
                            },
                        ),
                    };
                    self.modal = Some(Modal::Confirm { question, action });
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn switch_to(&mut self, t: &Tenant) {
        self.current_tenant = Some(t.id);
        self.toast(Toast::success(format!("Switched to {}", t.name)));
    }

    fn update_filter(&mut self, action: Action) {
        match action {
            Action::Key(k) => match k.code {
                KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.filter.push(c)
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                _ => {}
            },
            Action::Paste(s) => self.filter.push_str(s.lines().next().unwrap_or("")),
            Action::Confirm => self.filter_editing = false,
            Action::Cancel => {
                self.filter.clear();
                self.filter_editing = false;
            }
            _ => {}
        }
        self.selected = 0;
    }

    pub(crate) fn open_detail(&mut self, tenant: Uuid) -> Vec<Effect> {
        self.detail = Some(Detail {
            tenant,
            tab: DetailTab::Members,
            members: Load::Loading,
            invitations: Load::Loading,
            keys: Load::Loading,
            selected: 0,
        });
        self.load_detail(tenant)
    }

    pub(crate) fn load_detail(&mut self, tenant: Uuid) -> Vec<Effect> {
        if let Some(d) = &mut self.detail {
            if d.members.is_failed() {
                d.members = Load::Loading;
            }
            if d.invitations.is_failed() {
                d.invitations = Load::Loading;
            }
            if d.keys.is_failed() {
                d.keys = Load::Loading;
            }
        }
        let req = Request::LoadTenantDetail {
            tenant: tenant.to_string(),
        };
        self.send_about(
            req,
            Some(Slot::Detail),
            "",
            "Could not load the tenant",
            Some(tenant),
            None,
        )
    }

    fn update_detail(&mut self, action: Action) -> Vec<Effect> {
        let Some(d) = &mut self.detail else {
            return Vec::new();
        };
        let tenant = d.tenant;
        let rows = d.rows();
        match action {
            Action::NextTab => {
                d.tab = DetailTab::ALL[(d.tab.index() + 1) % DetailTab::ALL.len()];
                d.selected = 0;
            }
            Action::PrevTab => {
                d.tab = DetailTab::ALL
                    [(d.tab.index() + DetailTab::ALL.len() - 1) % DetailTab::ALL.len()];
                d.selected = 0;
            }
            Action::Up => d.selected = d.selected.saturating_sub(1),
            Action::Down => d.selected = (d.selected + 1).min(rows.saturating_sub(1)),
            Action::Back => {
                self.detail = None;
                // Whatever the detail load answers now is of no use.
                self.latest.remove(&Slot::Detail);
            }
            Action::Retry => return self.load_detail(tenant),
            Action::Edit => self.open_form(FormPurpose::EditTenant(tenant)),
            Action::Invite if d.tab == DetailTab::Members => {
                self.open_form(FormPurpose::Invite(tenant))
            }
            Action::AddMember if d.tab == DetailTab::Members => {
                self.open_form(FormPurpose::AddMember(tenant))
            }
            Action::ChangeRole if d.tab == DetailTab::Members => {
                if let Some(m) = d.members.loaded().and_then(|m| m.get(d.selected)) {
                    let user = m.user_id;
                    self.open_form(FormPurpose::ChangeRole { tenant, user });
                }
            }
            Action::New if d.tab == DetailTab::ApiKeys => {
                self.open_form(FormPurpose::NewKey(tenant))
            }
            Action::Remove => {
                let sel = d.selected;
                let confirm = match d.tab {
                    DetailTab::Members => d.members.loaded().and_then(|ms| ms.get(sel)).map(|m| {
                        (
                            format!("Remove {} from this tenant?", m.email),
                            Confirmable::RemoveMember {
                                tenant,
                                user: m.user_id,
                                email: m.email.clone(),
                            },
                        )
                    }),
                    DetailTab::Invitations => {
                        d.invitations.loaded().and_then(|is| is.get(sel)).map(|i| {
                            (
                                format!("Revoke the invitation for {}?", i.email),
                                Confirmable::RevokeInvitation {
                                    tenant,
                                    id: i.id,
                                    email: i.email.clone(),
                                },
                            )
                        })
                    }
                    DetailTab::ApiKeys => d
                        .keys
                        .loaded()
                        .and_then(|ks| ks.get(sel))
                        .filter(|k| k.revoked_at.is_none())
                        .map(|k| {
                            let label = format!("{}… ({})", k.prefix, k.name);
                            (
                                format!("Revoke key {label}? Forms using it stop working."),
                                Confirmable::RevokeKey {
                                    tenant,
                                    id: k.id,
                                    label,
                                },
                            )
                        }),
                    DetailTab::Settings => None,
                };
                if let Some((question, action)) = confirm {
                    self.modal = Some(Modal::Confirm { question, action });
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Builds and opens the form for `purpose`, prefilled from the state.
    pub(crate) fn open_form(&mut self, purpose: FormPurpose) {
        let (title, fields) = match &purpose {
            FormPurpose::Onboarding => (
                "Create your first tenant".to_string(),
                vec![
                    Field::line("name", "Name", ""),
                    Field::choice("tier", "Tier", &TIERS, "starter"),
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
                        Field::multi(
                            "settings.pipeline_stages",
                            "Stages",
                            &s.pipeline_stages.join("\n"),
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
            Action::ChoicePrev => open.form.cycle_choice(false),
            Action::ChoiceNext => open.form.cycle_choice(true),
            Action::Key(k) => open.form.input(k),
            Action::Paste(s) => open.form.paste(&s),
            _ => {}
        }
        (Vec::new(), true)
    }

    fn submit(&mut self, open: &mut OpenForm) -> (Vec<Effect>, bool) {
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
                let sla = text("settings.sla_hours");
                let sla_hours = match sla.parse::<u32>() {
                    Ok(h) => h,
                    Err(_) => {
                        open.form.clear_errors();
                        if let Some(field) = open
                            .form
                            .fields
                            .iter_mut()
                            .find(|x| x.name == "settings.sla_hours")
                        {
                            field.error = Some("must be a whole number of hours".into());
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
                if f.changed("settings.pipeline_stages") {
                    settings.pipeline_stages = Some(list("settings.pipeline_stages"));
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
        };
        let effects = self.send_about(req, None, &ok, &fail, tenant, None);
        open.pending = Some(RequestId(self.next_id));
        open.form.clear_errors();
        open.form.submitting = true;
        (effects, true)
    }

    /// Sends a confirmed destructive action.
    pub(crate) fn perform(&mut self, what: Confirmable) -> Vec<Effect> {
        match what {
            Confirmable::Suspend { tenant, name } => self.send_about(
                Request::Suspend {
                    tenant: tenant.to_string(),
                },
                None,
                &format!("Suspended {name}"),
                &format!("Could not suspend {name}"),
                Some(tenant),
                None,
            ),
            Confirmable::Reactivate { tenant, name } => self.send_about(
                Request::Reactivate {
                    tenant: tenant.to_string(),
                },
                None,
                &format!("Reactivated {name}"),
                &format!("Could not reactivate {name}"),
                Some(tenant),
                None,
            ),
            Confirmable::RemoveMember {
                tenant,
                user,
                email,
            } => self.send_about(
                Request::RemoveMember {
                    tenant: tenant.to_string(),
                    user,
                },
                None,
                &format!("Removed {email}"),
                &format!("Could not remove {email}"),
                Some(tenant),
                Some(user),
            ),
            Confirmable::RevokeKey { tenant, id, label } => self.send_about(
                Request::RevokeKey {
                    tenant: tenant.to_string(),
                    id,
                },
                None,
                &format!("Revoked key {label}"),
                &format!("Could not revoke key {label}"),
                Some(tenant),
                Some(id),
            ),
            Confirmable::RevokeInvitation { tenant, id, email } => self.send_about(
                Request::RevokeInvitation {
                    tenant: tenant.to_string(),
                    id,
                },
                None,
                &format!("Revoked the invitation for {email}"),
                &format!("Could not revoke the invitation for {email}"),
                Some(tenant),
                Some(id),
            ),
        }
    }
}
