//! Workspaces: a channel with the agent that answers on it. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use uuid::Uuid;

use super::conn::{write_audit, Arg, Backend, Conn, Stmt};
use super::row::{Id, Int, Time};
use super::sql::Dialect;
use super::{Actor, AuditEntry, StoreError, StoreResult};
use crate::domain::{AgentLink, Channel, Workspace};

/// A workspace as both backends' workspace SELECT reads it; `link` is
/// 'none', 'ok', 'deleted' or 'unshared', from whether the agent still
/// exists and is still visible to the workspace's tenant.
#[derive(sqlx::FromRow)]
pub(crate) struct WorkspaceRecord {
    tenant_id: Id,
    id: Id,
    name: String,
    channel: Channel,
    agent_id: Option<Id>,
    agent_name: Option<String>,
    link: String,
    strategy_active: bool,
    created_at: Time,
}

impl From<WorkspaceRecord> for Workspace {
    fn from(r: WorkspaceRecord) -> Workspace {
        Workspace {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            name: r.name,
            channel: r.channel,
            agent_id: r.agent_id.map(Into::into),
            agent_name: r.agent_name,
            agent_link: match r.link.as_str() {
                "ok" => AgentLink::Ok,
                "deleted" => AgentLink::Deleted,
                "unshared" => AgentLink::Unshared,
                _ => AgentLink::None,
            },
            strategy_active: r.strategy_active,
            created_at: r.created_at.into(),
        }
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

impl WorkspaceRow {
    /// What the audit log says of a new workspace.
    pub fn create_audit(&self, id: Uuid) -> AuditEntry {
        AuditEntry {
            action: "workspace.create",
            resource: "workspace",
            resource_id: id.to_string(),
            changes: serde_json::json!({ "name": self.name, "channel": self.channel,
                             "agent_id": self.agent.map(|(_, a)| a),
                             "strategy_active": self.strategy_active }),
        }
    }

    /// What the audit log says of this row stored over `before`: turning
    /// the strategy on or off is said as such.
    pub fn update_audit(&self, before: &Workspace) -> AuditEntry {
        let action = match (before.strategy_active, self.strategy_active) {
            (false, true) => "workspace.activate",
            (true, false) => "workspace.deactivate",
            _ => "workspace.update",
        };
        AuditEntry {
            action,
            resource: "workspace",
            resource_id: before.id.to_string(),
            changes: serde_json::json!({
                "name": self.name, "channel": self.channel,
                "agent_id": { "from": before.agent_id, "to": self.agent.map(|(_, a)| a) },
                "strategy_active": self.strategy_active,
            }),
        }
    }
}

/// What the audit log says of a deleted workspace.
pub fn workspace_delete_audit(id: Uuid) -> AuditEntry {
    AuditEntry {
        action: "workspace.delete",
        resource: "workspace",
        resource_id: id.to_string(),
        changes: serde_json::json!({}),
    }
}

#[async_trait]
pub trait WorkspaceStore: Send + Sync {
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
}

/// Tenant `$1`'s workspaces (only `$2` when it is not NULL), each with its
/// agent's name and link state.
fn workspace_select(dialect: Dialect) -> &'static str {
    match dialect {
        // Whether a linked agent was deleted or merely unshared cannot be
        // seen through RLS once it is no longer shared, so the name and
        // the state come from the owner's narrow `sb_workspace_agent_links`
        // (see `migrations/0003_agents.sql`), limited to the transaction's
        // tenant.
        Dialect::Postgres => {
            "SELECT w.tenant_id, w.id, w.name, w.channel, w.agent_id, \
             w.strategy_active, w.created_at, l.agent_name, l.link \
             FROM workspaces w JOIN sb_workspace_agent_links($2) l ON l.workspace_id = w.id \
             WHERE w.tenant_id = $1"
        }
        // The link from whether the agent still exists and is still
        // visible to the workspace's tenant.
        Dialect::Sqlite => {
            "SELECT w.tenant_id, w.id, w.name, w.channel, w.agent_id, \
             w.strategy_active, w.created_at, a.name AS agent_name, \
             CASE WHEN w.agent_id IS NULL THEN 'none' \
                  WHEN a.id IS NULL THEN 'deleted' \
                  WHEN a.tenant_id = w.tenant_id \
                    OR (a.sharing = 'global' AND t.is_platform = 1) \
                    OR (a.sharing = 'selective' AND EXISTS (SELECT 1 FROM agent_shares s \
                        WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id \
                        AND s.shared_tenant_id = w.tenant_id)) THEN 'ok' \
                  ELSE 'unshared' END AS link \
             FROM workspaces w \
             LEFT JOIN agents a ON a.tenant_id = w.agent_tenant_id AND a.id = w.agent_id \
             LEFT JOIN tenants t ON t.id = a.tenant_id \
             WHERE w.tenant_id = $1 AND ($2 IS NULL OR w.id = $2)"
        }
    }
}

async fn workspace_in<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<Workspace>> {
    let sql = format!("{} AND w.id = $2", workspace_select(c.dialect()));
    let stmt = Stmt::new(sql, "read a workspace")
        .id(tenant_id)
        .arg(Arg::OptId(Some(id)));
    Ok(c.fetch_optional::<WorkspaceRecord>(stmt)
        .await?
        .map(Workspace::from))
}

impl WorkspaceRow {
    /// The row's values, in the order the insert and the update take them.
    fn args(&self, stmt: Stmt) -> Stmt {
        stmt.text(self.name.clone())
            .text(self.channel.as_str())
            .arg(Arg::OptId(self.agent.map(|(t, _)| t)))
            .arg(Arg::OptId(self.agent.map(|(_, a)| a)))
            .arg(Arg::Bool(self.strategy_active))
    }
}

#[async_trait]
impl<B: Backend> WorkspaceStore for B {
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>> {
        let mut tx = self.reading(tenant_id).await?;
        // Byte order of names, whatever the database collation.
        let sql = format!(
            "{} ORDER BY w.name COLLATE \"C\"",
            workspace_select(tx.dialect())
        );
        let stmt = Stmt::new(sql, "list workspaces")
            .id(tenant_id)
            .arg(Arg::OptId(None));
        let rows = tx.fetch_all::<WorkspaceRecord>(stmt).await?;
        tx.commit("end a read").await?;
        Ok(rows.into_iter().map(Workspace::from).collect())
    }

    async fn workspace(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>> {
        let mut tx = self.reading(tenant_id).await?;
        let ws = workspace_in(&mut tx, tenant_id, id).await?;
        tx.commit("end a read").await?;
        Ok(ws)
    }

    async fn create_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        let id = Uuid::now_v7();
        let mut tx = self.writing(tenant_id).await?;
        let insert = Stmt::new(
            "INSERT INTO workspaces (tenant_id, id, name, channel, agent_tenant_id, agent_id, \
             strategy_active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            "create a workspace",
        )
        .id(tenant_id)
        .id(id);
        tx.execute(row.args(insert).time(chrono::Utc::now()))
            .await?;
        write_audit(&mut tx, tenant_id, actor, &row.create_audit(id)).await?;
        let ws = workspace_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit a workspace").await?;
        Ok(ws)
    }

    async fn update_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        let mut tx = self.writing(tenant_id).await?;
        // Locked, so the audit's "from" is the state this update replaces.
        let lock = Stmt::new(
            "SELECT 1 FROM workspaces WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            "lock a workspace",
        )
        .id(tenant_id)
        .id(id);
        if tx.fetch_optional::<(Int,)>(lock).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let before = workspace_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let update = Stmt::new(
            "UPDATE workspaces SET name = $1, channel = $2, agent_tenant_id = $3, \
             agent_id = $4, strategy_active = $5 WHERE tenant_id = $6 AND id = $7",
            "update a workspace",
        );
        tx.execute(row.args(update).id(tenant_id).id(id)).await?;
        write_audit(&mut tx, tenant_id, actor, &row.update_audit(&before)).await?;
        let ws = workspace_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit a workspace update").await?;
        Ok(ws)
    }

    async fn delete_workspace(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.writing(tenant_id).await?;
        let delete = Stmt::new(
            "DELETE FROM workspaces WHERE tenant_id = $1 AND id = $2",
            "delete a workspace",
        )
        .id(tenant_id)
        .id(id);
        if tx.execute(delete).await? == 0 {
            return Err(StoreError::NotFound);
        }
        // Keys bound to a deleted workspace keep working; their leads just
        // land unassigned.
        let unbind = Stmt::new(
            "UPDATE api_keys SET workspace_id = NULL WHERE tenant_id = $1 AND workspace_id = $2",
            "unbind API keys",
        )
        .id(tenant_id)
        .id(id);
        tx.execute(unbind).await?;
        write_audit(&mut tx, tenant_id, actor, &workspace_delete_audit(id)).await?;
        tx.commit("commit a workspace deletion").await
    }
}
