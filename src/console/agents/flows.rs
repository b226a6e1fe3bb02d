//! What the Agents pane's actions do: loading the tenant's lists, moving,
//! the detail with its versions and diff, and the confirmed actions.

use uuid::Uuid;

use super::diff::line_diff;
use super::{is_library, AgentDetail, AgentsView, DetailFocus, VersionDiff};
use crate::console::action::Action;
use crate::console::app::{Confirmable, FormPurpose, Load, Pane, Slot};
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::keymap::Context;
use crate::console::text::wrap;
use crate::console::widgets::toast::Toast;
use crate::domain::Agent;

impl AgentsView {
    /// Loads what the Agents or Workspaces pane shows when it opens or the
    /// current tenant changes; another tenant's rows are dropped first.
    /// The playground offers the agents and workspaces in its forms.
    pub(crate) fn follow_tenant(
        &mut self,
        pane: Pane,
        opened: bool,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        self.on_workspaces = pane == Pane::Workspaces;
        if !matches!(pane, Pane::Agents | Pane::Workspaces | Pane::Playground) {
            return Vec::new();
        }
        let Some(tenant) = cx.session.current_tenant else {
            return Vec::new();
        };
        let changed = self.tenant != Some(tenant);
        if changed {
            let pending = self.open_when_loaded.take();
            *self = AgentsView {
                tenant: Some(tenant),
                open_when_loaded: pending,
                on_workspaces: self.on_workspaces,
                ..AgentsView::default()
            };
            for slot in [Slot::Agents, Slot::Workspaces, Slot::AgentVersions] {
                cx.requests.forget(slot);
            }
        }
        if !(changed || opened) {
            return Vec::new();
        }
        let mut out = Vec::new();
        // The workspaces pane needs the agents too, to offer them; a load
        // already asked for answers the opening.
        if !cx.requests.awaits(Slot::Agents) {
            out.extend(self.load_agents(cx));
        }
        if matches!(pane, Pane::Workspaces | Pane::Playground) {
            out.extend(self.load_workspaces(cx));
        }
        out
    }

    /// The playground's forms need the agents: loads them (again, after a
    /// failure) as opening the Playground pane does.
    pub(crate) fn load_for_playground(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let mut out = self.follow_tenant(Pane::Playground, true, cx);
        if self.agents.is_failed() {
            out.extend(self.load_agents(cx));
        }
        out
    }

    pub(super) fn load_agents(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        // Rows already shown stay until the answer replaces them.
        if !matches!(self.agents, Load::Loaded(_)) {
            self.agents = Load::Loading;
        }
        let req = Request::ListAgents {
            tenant: tenant.to_string(),
        };
        let mut effects = cx.send_about(
            req,
            Some(Slot::Agents),
            "",
            "Could not load agents",
            Some(tenant),
            None,
        );
        // The agent form offers these (without them it takes any name);
        // the server's providers do not change while it runs.
        if self.models.is_empty() {
            effects.extend(cx.send_about(
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

    pub(super) fn load_workspaces(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        if !matches!(self.workspaces, Load::Loaded(_)) {
            self.workspaces = Load::Loading;
        }
        let req = Request::ListWorkspaces {
            tenant: tenant.to_string(),
        };
        cx.send_about(
            req,
            Some(Slot::Workspaces),
            "",
            "Could not load workspaces",
            Some(tenant),
            None,
        )
    }

    pub(super) fn load_versions(&mut self, id: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        if let Some(d) = self.detail.as_mut().filter(|d| d.agent.id == id) {
            if !matches!(d.versions, Load::Loaded(_)) {
                d.versions = Load::Loading;
            }
        }
        let req = Request::AgentVersions {
            tenant: tenant.to_string(),
            id,
        };
        cx.send_about(
            req,
            Some(Slot::AgentVersions),
            "",
            "Could not load the versions",
            Some(tenant),
            Some(id),
        )
    }

    /// Refuses a change to an agent shared with us, saying whose it is and
    /// how to get a copy of one's own.
    fn refuse_read_only(a: &Agent, what: &str, cx: &mut Cx<'_>) -> bool {
        if a.read_only {
            let key = cx.keymap.key_label(Context::AgentList, "template");
            let whose = if is_library(a) {
                "is in the global library".to_string()
            } else {
                format!("is shared by {}", a.owner_name)
            };
            cx.toast(Toast::error(format!(
                "{} {whose} and read-only here; only {} can {what} it. \
                 Press {key} to use it as a template (a copy of your own)",
                a.name, a.owner_name
            )));
        }
        a.read_only
    }

    /// "Use as template": a private copy in the tenant, selected when it
    /// arrives (see `Response::AgentCreated`).
    fn copy_agent(tenant: Uuid, a: &Agent, cx: &mut Cx<'_>) -> Vec<Effect> {
        let req = Request::CopyAgent {
            tenant: tenant.to_string(),
            id: a.id,
        };
        cx.send_about(
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
        self.sort = self.sort.next();
        let keep = self.selected_agent().map(|a| a.id);
        let sort = self.sort;
        if let Some(list) = self.agents.loaded_mut() {
            sort.apply(list);
        }
        if let Some(i) = keep.and_then(|id| self.items().iter().position(|a| a.id == id)) {
            self.selected = i;
        }
    }

    /// The actions that work on one agent, from the list or its detail;
    /// `None` for an action that is not one of them.
    fn agent_action(
        &mut self,
        tenant: Uuid,
        a: Agent,
        action: &Action,
        cx: &mut Cx<'_>,
    ) -> Option<Vec<Effect>> {
        match action {
            Action::Copy => return Some(Self::copy_agent(tenant, &a, cx)),
            Action::Edit => {
                if !Self::refuse_read_only(&a, "edit", cx) {
                    self.open_form(FormPurpose::EditAgent { tenant, id: a.id }, cx);
                }
            }
            Action::Share => {
                if !Self::refuse_read_only(&a, "share", cx) {
                    Self::open_share(tenant, &a, cx);
                }
            }
            Action::Remove => {
                if !Self::refuse_read_only(&a, "delete", cx) {
                    cx.confirm(
                        format!(
                            "Delete the agent {}? Workspaces using it stop answering.",
                            a.name
                        ),
                        Confirmable::DeleteAgent {
                            tenant,
                            id: a.id,
                            name: a.name.clone(),
                        },
                    );
                }
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    pub(super) fn update_agents(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        if self.detail.is_some() {
            return self.update_detail(tenant, action, cx);
        }
        if action == Action::New {
            self.open_form(FormPurpose::NewAgent(tenant), cx);
            return Vec::new();
        }
        if let Some(a) = self.selected_agent().cloned() {
            if let Some(effects) = self.agent_action(tenant, a, &action, cx) {
                return effects;
            }
        }
        if action == Action::SortNext {
            self.resort_agents();
            return Vec::new();
        }
        let rows = self.items().len();
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(rows.saturating_sub(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = rows.saturating_sub(1),
            Action::Retry => return self.load_agents(cx),
            Action::Open => {
                if let Some(a) = self.selected_agent().cloned() {
                    return self.open_agent(a, cx);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn open_agent(&mut self, a: Agent, cx: &mut Cx<'_>) -> Vec<Effect> {
        let id = a.id;
        if let Some(i) = self.items().iter().position(|x| x.id == id) {
            self.selected = i;
        }
        self.detail = Some(AgentDetail::new(a));
        self.load_versions(id, cx)
    }

    fn update_detail(&mut self, tenant: Uuid, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        // The text's width inside the pane's borders.
        let width = usize::from(cx.viewport.0.saturating_sub(2));
        let Some(d) = &mut self.detail else {
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
            (Action::Open, DetailFocus::Versions) => open_diff(d, cx),
            (Action::Restore, DetailFocus::Versions) => {
                let Some(v) = d.selected_version().map(|v| v.version) else {
                    return Vec::new();
                };
                if Self::refuse_read_only(&agent, "restore", cx) {
                    return Vec::new();
                }
                cx.confirm(
                    format!(
                        "Restore v{v} of {}? It becomes a new version; nothing is lost.",
                        agent.name
                    ),
                    Confirmable::RestoreVersion {
                        tenant,
                        id: agent.id,
                        name: agent.name.clone(),
                        version: v,
                    },
                );
            }
            (Action::Back, _) => {
                self.detail = None;
                cx.requests.forget(Slot::AgentVersions);
            }
            (Action::Retry, _) => return self.load_versions(agent.id, cx),
            (other, _) => {
                return self
                    .agent_action(tenant, agent, &other, cx)
                    .unwrap_or_default()
            }
        }
        Vec::new()
    }

    /// Sends a confirmed destructive action of these panes.
    pub(crate) fn perform(&mut self, what: Confirmable, cx: &mut Cx<'_>) -> Vec<Effect> {
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
        cx.send_about(req, None, &ok, &fail, Some(tenant), Some(target))
    }

    /// `:agent <name>` (the App has shown the Agents pane): opens that
    /// agent's detail, now or once listed.
    pub(crate) fn open_named(
        &mut self,
        name: &str,
        cx: &mut Cx<'_>,
    ) -> Result<Vec<Effect>, String> {
        let here = self.tenant.is_some() && self.tenant == cx.session.current_tenant;
        if here && matches!(self.agents, Load::Loaded(_)) {
            return match self.find_by_name(name).cloned() {
                Some(a) => Ok(self.open_agent(a, cx)),
                None => Err(format!("no agent named {name:?}")),
            };
        }
        self.open_when_loaded = Some(name.to_string());
        Ok(Vec::new())
    }
}

/// Compares the two marked versions; with one marked, it and the one
/// under the cursor; with none, the one under the cursor and the one
/// before it.
fn open_diff(d: &mut AgentDetail, cx: &mut Cx<'_>) {
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
                let mark = cx.keymap.key_label(Context::AgentVersions, "toggle");
                cx.toast(Toast::info(format!(
                    "v1 has nothing before it; mark two versions with {mark}"
                )));
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
