//! What the Leads pane's actions do: loading pages, moving, the debounced
//! search, the scopes, and the detail panel's actions.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};
use uuid::Uuid;

use super::{LeadDetail, LeadFilter, LeadScope, LeadsView, DEBOUNCE_MS};
use crate::console::action::Action;
use crate::console::app::{App, Confirmable, FormPurpose, Load, Modal, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::console::state::{PickPurpose, Picker};
use crate::console::widgets::toast::ToastKind;
use crate::domain::LeadPatch;

/// Rows of the screen that are not table body: header, pane bar, footer,
/// the pane's borders and the table's header row.
const CHROME_ROWS: u16 = 6;

impl App {
    /// Table rows that fit on screen, from the last known terminal size.
    pub(crate) fn lead_rows(&self) -> usize {
        usize::from(self.viewport.1.saturating_sub(CHROME_ROWS)).max(1)
    }

    /// Reloads the list when the Leads pane is shown for a tenant it has not
    /// loaded (the pane just opened, or the current tenant changed).
    pub(crate) fn sync_leads(&mut self, opened: bool) -> Vec<Effect> {
        if self.pane != Pane::Leads {
            return Vec::new();
        }
        let (changed, mut out) = self.ensure_leads_tenant();
        // A first page already asked for (`:leads overdue`) answers the opening.
        let asked = self.requests.latest.contains_key(&Slot::Leads);
        if changed || (opened && !asked && self.leads.tenant.is_some()) {
            out.extend(self.load_leads());
        }
        out
    }

    /// Points the list at the current tenant now and asks for its first
    /// page if it changed, rather than at the end of this turn.
    pub(crate) fn show_leads_of_current(&mut self) -> Vec<Effect> {
        let (changed, mut out) = self.ensure_leads_tenant();
        if changed {
            out.extend(self.load_leads());
        }
        out
    }

    /// Points the list at the current tenant, dropping another tenant's
    /// rows, filter and detail, and asks for its members.
    fn ensure_leads_tenant(&mut self) -> (bool, Vec<Effect>) {
        let Some(tenant) = self.session.current_tenant else {
            return (false, Vec::new());
        };
        if self.leads.tenant == Some(tenant) {
            return (false, Vec::new());
        }
        self.leads = LeadsView {
            tenant: Some(tenant),
            members: Load::Loading,
            ..LeadsView::default()
        };
        self.requests.latest.remove(&Slot::Lead);
        let out = self.send_about(
            Request::ListLeadMembers {
                tenant: tenant.to_string(),
            },
            Some(Slot::LeadMembers),
            "",
            "Could not load the members",
            Some(tenant),
            None,
        );
        (true, out)
    }

    /// Asks for the first page under the current filter. Rows already shown
    /// stay until the answer replaces them, so a reload does not flash.
    pub(crate) fn load_leads(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.leads.tenant else {
            return Vec::new();
        };
        if !matches!(self.leads.status, Load::Loaded(())) {
            self.leads.status = Load::Loading;
        }
        // A next page of the previous list must not be appended to this one.
        self.requests.latest.remove(&Slot::LeadsMore);
        self.leads.pager.restart();
        let req = Request::ListLeads {
            tenant: tenant.to_string(),
            query: self.leads.filter.query(None),
        };
        self.send_about(
            req,
            Some(Slot::Leads),
            "",
            "Could not load leads",
            Some(tenant),
            None,
        )
    }

    /// Asks for the next page when the selection nears the loaded end.
    fn maybe_load_more(&mut self) -> Vec<Effect> {
        let v = &mut self.leads;
        let Some(tenant) = v.tenant else {
            return Vec::new();
        };
        if !matches!(v.status, Load::Loaded(())) {
            return Vec::new();
        }
        let Some(cursor) = v.pager.due(v.selected, v.items.len()) else {
            return Vec::new();
        };
        let req = Request::ListLeads {
            tenant: tenant.to_string(),
            query: self.leads.filter.query(Some(cursor)),
        };
        self.send_about(
            req,
            Some(Slot::LeadsMore),
            "",
            "Could not load more leads",
            Some(tenant),
            None,
        )
    }

    pub(crate) fn set_lead_scope(&mut self, scope: LeadScope) -> Vec<Effect> {
        self.leads.filter.scope = scope;
        self.leads.selected = 0;
        self.leads.offset = 0;
        self.leads.status = Load::Loading;
        self.leads.items.clear();
        self.leads.pager.clear();
        self.load_leads()
    }

    pub(crate) fn update_leads(&mut self, action: Action) -> Vec<Effect> {
        if self.leads.editing {
            return self.update_lead_search(action);
        }
        if let Action::FilterDue(n) = action {
            return self.search_due(n);
        }
        // Esc backs out of the newest error first: it is the top layer.
        if action == Action::Back && self.toasts.iter().any(|t| t.kind == ToastKind::Error) {
            self.dismiss_toast();
            return Vec::new();
        }
        if action == Action::New {
            if let Some(t) = self.leads.tenant {
                self.open_form(FormPurpose::NewLead(t));
            }
            return Vec::new();
        }
        if self.leads.detail.is_some() {
            return self.update_lead_detail(action);
        }
        let rows = self.leads.items.len();
        let page = self.lead_rows();
        let v = &mut self.leads;
        match action {
            Action::Up => v.selected = v.selected.saturating_sub(1),
            Action::Down => v.selected = (v.selected + 1).min(rows.saturating_sub(1)),
            Action::PageUp => v.selected = v.selected.saturating_sub(page),
            Action::PageDown => v.selected = (v.selected + page).min(rows.saturating_sub(1)),
            Action::Top => v.selected = 0,
            Action::Bottom => v.selected = rows.saturating_sub(1),
            Action::Filter => {
                v.editing = true;
                v.draft = v.filter.q.clone();
            }
            Action::OverdueQueue => {
                let scope = if v.filter.scope == LeadScope::Overdue {
                    LeadScope::All
                } else {
                    LeadScope::Overdue
                };
                return self.set_lead_scope(scope);
            }
            Action::Back if !v.filter.is_empty() => {
                v.filter = LeadFilter::default();
                return self.set_lead_scope(LeadScope::All);
            }
            Action::Retry => return self.load_leads(),
            Action::Open => {
                if let Some(lead) = v.selected_lead().cloned() {
                    let id = lead.id;
                    v.detail = Some(LeadDetail {
                        lead,
                        timeline: Load::Loading,
                        scroll: 0,
                    });
                    return self.load_lead(id);
                }
            }
            _ => {}
        }
        self.leads.scroll_into_view(page);
        self.maybe_load_more()
    }

    /// Typing in `/`: each keystroke restarts the timer; the list is asked
    /// for only when the timer of the newest keystroke fires.
    fn update_lead_search(&mut self, action: Action) -> Vec<Effect> {
        let v = &mut self.leads;
        match action {
            Action::Key(k) => match k.code {
                KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => v.draft.push(c),
                KeyCode::Backspace => {
                    v.draft.pop();
                }
                _ => return Vec::new(),
            },
            Action::Paste(s) => v.draft.push_str(s.lines().next().unwrap_or("")),
            // Enter sends now rather than waiting for the timer.
            Action::Confirm => {
                v.editing = false;
                v.debounce += 1;
                return self.apply_search();
            }
            Action::Cancel => {
                v.editing = false;
                v.draft.clear();
                v.debounce += 1;
                return self.apply_search();
            }
            Action::FilterDue(n) => return self.search_due(n),
            _ => return Vec::new(),
        }
        v.debounce += 1;
        vec![Effect::After(
            Duration::from_millis(DEBOUNCE_MS),
            Action::FilterDue(v.debounce),
        )]
    }

    fn search_due(&mut self, n: u64) -> Vec<Effect> {
        if n != self.leads.debounce {
            return Vec::new();
        }
        self.apply_search()
    }

    fn apply_search(&mut self) -> Vec<Effect> {
        if self.leads.draft == self.leads.filter.q {
            return Vec::new();
        }
        self.leads.filter.q = self.leads.draft.clone();
        let scope = self.leads.filter.scope.clone();
        self.set_lead_scope(scope)
    }

    pub(crate) fn load_lead(&mut self, id: Uuid) -> Vec<Effect> {
        let Some(tenant) = self.leads.tenant else {
            return Vec::new();
        };
        if let Some(d) = &mut self.leads.detail {
            if d.timeline.is_failed() {
                d.timeline = Load::Loading;
            }
        }
        let req = Request::LoadLead {
            tenant: tenant.to_string(),
            id,
        };
        let mut out = self.send_about(
            req,
            Some(Slot::Lead),
            "",
            "Could not load the lead",
            Some(tenant),
            Some(id),
        );
        out.extend(self.load_lead_workflow(id));
        out
    }

    fn update_lead_detail(&mut self, action: Action) -> Vec<Effect> {
        let (Some(tenant), Some(d)) = (self.leads.tenant, &mut self.leads.detail) else {
            return Vec::new();
        };
        let lead = d.lead.clone();
        let entries = d.timeline.loaded().map_or(0, Vec::len);
        match action {
            Action::Up => d.scroll = d.scroll.saturating_sub(1),
            Action::Down => d.scroll = (d.scroll + 1).min(entries.saturating_sub(1)),
            Action::Back => {
                self.leads.detail = None;
                self.requests.latest.remove(&Slot::Lead);
                self.drop_lead_workflow();
            }
            Action::Retry => return self.load_lead(lead.id),
            Action::MoveStage => {
                let stages = self
                    .session
                    .tenant(tenant)
                    .map(|t| t.settings.pipeline_stages.clone())
                    .unwrap_or_default();
                let selected = stages.iter().position(|s| s.id == lead.stage).unwrap_or(0);
                self.modal = Some(Modal::Picker(Picker {
                    title: format!("Move {} to", lead.name),
                    options: stages.iter().map(|s| s.name.clone()).collect(),
                    selected,
                    purpose: PickPurpose::Stage {
                        tenant,
                        lead: lead.id,
                        ids: stages.into_iter().map(|s| s.id).collect(),
                    },
                }));
            }
            Action::Assign => {
                let members = self.leads.members.loaded().cloned().unwrap_or_default();
                let mut options = vec!["nobody".to_string()];
                let mut ids = vec![None];
                for m in members {
                    options.push(format!("{} <{}>", m.name, m.email));
                    ids.push(Some(m.user_id));
                }
                let selected = ids.iter().position(|i| *i == lead.assignee_id).unwrap_or(0);
                self.modal = Some(Modal::Picker(Picker {
                    title: format!("Assign {} to", lead.name),
                    options,
                    selected,
                    purpose: PickPurpose::Assign {
                        tenant,
                        lead: lead.id,
                        ids,
                    },
                }));
            }
            Action::AddNote => self.open_form(FormPurpose::AddNote {
                tenant,
                lead: lead.id,
            }),
            Action::ToggleSpam => {
                let (patch, ok, fail) = if lead.spam {
                    ("not spam", "Marked {} as not spam", "Could not unmark {}")
                } else {
                    ("spam", "Marked {} as spam", "Could not mark {} as spam")
                };
                let patch = LeadPatch {
                    spam: Some(patch == "spam"),
                    ..LeadPatch::default()
                };
                return self.send_lead_patch(
                    tenant,
                    lead.id,
                    patch,
                    &ok.replace("{}", &lead.name),
                    &fail.replace("{}", &lead.name),
                );
            }
            Action::Remove => {
                self.modal = Some(Modal::Confirm {
                    question: format!("Delete the lead {}? This cannot be undone.", lead.name),
                    action: Confirmable::DeleteLead {
                        tenant,
                        id: lead.id,
                        name: lead.name.clone(),
                    },
                });
            }
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn send_lead_patch(
        &mut self,
        tenant: Uuid,
        id: Uuid,
        patch: LeadPatch,
        ok: &str,
        fail: &str,
    ) -> Vec<Effect> {
        let req = Request::UpdateLead {
            tenant: tenant.to_string(),
            id,
            patch,
        };
        self.send_about(req, None, ok, fail, Some(tenant), Some(id))
    }

    /// Handles a key in an open picker; the picker closes on a choice or Esc.
    pub(crate) fn update_picker(&mut self, mut p: Picker, action: Action) -> Vec<Effect> {
        let n = p.options.len();
        match action {
            Action::Up => p.selected = p.selected.saturating_sub(1),
            Action::Down => p.selected = (p.selected + 1).min(n.saturating_sub(1)),
            Action::Cancel => return Vec::new(),
            Action::Confirm => return self.picked(p),
            _ => {}
        }
        self.modal = Some(Modal::Picker(p));
        Vec::new()
    }

    fn picked(&mut self, p: Picker) -> Vec<Effect> {
        let Some(choice) = p.options.get(p.selected).cloned() else {
            return Vec::new();
        };
        if let PickPurpose::LinkAgent {
            tenant,
            workspace,
            ids,
        } = &p.purpose
        {
            return self.picked_agent(*tenant, *workspace, ids, p.selected, &choice);
        }
        if let PickPurpose::SaveAsLead {
            tenant,
            session,
            ids,
        } = &p.purpose
        {
            if let Some(message) = ids.get(p.selected) {
                self.open_form(crate::console::app::FormPurpose::SaveAsLead {
                    tenant: *tenant,
                    session: *session,
                    message: *message,
                });
            }
            return Vec::new();
        }
        let name = self.lead_name(&p.purpose);
        match p.purpose {
            PickPurpose::Stage { tenant, lead, ids } => {
                let Some(stage) = ids.get(p.selected).cloned() else {
                    return Vec::new();
                };
                let patch = LeadPatch {
                    stage: Some(stage),
                    ..LeadPatch::default()
                };
                self.send_lead_patch(
                    tenant,
                    lead,
                    patch,
                    &format!("Moved {name} to {choice}"),
                    &format!("Could not move {name}"),
                )
            }
            PickPurpose::Assign { tenant, lead, ids } => {
                let user = ids.get(p.selected).copied().flatten();
                let patch = LeadPatch {
                    assignee_id: Some(user),
                    ..LeadPatch::default()
                };
                let ok = match user {
                    Some(_) => format!("Assigned {name} to {choice}"),
                    None => format!("Unassigned {name}"),
                };
                self.send_lead_patch(
                    tenant,
                    lead,
                    patch,
                    &ok,
                    &format!("Could not assign {name}"),
                )
            }
            // Handled above, before a lead's name is looked for.
            PickPurpose::LinkAgent { .. } | PickPurpose::SaveAsLead { .. } => Vec::new(),
        }
    }

    fn lead_name(&self, purpose: &PickPurpose) -> String {
        let id = match purpose {
            PickPurpose::Stage { lead, .. } | PickPurpose::Assign { lead, .. } => *lead,
            PickPurpose::LinkAgent { .. } => return "the workspace".into(),
            PickPurpose::SaveAsLead { .. } => return "the message".into(),
        };
        let from_detail = self.leads.detail.as_ref().filter(|d| d.lead.id == id);
        from_detail
            .map(|d| d.lead.name.clone())
            .or_else(|| {
                self.leads
                    .position(id)
                    .map(|i| self.leads.items[i].name.clone())
            })
            .unwrap_or_else(|| "the lead".into())
    }

    /// `:leads [overdue|at_risk|stage <name>|mine|spam]`.
    pub(crate) fn leads_command(&mut self, arg: &str) -> Result<Vec<Effect>, String> {
        let (word, rest) = match arg.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (arg, ""),
        };
        let scope = match word {
            "" | "all" => LeadScope::All,
            "overdue" => LeadScope::Overdue,
            "at_risk" | "at-risk" => LeadScope::AtRisk,
            "mine" => LeadScope::Mine,
            "spam" => LeadScope::Spam,
            "stage" if rest.is_empty() => return Err("usage: :leads stage <name>".into()),
            "stage" => {
                let stages = self
                    .session
                    .current()
                    .map(|t| t.settings.pipeline_stages.clone())
                    .unwrap_or_default();
                // A stage is named by its id or its name, in any case.
                let found = stages
                    .iter()
                    .find(|s| s.id.eq_ignore_ascii_case(rest) || s.name.eq_ignore_ascii_case(rest));
                match found {
                    Some(s) => LeadScope::Stage(s.id.clone()),
                    None if stages.is_empty() => LeadScope::Stage(rest.to_string()),
                    None => {
                        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
                        return Err(format!("no stage {rest:?}; stages: {}", names.join(", ")));
                    }
                }
            }
            other => {
                return Err(format!(
                    "unknown :leads {other} (all, overdue, at_risk, stage <name>, mine, spam)"
                ))
            }
        };
        self.pane = Pane::Leads;
        let (_, mut out) = self.ensure_leads_tenant();
        self.leads.detail = None;
        // `:leads` alone is "all": it clears the text as well as the scope.
        if word.is_empty() || word == "all" {
            self.leads.filter.q.clear();
            self.leads.draft.clear();
        }
        out.extend(self.set_lead_scope(scope));
        Ok(out)
    }
}
