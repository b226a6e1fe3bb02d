//! The open lead: its actions (stage, assignee, note, spam, delete), the
//! pickers they open, and its newest workflow (read, run again, stopped).

use uuid::Uuid;

use super::LeadsView;
use crate::console::action::Action;
use crate::console::approvals::retryable;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::state::{Confirmable, FormPurpose, Load, Modal, PickPurpose, Picker, Slot};
use crate::console::widgets::toast::Toast;
use crate::domain::{LeadPatch, Workflow};

impl LeadsView {
    /// Asks for the open lead with its timeline, and for its workflow.
    pub(crate) fn load_lead(&mut self, id: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant_of(id) else {
            return Vec::new();
        };
        if let Some(d) = &mut self.detail {
            if d.timeline.is_failed() {
                d.timeline = Load::Loading;
            }
        }
        let req = Request::LoadLead {
            tenant: tenant.to_string(),
            id,
        };
        let mut out = cx.send_about(
            req,
            Some(Slot::Lead),
            "",
            "Could not load the lead",
            Some(tenant),
            Some(id),
        );
        out.extend(self.load_workflow(id, cx));
        out
    }

    pub(super) fn update_detail(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        // Every action names the lead's own tenant: in the all-tenants
        // queue that need not be the current one.
        let Some(d) = &mut self.detail else {
            return Vec::new();
        };
        let lead = d.lead.clone();
        let tenant = lead.tenant_id;
        let entries = d.timeline.loaded().map_or(0, Vec::len);
        match action {
            Action::Up => d.scroll = d.scroll.saturating_sub(1),
            Action::Down => d.scroll = (d.scroll + 1).min(entries.saturating_sub(1)),
            Action::Back => {
                self.detail = None;
                cx.requests.forget(Slot::Lead);
                self.drop_workflow(cx);
            }
            Action::Retry => return self.load_lead(lead.id, cx),
            Action::MoveStage => {
                let stages = cx
                    .session
                    .tenant(tenant)
                    .map(|t| t.settings.pipeline_stages.clone())
                    .unwrap_or_default();
                let selected = stages.iter().position(|s| s.id == lead.stage).unwrap_or(0);
                *cx.modal = Some(Modal::Picker(Picker {
                    title: format!("Move {} to", lead.name),
                    options: stages.iter().map(|s| s.name.clone()).collect(),
                    selected,
                    purpose: PickPurpose::Stage {
                        tenant,
                        lead: lead.id,
                        ids: stages.into_iter().map(|s| s.id).collect(),
                    },
                    note: None,
                }));
            }
            Action::Assign => {
                let members = self
                    .members_of(tenant)
                    .and_then(Load::loaded)
                    .cloned()
                    .unwrap_or_default();
                let mut options = vec!["nobody".to_string()];
                let mut ids = vec![None];
                for m in members {
                    options.push(format!("{} <{}>", m.name, m.email));
                    ids.push(Some(m.user_id));
                }
                let selected = ids.iter().position(|i| *i == lead.assignee_id).unwrap_or(0);
                *cx.modal = Some(Modal::Picker(Picker {
                    title: format!("Assign {} to", lead.name),
                    options,
                    selected,
                    purpose: PickPurpose::Assign {
                        tenant,
                        lead: lead.id,
                        ids,
                    },
                    note: None,
                }));
            }
            Action::AddNote => self.open_form(
                FormPurpose::AddNote {
                    tenant,
                    lead: lead.id,
                },
                cx,
            ),
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
                return send_patch(
                    tenant,
                    lead.id,
                    patch,
                    &ok.replace("{}", &lead.name),
                    &fail.replace("{}", &lead.name),
                    cx,
                );
            }
            Action::Remove => cx.confirm(
                format!("Delete the lead {}? This cannot be undone.", lead.name),
                Confirmable::DeleteLead {
                    tenant,
                    id: lead.id,
                    name: lead.name.clone(),
                },
            ),
            _ => {}
        }
        Vec::new()
    }

    /// A stage or an assignee picked for a lead.
    pub(crate) fn picked(
        &mut self,
        purpose: PickPurpose,
        selected: usize,
        choice: &str,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        match purpose {
            PickPurpose::Stage { tenant, lead, ids } => {
                let name = self.lead_name(lead);
                let Some(stage) = ids.get(selected).cloned() else {
                    return Vec::new();
                };
                let patch = LeadPatch {
                    stage: Some(stage),
                    ..LeadPatch::default()
                };
                send_patch(
                    tenant,
                    lead,
                    patch,
                    &format!("Moved {name} to {choice}"),
                    &format!("Could not move {name}"),
                    cx,
                )
            }
            PickPurpose::Assign { tenant, lead, ids } => {
                let name = self.lead_name(lead);
                let user = ids.get(selected).copied().flatten();
                let patch = LeadPatch {
                    assignee_id: Some(user),
                    ..LeadPatch::default()
                };
                let ok = match user {
                    Some(_) => format!("Assigned {name} to {choice}"),
                    None => format!("Unassigned {name}"),
                };
                send_patch(
                    tenant,
                    lead,
                    patch,
                    &ok,
                    &format!("Could not assign {name}"),
                    cx,
                )
            }
            PickPurpose::WorkflowAgent { tenant, lead, ids } => {
                let agent = ids.get(selected).copied();
                let agent_name = choice.split(" · ").next();
                match agent {
                    Some(a) => self.start_with(tenant, lead, Some(a), agent_name, cx),
                    None => Vec::new(),
                }
            }
            purpose @ (PickPurpose::BulkStage { .. } | PickPurpose::BulkAssign { .. }) => {
                self.picked_bulk(purpose, selected, choice, cx)
            }
            // Other features' pickers.
            PickPurpose::LinkAgent { .. } | PickPurpose::SaveAsLead { .. } => Vec::new(),
        }
    }

    pub(super) fn lead_name(&self, id: Uuid) -> String {
        let from_detail = self.detail.as_ref().filter(|d| d.lead.id == id);
        from_detail
            .map(|d| d.lead.name.clone())
            .or_else(|| self.position(id).map(|i| self.items[i].name.clone()))
            .unwrap_or_else(|| "the lead".into())
    }

    /// Asks for the open lead's newest workflow.
    pub(crate) fn load_workflow(&mut self, lead: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant_of(lead) else {
            return Vec::new();
        };
        let keep = matches!(&self.workflow, Some((l, Load::Loaded(_))) if *l == lead);
        if !keep {
            self.workflow = Some((lead, Load::Loading));
        }
        cx.send_about(
            Request::LeadWorkflows {
                tenant: tenant.to_string(),
                lead,
            },
            Some(Slot::LeadWorkflow),
            "",
            "Could not load the lead's workflow",
            Some(tenant),
            Some(lead),
        )
    }

    /// Forgets the open lead's workflow: the detail closed.
    pub(super) fn drop_workflow(&mut self, cx: &mut Cx<'_>) {
        self.workflow = None;
        cx.requests.forget(Slot::LeadWorkflow);
    }

    /// The open lead's newest workflow, when loaded.
    fn open_workflow(&self) -> Option<&Workflow> {
        match self.workflow()? {
            Load::Loaded(Some(wf)) => Some(wf),
            _ => None,
        }
    }

    /// `w` runs the open lead's workflow: its failed, cancelled or rejected
    /// one again, or else a new one with its workspace's agent, or with an
    /// agent picked when it came through no workspace; `W` cancels the one
    /// in progress.
    pub(crate) fn workflow_action(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        match action {
            // In the list: the marked leads'.
            Action::StartWorkflow if self.detail.is_none() => self.bulk_workflow(cx),
            Action::StartWorkflow => self.start_workflow(cx),
            Action::StopWorkflow => self.stop_workflow(cx),
            _ => Vec::new(),
        }
    }

    fn start_workflow(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(d) = &self.detail else {
            return Vec::new();
        };
        let (tenant, lead, name) = (d.lead.tenant_id, d.lead.id, d.lead.name.clone());
        let ended = self.open_workflow().filter(|wf| retryable(wf.status));
        if let Some(wf) = ended {
            let id = wf.id;
            return crate::console::approvals::retry_workflow(tenant, id, &name, cx);
        }
        // A lead that came through a workspace runs that workspace's agent
        // (the server picks it); any other needs one named.
        if d.lead.workspace_id.is_some() {
            self.start_with(tenant, lead, None, None, cx)
        } else {
            self.pick_agent(tenant, lead, &name, cx)
        }
    }

    fn stop_workflow(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.detail.as_ref().map(|d| d.lead.tenant_id) else {
            return Vec::new();
        };
        let Some(wf) = self.open_workflow().filter(|wf| wf.status.is_active()) else {
            cx.toast(Toast::info("No workflow in progress for this lead"));
            return Vec::new();
        };
        let id = wf.id;
        cx.send_about(
            Request::CancelWorkflow {
                tenant: tenant.to_string(),
                id,
            },
            None,
            "Workflow cancelled",
            "Could not cancel the workflow",
            Some(tenant),
            Some(id),
        )
    }

    /// The lead's workflows as the server lists them, newest first.
    pub(crate) fn on_workflows(&mut self, target: Option<Uuid>, r: Load<Option<Workflow>>) {
        if let Some((lead, state)) = &mut self.workflow {
            if Some(*lead) == target {
                *state = r;
            }
        }
    }

    /// A workflow of `wf.lead_id` changed (started, decided, run again):
    /// the open lead shows it.
    pub(crate) fn on_workflow(&mut self, wf: &Workflow) {
        if let Some((lead, state)) = &mut self.workflow {
            if *lead == wf.lead_id {
                *state = Load::Loaded(Some(wf.clone()));
            }
        }
    }

    /// A decision recorded the reply, so the open lead's SLA clock stopped:
    /// read it and its workflow again. `None` when `lead` is not open.
    pub(crate) fn on_decided(&mut self, lead: Uuid, cx: &mut Cx<'_>) -> Option<Vec<Effect>> {
        if !self.detail_is(lead) {
            return None;
        }
        let mut out = self.load_lead(lead, cx);
        out.extend(self.load_workflow(lead, cx));
        Some(out)
    }

    /// The open lead gained a qualification: read it again, with its
    /// workflow. `None` when `lead` is not the one open.
    pub(crate) fn on_qualified(
        &mut self,
        lead: Option<Uuid>,
        cx: &mut Cx<'_>,
    ) -> Option<Vec<Effect>> {
        let l = lead.filter(|l| self.detail_is(*l))?;
        Some(self.load_lead(l, cx))
    }

    /// A workflow event about the open lead or its workflow: read the
    /// workflow again.
    pub(crate) fn on_workflow_moved(
        &mut self,
        lead: Option<Uuid>,
        workflow: Option<Uuid>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let shown = self.workflow.as_ref().and_then(|(l, s)| {
            let same_wf = s
                .loaded()
                .and_then(|w| w.as_ref())
                .is_some_and(|w| Some(w.id) == workflow);
            (Some(*l) == lead || same_wf).then_some(*l)
        });
        match shown.filter(|l| self.detail_is(*l)) {
            Some(l) => self.load_workflow(l, cx),
            None => Vec::new(),
        }
    }
}

/// Sends a change to one lead.
pub(super) fn send_patch(
    tenant: Uuid,
    id: Uuid,
    patch: LeadPatch,
    ok: &str,
    fail: &str,
    cx: &mut Cx<'_>,
) -> Vec<Effect> {
    let req = Request::UpdateLead {
        tenant: tenant.to_string(),
        id,
        patch,
    };
    cx.send_about(req, None, ok, fail, Some(tenant), Some(id))
}
