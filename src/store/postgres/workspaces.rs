//! Workspaces: channels where leads arrive, each linked to an agent that may
//! belong to another tenant (shared), so its state is worked out on read.
//!
//! Whether a linked agent was deleted or merely unshared cannot be seen
//! through RLS once it is no longer shared, so the name and the state come
//! from the owner's narrow `sb_workspace_agent_links` (see
//! `migrations/0003_agents.sql`), limited to the transaction's tenant.

use async_trait::async_trait;
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::{db_error, now, write_audit, PgStore, Tx};
use crate::domain::{AgentLink, Channel, Workspace};
use crate::store::{Actor, AuditEntry, StoreError, StoreResult, WorkspaceRow, WorkspaceStore};

/// `$2` is one workspace's id, or NULL for all of the tenant's.
const WORKSPACE_SELECT: &str = "SELECT w.tenant_id, w.id, w.name, w.channel, w.agent_id, \
     w.strategy_active, w.created_at, l.agent_name, l.link \
     FROM workspaces w JOIN sb_workspace_agent_links($2) l ON l.workspace_id = w.id \
     WHERE w.tenant_id = $1";

fn workspace_from_row(row: &PgRow) -> StoreResult<Workspace> {
    let err = |e| db_error(e, "read a workspace");
    let channel: String = row.try_get("channel").map_err(err)?;
    let link: String = row.try_get("link").map_err(err)?;
    let agent_link = match link.as_str() {
        "ok" => AgentLink::Ok,
        "deleted" => AgentLink::Deleted,
        "unshared" => AgentLink::Unshared,
        _ => AgentLink::None,
    };
    Ok(Workspace {
        id: row.try_get("id").map_err(err)?,
        tenant_id: row.try_get("tenant_id").map_err(err)?,
        name: row.try_get("name").map_err(err)?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad channel {channel:?}")))?,
        agent_id: row.try_get("agent_id").map_err(err)?,
        agent_name: row.try_get("agent_name").map_err(err)?,
        agent_link,
        strategy_active: row.try_get("strategy_active").map_err(err)?,
        created_at: row.try_get("created_at").map_err(err)?,
    })
}

async fn workspace_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>> {
    let row = sqlx::query(&format!("{WORKSPACE_SELECT} AND w.id = $2"))
        .bind(tenant_id)
        .bind(Some(id))
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read a workspace"))?;
    row.map(|r| workspace_from_row(&r)).transpose()
}

#[async_trait]
impl WorkspaceStore for PgStore {
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        // Byte order of names, like SQLite, whatever the database collation.
        let rows = sqlx::query(&format!("{WORKSPACE_SELECT} ORDER BY w.name COLLATE \"C\""))
            .bind(tenant_id)
            .bind(None::<Uuid>)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "list workspaces"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        rows.iter().map(workspace_from_row).collect()
    }

    async fn workspace(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let ws = workspace_in(&mut tx, tenant_id, id).await?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(ws)
    }

    async fn create_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        let id = Uuid::now_v7();
        let mut tx = self.tenant_tx(tenant_id).await?;
        sqlx::query(
            "INSERT INTO workspaces (tenant_id, id, name, channel, agent_tenant_id, agent_id, \
             strategy_active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(&row.name)
        .bind(row.channel.as_str())
        .bind(row.agent.map(|(t, _)| t))
        .bind(row.agent.map(|(_, a)| a))
        .bind(row.strategy_active)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "create a workspace"))?;
        let entry = AuditEntry {
            action: "workspace.create",
            resource: "workspace",
            resource_id: id.to_string(),
            changes: json!({ "name": row.name, "channel": row.channel,
                             "agent_id": row.agent.map(|(_, a)| a),
                             "strategy_active": row.strategy_active }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let ws = workspace_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a workspace"))?;
        Ok(ws)
    }

    async fn update_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        // Locked, so the audit's "from" is the state this update replaces.
        let locked: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM workspaces WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "lock a workspace"))?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        let before = workspace_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE workspaces SET name = $1, channel = $2, agent_tenant_id = $3, agent_id = $4, \
             strategy_active = $5 WHERE tenant_id = $6 AND id = $7",
        )
        .bind(&row.name)
        .bind(row.channel.as_str())
        .bind(row.agent.map(|(t, _)| t))
        .bind(row.agent.map(|(_, a)| a))
        .bind(row.strategy_active)
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "update a workspace"))?;
        let action = match (before.strategy_active, row.strategy_active) {
            (false, true) => "workspace.activate",
            (true, false) => "workspace.deactivate",
            _ => "workspace.update",
        };
        let entry = AuditEntry {
            action,
            resource: "workspace",
            resource_id: id.to_string(),
            changes: json!({
                "name": row.name, "channel": row.channel,
                "agent_id": { "from": before.agent_id, "to": row.agent.map(|(_, a)| a) },
                "strategy_active": row.strategy_active,
            }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let ws = workspace_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a workspace update"))?;
        Ok(ws)
    }

    async fn delete_workspace(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query("DELETE FROM workspaces WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a workspace"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Keys bound to it keep working; their leads just land unassigned.
        sqlx::query(
            "UPDATE api_keys SET workspace_id = NULL WHERE tenant_id = $1 AND workspace_id = $2",
        )
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "unbind API keys"))?;
        let entry = AuditEntry {
            action: "workspace.delete",
            resource: "workspace",
            resource_id: id.to_string(),
            changes: json!({}),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a workspace deletion"))
    }
}
