//! Workspaces: a channel with the agent that answers on it. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use uuid::Uuid;

use super::row::{Id, Time};
use super::{Actor, AuditEntry, StoreResult};
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

/// A new workspace: tenant, id, name, channel, the agent's tenant and id,
/// whether its strategy is active, time.
pub(crate) const INSERT_WORKSPACE_SQL: &str = "INSERT INTO workspaces (tenant_id, id, name, \
     channel, agent_tenant_id, agent_id, strategy_active, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// A [`WorkspaceRow`] stored over tenant `$6`'s workspace `$7`.
pub(crate) const UPDATE_WORKSPACE_SQL: &str = "UPDATE workspaces SET name = $1, channel = $2, \
     agent_tenant_id = $3, agent_id = $4, strategy_active = $5 WHERE tenant_id = $6 AND id = $7";

pub(crate) const DELETE_WORKSPACE_SQL: &str =
    "DELETE FROM workspaces WHERE tenant_id = $1 AND id = $2";

/// Keys bound to a deleted workspace keep working; their leads just land
/// unassigned.
pub(crate) const UNBIND_KEYS_SQL: &str =
    "UPDATE api_keys SET workspace_id = NULL WHERE tenant_id = $1 AND workspace_id = $2";

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
