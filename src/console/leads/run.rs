//! Running a workflow for the open lead with an agent the user picks: the
//! picker opens at once, fills when the tenant's agents arrive, and its
//! choice starts the workflow with that agent.

use uuid::Uuid;

use super::LeadsView;
use crate::api::ApiError;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::keymap::Context;
use crate::console::state::{InFlight, Modal, PickPurpose, Picker, Slot};
use crate::console::widgets::toast::Toast;
use crate::domain::Agent;

impl LeadsView {
    /// Opens the agent picker for `lead` and asks for the agents to fill it.
    pub(super) fn pick_agent(
        &mut self,
        tenant: Uuid,
        lead: Uuid,
        name: &str,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        *cx.modal = Some(Modal::Picker(Picker {
            title: format!("Run a workflow for {name} with"),
            options: Vec::new(),
            selected: 0,
            purpose: PickPurpose::WorkflowAgent {
                tenant,
                lead,
                ids: Vec::new(),
            },
            note: Some("Loading agents…".into()),
        }));
        cx.send_about(
            Request::ListAgents {
                tenant: tenant.to_string(),
            },
            Some(Slot::WorkflowAgents),
            "",
            "Could not load the agents",
            Some(tenant),
            Some(lead),
        )
    }

    /// The tenant's agents arrived: the picker still open for that lead
    /// offers them, or says why it cannot.
    pub(crate) fn on_workflow_agents(
        &mut self,
        flight: &InFlight,
        agents: Result<Vec<Agent>, ApiError>,
        cx: &mut Cx<'_>,
    ) {
        let Some(Modal::Picker(p)) = cx.modal.as_mut() else {
            return;
        };
        let PickPurpose::WorkflowAgent { lead, ids, .. } = &mut p.purpose else {
            return;
        };
        if Some(*lead) != flight.target {
            return;
        }
        match agents {
            Ok(list) if list.is_empty() => {
                let pane = cx.keymap.key_label(Context::Global, "pane_3");
                let new = cx.keymap.key_label(Context::AgentList, "new");
                p.note = Some(format!(
                    "No agents yet: press {pane} for Agents, then {new} to make one."
                ));
            }
            Ok(list) => {
                p.options = list.iter().map(agent_label).collect();
                *ids = list.iter().map(|a| a.id).collect();
                p.selected = 0;
                p.note = None;
            }
            Err(e) => p.note = Some(format!("{}: {}", flight.fail, e.message())),
        }
    }

    /// An agent picked: the workflow starts with it.
    pub(super) fn start_with(
        &mut self,
        tenant: Uuid,
        lead: Uuid,
        agent: Option<Uuid>,
        agent_name: Option<&str>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let name = self.lead_name(lead);
        let ok = match agent_name {
            Some(a) => format!("Started a workflow for {name} with {a}"),
            None => format!("Started a workflow for {name}"),
        };
        cx.send_about(
            Request::StartWorkflow {
                tenant: tenant.to_string(),
                lead,
                agent,
            },
            None,
            &ok,
            &format!("Could not start a workflow for {name}"),
            Some(tenant),
            Some(lead),
        )
    }

    /// A start the server refused for want of an agent (the lead's
    /// workspace has none linked, or the one named is gone): say why and
    /// offer the agents, if the lead is still open and nothing else is.
    /// `None` when the refusal is for the caller to report.
    pub(super) fn on_start_refused(
        &mut self,
        flight: &InFlight,
        err: &ApiError,
        cx: &mut Cx<'_>,
    ) -> Option<Vec<Effect>> {
        let problem = err.problem()?;
        let why = problem.errors.iter().find(|e| e.field == "agent_id")?;
        let lead = flight.target.filter(|l| self.detail_is(*l))?;
        let tenant = flight.tenant.filter(|t| self.shows(*t))?;
        if cx.modal.is_some() {
            return None;
        }
        cx.toast(Toast::info(format!("{}: {}", flight.fail, why.message)));
        let name = self.lead_name(lead);
        Some(self.pick_agent(tenant, lead, &name, cx))
    }
}

/// How an agent is offered: its name and model, and whose it is when
/// shared with the tenant.
fn agent_label(a: &Agent) -> String {
    if a.read_only {
        format!("{} · {} ({})", a.name, a.config.model, a.owner_name)
    } else {
        format!("{} · {}", a.name, a.config.model)
    }
}
