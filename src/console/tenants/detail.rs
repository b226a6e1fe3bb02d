//! One tenant's detail: its tabs, moving in them, and what each tab's keys
//! open or ask to confirm.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Checklist, TenantsView};
use crate::console::action::Action;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::keymap::Context;
use crate::console::panes::step;
use crate::console::state::{Confirmable, FormPurpose, Load, Slot};
use crate::console::widgets::toast::Toast;
use crate::domain::usage::Usage;
use crate::domain::{ApiKey, ApiKeyState, Invitation, Member, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailTab {
    Members,
    Invitations,
    ApiKeys,
    Settings,
    /// Rate limits, use per day and storage.
    Usage,
}

impl DetailTab {
    pub const ALL: [DetailTab; 5] = [
        DetailTab::Members,
        DetailTab::Invitations,
        DetailTab::ApiKeys,
        DetailTab::Settings,
        DetailTab::Usage,
    ];

    pub fn title(self) -> &'static str {
        match self {
            DetailTab::Members => "Members",
            DetailTab::Invitations => "Invitations",
            DetailTab::ApiKeys => "API keys",
            DetailTab::Settings => "Settings",
            DetailTab::Usage => "Usage",
        }
    }

    pub fn index(self) -> usize {
        DetailTab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The keys of the tab's list, if it has one.
    pub fn context(self) -> Option<Context> {
        match self {
            DetailTab::Members => Some(Context::Members),
            DetailTab::Invitations => Some(Context::Invitations),
            DetailTab::ApiKeys => Some(Context::ApiKeys),
            DetailTab::Settings => Some(Context::TenantSettings),
            DetailTab::Usage => Some(Context::TenantUsage),
        }
    }
}

/// The open detail view of one tenant.
#[derive(Debug, Clone)]
pub struct Detail {
    pub tenant: Uuid,
    pub tab: DetailTab,
    pub members: Load<Vec<Member>>,
    /// The permissions checklist of one member, when open over the tab.
    pub checklist: Option<Checklist>,
    pub invitations: Load<Vec<Invitation>>,
    pub keys: Load<Vec<ApiKey>>,
    /// The workspaces a new key may be bound to.
    pub workspaces: Load<Vec<Workspace>>,
    /// Loaded when the Usage tab opens.
    pub usage: Load<Usage>,
    pub selected: usize,
}

impl Detail {
    pub(super) fn new(tenant: Uuid) -> Self {
        Self {
            tenant,
            tab: DetailTab::Members,
            members: Load::Loading,
            checklist: None,
            invitations: Load::Loading,
            keys: Load::Loading,
            workspaces: Load::Loading,
            usage: Load::Idle,
            selected: 0,
        }
    }

    pub fn rows(&self) -> usize {
        match self.tab {
            DetailTab::Members => self.members.loaded().map_or(0, Vec::len),
            DetailTab::Invitations => self.invitations.loaded().map_or(0, Vec::len),
            DetailTab::ApiKeys => self.keys.loaded().map_or(0, Vec::len),
            DetailTab::Settings | DetailTab::Usage => 0,
        }
    }

    pub fn tab_failed(&self) -> bool {
        match self.tab {
            DetailTab::Members => self.members.is_failed(),
            DetailTab::Invitations => self.invitations.is_failed(),
            DetailTab::ApiKeys => self.keys.is_failed(),
            DetailTab::Settings => false,
            DetailTab::Usage => self.usage.is_failed(),
        }
    }

    pub fn member(&self, user: Uuid) -> Option<&Member> {
        self.members.loaded()?.iter().find(|m| m.user_id == user)
    }

    /// The selected key, when the API keys tab shows one.
    pub fn selected_key(&self) -> Option<&ApiKey> {
        (self.tab == DetailTab::ApiKeys)
            .then(|| self.keys.loaded()?.get(self.selected))
            .flatten()
    }

    /// The workspace a key is bound to, by name; `None` when it is bound to
    /// none (or the list of workspaces did not load).
    pub fn workspace_name(&self, key: &ApiKey) -> Option<&str> {
        let id = key.workspace_id?;
        let listed = self.workspaces.loaded()?;
        listed.iter().find(|w| w.id == id).map(|w| w.name.as_str())
    }

    /// The rotate form for the selected key, or why it cannot be rotated.
    fn rotation(&self, now: DateTime<Utc>) -> Result<FormPurpose, &'static str> {
        let key = self.selected_key().ok_or("Select a key to rotate.")?;
        match (key.state(now), key.replaced_by) {
            (ApiKeyState::Revoked { .. }, _) => {
                Err("This key is revoked: only a working key can be rotated.")
            }
            (ApiKeyState::Expired { .. }, _) => {
                Err("This key has expired: only a working key can be rotated.")
            }
            (_, Some(_)) => Err("This key was already rotated: rotate the key that replaced it."),
            _ => Ok(FormPurpose::RotateKey {
                tenant: self.tenant,
                id: key.id,
            }),
        }
    }

    pub(super) fn clamp(&mut self) {
        self.selected = self.selected.min(self.rows().saturating_sub(1));
    }

    /// What the remove key asks to confirm on the selected row.
    fn removal(&self) -> Option<(String, Confirmable)> {
        let (tenant, sel) = (self.tenant, self.selected);
        match self.tab {
            DetailTab::Members => self.members.loaded()?.get(sel).map(|m| {
                (
                    format!("Remove {} from this tenant?", m.email),
                    Confirmable::RemoveMember {
                        tenant,
                        user: m.user_id,
                        email: m.email.clone(),
                    },
                )
            }),
            DetailTab::Invitations => self.invitations.loaded()?.get(sel).map(|i| {
                (
                    format!("Revoke the invitation for {}?", i.email),
                    Confirmable::RevokeInvitation {
                        tenant,
                        id: i.id,
                        email: i.email.clone(),
                    },
                )
            }),
            DetailTab::ApiKeys => self
                .keys
                .loaded()?
                .get(sel)
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
            DetailTab::Settings | DetailTab::Usage => None,
        }
    }
}

/// (Re)loads the detail's lists; failed ones show loading again.
pub(super) fn load(detail: &mut Option<Detail>, tenant: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
    if let Some(d) = detail {
        if d.members.is_failed() {
            d.members = Load::Loading;
        }
        if d.invitations.is_failed() {
            d.invitations = Load::Loading;
        }
        if d.keys.is_failed() {
            d.keys = Load::Loading;
        }
        if d.workspaces.is_failed() {
            d.workspaces = Load::Loading;
        }
    }
    let req = Request::LoadTenantDetail {
        tenant: tenant.to_string(),
    };
    cx.send_about(
        req,
        Some(Slot::Detail),
        "",
        "Could not load the tenant",
        Some(tenant),
        None,
    )
}

pub(super) fn update(view: &mut TenantsView, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
    let Some(d) = &mut view.detail else {
        return Vec::new();
    };
    let tenant = d.tenant;
    if d.checklist.is_some() {
        return update_checklist(&mut d.checklist, tenant, action, cx);
    }
    let rows = d.rows();
    if step(&mut d.selected, &action, rows, cx.page_rows()) {
        return Vec::new();
    }
    let purpose = match action {
        Action::NextTab | Action::PrevTab => {
            let n = DetailTab::ALL.len();
            let step = if action == Action::NextTab { 1 } else { n - 1 };
            d.tab = DetailTab::ALL[(d.tab.index() + step) % n];
            d.selected = 0;
            // Usage is measured when looked at, not with the rest.
            if d.tab == DetailTab::Usage && d.usage.loaded().is_none() {
                return super::usage::load(d, cx);
            }
            None
        }
        Action::Back => {
            view.detail = None;
            // Whatever the detail load answers now is of no use.
            cx.requests.forget(Slot::Detail);
            None
        }
        Action::Retry if d.tab == DetailTab::Usage => return super::usage::load(d, cx),
        Action::Retry => return load(&mut view.detail, tenant, cx),
        Action::SetLimits if d.tab == DetailTab::Usage => super::usage::limits_purpose(tenant, cx),
        Action::Edit => Some(FormPurpose::EditTenant(tenant)),
        Action::Invite if d.tab == DetailTab::Members => Some(FormPurpose::Invite(tenant)),
        Action::AddMember if d.tab == DetailTab::Members => Some(FormPurpose::AddMember(tenant)),
        Action::ChangeRole if d.tab == DetailTab::Members => d
            .members
            .loaded()
            .and_then(|m| m.get(d.selected))
            .map(|m| FormPurpose::ChangeRole {
                tenant,
                user: m.user_id,
            }),
        Action::Permissions if d.tab == DetailTab::Members => {
            d.checklist = d
                .members
                .loaded()
                .and_then(|m| m.get(d.selected))
                .map(Checklist::of);
            None
        }
        Action::New if d.tab == DetailTab::ApiKeys => Some(FormPurpose::NewKey(tenant)),
        Action::SetSecret if d.tab == DetailTab::Settings => {
            Some(FormPurpose::TenantSecret(tenant))
        }
        Action::RotateSecret if d.tab == DetailTab::ApiKeys => match d.rotation(cx.now) {
            Ok(purpose) => Some(purpose),
            Err(why) => {
                cx.toast(Toast::info(why));
                None
            }
        },
        Action::Remove => {
            if let Some((question, action)) = d.removal() {
                cx.confirm(question, action);
            }
            None
        }
        _ => None,
    };
    if let Some(p) = purpose {
        view.open_form(p, cx);
    }
    Vec::new()
}

/// Keys while a member's permissions checklist is open: move, toggle, save
/// (the whole set of grants), or back out without saving.
fn update_checklist(
    open: &mut Option<Checklist>,
    tenant: Uuid,
    action: Action,
    cx: &mut Cx<'_>,
) -> Vec<Effect> {
    let Some(c) = open else {
        return Vec::new();
    };
    match action {
        Action::Up => c.up(),
        Action::Down => c.down(),
        Action::Toggle => c.toggle(),
        Action::Back | Action::Cancel => *open = None,
        Action::Save => {
            let req = Request::SetMemberPermissions {
                tenant: tenant.to_string(),
                user: c.user,
                grants: c.grants.clone(),
            };
            let email = c.email.clone();
            return cx.send_about(
                req,
                None,
                &format!("Saved the permissions of {email}"),
                &format!("Could not save the permissions of {email}"),
                Some(tenant),
                Some(c.user),
            );
        }
        _ => {}
    }
    Vec::new()
}
