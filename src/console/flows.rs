//! What the Tenants pane's actions do: moving around the table and the
//! detail tabs, filtering, switching, and the confirmed destructive actions.

use crossterm::event::{KeyCode, KeyModifiers};
use uuid::Uuid;

use super::action::Action;
use super::app::{App, Confirmable, Detail, DetailTab, FormPurpose, Load, Modal, Slot};
use super::effect::{Effect, Request};
use super::widgets::toast::{Toast, ToastKind};
use crate::domain::Tenant;

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
        if self.invitations.open {
            return self.update_invitations(action);
        }
        if self.overview.open {
            return self.update_overview(action);
        }
        if action == Action::Overview {
            return self.open_overview();
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
            Confirmable::DeleteLead { tenant, id, name } => self.send_about(
                Request::DeleteLead {
                    tenant: tenant.to_string(),
                    id,
                },
                None,
                &format!("Deleted lead {name}"),
                &format!("Could not delete {name}"),
                Some(tenant),
                Some(id),
            ),
            other @ (Confirmable::DeleteAgent { .. }
            | Confirmable::RestoreVersion { .. }
            | Confirmable::DeleteWorkspace { .. }) => self.perform_agent(other),
            other @ Confirmable::DeletePlaygroundSession { .. } => self.perform_playground(other),
            Confirmable::ClearNotifications { count } => self.clear_notifications(count),
            Confirmable::DeclineInvitation { id, tenant } => self.decline_invitation(id, &tenant),
            Confirmable::LogoutEverywhere => self.logout_everywhere(),
            Confirmable::ReplaceExport { tenant, path } => self.export_to(tenant, path, true),
        }
    }
}
