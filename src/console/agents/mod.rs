//! The Agents and Workspaces panes' state: the current tenant's agents (own
//! and shared with it), the open agent with its versions and a diff of two
//! of them, the sharing dialog, and the tenant's workspaces.

mod detail_pane;
pub mod diff;
mod flows;
mod forms;
pub(crate) mod keys;
pub(crate) use forms::is_agent_form;
mod pane;
mod replies;
mod share;
mod workspaces;
mod workspaces_pane;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::action::Action;
use super::app::Pane;
use super::component::{Component, Cx, Shared};
use super::effect::{Effect, RequestId};
use super::keymap::Context;
use super::request::Response;
use super::state::{InFlight, Load};
use crate::domain::{Agent, AgentSort, AgentVersion, ModelInfo, Sharing, Workspace};
use diff::DiffLine;

/// The model a new agent starts with: the one that runs without a GPU.
pub const DEFAULT_MODEL: &str = "local/smollm2-135m";

/// Which part of an agent's detail the arrow keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetailFocus {
    #[default]
    Prompt,
    Versions,
}

/// Two versions' prompts compared, older first.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionDiff {
    old: u32,
    new: u32,
    lines: Vec<DiffLine>,
    scroll: usize,
}

/// The open agent: a copy kept fresh by replies, and its history.
#[derive(Debug, Clone)]
pub struct AgentDetail {
    agent: Agent,
    versions: Load<Vec<AgentVersion>>,
    focus: DetailFocus,
    /// First wrapped line of the prompt on screen.
    scroll: usize,
    /// The version under the cursor in the versions list.
    version_sel: usize,
    /// Versions marked for the diff (at most two, oldest mark first).
    marked: Vec<u32>,
    diff: Option<VersionDiff>,
}

impl AgentDetail {
    fn new(agent: Agent) -> Self {
        Self {
            agent,
            versions: Load::Loading,
            focus: DetailFocus::Prompt,
            scroll: 0,
            version_sel: 0,
            marked: Vec::new(),
            diff: None,
        }
    }

    /// The agent open, as the last reply had it.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    fn selected_version(&self) -> Option<&AgentVersion> {
        self.versions.loaded()?.get(self.version_sel)
    }
}

/// Both panes' data for one tenant: the workspaces need the agents too (to
/// offer them), so one view holds both and a tenant change resets both.
#[derive(Debug, Clone, Default)]
pub struct AgentsView {
    tenant: Option<Uuid>,
    agents: Load<Vec<Agent>>,
    selected: usize,
    detail: Option<AgentDetail>,
    workspaces: Load<Vec<Workspace>>,
    ws_selected: usize,
    /// `:agent <name>` before the list arrived: opened when it does.
    open_when_loaded: Option<String>,
    /// The models the server's providers offer, for the agent form.
    models: Vec<ModelInfo>,
    /// The list's order (`o` moves to the next).
    sort: AgentSort,
    /// The Workspaces pane is the one on screen (else the Agents pane),
    /// as the App's pane was when the feature last followed it.
    on_workspaces: bool,
}

impl AgentsView {
    /// The current tenant's agents as loaded (or loading, or failed).
    pub fn list(&self) -> &Load<Vec<Agent>> {
        &self.agents
    }

    /// Whether `tenant`'s agents are here to pick from.
    pub fn lists_for(&self, tenant: Uuid) -> bool {
        self.tenant == Some(tenant) && self.agents.loaded().is_some()
    }

    /// The open agent's detail.
    pub fn detail(&self) -> Option<&AgentDetail> {
        self.detail.as_ref()
    }

    /// The models the server's providers offer (the model download offer
    /// reads whether the local one is ready).
    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    pub fn items(&self) -> &[Agent] {
        self.agents.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn selected_agent(&self) -> Option<&Agent> {
        self.items().get(self.selected)
    }

    pub fn workspace_items(&self) -> &[Workspace] {
        self.workspaces.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn selected_workspace(&self) -> Option<&Workspace> {
        self.workspace_items().get(self.ws_selected)
    }

    /// An agent by name, exact case first, for `:agent <name>`.
    pub fn find_by_name(&self, name: &str) -> Option<&Agent> {
        let items = self.items();
        items
            .iter()
            .find(|a| a.name == name)
            .or_else(|| items.iter().find(|a| a.name.eq_ignore_ascii_case(name)))
    }
}

/// Whether an agent is one of the platform's global library, which every
/// tenant sees read-only (the platform tenant itself sees it as its own).
pub(super) fn is_library(a: &Agent) -> bool {
    a.sharing == Sharing::Global
}

/// How an agent's owner is shown: a shared agent says it is not ours.
pub(super) fn owner_label(a: &Agent) -> String {
    if a.read_only {
        format!("{} (shared)", a.owner_name)
    } else {
        a.owner_name.clone()
    }
}

/// The agent choice of a workspace form or the link picker: "— none"
/// first, then every agent the tenant can use, shared ones marked.
pub(super) fn agent_options(agents: &[Agent]) -> (Vec<String>, Vec<Option<Uuid>>) {
    let mut labels = vec!["— none".to_string()];
    let mut ids = vec![None];
    for a in agents {
        labels.push(if a.read_only {
            format!("{} ({})", a.name, a.owner_name)
        } else {
            a.name.clone()
        });
        ids.push(Some(a.id));
    }
    (labels, ids)
}

/// The sharing dialog of one agent: the mode, and for `selective` the
/// tenants it goes to, ticked in a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareDialog {
    pub tenant: Uuid,
    pub agent: Uuid,
    pub name: String,
    pub sharing: Sharing,
    /// (tenant id, name, ticked), the current tenant left out.
    pub tenants: Vec<(Uuid, String, bool)>,
    pub selected: usize,
    /// The server's refusal, shown in the dialog.
    pub error: Option<String>,
    /// The save in flight, so its reply finds this dialog.
    pub pending: Option<super::effect::RequestId>,
}

impl ShareDialog {
    pub const MODES: [Sharing; 3] = [Sharing::Private, Sharing::Global, Sharing::Selective];

    pub fn ticked(&self) -> Vec<Uuid> {
        self.tenants
            .iter()
            .filter(|(_, _, on)| *on)
            .map(|(id, _, _)| *id)
            .collect()
    }
}

/// The Agents pane (a list, or one agent's detail) and the Workspaces
/// pane, whichever the App shows.
impl Component for AgentsView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        let mut out = Vec::new();
        if self.on_workspaces {
            if self.workspaces.is_failed() {
                out.push(Context::LoadError);
            }
            out.push(Context::WorkspaceList);
        } else if let Some(d) = &self.detail {
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
            if self.agents.is_failed() {
                out.push(Context::LoadError);
            }
            out.push(Context::AgentList);
        }
        out.push(Context::Global);
        (out, false)
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.on_workspaces {
            self.update_workspaces(action, cx)
        } else {
            self.update_agents(action, cx)
        }
    }

    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        self.on_reply(id, flight, response, cx)
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        if self.on_workspaces {
            return workspaces_pane::render(self, shared, area, buf);
        }
        if let Some(d) = &self.detail {
            return detail_pane::render(shared, d, area, buf);
        }
        pane::render(self, shared, area, buf);
    }
}

/// Whether `pane` is one of this feature's, for the App's routing.
pub fn shows(pane: Pane) -> bool {
    matches!(pane, Pane::Agents | Pane::Workspaces)
}
