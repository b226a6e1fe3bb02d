//! The store trait: everything the server persists, one implementation per
//! backend (chosen by the database URL's scheme).

pub mod account;
pub mod backup;
pub mod events;
pub mod keys;
pub mod leads;
pub mod members;
pub mod outbound;
pub mod playground;
pub mod postgres;
pub mod schema;
pub mod sqlite;
pub mod tenants;
pub mod workflows;

pub use account::*;
pub use events::*;
pub use keys::*;
pub use leads::*;
pub use members::*;
pub use outbound::*;
pub use playground::*;
pub use tenants::*;
pub use workflows::*;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{Agent, AgentConfig, AgentVersion, Channel, Sharing, Tier, User, Workspace};
use crate::domain::{PlaygroundMessage, PlaygroundSession, Workflow, WorkflowStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint failed; names the field.
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    #[error("the {tier} tier allows {limit} {what}")]
    LimitReached {
        what: &'static str,
        tier: Tier,
        limit: u32,
    },
    #[error("a tenant must keep at least one admin")]
    LastAdmin,
    #[error("the invitation is invalid, used or expired")]
    InvitationInvalid,
    /// An invitation for an email that has an account, accepted without
    /// signing in as that account.
    #[error("the invitation is for an existing account; sign in as it to accept")]
    InvitationNeedsSignIn,
    /// Signed in as another account than the one invited.
    #[error("the invitation was sent to another email")]
    InvitationNotYours,
    #[error("the Idempotency-Key was used with a different request body")]
    IdempotencyMismatch,
    #[error("the cursor is not one this server issued")]
    BadCursor,
    #[error("the stage {stage} still has {leads} leads")]
    StageInUse { stage: String, leads: u32 },
    /// A workflow moved on before this change (someone decided first).
    #[error("the workflow is {now} now")]
    StateChanged { now: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored value no variant reads (a status, a role…): the store is not
/// what this build expects.
pub(crate) fn bad_value(what: &str, value: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("bad {what} {value:?} in the store"))
}

/// Who made a change, recorded with it in the audit log in the same transaction.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub email: Option<String>,
}

impl Actor {
    pub fn user(user: &User) -> Self {
        Actor {
            user_id: Some(user.id),
            email: Some(user.email.clone()),
        }
    }

    pub fn system() -> Self {
        Actor {
            user_id: None,
            email: Some("system".into()),
        }
    }
}

/// An audit entry to write alongside a mutation.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: &'static str,
    pub resource: &'static str,
    pub resource_id: String,
    pub changes: serde_json::Value,
}

#[async_trait]
pub trait Store:
    OutboundStore
    + AccountStore
    + TenantStore
    + MemberStore
    + ApiKeyStore
    + AuditStore
    + LeadStore
    + LeadChangeStore
    + EventStore
    + SlaStore
    + Send
    + Sync
    + 'static
{
    // agents: `viewer` is the tenant looking; shared agents are read-only to it
    async fn list_agents(&self, viewer: Uuid) -> StoreResult<Vec<Agent>>;
    async fn agent(&self, viewer: Uuid, id: Uuid) -> StoreResult<Option<Agent>>;
    async fn create_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        name: &str,
        description: &str,
        config: &AgentConfig,
    ) -> StoreResult<Agent>;
    /// Renames and/or records `config` as a new version (when it is given).
    async fn update_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: AgentChange,
    ) -> StoreResult<Agent>;
    async fn delete_agent(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    async fn agent_versions(&self, viewer: Uuid, id: Uuid) -> StoreResult<Vec<AgentVersion>>;
    async fn set_agent_sharing(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        sharing: Sharing,
        tenants: &[Uuid],
    ) -> StoreResult<Agent>;

    // workspaces
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>>;
    async fn workspace(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>>;
    async fn create_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace>;
    async fn update_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace>;
    async fn delete_workspace(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;

    // playground
    async fn create_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: PlaygroundSessionRow,
    ) -> StoreResult<PlaygroundSession>;
    /// The tenant's most recently used sessions, newest first.
    async fn list_playground_sessions(
        &self,
        tenant_id: Uuid,
    ) -> StoreResult<Vec<PlaygroundSession>>;
    async fn playground_session(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<PlaygroundSession>>;
    async fn delete_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()>;
    /// The transcript, in order.
    async fn playground_messages(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
    ) -> StoreResult<Vec<PlaygroundMessage>>;
    /// Appends a message (numbered after the last) and touches the session.
    async fn add_playground_message(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
        row: PlaygroundMessageRow,
    ) -> StoreResult<PlaygroundMessage>;
    // workflows
    /// Queues a workflow; a lead with an active one is a conflict.
    async fn create_workflow(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewWorkflowRow,
        now: DateTime<Utc>,
    ) -> StoreResult<Workflow>;
    async fn workflow(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workflow>>;
    /// The tenant's workflows, newest first, optionally of one status or lead.
    async fn list_workflows(
        &self,
        tenant_id: Uuid,
        status: Option<WorkflowStatus>,
        lead_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Workflow>>;
    /// Applies a transition atomically (see [`WorkflowTransition`]).
    async fn transition_workflow(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        t: WorkflowTransition,
    ) -> StoreResult<Workflow>;
    /// Claims the next queued workflow for a worker, fairly across tenants
    /// and within each tier's running cap; it stays `running` until
    /// `lease_until` unless a transition moves it on.
    async fn claim_workflow(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<ClaimedWorkflow>>;
    /// Requeues running workflows whose lease ran out (their worker died),
    /// or fails them after [`MAX_ATTEMPTS`]; returns the tenants touched.
    async fn recover_workflows(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>>;

    // analytics
    /// Aggregates over `[from, to)` for one tenant, or every tenant (`None`).
    async fn analytics(
        &self,
        tenant: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Analytics>;
    /// One row per client tenant (the platform tenant left out).
    async fn tenant_overview(
        &self,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<crate::domain::TenantOverview>>;

    /// Records the lead a user message was saved as.
    async fn link_playground_lead(
        &self,
        tenant_id: Uuid,
        message_id: Uuid,
        lead_id: Uuid,
    ) -> StoreResult<()>;
}

/// A change to an agent, validated by the server.
#[derive(Debug, Clone, Default)]
pub struct AgentChange {
    pub name: Option<String>,
    pub description: Option<String>,
    /// A new version with this configuration.
    pub config: Option<AgentConfig>,
    /// The version this one restores, for the record.
    pub restored_from: Option<u32>,
}

/// What an [`AgentChange`] does, worked out once for every backend.
#[derive(Debug, Clone)]
pub struct AgentPlan {
    /// A new version to store, with its number.
    pub new_version: Option<(u32, AgentConfig)>,
    pub version: u32,
    pub name: String,
    pub description: String,
    /// Empty when nothing changes.
    pub fields: Vec<&'static str>,
    pub audit: AuditEntry,
}

pub fn plan_agent_change(before: &Agent, change: AgentChange) -> AgentPlan {
    let mut version = before.version;
    let mut fields = Vec::new();
    let mut new_version = None;
    if let Some(config) = change.config.filter(|c| *c != before.config) {
        version += 1;
        new_version = Some((version, config));
        fields.push("config");
    }
    let name = change.name.unwrap_or_else(|| before.name.clone());
    let description = change
        .description
        .unwrap_or_else(|| before.description.clone());
    if name != before.name {
        fields.push("name");
    }
    if description != before.description {
        fields.push("description");
    }
    let audit = AuditEntry {
        action: if change.restored_from.is_some() {
            "agent.restore"
        } else {
            "agent.update"
        },
        resource: "agent",
        resource_id: before.id.to_string(),
        changes: serde_json::json!({
            "fields": fields,
            "version": { "from": before.version, "to": version },
            "restored_from": change.restored_from,
        }),
    };
    AgentPlan {
        new_version,
        version,
        name,
        description,
        fields,
        audit,
    }
}

/// A workspace as stored: the agent is addressed with its owner tenant.
#[derive(Debug, Clone)]
pub struct WorkspaceRow {
    pub name: String,
    pub channel: Channel,
    pub agent: Option<(Uuid, Uuid)>,
    pub strategy_active: bool,
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store a URL names: `sqlite://PATH` (created and migrated when
/// missing) or `postgres://APP_ROLE@HOST/DB` (migrated beforehand by
/// `switchboard migrate` as the owner; see `postgres::migrate`).
pub async fn open(url: &str) -> anyhow::Result<DynStore> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if is_postgres(url) {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://PATH or postgres://…")
    }
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}
