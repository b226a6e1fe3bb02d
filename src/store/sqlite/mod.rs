//! The embedded SQLite store (WAL, busy timeout, `BEGIN IMMEDIATE` for writes,
//! so two processes on one file wait for each other instead of corrupting it).

mod account;
mod agents;
mod analytics;
mod batch;
mod keys;
mod lead_changes;
mod leads;
mod members;
mod playground;
mod sla;
mod tenants;
mod webhooks;
mod workflows;
mod workspaces;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use super::{Actor, AgentChange, AuditEntry, Store, StoreError, StoreResult, WorkspaceRow};
use crate::domain::{Agent, AgentConfig, AgentVersion, PageQuery, Role, Sharing, Workspace};

/// A pool with the store's durability settings: WAL, `synchronous = FULL`
/// (a commit survives power loss), a busy timeout, foreign keys on.
pub async fn pool(url: &str) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid SQLite URL {url:?}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the SQLite database at {url}"))
}

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Writers of this process queue here, in order, instead of spinning in
    /// SQLite's busy handler (which sleeps up to 100 ms between tries).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Lead inserts go through the group-commit writer.
    inserts: tokio::sync::mpsc::Sender<batch::InsertJob>,
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let pool = pool(url).await?;
        super::schema::migrate_sqlite(&pool).await?;
        let writer: std::sync::Arc<tokio::sync::Mutex<()>> = Default::default();
        let inserts = batch::spawn_writer(pool.clone(), writer.clone());
        Ok(Self {
            pool,
            writer,
            inserts,
        })
    }

    /// A write transaction that takes the database's write lock up front;
    /// hold the guard until the transaction ends.
    async fn write(
        &self,
    ) -> StoreResult<(
        tokio::sync::OwnedMutexGuard<()>,
        Transaction<'static, Sqlite>,
    )> {
        let guard = self.writer.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| db_error(e, "begin a write transaction"))?;
        Ok((guard, tx))
    }
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub(crate) fn to_dt(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(crate) fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Other(anyhow::anyhow!("bad id {s:?} in store: {e}")))
}

pub(crate) fn parse_role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad role {s:?} in store")))
}

/// Maps a database error: unique violations become `Conflict` naming the field.
pub(crate) fn db_error(e: sqlx::Error, doing: &str) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            let msg = db.message();
            let field = if msg.contains("slug") {
                "slug"
            } else if msg.contains("email") {
                "email"
            } else if msg.contains("memberships") {
                "user"
            } else {
                "id"
            };
            return StoreError::Conflict { field };
        }
    }
    StoreError::Other(anyhow::Error::new(e).context(format!("cannot {doing}")))
}

pub(crate) async fn write_audit(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    actor: &Actor,
    entry: &AuditEntry,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (tenant_id, id, actor_id, actor_email, action, resource, \
         resource_id, changes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant_id.to_string())
    .bind(Uuid::now_v7().to_string())
    .bind(actor.user_id.map(|u| u.to_string()))
    .bind(actor.email.as_deref())
    .bind(entry.action)
    .bind(entry.resource)
    .bind(&entry.resource_id)
    .bind(entry.changes.to_string())
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "write the audit log"))?;
    Ok(())
}

/// Cursor condition helpers: cursors are ids (UUIDv7 text).
pub(crate) fn cursor(page: &PageQuery) -> Option<String> {
    page.cursor.clone()
}

#[async_trait]
impl Store for SqliteStore {
    async fn list_agents(&self, viewer: Uuid) -> StoreResult<Vec<Agent>> {
        self.list_agents_impl(viewer).await
    }
    async fn agent(&self, viewer: Uuid, id: Uuid) -> StoreResult<Option<Agent>> {
        self.agent_impl(viewer, id).await
    }
    async fn create_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        name: &str,
        description: &str,
        config: &AgentConfig,
    ) -> StoreResult<Agent> {
        self.create_agent_impl(actor, tenant_id, name, description, config)
            .await
    }
    async fn update_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: AgentChange,
    ) -> StoreResult<Agent> {
        self.update_agent_impl(actor, tenant_id, id, change).await
    }
    async fn delete_agent(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        self.delete_agent_impl(actor, tenant_id, id).await
    }
    async fn agent_versions(&self, viewer: Uuid, id: Uuid) -> StoreResult<Vec<AgentVersion>> {
        self.agent_versions_impl(viewer, id).await
    }
    async fn set_agent_sharing(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        sharing: Sharing,
        tenants: &[Uuid],
    ) -> StoreResult<Agent> {
        self.set_agent_sharing_impl(actor, tenant_id, id, sharing, tenants)
            .await
    }
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>> {
        self.list_workspaces_impl(tenant_id).await
    }
    async fn workspace(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>> {
        self.workspace_impl(tenant_id, id).await
    }
    async fn create_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        self.create_workspace_impl(actor, tenant_id, row).await
    }
    async fn update_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        self.update_workspace_impl(actor, tenant_id, id, row).await
    }
    async fn delete_workspace(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        self.delete_workspace_impl(actor, tenant_id, id).await
    }

    async fn create_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: crate::store::PlaygroundSessionRow,
    ) -> StoreResult<crate::domain::PlaygroundSession> {
        self.create_playground_session_impl(actor, tenant_id, row)
            .await
    }
    async fn list_playground_sessions(
        &self,
        tenant_id: Uuid,
    ) -> StoreResult<Vec<crate::domain::PlaygroundSession>> {
        self.list_playground_sessions_impl(tenant_id).await
    }
    async fn playground_session(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<crate::domain::PlaygroundSession>> {
        self.playground_session_impl(tenant_id, id).await
    }
    async fn delete_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        self.delete_playground_session_impl(actor, tenant_id, id)
            .await
    }
    async fn playground_messages(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
    ) -> StoreResult<Vec<crate::domain::PlaygroundMessage>> {
        self.playground_messages_impl(tenant_id, session_id).await
    }
    async fn add_playground_message(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
        row: crate::store::PlaygroundMessageRow,
    ) -> StoreResult<crate::domain::PlaygroundMessage> {
        self.add_playground_message_impl(tenant_id, session_id, row)
            .await
    }
    async fn link_playground_lead(
        &self,
        tenant_id: Uuid,
        message_id: Uuid,
        lead_id: Uuid,
    ) -> StoreResult<()> {
        self.link_playground_lead_impl(tenant_id, message_id, lead_id)
            .await
    }

    async fn create_workflow(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: crate::store::NewWorkflowRow,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Workflow> {
        self.create_workflow_impl(actor, tenant_id, row, now).await
    }
    async fn workflow(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<crate::domain::Workflow>> {
        self.workflow_impl(tenant_id, id).await
    }
    async fn list_workflows(
        &self,
        tenant_id: Uuid,
        status: Option<crate::domain::WorkflowStatus>,
        lead_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::Workflow>> {
        self.list_workflows_impl(tenant_id, status, lead_id, limit)
            .await
    }
    async fn transition_workflow(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        t: crate::store::WorkflowTransition,
    ) -> StoreResult<crate::domain::Workflow> {
        self.transition_workflow_impl(tenant_id, id, t).await
    }
    async fn claim_workflow(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<crate::store::ClaimedWorkflow>> {
        self.claim_workflow_impl(now, lease_until).await
    }
    async fn recover_workflows(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        self.recover_workflows_impl(now).await
    }

    async fn analytics(
        &self,
        tenant: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Analytics> {
        self.analytics_impl(tenant, from, to, now).await
    }
    async fn tenant_overview(
        &self,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<crate::domain::TenantOverview>> {
        self.tenant_overview_impl(now).await
    }
}
