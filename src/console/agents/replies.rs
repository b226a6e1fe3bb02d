//! What the console does with the Agents and Workspaces panes' replies.

use super::AgentsView;
use crate::api::ApiError;
use crate::console::app::{InFlight, Load, Modal, Slot};
use crate::console::component::Cx;
use crate::console::effect::{Effect, RequestId};
use crate::console::request::Response;
use crate::console::widgets::toast::Toast;
use crate::domain::{Agent, Workspace};

impl AgentsView {
    /// Applies a successful reply of these panes.
    pub(super) fn on_reply(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        // A reply about a tenant the panes have left has nothing to update,
        // but a mutation still deserves its toast.
        let here = flight.tenant.is_some() && flight.tenant == self.tenant;
        match response {
            Response::Agents(Ok(list)) if here => return self.on_agents(list, cx),
            Response::Models(Ok(list)) => self.models = list,
            Response::AgentVersions(Ok(list)) if here => {
                if let Some(d) = self
                    .detail
                    .as_mut()
                    .filter(|d| Some(d.agent.id) == flight.target)
                {
                    d.version_sel = d.version_sel.min(list.len().saturating_sub(1));
                    d.versions = Load::Loaded(list);
                }
            }
            Response::AgentCreated(Ok(a)) => {
                cx.finish_form(id);
                cx.toast(Toast::success(flight.ok.clone()));
                if here {
                    let agent_id = a.id;
                    let sort = self.sort;
                    if let Some(list) = self.agents.loaded_mut() {
                        list.push(a);
                        sort.apply(list);
                    }
                    if let Some(i) = self.items().iter().position(|x| x.id == agent_id) {
                        self.selected = i;
                    }
                }
            }
            Response::AgentUpdated(Ok(a))
            | Response::AgentRestored(Ok(a))
            | Response::AgentShared(Ok(a)) => {
                cx.finish_form(id);
                if matches!(&*cx.modal, Some(Modal::Share(d)) if d.pending == Some(id)) {
                    *cx.modal = None;
                }
                cx.toast(Toast::success(
                    flight.ok.replace("{v}", &a.version.to_string()),
                ));
                if here {
                    return self.replace_agent(a, cx);
                }
            }
            Response::AgentDeleted(Ok(())) => {
                cx.toast(Toast::success(flight.ok.clone()));
                if let Some(gone) = flight.target.filter(|_| here) {
                    if let Some(list) = self.agents.loaded_mut() {
                        list.retain(|a| a.id != gone);
                    }
                    let n = self.items().len();
                    self.selected = self.selected.min(n.saturating_sub(1));
                    if self.detail.as_ref().is_some_and(|d| d.agent.id == gone) {
                        self.detail = None;
                        cx.requests.forget(Slot::AgentVersions);
                    }
                }
            }
            Response::Workspaces(Ok(list)) if here => {
                let n = list.len();
                self.workspaces = Load::Loaded(list);
                self.ws_selected = self.ws_selected.min(n.saturating_sub(1));
            }
            Response::WorkspaceSaved(Ok(w)) => {
                cx.finish_form(id);
                cx.toast(Toast::success(flight.ok.clone()));
                if here {
                    self.upsert_workspace(w);
                }
            }
            Response::WorkspaceDeleted(Ok(())) => {
                cx.toast(Toast::success(flight.ok.clone()));
                if let (Some(gone), Some(list)) =
                    (flight.target.filter(|_| here), self.workspaces.loaded_mut())
                {
                    list.retain(|w| w.id != gone);
                    let n = list.len();
                    self.ws_selected = self.ws_selected.min(n.saturating_sub(1));
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_agents(&mut self, mut list: Vec<Agent>, cx: &mut Cx<'_>) -> Vec<Effect> {
        // Stay on the same agent across a reload when it is still listed.
        let keep = self.selected_agent().map(|a| a.id);
        let n = list.len();
        self.sort.apply(&mut list);
        self.agents = Load::Loaded(list);
        self.selected = keep
            .and_then(|id| self.items().iter().position(|a| a.id == id))
            .unwrap_or(self.selected)
            .min(n.saturating_sub(1));
        if let Some(name) = self.open_when_loaded.take() {
            match self.find_by_name(&name).cloned() {
                Some(a) => return self.open_agent(a, cx),
                None => cx.toast(Toast::error(format!("No agent named {name:?}"))),
            }
        }
        Vec::new()
    }

    /// A fresher copy of an agent, in the list and the open detail, whose
    /// versions then grew: they are fetched again.
    fn replace_agent(&mut self, a: Agent, cx: &mut Cx<'_>) -> Vec<Effect> {
        let id = a.id;
        if let Some(x) = self
            .agents
            .loaded_mut()
            .and_then(|l| l.iter_mut().find(|x| x.id == id))
        {
            *x = a.clone();
        }
        let Some(d) = self.detail.as_mut().filter(|d| d.agent.id == id) else {
            return Vec::new();
        };
        let grew = d.agent.version != a.version;
        d.agent = a;
        if grew {
            // The new version is first: put the cursor on it.
            d.version_sel = 0;
            d.marked.clear();
            return self.load_versions(id, cx);
        }
        Vec::new()
    }

    fn upsert_workspace(&mut self, w: Workspace) {
        let Some(list) = self.workspaces.loaded_mut() else {
            return;
        };
        match list.iter().position(|x| x.id == w.id) {
            Some(i) => list[i] = w,
            None => {
                list.push(w);
                self.ws_selected = list.len() - 1;
            }
        }
    }

    /// A failed load of these panes, shown where it belongs, or a refused
    /// share shown in its dialog; `true` when nothing more needs saying.
    pub(crate) fn on_failure(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        err: &ApiError,
        cx: &mut Cx<'_>,
    ) -> bool {
        let message = &err.message();
        let here = flight.tenant.is_some() && flight.tenant == self.tenant;
        match flight.slot {
            Some(Slot::Agents) => {
                if here {
                    self.agents = Load::Failed(message.to_string());
                }
                true
            }
            Some(Slot::Workspaces) => {
                if here {
                    self.workspaces = Load::Failed(message.to_string());
                }
                true
            }
            Some(Slot::AgentVersions) => {
                if let Some(d) = self.detail.as_mut().filter(|_| here) {
                    d.versions = Load::Failed(message.to_string());
                }
                true
            }
            _ => {
                // The share dialog keeps the choice and says why, inline;
                // the toast still follows, as for a form.
                match &mut *cx.modal {
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
                            cx.toast(Toast::error(format!("{}: {}", flight.fail, why.join("; "))));
                            true
                        }
                        None => false,
                    },
                }
            }
        }
    }
}
