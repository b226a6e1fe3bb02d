//! Bulk actions on the Leads list: marking leads (`space`, `V`, `*`, `esc`
//! clears) and acting on the marked ones, one bulk request per tenant
//! touched (stage, assignee; per 500 leads) or, where the API has no bulk
//! form (spam, delete), one request per lead tallied per tenant (delete
//! after a confirmation that names the count and the tenants).

use std::collections::HashSet;

use uuid::Uuid;

use super::LeadsView;
use crate::console::action::Action;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::keymap::Context;
use crate::console::state::{Confirmable, InFlight, Load, Modal, PickPurpose, Picker};
use crate::console::widgets::toast::Toast;
use crate::domain::{BulkLeads, BulkResult, Lead, LeadPatch};

/// Marked leads grouped by tenant, in list order: (tenant, lead ids).
type Groups = Vec<(Uuid, Vec<Uuid>)>;

/// The most ids the server takes in one bulk request; more go in several.
pub const BULK_MAX: usize = 500;

/// The most leads deleted or marked spam at once: the API does those one
/// lead per request.
pub const ONE_BY_ONE_MAX: usize = 500;

impl LeadsView {
    /// Whether `lead` is marked.
    pub fn is_marked(&self, lead: Uuid) -> bool {
        self.marked.contains(&lead)
    }

    /// How many listed leads are marked.
    pub fn marked_count(&self) -> usize {
        // Drawn every frame: with no marks, a hundred thousand leads are
        // not walked.
        if self.marked.is_empty() {
            return 0;
        }
        self.items
            .iter()
            .filter(|l| self.marked.contains(&l.id))
            .count()
    }

    pub(super) fn clear_marks(&mut self) {
        self.marked.clear();
        self.anchor = None;
    }

    /// The marked leads that are listed, in list order.
    fn marked_leads(&self) -> Vec<&Lead> {
        self.items
            .iter()
            .filter(|l| self.marked.contains(&l.id))
            .collect()
    }

    fn groups(&self) -> Groups {
        let mut out: Groups = Vec::new();
        for l in self.marked_leads() {
            match out.iter_mut().find(|(t, _)| *t == l.tenant_id) {
                Some((_, ids)) => ids.push(l.id),
                None => out.push((l.tenant_id, vec![l.id])),
            }
        }
        out
    }

    /// The list's marking keys, and the actions that act on the marks:
    /// `Some` when handled here.
    pub(super) fn update_marks(&mut self, action: &Action, cx: &mut Cx<'_>) -> Option<Vec<Effect>> {
        match action {
            Action::Toggle => {
                let id = self.selected_lead()?.id;
                if !self.marked.remove(&id) {
                    self.marked.insert(id);
                    self.anchor = Some(id);
                }
                // Marking moves on, so space space space marks a run.
                self.selected = (self.selected + 1).min(self.items.len().saturating_sub(1));
                None
            }
            Action::MarkRange => {
                let here = self.selected;
                let from = self.anchor.and_then(|a| self.position(a)).unwrap_or(here);
                let (a, b) = (from.min(here), from.max(here));
                let ids: Vec<Uuid> = self.items[a..=b.min(self.items.len().saturating_sub(1))]
                    .iter()
                    .map(|l| l.id)
                    .collect();
                self.marked.extend(ids);
                self.anchor = self.selected_lead().map(|l| l.id);
                Some(Vec::new())
            }
            Action::MarkAll => {
                let ids: HashSet<Uuid> = self.items.iter().map(|l| l.id).collect();
                self.marked = ids;
                Some(Vec::new())
            }
            Action::Back if !self.marked.is_empty() => {
                self.clear_marks();
                Some(Vec::new())
            }
            Action::MoveStage | Action::Assign | Action::Remove | Action::ToggleSpam => {
                if self.marked_count() == 0 {
                    self.say_how_to_mark(cx);
                    return Some(Vec::new());
                }
                Some(match action {
                    Action::MoveStage => self.bulk_stage(cx),
                    Action::Assign => self.bulk_assign(cx),
                    Action::ToggleSpam => self.bulk_spam(cx),
                    _ => self.bulk_delete(cx),
                })
            }
            _ => None,
        }
    }

    /// The stages every touched tenant has (by id), in the first one's order.
    fn bulk_stage(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let groups = self.groups();
        let stages_of = |t: Uuid| {
            cx.session
                .tenant(t)
                .map(|t| t.settings.pipeline_stages.clone())
                .unwrap_or_default()
        };
        let mut common = groups
            .first()
            .map(|(t, _)| stages_of(*t))
            .unwrap_or_default();
        for (t, _) in groups.iter().skip(1) {
            let theirs = stages_of(*t);
            common.retain(|s| theirs.iter().any(|o| o.id == s.id));
        }
        if common.is_empty() {
            cx.toast(Toast::error(
                "The marked leads' tenants share no stage: mark leads of fewer tenants",
            ));
            return Vec::new();
        }
        *cx.modal = Some(Modal::Picker(Picker {
            title: format!("Move {} to", self.marked_summary(cx)),
            options: common.iter().map(|s| s.name.clone()).collect(),
            selected: 0,
            purpose: PickPurpose::BulkStage {
                groups,
                ids: common.into_iter().map(|s| s.id).collect(),
            },
            note: None,
        }));
        Vec::new()
    }

    /// Nobody, or a member of every touched tenant.
    fn bulk_assign(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let groups = self.groups();
        let mut out = Vec::new();
        for (t, _) in &groups {
            out.extend(self.ensure_members(*t, cx));
        }
        if groups
            .iter()
            .any(|(t, _)| !matches!(self.members_of(*t), Some(Load::Loaded(_))))
        {
            cx.toast(Toast::info(
                "Reading the members of the marked leads' tenants; press the key again",
            ));
            return out;
        }
        let loaded = |t: Uuid| {
            self.members_of(t)
                .and_then(Load::loaded)
                .cloned()
                .unwrap_or_default()
        };
        let mut common = groups.first().map(|(t, _)| loaded(*t)).unwrap_or_default();
        for (t, _) in groups.iter().skip(1) {
            let theirs = loaded(*t);
            common.retain(|m| theirs.iter().any(|o| o.user_id == m.user_id));
        }
        let mut options = vec!["nobody".to_string()];
        let mut ids = vec![None];
        for m in common {
            options.push(format!("{} <{}>", m.name, m.email));
            ids.push(Some(m.user_id));
        }
        *cx.modal = Some(Modal::Picker(Picker {
            title: format!("Assign {} to", self.marked_summary(cx)),
            options,
            selected: 0,
            purpose: PickPurpose::BulkAssign { groups, ids },
            note: None,
        }));
        out
    }

    /// Marks them spam, or not spam when every one is: one request per
    /// lead, tallied per tenant.
    fn bulk_spam(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let marked = self.marked_leads();
        let spam = !marked.iter().all(|l| l.spam);
        let leads: Vec<(Uuid, Uuid, String)> = marked
            .into_iter()
            .map(|l| (l.tenant_id, l.id, l.name.clone()))
            .collect();
        if leads.len() > ONE_BY_ONE_MAX {
            cx.toast(Toast::error(format!(
                "{} leads marked: mark at most {ONE_BY_ONE_MAX} as spam at a time",
                leads.len()
            )));
            return Vec::new();
        }
        self.clear_marks();
        let verb = if spam {
            "marked as spam"
        } else {
            "marked as not spam"
        };
        self.send_batch(
            verb,
            leads,
            |tenant, id| Request::UpdateLead {
                tenant: tenant.to_string(),
                id,
                patch: LeadPatch {
                    spam: Some(spam),
                    ..LeadPatch::default()
                },
            },
            cx,
        )
    }

    /// Runs a workflow for each marked lead that came through a workspace,
    /// with that workspace's agent (the server picks it); the others need an
    /// agent picked one by one, so they are named and left marked.
    pub(super) fn bulk_workflow(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.marked_count() == 0 {
            self.say_how_to_mark(cx);
            return Vec::new();
        }
        let (with, without): (Vec<&Lead>, Vec<&Lead>) = self
            .marked_leads()
            .into_iter()
            .partition(|l| l.workspace_id.is_some());
        if with.len() > ONE_BY_ONE_MAX {
            cx.toast(Toast::error(format!(
                "{} leads marked: run at most {ONE_BY_ONE_MAX} workflows at a time",
                with.len()
            )));
            return Vec::new();
        }
        let run: Vec<(Uuid, Uuid, String)> = with
            .iter()
            .map(|l| (l.tenant_id, l.id, l.name.clone()))
            .collect();
        let left: HashSet<Uuid> = without.iter().map(|l| l.id).collect();
        if !without.is_empty() {
            let open = cx.keymap.key_label(Context::LeadList, "open");
            let run = cx.keymap.key_label(Context::LeadDetail, "start_workflow");
            let names: Vec<&str> = without.iter().take(5).map(|l| l.name.as_str()).collect();
            let more = without.len().saturating_sub(names.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            cx.toast(Toast::info(format!(
                "Not started, no workspace names their agent: {}{more}. Open each ({open}) and \
                 press {run} to pick one; they stay marked.",
                names.join(", ")
            )));
        }
        self.marked = left;
        self.anchor = None;
        if run.is_empty() {
            return Vec::new();
        }
        self.send_batch(
            "sent to their workspace's agent",
            run,
            |tenant, lead| Request::StartWorkflow {
                tenant: tenant.to_string(),
                lead,
                agent: None,
            },
            cx,
        )
    }

    fn say_how_to_mark(&self, cx: &mut Cx<'_>) {
        let mark = cx.keymap.key_label(Context::LeadList, "mark");
        let open = cx.keymap.key_label(Context::LeadList, "open");
        cx.toast(Toast::info(format!(
            "Mark leads first ({mark}), or open one with {open}"
        )));
    }

    /// Asks first, saying how many leads of which tenants.
    fn bulk_delete(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let leads: Vec<(Uuid, Uuid, String)> = self
            .marked_leads()
            .into_iter()
            .map(|l| (l.tenant_id, l.id, l.name.clone()))
            .collect();
        if leads.len() > ONE_BY_ONE_MAX {
            cx.toast(Toast::error(format!(
                "{} leads marked: delete at most {ONE_BY_ONE_MAX} at a time (leads are deleted one \
                 by one)",
                leads.len()
            )));
            return Vec::new();
        }
        let question = format!("Delete {}? This cannot be undone.", self.marked_summary(cx));
        cx.confirm(question, Confirmable::DeleteLeads { leads });
        Vec::new()
    }

    /// "3 leads of Beta Co, Open Arms".
    fn marked_summary(&self, cx: &Cx<'_>) -> String {
        let groups = self.groups();
        let n: usize = groups.iter().map(|(_, ids)| ids.len()).sum();
        let names: Vec<String> = groups
            .iter()
            .map(|(t, _)| self.tenant_name(*t, cx.session))
            .collect();
        let leads = if n == 1 { "lead" } else { "leads" };
        format!("{n} {leads} of {}", names.join(", "))
    }

    /// A stage or an assignee picked for the marked leads: one request per
    /// tenant; the marks are cleared.
    pub(super) fn picked_bulk(
        &mut self,
        purpose: PickPurpose,
        selected: usize,
        choice: &str,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let (groups, change, done) = match purpose {
            PickPurpose::BulkStage { groups, ids } => {
                let Some(stage) = ids.get(selected).cloned() else {
                    return Vec::new();
                };
                let change = BulkLeads {
                    ids: Vec::new(),
                    stage: Some(stage),
                    assignee_id: None,
                };
                (groups, change, format!("moved {{}} to {choice}"))
            }
            PickPurpose::BulkAssign { groups, ids } => {
                let user = ids.get(selected).copied().flatten();
                let change = BulkLeads {
                    ids: Vec::new(),
                    stage: None,
                    assignee_id: Some(user),
                };
                let done = match user {
                    Some(_) => format!("assigned {{}} to {choice}"),
                    None => "unassigned {}".to_string(),
                };
                (groups, change, done)
            }
            _ => return Vec::new(),
        };
        self.clear_marks();
        let mut out = Vec::new();
        // One request per tenant, in chunks the server accepts.
        let requests = groups.into_iter().flat_map(|(tenant, ids)| {
            ids.chunks(BULK_MAX)
                .map(|c| (tenant, c.to_vec()))
                .collect::<Vec<_>>()
        });
        for (tenant, ids) in requests {
            let name = self.tenant_name(tenant, cx.session);
            let bulk = BulkLeads {
                ids,
                ..change.clone()
            };
            out.extend(cx.send_about(
                Request::BulkLeads {
                    tenant: tenant.to_string(),
                    bulk,
                },
                None,
                &format!("{name}: {done}"),
                &format!("{name}: could not change the leads"),
                Some(tenant),
                None,
            ));
        }
        out
    }

    /// One tenant's bulk answer: a toast with what changed, the refused
    /// leads by name, and the list read again.
    pub(super) fn on_bulk(
        &mut self,
        flight: &InFlight,
        result: BulkResult,
        here: bool,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let n = result.updated.len();
        let count = format!("{n} lead{}", if n == 1 { "" } else { "s" });
        cx.toast(Toast::success(flight.ok.replace("{}", &count)));
        if !result.not_found.is_empty() {
            let names: Vec<String> = result
                .not_found
                .iter()
                .map(|id| self.lead_name(*id))
                .collect();
            let tenant = flight
                .tenant
                .map(|t| self.tenant_name(t, cx.session))
                .unwrap_or_default();
            cx.toast(Toast::error(format!(
                "{tenant}: not changed (gone, or not yours to see): {}",
                names.join(", ")
            )));
        }
        if here {
            return self.load(cx);
        }
        Vec::new()
    }
}
