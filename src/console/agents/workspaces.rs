//! What the Workspaces pane's actions do: forms, linking an agent, the
//! strategy switch and deleting.

use uuid::Uuid;

use super::{agent_options, AgentsView};
use crate::console::action::Action;
use crate::console::app::{Confirmable, FormPurpose, Modal};
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::state::{PickPurpose, Picker};
use crate::domain::WorkspacePatch;

impl AgentsView {
    pub(super) fn update_workspaces(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        let rows = self.workspace_items().len();
        let ws = self.selected_workspace().cloned();
        let (_, ids) = agent_options(self.items());
        match action {
            Action::Up => self.ws_selected = self.ws_selected.saturating_sub(1),
            Action::Down => self.ws_selected = (self.ws_selected + 1).min(rows.saturating_sub(1)),
            Action::Top => self.ws_selected = 0,
            Action::Bottom => self.ws_selected = rows.saturating_sub(1),
            Action::Retry => {
                let mut out = self.load_workspaces(cx);
                out.extend(self.load_agents(cx));
                return out;
            }
            Action::New => self.open_form(
                FormPurpose::NewWorkspace {
                    tenant,
                    agents: ids,
                },
                cx,
            ),
            Action::Edit => {
                if let Some(w) = ws {
                    self.open_form(
                        FormPurpose::EditWorkspace {
                            tenant,
                            id: w.id,
                            agents: ids,
                        },
                        cx,
                    );
                }
            }
            Action::LinkAgent => {
                if let Some(w) = ws {
                    let (options, ids) = agent_options(self.items());
                    let selected = ids.iter().position(|i| *i == w.agent_id).unwrap_or(0);
                    *cx.modal = Some(Modal::Picker(Picker {
                        title: format!("Agent for {}", w.name),
                        options,
                        selected,
                        purpose: PickPurpose::LinkAgent {
                            tenant,
                            workspace: w.id,
                            ids,
                        },
                        note: None,
                    }));
                }
            }
            Action::Toggle => {
                if let Some(w) = ws {
                    let on = !w.strategy_active;
                    let place = cx
                        .session
                        .current()
                        .map(|t| t.name.clone())
                        .unwrap_or_default();
                    let word = if on { "on" } else { "off" };
                    let patch = WorkspacePatch {
                        strategy_active: Some(on),
                        ..WorkspacePatch::default()
                    };
                    return Self::send_workspace_patch(
                        cx,
                        tenant,
                        w.id,
                        patch,
                        &format!("Strategy {word} for {} — {place}", w.name),
                        &format!("Could not turn the strategy {word} for {}", w.name),
                    );
                }
            }
            Action::Remove => {
                if let Some(w) = ws {
                    cx.confirm(
                        format!("Delete the workspace {}?", w.name),
                        Confirmable::DeleteWorkspace {
                            tenant,
                            id: w.id,
                            name: w.name.clone(),
                        },
                    );
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn send_workspace_patch(
        cx: &mut Cx<'_>,
        tenant: Uuid,
        id: Uuid,
        patch: WorkspacePatch,
        ok: &str,
        fail: &str,
    ) -> Vec<Effect> {
        let req = Request::UpdateWorkspace {
            tenant: tenant.to_string(),
            id,
            patch,
        };
        cx.send_about(req, None, ok, fail, Some(tenant), Some(id))
    }

    /// The agent picked for a workspace: linked, or unlinked with "none".
    pub(crate) fn picked_agent(
        &mut self,
        tenant: Uuid,
        workspace: Uuid,
        ids: &[Option<Uuid>],
        selected: usize,
        label: &str,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let Some(agent) = ids.get(selected).copied() else {
            return Vec::new();
        };
        let name = self
            .workspace_items()
            .iter()
            .find(|w| w.id == workspace)
            .map_or_else(|| "the workspace".to_string(), |w| w.name.clone());
        let ok = match agent {
            Some(_) => format!("Linked {label} to {name}"),
            None => format!("Unlinked the agent from {name}"),
        };
        let patch = WorkspacePatch {
            agent_id: Some(agent),
            ..WorkspacePatch::default()
        };
        let fail = format!("Could not link an agent to {name}");
        Self::send_workspace_patch(cx, tenant, workspace, patch, &ok, &fail)
    }
}
