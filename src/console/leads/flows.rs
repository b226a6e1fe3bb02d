//! What the Leads feature's list actions do: following the current tenant,
//! loading pages, moving, the debounced search, the scopes and `:leads`.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};

use super::{LeadDetail, LeadFilter, LeadScope, LeadsView, DEBOUNCE_MS};
use crate::console::action::Action;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::panes::step;
use crate::console::state::{FormPurpose, Load, Slot};
use uuid::Uuid;

/// The failure of a members read; it tells another tenant's (no slot of
/// its own) from the other slotless requests when it fails.
pub(super) const MEMBERS_FAIL: &str = "Could not load the members";

/// Table rows that fit on screen, from the last known terminal size.
pub(super) fn page_rows(cx: &Cx<'_>) -> usize {
    cx.page_rows()
}

impl LeadsView {
    /// Reloads the list when the Leads pane is `shown` for a tenant it has
    /// not loaded (the pane just `opened`, or the current tenant changed).
    pub(crate) fn follow_tenant(
        &mut self,
        shown: bool,
        opened: bool,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        if !shown {
            return Vec::new();
        }
        let (changed, mut out) = self.ensure_tenant(cx);
        // A first page already asked for (`:leads overdue`) answers the opening.
        let asked = cx.requests.awaits(Slot::Leads);
        if changed || (opened && !asked && self.tenant.is_some()) {
            out.extend(self.load(cx));
        }
        out
    }

    /// Points the list at the current tenant now and asks for its first
    /// page if it changed, rather than at the end of this turn.
    pub(crate) fn show_current(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (changed, mut out) = self.ensure_tenant(cx);
        if changed {
            out.extend(self.load(cx));
        }
        out
    }

    /// Points the list at the current tenant, dropping another tenant's
    /// rows, filter and detail, and asks for its members.
    fn ensure_tenant(&mut self, cx: &mut Cx<'_>) -> (bool, Vec<Effect>) {
        let Some(tenant) = cx.session.current_tenant else {
            return (false, Vec::new());
        };
        if self.tenant == Some(tenant) {
            return (false, Vec::new());
        }
        *self = LeadsView {
            tenant: Some(tenant),
            workflow: self.workflow.take(),
            ..LeadsView::default()
        };
        cx.requests.forget(Slot::Lead);
        (true, self.ensure_members(tenant, cx))
    }

    /// Asks for a tenant's members unless they are read or being read.
    pub(super) fn ensure_members(&mut self, tenant: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.members.get(&tenant).is_some_and(|m| !m.is_failed()) {
            return Vec::new();
        }
        self.members.insert(tenant, Load::Loading);
        // Only the current tenant's answer is a slot of its own: a lead of
        // another tenant asks alongside it without cancelling it.
        let slot = (self.tenant == Some(tenant)).then_some(Slot::LeadMembers);
        cx.send_about(
            Request::ListLeadMembers {
                tenant: tenant.to_string(),
            },
            slot,
            "",
            MEMBERS_FAIL,
            Some(tenant),
            None,
        )
    }

    /// The request for one page of the list: the current tenant's leads, or
    /// the all-tenants queue.
    fn page_request(&self, tenant: Uuid, cursor: Option<String>) -> Request {
        let query = self.filter.query(cursor);
        if self.all_tenants {
            Request::ListQueue {
                query,
                tenants: self.only_tenants.clone(),
            }
        } else {
            Request::ListLeads {
                tenant: tenant.to_string(),
                query,
            }
        }
    }

    /// Asks for the first page under the current filter. Rows already shown
    /// stay until the answer replaces them, so a reload does not flash.
    pub(super) fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        if !matches!(self.status, Load::Loaded(())) {
            self.status = Load::Loading;
        }
        // A next page of the previous list must not be appended to this one.
        cx.requests.forget(Slot::LeadsMore);
        self.pager.restart();
        let req = self.page_request(tenant, None);
        cx.send_about(
            req,
            Some(Slot::Leads),
            "",
            "Could not load leads",
            Some(tenant),
            None,
        )
    }

    /// Asks for the next page when the selection nears the loaded end.
    fn maybe_load_more(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        if !matches!(self.status, Load::Loaded(())) {
            return Vec::new();
        }
        let Some(cursor) = self.pager.due(self.selected, self.items.len()) else {
            return Vec::new();
        };
        let req = self.page_request(tenant, Some(cursor));
        cx.send_about(
            req,
            Some(Slot::LeadsMore),
            "",
            "Could not load more leads",
            Some(tenant),
            None,
        )
    }

    pub(super) fn set_scope(&mut self, scope: LeadScope, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.filter.scope = scope;
        self.selected = 0;
        self.offset = 0;
        self.status = Load::Loading;
        self.items.clear();
        self.pager.clear();
        // Marks on leads no longer listed must not be acted on unseen.
        self.clear_marks();
        self.load(cx)
    }

    pub(super) fn update_list(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.editing {
            return self.update_search(action, cx);
        }
        if let Action::FilterDue(n) = action {
            return self.search_due(n, cx);
        }
        if action == Action::New {
            if let Some(t) = self.tenant {
                self.open_form(FormPurpose::NewLead(t), cx);
            }
            return Vec::new();
        }
        if self.detail.is_some() {
            return self.update_detail(action, cx);
        }
        if let Some(out) = self.update_marks(&action, cx) {
            return out;
        }
        let page = page_rows(cx);
        if step(&mut self.selected, &action, self.items.len(), page) {
            self.scroll_into_view(page);
            return self.maybe_load_more(cx);
        }
        match action {
            Action::Filter => {
                self.editing = true;
                self.draft = self.filter.q.clone();
            }
            Action::OverdueQueue => return self.toggle_overdue(cx),
            Action::AllTenants => {
                self.all_tenants = !self.all_tenants;
                self.widened_by_overdue = false;
                self.only_tenants.clear();
                let scope = self.filter.scope.clone();
                return self.set_scope(scope, cx);
            }
            Action::Back if !self.filter.is_empty() || !self.only_tenants.is_empty() => {
                self.filter = LeadFilter::default();
                self.only_tenants.clear();
                // Backing out of a queue `o` widened is the tenant's list again.
                if std::mem::take(&mut self.widened_by_overdue) {
                    self.all_tenants = false;
                }
                return self.set_scope(LeadScope::All, cx);
            }
            Action::Retry => return self.load(cx),
            Action::Open => {
                if let Some(lead) = self.selected_lead().cloned() {
                    return self.open_detail(lead, cx);
                }
            }
            _ => {}
        }
        self.scroll_into_view(page);
        self.maybe_load_more(cx)
    }

    /// Typing in `/`: each keystroke restarts the timer; the list is asked
    /// for only when the timer of the newest keystroke fires.
    fn update_search(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        match action {
            Action::Key(k) => match k.code {
                KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.draft.push(c)
                }
                KeyCode::Backspace => {
                    self.draft.pop();
                }
                _ => return Vec::new(),
            },
            Action::Paste(s) => self.draft.push_str(s.lines().next().unwrap_or("")),
            // Enter sends now rather than waiting for the timer.
            Action::Confirm => {
                self.editing = false;
                self.debounce += 1;
                return self.apply_search(cx);
            }
            Action::Cancel => {
                self.editing = false;
                self.draft.clear();
                self.debounce += 1;
                return self.apply_search(cx);
            }
            Action::FilterDue(n) => return self.search_due(n, cx),
            _ => return Vec::new(),
        }
        self.debounce += 1;
        vec![Effect::After(
            Duration::from_millis(DEBOUNCE_MS),
            Action::FilterDue(self.debounce),
        )]
    }

    fn search_due(&mut self, n: u64, cx: &mut Cx<'_>) -> Vec<Effect> {
        if n != self.debounce {
            return Vec::new();
        }
        self.apply_search(cx)
    }

    fn apply_search(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.draft == self.filter.q {
            return Vec::new();
        }
        self.filter.q = self.draft.clone();
        let scope = self.filter.scope.clone();
        self.set_scope(scope, cx)
    }

    /// Opens `lead` over the list and asks for it with its timeline.
    pub(crate) fn open_detail(
        &mut self,
        lead: crate::domain::Lead,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let (id, tenant) = (lead.id, lead.tenant_id);
        self.detail = Some(LeadDetail::new(lead));
        // A lead of another tenant (the all-tenants queue) is assigned among
        // its own tenant's members.
        let mut out = self.ensure_members(tenant, cx);
        out.extend(self.load_lead(id, cx));
        out
    }

    /// `:leads [all [tenant SLUG[,SLUG…]]] [overdue|at_risk|stage <name>|mine|spam]`:
    /// `all` first lists every tenant's leads (the all-tenants queue), or
    /// only the named tenants'; without it the current tenant's. The router
    /// shows the Leads pane when it answers `Ok`.
    pub(crate) fn command(&mut self, arg: &str, cx: &mut Cx<'_>) -> Result<Vec<Effect>, String> {
        let arg = arg.trim();
        let (all_tenants, arg) = match arg.split_once(char::is_whitespace) {
            Some(("all", rest)) => (true, rest.trim()),
            _ if arg == "all" => (true, ""),
            _ => (false, arg),
        };
        let (only, arg) = if all_tenants {
            super::queue::named_tenants(arg, cx.session)?
        } else {
            (Vec::new(), arg)
        };
        let (word, rest) = match arg.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (arg, ""),
        };
        let scope = match word {
            "" => LeadScope::All,
            "overdue" => LeadScope::Overdue,
            "at_risk" | "at-risk" => LeadScope::AtRisk,
            "mine" => LeadScope::Mine,
            "spam" => LeadScope::Spam,
            "stage" if rest.is_empty() => return Err("usage: :leads stage <name>".into()),
            "stage" => {
                let stages = cx
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
                    // Across tenants a stage one of the others has is fine too.
                    None if stages.is_empty() || all_tenants => LeadScope::Stage(rest.to_string()),
                    None => {
                        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
                        return Err(format!("no stage {rest:?}; stages: {}", names.join(", ")));
                    }
                }
            }
            other => {
                return Err(format!(
                    "unknown :leads {other} (all [tenant SLUG] [scope] for every tenant; \
                     overdue, at_risk, stage <name>, mine, spam)"
                ))
            }
        };
        let (_, mut out) = self.ensure_tenant(cx);
        self.detail = None;
        self.all_tenants = all_tenants;
        self.widened_by_overdue = false;
        self.only_tenants = only;
        // `:leads` alone lists everything: it clears the text as well as the scope.
        if word.is_empty() {
            self.filter.q.clear();
            self.draft.clear();
        }
        out.extend(self.set_scope(scope, cx));
        Ok(out)
    }
}
