//! What the console does with the Agents and Workspaces panes' replies.

use crate::api::ApiError;
use crate::console::app::{App, InFlight, Load, Modal, Slot};
use crate::console::effect::{Effect, RequestId};
use crate::console::request::Response;
use crate::console::widgets::toast::Toast;
use crate::domain::{Agent, Workspace};

impl App {
    /// Applies a successful reply of these panes.
    pub(crate) fn on_agent_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
    ) -> Vec<Effect> {
        // A reply about a tenant the panes have left has nothing to update,
        // but a mutation still deserves its toast.
        let here = flight.tenant.is_some() && flight.tenant == self.agents.tenant;
        match response {
            Response::Agents(Ok(list)) if here => return self.on_agents(list),
            Response::Models(Ok(list)) => self.agents.models = list,
            Response::AgentVersions(Ok(list)) if here => {
                if let Some(d) = self
                    .agents
                    .detail
                    .as_mut()
                    .filter(|d| Some(d.agent.id) == flight.target)
                {
                    d.version_sel = d.version_sel.min(list.len().saturating_sub(1));
                    d.versions = Load::Loaded(list);
                }
            }
            Response::AgentCreated(Ok(a)) => {
                self.finish_form(id);
                self.toast(Toast::success(flight.ok.clone()));
                if here {
                    let agent_id = a.id;
                    let sort = self.agents.sort;
                    if let Some(list) = self.agents.agents.loaded_mut() {
                        list.push(a);
                        sort.apply(list);
                    }
                    if let Some(i) = self.agents.items().iter().position(|x| x.id == agent_id) {
                        self.agents.selected = i;
                    }
                }
            }
            Response::AgentUpdated(Ok(a))
            | Response::AgentRestored(Ok(a))
            | Response::AgentShared(Ok(a)) => {
                self.finish_form(id);
                if matches!(&self.modal, Some(Modal::Share(d)) if d.pending == Some(id)) {
                    self.modal = None;
                }
                self.toast(Toast::success(
                    flight.ok.replace("{v}", &a.version.to_string()),
                ));
                if here {
                    return self.replace_agent(a);
                }
            }
            Response::AgentDeleted(Ok(())) => {
                self.toast(Toast::success(flight.ok.clone()));
                if let Some(gone) = flight.target.filter(|_| here) {
                    if let Some(list) = self.agents.agents.loaded_mut() {
                        list.retain(|a| a.id != gone);
                    }
                    let n = self.agents.items().len();
                    self.agents.selected = self.agents.selected.min(n.saturating_sub(1));
                    if self
                        .agents
                        .detail
                        .as_ref()
                        .is_some_and(|d| d.agent.id == gone)
                    {
                        self.agents.detail = None;
                        self.requests.latest.remove(&Slot::AgentVersions);
                    }
                }
            }
            Response::Workspaces(Ok(list)) if here => {
                let n = list.len();
                self.agents.workspaces = Load::Loaded(list);
                self.agents.ws_selected = self.agents.ws_selected.min(n.saturating_sub(1));
            }
            Response::WorkspaceSaved(Ok(w)) => {
                self.finish_form(id);
                self.toast(Toast::success(flight.ok.clone()));
                if here {
                    self.upsert_workspace(w);
                }
            }
            Response::WorkspaceDeleted(Ok(())) => {
                self.toast(Toast::success(flight.ok.clone()));
                if let (Some(gone), Some(list)) = (
                    flight.target.filter(|_| here),
                    self.agents.workspaces.loaded_mut(),
                ) {
                    list.retain(|w| w.id != gone);
                    let n = list.len();
                    self.agents.ws_selected = self.agents.ws_selected.min(n.saturating_sub(1));
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_agents(&mut self, mut list: Vec<Agent>) -> Vec<Effect> {
        // Stay on the same agent across a reload when it is still listed.
        let keep = self.agents.selected_agent().map(|a| a.id);
        let n = list.len();
        self.agents.sort.apply(&mut list);
        self.agents.agents = Load::Loaded(list);
        let v = &mut self.agents;
        v.selected = keep
            .and_then(|id| v.items().iter().position(|a| a.id == id))
            .unwrap_or(v.selected)
            .min(n.saturating_sub(1));
        if let Some(name) = self.agents.open_when_loaded.take() {
            match self.agents.find_by_name(&name).cloned() {
                Some(a) => return self.open_agent(a),
                None => self.toast(Toast::error(format!("No agent named {name:?}"))),
            }
        }
        Vec::new()
    }

    /// A fresher copy of an agent, in the list and the open detail, whose
    /// versions then grew: they are fetched again.
    fn replace_agent(&mut self, a: Agent) -> Vec<Effect> {
        let id = a.id;
        if let Some(x) = self
            .agents
            .agents
            .loaded_mut()
            .and_then(|l| l.iter_mut().find(|x| x.id == id))
        {
            *x = a.clone();
        }
        let Some(d) = self.agents.detail.as_mut().filter(|d| d.agent.id == id) else {
            return Vec::new();
        };
        let grew = d.agent.version != a.version;
        d.agent = a;
        if grew {
            // The new version is first: put the cursor on it.
            d.version_sel = 0;
            d.marked.clear();
            return self.load_versions(id);
        }
        Vec::new()
    }

    fn upsert_workspace(&mut self, w: Workspace) {
        let Some(list) = self.agents.workspaces.loaded_mut() else {
            return;
        };
        match list.iter().position(|x| x.id == w.id) {
            Some(i) => list[i] = w,
            None => {
                list.push(w);
                self.agents.ws_selected = list.len() - 1;
            }
        }
    }

    /// A failed load of these panes, shown where it belongs, or a refused
    /// share shown in its dialog; `true` when nothing more needs saying.
    pub(crate) fn on_agent_failure(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        err: &ApiError,
    ) -> bool {
        let message = &err.message();
        let here = flight.tenant.is_some() && flight.tenant == self.agents.tenant;
        match flight.slot {
            Some(Slot::Agents) => {
                if here {
                    self.agents.agents = Load::Failed(message.to_string());
                }
                true
            }
            Some(Slot::Workspaces) => {
                if here {
                    self.agents.workspaces = Load::Failed(message.to_string());
                }
                true
            }
            Some(Slot::AgentVersions) => {
                if let Some(d) = self.agents.detail.as_mut().filter(|_| here) {
                    d.versions = Load::Failed(message.to_string());
                }
                true
            }
            _ => {
                // The share dialog keeps the choice and says why, inline;
                // the toast still follows, as for a form.
                match &mut self.modal {
                    Some(Modal::Share(d)) if d.pending == Some(id) => {
                        d.pending = None;
                        d.error = Some(message.to_string());
                        false
                    }
                    Some(Modal::Form(f)) if f.pending == Some(id) => false,
                    // No form to mark the field in (the strategy switch):
                    // the field's message is the useful part, so say it.
                    _ => match err.problem().filter(|p| !p.errors.is_empty()) {
                        Some(p) => {
                            let why: Vec<&str> =
                                p.errors.iter().map(|e| e.message.as_str()).collect();
                            self.toast(Toast::error(format!(
                                "{}: {}",
                                flight.fail,
                                why.join("; ")
                            )));
                            true
                        }
                        None => false,
                    },
                }
            }
        }
    }
}
