//! What the Agents and Workspaces panes' actions do: loading, moving,
//! the detail with its versions and diff, and the confirmed actions.

use uuid::Uuid;

use super::diff::line_diff;
use super::{is_library, AgentDetail, AgentsView, DetailFocus, VersionDiff};
use crate::console::action::Action;
use crate::console::app::{App, Confirmable, FormPurpose, Load, Modal, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::console::keymap::Context;
use crate::console::text::wrap;
use crate::console::widgets::toast::{Toast, ToastKind};
use crate::domain::Agent;

impl App {
    /// Loads what the Agents or Workspaces pane shows when it opens or the
    /// current tenant changes; another tenant's rows are dropped first.
    pub(crate) fn sync_agents(&mut self, opened: bool) -> Vec<Effect> {
        // The playground offers the agents and workspaces in its forms.
        if !matches!(
            self.pane,
            Pane::Agents | Pane::Workspaces | Pane::Playground
        ) {
            return Vec::new();
        }
        let Some(tenant) = self.session.current_tenant else {
            return Vec::new();
        };
        let changed = self.agents.tenant != Some(tenant);
        if changed {
            let pending = self.agents.open_when_loaded.take();
            self.agents = AgentsView {
                tenant: Some(tenant),
                open_when_loaded: pending,
                ..AgentsView::default()
            };
            for slot in [Slot::Agents, Slot::Workspaces, Slot::AgentVersions] {
                self.requests.latest.remove(&slot);
            }
        }
        if !(changed || opened) {
            return Vec::new();
        }
        let mut out = Vec::new();
        // The workspaces pane needs the agents too, to offer them; a load
        // already asked for answers the opening.
        if !self.requests.latest.contains_key(&Slot::Agents) {
            out.extend(self.load_agents());
        }
        if matches!(self.pane, Pane::Workspaces | Pane::Playground) {
            out.extend(self.load_workspaces());
        }
        out
    }

    pub(crate) fn load_agents(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.agents.tenant else {
            return Vec::new();
        };
        // Rows already shown stay until the answer replaces them.
        if !matches!(self.agents.agents, Load::Loaded(_)) {
            self.agents.agents = Load::Loading;
        }
        let req = Request::ListAgents {
            tenant: tenant.to_string(),
        };
        let mut effects = self.send_about(
            req,
            Some(Slot::Agents),
            "",
            "Could not load agents",
            Some(tenant),
            None,
        );
        // The agent form offers these (without them it takes any name);
        // the server's providers do not change while it runs.
        if self.agents.models.is_empty() {
            effects.extend(self.send_about(
                Request::Models,
                Some(Slot::Models),
                "",
                "Could not load the model list",
                None,
                None,
            ));
        }
        effects
    }

    pub(crate) fn load_workspaces(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.agents.tenant else {
            return Vec::new();
        };
        if !matches!(self.agents.workspaces, Load::Loaded(_)) {
            self.agents.workspaces = Load::Loading;
        }
        let req = Request::ListWorkspaces {
            tenant: tenant.to_string(),
        };
        self.send_about(
            req,
            Some(Slot::Workspaces),
            "",
            "Could not load workspaces",
            Some(tenant),
            None,
        )
    }

    pub(crate) fn load_versions(&mut self, id: Uuid) -> Vec<Effect> {
        let Some(tenant) = self.agents.tenant else {
            return Vec::new();
        };
        if let Some(d) = self.agents.detail.as_mut().filter(|d| d.agent.id == id) {
            if !matches!(d.versions, Load::Loaded(_)) {
                d.versions = Load::Loading;
            }
        }
        let req = Request::AgentVersions {
            tenant: tenant.to_string(),
            id,
        };
        self.send_about(
            req,
            Some(Slot::AgentVersions),
            "",
            "Could not load the versions",
            Some(tenant),
            Some(id),
        )
    }

    /// Where keys go in the two panes, most specific first.
    pub(crate) fn agent_contexts(&self) -> (Vec<Context>, bool) {
        let v = &self.agents;
        let mut out = Vec::new();
        if self.pane == Pane::Workspaces {
            if v.workspaces.is_failed() {
                out.push(Context::LoadError);
            }
            out.push(Context::WorkspaceList);
        } else if let Some(d) = &v.detail {
            if d.diff.is_some() {
                out.push(Context::AgentDiff);
            } else {
                if d.versions.is_failed() {
                    out.push(Context::LoadError);
                }
                if d.focus == DetailFocus::Versions {
                    out.push(Context::AgentVersions);
                }
                out.push(Context::AgentDetail);
            }
        } else {
            if v.agents.is_failed() {
                out.push(Context::LoadError);
            }
            out.push(Context::AgentList);
        }
        out.push(Context::Global);
        (out, false)
    }

    /// Refuses a change to an agent shared with us, saying whose it is and
    /// how to get a copy of one's own.
    fn refuse_read_only(&mut self, a: &Agent, what: &str) -> bool {
        if a.read_only {
            let key = self.keymap.key_label(Context::AgentList, "template");
            let whose = if is_library(a) {
                "is in the global library".to_string()
            } else {
                format!("is shared by {}", a.owner_name)
            };
            self.toast(Toast::error(format!(
                "{} {whose} and read-only here; only {} can {what} it. \
                 Press {key} to use it as a template (a copy of your own)",
                a.name, a.owner_name
            )));
        }
        a.read_only
    }

    /// "Use as template": a private copy in the tenant, selected when it
    /// arrives (see `Response::AgentCreated`).
    fn copy_agent(&mut self, tenant: Uuid, a: &Agent) -> Vec<Effect> {
        let req = Request::CopyAgent {
            tenant: tenant.to_string(),
            id: a.id,
        };
        self.send_about(
            req,
            None,
            &format!("Copied {} into this tenant as a private agent", a.name),
            &format!("Could not copy {}", a.name),
            Some(tenant),
            None,
        )
    }

    /// The next order of the list, staying on the same agent.
    fn resort_agents(&mut self) {
        let v = &mut self.agents;
        v.sort = v.sort.next();
        let keep = v.selected_agent().map(|a| a.id);
        let sort = v.sort;
        if let Some(list) = v.agents.loaded_mut() {
            sort.apply(list);
        }
        if let Some(i) = keep.and_then(|id| v.items().iter().position(|a| a.id == id)) {
            v.selected = i;
        }
    }

    /// The actions that work on one agent, from the list or its detail;
    /// `None` for an action that is not one of them.
    fn agent_action(&mut self, tenant: Uuid, a: Agent, action: &Action) -> Option<Vec<Effect>> {
        match action {
            Action::Copy => return Some(self.copy_agent(tenant, &a)),
            Action::Edit => {
                if !self.refuse_read_only(&a, "edit") {
                    self.open_form(FormPurpose::EditAgent { tenant, id: a.id });
                }
            }
            Action::Share => {
                if !self.refuse_read_only(&a, "share") {
                    self.open_share(tenant, &a);
                }
            }
            Action::Remove => {
                if !self.refuse_read_only(&a, "delete") {
                    self.modal = Some(Modal::Confirm {
                        question: format!(
                            "Delete the agent {}? Workspaces using it stop answering.",
                            a.name
                        ),
                        action: Confirmable::DeleteAgent {
                            tenant,
                            id: a.id,
                            name: a.name.clone(),
                        },
                    });
                }
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    pub(crate) fn update_agents(&mut self, action: Action) -> Vec<Effect> {
        // Esc backs out of the newest error first: it is the top layer.
        if action == Action::Back && self.toasts.iter().any(|t| t.kind == ToastKind::Error) {
            self.dismiss_toast();
            return Vec::new();
        }
        if action == Action::FetchModel {
            return self.start_model_fetch();
        }
        let Some(tenant) = self.agents.tenant else {
            return Vec::new();
        };
        if self.agents.detail.is_some() {
            return self.update_agent_detail(tenant, action);
        }
        if action == Action::New {
            self.open_form(FormPurpose::NewAgent(tenant));
            return Vec::new();
        }
        if let Some(a) = self.agents.selected_agent().cloned() {
            if let Some(effects) = self.agent_action(tenant, a, &action) {
                return effects;
            }
        }
        if action == Action::SortNext {
            self.resort_agents();
            return Vec::new();
        }
        let rows = self.agents.items().len();
        let v = &mut self.agents;
        match action {
            Action::Up => v.selected = v.selected.saturating_sub(1),
            Action::Down => v.selected = (v.selected + 1).min(rows.saturating_sub(1)),
            Action::Top => v.selected = 0,
            Action::Bottom => v.selected = rows.saturating_sub(1),
            Action::Retry => return self.load_agents(),
            Action::Open => {
                if let Some(a) = v.selected_agent().cloned() {
                    return self.open_agent(a);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn open_agent(&mut self, a: Agent) -> Vec<Effect> {
        let id = a.id;
        if let Some(i) = self.agents.items().iter().position(|x| x.id == id) {
            self.agents.selected = i;
        }
        self.agents.detail = Some(AgentDetail::new(a));
        self.load_versions(id)
    }

    fn update_agent_detail(&mut self, tenant: Uuid, action: Action) -> Vec<Effect> {
        // The text's width inside the pane's borders.
        let width = usize::from(self.viewport.0.saturating_sub(2));
        let Some(d) = &mut self.agents.detail else {
            return Vec::new();
        };
        if let Some(diff) = &mut d.diff {
            match action {
                Action::Up => diff.scroll = diff.scroll.saturating_sub(1),
                Action::Down => {
                    let total: usize = diff
                        .lines
                        .iter()
                        .map(|l| wrap(&l.text, width.saturating_sub(2)).len())
                        .sum();
                    diff.scroll = (diff.scroll + 1).min(total.saturating_sub(1))
                }
                Action::Back => d.diff = None,
                _ => {}
            }
            return Vec::new();
        }
        let agent = d.agent.clone();
        let n = d.versions.loaded().map_or(0, Vec::len);
        match (action.clone(), d.focus) {
            (Action::NextTab | Action::PrevTab, f) => {
                d.focus = match f {
                    DetailFocus::Prompt => DetailFocus::Versions,
                    DetailFocus::Versions => DetailFocus::Prompt,
                }
            }
            (Action::Up, DetailFocus::Prompt) => d.scroll = d.scroll.saturating_sub(1),
            // Bounded by the wrapped lines at the terminal's width; the
            // renderer keeps the last screenful in view.
            (Action::Down, DetailFocus::Prompt) => {
                let total = wrap(&agent.config.system_prompt, width).len();
                d.scroll = (d.scroll + 1).min(total.saturating_sub(1))
            }
            (Action::Up, DetailFocus::Versions) => d.version_sel = d.version_sel.saturating_sub(1),
            (Action::Down, DetailFocus::Versions) => {
                d.version_sel = (d.version_sel + 1).min(n.saturating_sub(1))
            }
            (Action::Toggle, DetailFocus::Versions) => {
                if let Some(v) = d.selected_version().map(|v| v.version) {
                    if let Some(i) = d.marked.iter().position(|m| *m == v) {
                        d.marked.remove(i);
                    } else {
                        d.marked.push(v);
                        if d.marked.len() > 2 {
                            d.marked.remove(0);
                        }
                    }
                }
            }
            (Action::Open, DetailFocus::Versions) => self.open_diff(),
            (Action::Restore, DetailFocus::Versions) => {
                let Some(v) = d.selected_version().map(|v| v.version) else {
                    return Vec::new();
                };
                if self.refuse_read_only(&agent, "restore") {
                    return Vec::new();
                }
                self.modal = Some(Modal::Confirm {
                    question: format!(
                        "Restore v{v} of {}? It becomes a new version; nothing is lost.",
                        agent.name
                    ),
                    action: Confirmable::RestoreVersion {
                        tenant,
                        id: agent.id,
                        name: agent.name.clone(),
                        version: v,
                    },
                });
            }
            (Action::Back, _) => {
                self.agents.detail = None;
                self.requests.latest.remove(&Slot::AgentVersions);
            }
            (Action::Retry, _) => return self.load_versions(agent.id),
            (other, _) => return self.agent_action(tenant, agent, &other).unwrap_or_default(),
        }
        Vec::new()
    }

    /// Compares the two marked versions; with one marked, it and the one
    /// under the cursor; with none, the one under the cursor and the one
    /// before it.
    fn open_diff(&mut self) {
        let Some(d) = &mut self.agents.detail else {
            return;
        };
        let Some(versions) = d.versions.loaded() else {
            return;
        };
        let Some(cur) = versions.get(d.version_sel) else {
            return;
        };
        let (a, b) = match d.marked.as_slice() {
            [x, y, ..] => (*x, *y),
            [x] if *x != cur.version => (*x, cur.version),
            _ => match versions.get(d.version_sel + 1) {
                Some(prev) => (prev.version, cur.version),
                None => {
                    self.toast(Toast::info(
                        "v1 has nothing before it; mark two versions with space",
                    ));
                    return;
                }
            },
        };
        let (old, new) = (a.min(b), a.max(b));
        let prompt = |n: u32| {
            versions
                .iter()
                .find(|v| v.version == n)
                .map(|v| v.config.system_prompt.clone())
        };
        if let (Some(p_old), Some(p_new)) = (prompt(old), prompt(new)) {
            d.diff = Some(VersionDiff {
                old,
                new,
                lines: line_diff(&p_old, &p_new),
                scroll: 0,
            });
        }
    }

    /// Sends a confirmed destructive action of these panes.
    pub(crate) fn perform_agent(&mut self, what: Confirmable) -> Vec<Effect> {
        let (req, ok, fail, tenant, target) = match what {
            Confirmable::DeleteAgent { tenant, id, name } => (
                Request::DeleteAgent {
                    tenant: tenant.to_string(),
                    id,
                },
                format!("Deleted agent {name}"),
                format!("Could not delete {name}"),
                tenant,
                id,
            ),
            Confirmable::RestoreVersion {
                tenant,
                id,
                version,
                ..
            } => (
                Request::RestoreAgentVersion {
                    tenant: tenant.to_string(),
                    id,
                    version,
                },
                // The new version's number comes with the reply.
                format!("Restored v{version} as v{{v}}"),
                format!("Could not restore v{version}"),
                tenant,
                id,
            ),
            Confirmable::DeleteWorkspace { tenant, id, name } => (
                Request::DeleteWorkspace {
                    tenant: tenant.to_string(),
                    id,
                },
                format!("Deleted workspace {name}"),
                format!("Could not delete {name}"),
                tenant,
                id,
            ),
            _ => return Vec::new(),
        };
        self.send_about(req, None, &ok, &fail, Some(tenant), Some(target))
    }

    /// `:agent <name>`: opens that agent's detail, now or once listed.
    pub(crate) fn agent_command(&mut self, name: &str) -> Result<Vec<Effect>, String> {
        if name.is_empty() {
            return Err("usage: :agent <name>".into());
        }
        self.pane = Pane::Agents;
        let here =
            self.agents.tenant.is_some() && self.agents.tenant == self.session.current_tenant;
        if here && matches!(self.agents.agents, Load::Loaded(_)) {
            return match self.agents.find_by_name(name).cloned() {
                Some(a) => Ok(self.open_agent(a)),
                None => Err(format!("no agent named {name:?}")),
            };
        }
        self.agents.open_when_loaded = Some(name.to_string());
        Ok(Vec::new())
    }
}
