//! The Tenants feature: the table of tenants (filter, switch, suspend) and one
//! tenant's detail with its Members, Invitations, API keys and Settings tabs.
//! The tenants themselves are the [`Session`]'s: every feature reads them.

mod checklist;
mod detail;
mod forms;
pub(crate) mod hours;
mod pane;
mod profile;
mod replies;
mod usage;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

pub use checklist::{Checklist, Source};
pub use detail::{Detail, DetailTab};
pub(crate) use forms::{form_fields, is_tenant_form, submit, SAMPLES};
pub(crate) use replies::answers;
pub(crate) use usage::execute as usage_execute;
pub use usage::{UsageRequest, UsageResponse};

use super::action::Action;
use super::component::{Component, Cx, Shared};
use super::effect::{Effect, Request, RequestId};
use super::keymap::Context;
use super::panes::step;
use super::request::Response;
use super::session::Session;
use super::state::{Confirmable, FormPurpose, InFlight, Load, Modal, Slot};
use super::widgets::toast::Toast;
use crate::domain::{Tenant, TenantStatus};

#[derive(Debug, Clone, Default)]
pub struct TenantsView {
    selected: usize,
    filter: String,
    filter_editing: bool,
    detail: Option<Detail>,
}

impl TenantsView {
    /// The tenants shown in the table: the filter matches name or slug.
    pub fn visible<'a>(&self, session: &'a Session) -> Vec<&'a Tenant> {
        let needle = self.filter.to_lowercase();
        session
            .tenants
            .loaded()
            .map(|ts| {
                ts.iter()
                    .filter(|t| {
                        needle.is_empty()
                            || t.name.to_lowercase().contains(&needle)
                            || t.slug.contains(&needle)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn selected<'a>(&self, session: &'a Session) -> Option<&'a Tenant> {
        self.visible(session).get(self.selected).copied()
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The `/` filter has the focus.
    pub fn is_filtering(&self) -> bool {
        self.filter_editing
    }

    pub fn detail(&self) -> Option<&Detail> {
        self.detail.as_ref()
    }

    /// Another view opens over the table (the overview, the invitations).
    pub fn close_detail(&mut self) {
        self.detail = None;
    }

    /// Shows `id` selected in the table, clearing the filter.
    pub fn select(&mut self, id: Uuid, session: &Session) {
        self.filter.clear();
        self.selected = self
            .visible(session)
            .iter()
            .position(|x| x.id == id)
            .unwrap_or(0);
    }

    /// A new tenants list arrived: start on the current tenant the first
    /// time, since it is what the user works on; else keep the row.
    pub(crate) fn on_list(&mut self, session: &Session, first_load: bool) {
        let current = session.current_tenant;
        let rows = self.visible(session);
        let at_current = rows.iter().position(|t| Some(t.id) == current);
        self.selected = match at_current {
            Some(i) if first_load => i,
            _ => self.selected.min(rows.len().saturating_sub(1)),
        };
    }

    pub(crate) fn open_detail(&mut self, tenant: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.detail = Some(Detail::new(tenant));
        detail::load(&mut self.detail, tenant, cx)
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

    fn toggle_suspend(t: &Tenant, cx: &mut Cx<'_>) {
        let (question, action) = match t.status {
            TenantStatus::Active => (
                format!(
                    "Suspend {}? Its users lose access until reactivated.",
                    t.name
                ),
                Confirmable::Suspend {
                    tenant: t.id,
                    name: t.name.clone(),
                },
            ),
            TenantStatus::Suspended => (
                format!("Reactivate {}?", t.name),
                Confirmable::Reactivate {
                    tenant: t.id,
                    name: t.name.clone(),
                },
            ),
        };
        cx.confirm(question, action);
    }

    /// Opens the form for one of this feature's purposes.
    fn open_form(&self, purpose: FormPurpose, cx: &mut Cx<'_>) {
        if let Some(open) = forms::open(purpose, cx.session, self.detail.as_ref(), cx.theme) {
            *cx.modal = Some(Modal::Form(open));
        }
    }
}

impl Component for TenantsView {
    fn contexts(&self, session: &Shared<'_>) -> (Vec<Context>, bool) {
        if self.filter_editing {
            return (vec![Context::FilterInput], true);
        }
        let mut out = Vec::new();
        if let Some(d) = &self.detail {
            if d.checklist.is_some() {
                return (vec![Context::PermissionChecklist, Context::Global], false);
            }
            if d.tab_failed() {
                out.push(Context::LoadError);
            }
            out.extend(d.tab.context());
            out.push(Context::TenantDetail);
        } else {
            if session.session.tenants.is_failed() {
                out.push(Context::LoadError);
            }
            out.push(Context::TenantList);
        }
        out.push(Context::Global);
        (out, false)
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.filter_editing {
            self.update_filter(action);
            return Vec::new();
        }
        if self.detail.is_some() {
            return detail::update(self, action, cx);
        }
        let rows = self.visible(cx.session).len();
        if step(&mut self.selected, &action, rows, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Filter => self.filter_editing = true,
            Action::Back => {
                self.filter.clear();
                self.selected = 0;
            }
            Action::Retry => {
                let mut out = Vec::new();
                if !matches!(cx.session.me, Load::Loaded(_)) {
                    cx.session.me = Load::Loading;
                    out = cx.send(
                        Request::Me,
                        Some(Slot::Me),
                        "",
                        "Could not load your profile",
                    );
                }
                out.extend(cx.load_tenants());
                return out;
            }
            Action::New => self.open_form(FormPurpose::NewTenant, cx),
            Action::Open => {
                if let Some(id) = self.selected(cx.session).map(|t| t.id) {
                    return self.open_detail(id, cx);
                }
            }
            Action::Edit => {
                if let Some(id) = self.selected(cx.session).map(|t| t.id) {
                    self.open_form(FormPurpose::EditTenant(id), cx);
                }
            }
            Action::SwitchTenant => {
                if let Some(t) = self.selected(cx.session).cloned() {
                    cx.session.current_tenant = Some(t.id);
                    cx.toast(Toast::success(format!("Switched to {}", t.name)));
                }
            }
            Action::ToggleSuspend => {
                if let Some(t) = self.selected(cx.session).cloned() {
                    Self::toggle_suspend(&t, cx);
                }
            }
            Action::DeleteTenant => match self.selected(cx.session).cloned() {
                Some(t) if t.is_platform => {
                    cx.toast(Toast::error("The platform tenant cannot be deleted"));
                }
                Some(t) => self.open_form(FormPurpose::DeleteTenant(t.id), cx),
                None => {}
            },
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
        replies::apply(self, id, flight, response, cx)
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        pane::render(self, shared, area, buf)
    }
}

/// Sends a confirmed destructive action of this feature; gives it back when
/// it is another's.
pub(crate) fn perform(what: Confirmable, cx: &mut Cx<'_>) -> Result<Vec<Effect>, Confirmable> {
    let (req, ok, fail, tenant, target) = match what {
        Confirmable::Suspend { tenant, name } => (
            Request::Suspend {
                tenant: tenant.to_string(),
            },
            format!("Suspended {name}"),
            format!("Could not suspend {name}"),
            tenant,
            None,
        ),
        Confirmable::Reactivate { tenant, name } => (
            Request::Reactivate {
                tenant: tenant.to_string(),
            },
            format!("Reactivated {name}"),
            format!("Could not reactivate {name}"),
            tenant,
            None,
        ),
        Confirmable::RemoveMember {
            tenant,
            user,
            email,
        } => (
            Request::RemoveMember {
                tenant: tenant.to_string(),
                user,
            },
            format!("Removed {email}"),
            format!("Could not remove {email}"),
            tenant,
            Some(user),
        ),
        Confirmable::RevokeKey { tenant, id, label } => (
            Request::RevokeKey {
                tenant: tenant.to_string(),
                id,
            },
            format!("Revoked key {label}"),
            format!("Could not revoke key {label}"),
            tenant,
            Some(id),
        ),
        Confirmable::RevokeInvitation { tenant, id, email } => (
            Request::RevokeInvitation {
                tenant: tenant.to_string(),
                id,
            },
            format!("Revoked the invitation for {email}"),
            format!("Could not revoke the invitation for {email}"),
            tenant,
            Some(id),
        ),
        other => return Err(other),
    };
    Ok(cx.send_about(req, None, &ok, &fail, Some(tenant), target))
}
