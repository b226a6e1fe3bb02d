//! The plain-data pieces of the console's state.

use uuid::Uuid;

use super::effect::RequestId;
use super::widgets::dialog::SecretDialog;
use super::widgets::form::Form;
use crate::api::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Tenants,
    Leads,
    Agents,
    Workspaces,
    Playground,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Tenants,
        Pane::Leads,
        Pane::Agents,
        Pane::Workspaces,
        Pane::Playground,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Tenants => "Tenants",
            Pane::Leads => "Leads",
            Pane::Agents => "Agents",
            Pane::Workspaces => "Workspaces",
            Pane::Playground => "Playground",
        }
    }

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// A value fetched from the server, with its loading state shown as such.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Load<T> {
    #[default]
    Idle,
    Loading,
    Loaded(T),
    Failed(String),
}

impl<T> Load<T> {
    pub fn loaded(&self) -> Option<&T> {
        match self {
            Load::Loaded(v) => Some(v),
            _ => None,
        }
    }

    pub fn loaded_mut(&mut self) -> Option<&mut T> {
        match self {
            Load::Loaded(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Load::Failed(_))
    }
}

/// What a form is for, so its save knows which request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormPurpose {
    Onboarding,
    NewTenant,
    EditTenant(Uuid),
    /// Delete a tenant: asks to type its slug.
    DeleteTenant(Uuid),
    /// Set or clear one of a tenant's secrets (write-only).
    TenantSecret(Uuid),
    /// A tenant's own rate limits (platform admins).
    TenantLimits(Uuid),
    Invite(Uuid),
    AddMember(Uuid),
    ChangeRole {
        tenant: Uuid,
        user: Uuid,
    },
    NewKey(Uuid),
    /// Rotate one key: asks how long the old one keeps working.
    RotateKey {
        tenant: Uuid,
        id: Uuid,
    },
    NewLead(Uuid),
    AddNote {
        tenant: Uuid,
        lead: Uuid,
    },
    NewAgent(Uuid),
    EditAgent {
        tenant: Uuid,
        id: Uuid,
    },
    /// `agents[i]` is the agent of option `i` of the agent choice; `None`
    /// is "no agent".
    NewWorkspace {
        tenant: Uuid,
        agents: Vec<Option<Uuid>>,
    },
    EditWorkspace {
        tenant: Uuid,
        id: Uuid,
        agents: Vec<Option<Uuid>>,
    },
    /// A playground session: `agents[i]` is option `i` of the agent
    /// choices, `workspaces[i]` of the workspace choice (`None`: none).
    NewPlaygroundSession {
        tenant: Uuid,
        agents: Vec<Uuid>,
        workspaces: Vec<Option<Uuid>>,
        compare: bool,
    },
    /// A playground message saved as a lead.
    SaveAsLead {
        tenant: Uuid,
        session: Uuid,
        message: Uuid,
    },
    /// The draft of a workflow, edited, then approved.
    ApproveEdited {
        tenant: Uuid,
        workflow: Uuid,
    },
    /// The prompt of a playground session's agent, edited to a new version
    /// that then answers the last message again.
    PlaygroundPrompt {
        tenant: Uuid,
        agent: Uuid,
        name: String,
    },
    /// A playground session's temperature and reply length; applying it
    /// saves nothing.
    PlaygroundSettings {
        session: Uuid,
    },
    /// The audit view's filter; applying it saves nothing.
    AuditFilter(Uuid),
    /// A knowledge document: a new one in the tenant, or one edited.
    NewKnowledge(Uuid),
    EditKnowledge {
        tenant: Uuid,
        id: Uuid,
    },
    /// An eval set: a new one, or one renamed.
    EvalSet {
        tenant: Uuid,
        set: Option<Uuid>,
    },
    /// An eval case: a new one in the set, or one edited.
    EvalCase {
        tenant: Uuid,
        set: Uuid,
        case: Option<Uuid>,
    },
    /// A case from a lead or a playground message; `sets[i]` is the set of
    /// the form's choice `i`.
    EvalCaseFrom {
        sets: Vec<Uuid>,
        from: super::evals::CaseFrom,
    },
    /// A run of the set; `agents[i]` is the agent of choice `i`.
    EvalRun {
        tenant: Uuid,
        set: Uuid,
        agents: Vec<Uuid>,
    },
    /// The file to import the set's cases from.
    EvalImport {
        tenant: Uuid,
        set: Uuid,
    },
    /// The signed-in user's password: current, new, repeated.
    ChangePassword,
    /// `:platform`: the platform settings (platform admins).
    PlatformSettings,
    /// Why a workflow's draft is rejected.
    RejectDraft {
        tenant: Uuid,
        workflow: Uuid,
    },
}

#[derive(Debug, Clone)]
pub struct OpenForm {
    pub form: Form,
    pub purpose: FormPurpose,
    /// The save in flight, so its reply finds this form.
    pub pending: Option<RequestId>,
}

impl OpenForm {
    /// The save `id` was refused (when it is this form's): the form stays
    /// open with what was typed, each field's complaint under it. With
    /// `summary`, the line under the form repeats them in full (a long
    /// complaint about a narrow field).
    pub fn refused(&mut self, id: RequestId, e: &ApiError, summary: bool) {
        if self.pending != Some(id) {
            return;
        }
        self.pending = None;
        self.form.submitting = false;
        match e.problem() {
            Some(p) => {
                self.form.apply_problem(p);
                if summary && !p.errors.is_empty() {
                    let each: Vec<String> = p
                        .errors
                        .iter()
                        .map(|f| format!("{} {}", f.field, f.message))
                        .collect();
                    self.form.set_failure(each.join("; "));
                }
            }
            None => self.form.set_failure(e.message()),
        }
    }
}

/// A destructive action waiting for "yes".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmable {
    Suspend {
        tenant: Uuid,
        name: String,
    },
    Reactivate {
        tenant: Uuid,
        name: String,
    },
    RemoveMember {
        tenant: Uuid,
        user: Uuid,
        email: String,
    },
    RevokeKey {
        tenant: Uuid,
        id: Uuid,
        label: String,
    },
    RevokeInvitation {
        tenant: Uuid,
        id: Uuid,
        email: String,
    },
    DeleteLead {
        tenant: Uuid,
        id: Uuid,
        name: String,
    },
    /// The marked leads: (tenant, id, name) each.
    DeleteLeads {
        leads: Vec<(Uuid, Uuid, String)>,
    },
    DeleteAgent {
        tenant: Uuid,
        id: Uuid,
        name: String,
    },
    RestoreVersion {
        tenant: Uuid,
        id: Uuid,
        name: String,
        version: u32,
    },
    DeleteWorkspace {
        tenant: Uuid,
        id: Uuid,
        name: String,
    },
    DeletePlaygroundSession {
        tenant: Uuid,
        id: Uuid,
        title: String,
    },
    /// Empty the notification centre.
    ClearNotifications {
        count: usize,
    },
    /// Turn down an invitation sent to the signed-in user.
    DeclineInvitation {
        id: Uuid,
        tenant: String,
    },
    /// End every session of the signed-in account, this one too.
    LogoutEverywhere,
    /// Write an export over the file already at `path`.
    ReplaceExport {
        tenant: Uuid,
        path: String,
    },
    DeleteWebhook {
        tenant: Uuid,
        id: Uuid,
        host: String,
    },
    /// The old signing secret stops working at once.
    RotateWebhookSecret {
        tenant: Uuid,
        id: Uuid,
        host: String,
    },
    DeleteKnowledge {
        tenant: Uuid,
        id: Uuid,
        title: String,
    },
    DeleteEvalSet {
        tenant: Uuid,
        set: Uuid,
        name: String,
    },
    DeleteEvalCase {
        tenant: Uuid,
        set: Uuid,
        case: Uuid,
    },
}

/// What a picked option does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickPurpose {
    /// `ids[i]` is the stage id of option `i`.
    Stage {
        tenant: Uuid,
        lead: Uuid,
        ids: Vec<String>,
    },
    /// `ids[i]` is the user of option `i`; `None` unassigns.
    Assign {
        tenant: Uuid,
        lead: Uuid,
        ids: Vec<Option<Uuid>>,
    },
    /// `ids[i]` is the stage id of option `i`, for the marked leads of
    /// each tenant in `groups`.
    BulkStage {
        groups: Vec<(Uuid, Vec<Uuid>)>,
        ids: Vec<String>,
    },
    /// `ids[i]` is the user of option `i` (`None` unassigns), for the
    /// marked leads of each tenant in `groups`.
    BulkAssign {
        groups: Vec<(Uuid, Vec<Uuid>)>,
        ids: Vec<Option<Uuid>>,
    },
    /// `ids[i]` is the agent of option `i`; `None` unlinks.
    LinkAgent {
        tenant: Uuid,
        workspace: Uuid,
        ids: Vec<Option<Uuid>>,
    },
    /// `ids[i]` is the agent of option `i`, to run a workflow for `lead`
    /// with.
    WorkflowAgent {
        tenant: Uuid,
        lead: Uuid,
        ids: Vec<Uuid>,
    },
    /// `ids[i]` is the playground message of option `i`, to save as a lead.
    SaveAsLead {
        tenant: Uuid,
        session: Uuid,
        ids: Vec<Uuid>,
    },
}

/// A short list to choose one from (stages, members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub title: String,
    pub options: Vec<String>,
    pub selected: usize,
    pub purpose: PickPurpose,
    /// Shown instead of the list while it is empty: loading, why it is
    /// empty and what to do; `None` says there is nothing to choose from.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Modal {
    Form(Box<OpenForm>),
    Confirm {
        question: String,
        action: Confirmable,
    },
    Secret(SecretDialog),
    Picker(Picker),
    Share(crate::console::agents::ShareDialog),
    Help {
        scroll: u16,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub input: String,
    pub error: Option<String>,
    pub candidates: Vec<String>,
}

/// Loads that a newer request supersedes; mutations are never stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Me,
    Tenants,
    Detail,
    /// The first page of leads; a new filter or tenant supersedes it.
    Leads,
    /// A later page; superseded with the first.
    LeadsMore,
    LeadMembers,
    /// The open lead and its timeline.
    Lead,
    Usage,
    Agents,
    Workspaces,
    /// The versions of the open agent.
    AgentVersions,
    PlaygroundSessions,
    /// The open playground session's transcript.
    PlaygroundTranscript,
    /// The models agents can name.
    Models,
    /// The workflows awaiting approval.
    Approvals,
    /// The open lead's newest workflow.
    LeadWorkflow,
    /// The agents offered to run the open lead's workflow with.
    WorkflowAgents,
    /// The platform overview table.
    Overview,
    Analytics,
    /// The audit log's first page; a new filter or tenant supersedes it.
    Audit,
    /// A later page; superseded with the first.
    AuditMore,
    /// The lead a notification points at, fetched by id.
    NotifiedLead,
    /// The invitations sent to the signed-in user.
    MyInvitations,
    /// The webhooks screen's endpoints, an endpoint's first page of
    /// deliveries, a later page, and the open delivery.
    Webhooks,
    WebhookDeliveries,
    WebhookDeliveriesMore,
    WebhookDelivery,
    /// The Knowledge view's documents, a search, the open document, and a
    /// document read for the edit form.
    Knowledge,
    KnowledgeSearch,
    KnowledgeDocument,
    KnowledgeEdit,
    /// A prompt saved from the playground, which then answers again.
    PlaygroundPrompt,
    /// The Evals screen's sets, the open set, its runs, the open run, a
    /// comparison, the agents for the run form, and the sets `E` offers.
    EvalSets,
    EvalSet,
    EvalRuns,
    EvalRun,
    EvalCompare,
    EvalAgents,
    EvalPick,
}

#[derive(Debug, Clone)]
pub struct InFlight {
    pub slot: Option<Slot>,
    /// Toast text on success and prefix on failure, fixed when sent (the
    /// tenant may be renamed by the time the reply arrives).
    pub ok: String,
    pub fail: String,
    pub tenant: Option<Uuid>,
    pub target: Option<Uuid>,
    /// A background check: no spinner while it runs.
    pub quiet: bool,
}
