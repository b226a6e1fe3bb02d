//! The Agents and Workspaces panes' state: the current tenant's agents (own
//! and shared with it), the open agent with its versions and a diff of two
//! of them, the sharing dialog, and the tenant's workspaces.

pub mod diff;
mod flows;
mod forms;
pub(crate) mod keys;
mod replies;
mod share;
mod workspaces;

use uuid::Uuid;

use super::state::Load;
use crate::domain::{Agent, AgentVersion, Sharing, Workspace};
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
    pub old: u32,
    pub new: u32,
    pub lines: Vec<DiffLine>,
    pub scroll: usize,
}

/// The open agent: a copy kept fresh by replies, and its history.
#[derive(Debug, Clone)]
pub struct AgentDetail {
    pub agent: Agent,
    pub versions: Load<Vec<AgentVersion>>,
    pub focus: DetailFocus,
    /// First wrapped line of the prompt on screen.
    pub scroll: usize,
    /// The version under the cursor in the versions list.
    pub version_sel: usize,
    /// Versions marked for the diff (at most two, oldest mark first).
    pub marked: Vec<u32>,
    pub diff: Option<VersionDiff>,
}

impl AgentDetail {
    pub fn new(agent: Agent) -> Self {
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

    pub fn selected_version(&self) -> Option<&AgentVersion> {
        self.versions.loaded()?.get(self.version_sel)
    }
}

/// Both panes' data for one tenant: the workspaces need the agents too (to
/// offer them), so one view holds both and a tenant change resets both.
#[derive(Debug, Clone, Default)]
pub struct AgentsView {
    pub tenant: Option<Uuid>,
    pub agents: Load<Vec<Agent>>,
    pub selected: usize,
    pub detail: Option<AgentDetail>,
    pub workspaces: Load<Vec<Workspace>>,
    pub ws_selected: usize,
    /// `:agent <name>` before the list arrived: opened when it does.
    pub open_when_loaded: Option<String>,
    /// The models the server's providers offer, for the agent form.
    pub models: Vec<crate::domain::ModelInfo>,
    /// The list's order (`o` moves to the next).
    pub sort: crate::domain::AgentSort,
}

impl AgentsView {
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
pub fn is_library(a: &Agent) -> bool {
    a.sharing == Sharing::Global
}

/// How an agent's owner is shown: a shared agent says it is not ours.
pub fn owner_label(a: &Agent) -> String {
    if a.read_only {
        format!("{} (shared)", a.owner_name)
    } else {
        a.owner_name.clone()
    }
}

/// The agent choice of a workspace form or the link picker: "— none"
/// first, then every agent the tenant can use, shared ones marked.
pub fn agent_options(agents: &[Agent]) -> (Vec<String>, Vec<Option<Uuid>>) {
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
