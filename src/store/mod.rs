//! The store trait: everything the server persists, one implementation per
//! backend (chosen by the database URL's scheme).

pub mod account;
pub mod agent_library;
pub mod agents;
pub mod analytics;
pub mod backup;
pub(crate) mod conn;
pub mod evals;
pub mod events;
pub mod keys;
pub mod knowledge;
pub mod leads;
pub mod members;
pub mod outbound;
pub mod platform;
pub mod playground;
pub mod postgres;
pub mod purge;
pub mod queue;
pub mod row;
pub mod schema;
pub mod sql;
pub mod sqlite;
pub mod tenants;
pub mod usage;
pub mod workflows;
pub mod workspaces;

pub use crate::domain::usage::UsageCounts;
pub use account::*;
pub use agents::*;
pub use analytics::*;
pub use evals::*;
pub use events::*;
pub use keys::*;
pub use knowledge::*;
pub use leads::*;
pub use members::*;
pub use outbound::*;
pub use platform::*;
pub use playground::*;
pub use purge::*;
pub use queue::*;
pub use tenants::*;
pub use usage::{RateClaim, RateGrant, UsageDelta, UsageStore};
pub use workflows::*;
pub use workspaces::*;

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::{Tier, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint failed; names the field.
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// A platform admin's override of the tier's member limit is reached.
    #[error("a platform admin set this tenant's limit to {limit} users")]
    UserLimitOverride { limit: u32 },
    #[error("the {tier} tier allows {limit} {what}")]
    LimitReached {
        what: &'static str,
        tier: Tier,
        limit: u32,
    },
    /// The change would leave no member able to manage members (the
    /// last-admin rule, on effective permissions).
    #[error("a tenant must keep at least one member who can manage members")]
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
    /// The tenant is being deleted: its data is on its way out.
    #[error("the tenant is being deleted")]
    TenantDeleted,
    /// The tenant is suspended: read-only, nobody joins it.
    #[error("{tenant} is suspended")]
    TenantSuspended { tenant: String },
    #[error("the Idempotency-Key was used with a different request body")]
    IdempotencyMismatch,
    #[error("the cursor is not one this server issued")]
    BadCursor,
    #[error("the stage {stage} still has {leads} leads")]
    StageInUse { stage: String, leads: u32 },
    /// A workflow moved on before this change (someone decided first).
    #[error("the workflow is {now} now")]
    StateChanged { now: String },
    /// A change a rule of the store refuses (a limit, a state); `detail`
    /// says which and what to do.
    #[error("{field}: {detail}")]
    Refused { field: &'static str, detail: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored value no variant reads (a status, a role…): the store is not
/// what this build expects.
pub(crate) fn bad_value(what: &str, value: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("bad {what} {value:?} in the store"))
}

/// Maps a database error: unique violations become `Conflict` naming the
/// field, from the constraint's name (PostgreSQL) or the message (SQLite's
/// names the table and column).
pub(crate) fn db_error(e: sqlx::Error, doing: &str) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            let name = db.constraint().unwrap_or_else(|| db.message());
            let field = if name.contains("slug") {
                "slug"
            } else if name.contains("email") {
                "email"
            } else if name.contains("memberships") {
                "user"
            } else {
                "id"
            };
            return StoreError::Conflict { field };
        }
    }
    StoreError::Other(anyhow::Error::new(e).context(format!("cannot {doing}")))
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

/// Everything the server persists: one trait per resource, each implemented
/// directly by every backend. Any type with all of them is a `Store`.
pub trait Store:
    OutboundStore
    + AccountStore
    + TenantStore
    + MemberStore
    + InvitationAcceptStore
    + ApiKeyStore
    + AuditStore
    + LeadStore
    + LeadChangeStore
    + EventStore
    + SlaStore
    + AgentStore
    + WorkspaceStore
    + PlaygroundStore
    + WorkflowStore
    + AnalyticsStore
    + KnowledgeStore
    + QueueStore
    + EvalStore
    + PurgeStore
    + UsageStore
    + PlatformStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: OutboundStore
        + AccountStore
        + TenantStore
        + MemberStore
        + InvitationAcceptStore
        + ApiKeyStore
        + AuditStore
        + LeadStore
        + LeadChangeStore
        + EventStore
        + SlaStore
        + AgentStore
        + WorkspaceStore
        + PlaygroundStore
        + WorkflowStore
        + AnalyticsStore
        + KnowledgeStore
        + QueueStore
        + EvalStore
        + PurgeStore
        + UsageStore
        + PlatformStore
        + Send
        + Sync
        + 'static
{
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store a URL names: `sqlite://PATH` (created and migrated when
/// missing) or `postgres://APP_ROLE@HOST/DB` (migrated beforehand by
/// `switchboard migrate` as the owner; see `postgres::migrate`).
///
/// Every open seeds the starter agent library, once per starter for the
/// life of the database (see [`agent_library`]).
pub async fn open(url: &str) -> anyhow::Result<DynStore> {
    let store: DynStore = if url.starts_with("sqlite:") {
        Arc::new(sqlite::SqliteStore::open(url).await?)
    } else if is_postgres(url) {
        Arc::new(postgres::PgStore::open(url).await?)
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://PATH or postgres://…")
    };
    let seeded = store
        .seed_agent_library()
        .await
        .map_err(|e| anyhow::anyhow!("cannot seed the starter agent library: {e}"))?;
    if !seeded.is_empty() {
        tracing::info!(starters = ?seeded, "seeded the starter agent library");
    }
    Ok(store)
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}
