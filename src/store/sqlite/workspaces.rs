//! Workspaces: channels where leads arrive, each linked to an agent that may
//! belong to another tenant (shared), so its state is worked out on read.

use async_trait::async_trait;
use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::{db_error, now_ms, parse_uuid, to_dt, write_audit, SqliteStore};
use crate::domain::{AgentLink, Channel, Workspace};
use crate::store::{Actor, AuditEntry, StoreError, StoreResult, WorkspaceRow, WorkspaceStore};

/// `link` is 'ok', 'deleted' or 'unshared', from whether the agent still
/// exists and is still visible to the workspace's tenant.
const WORKSPACE_SELECT: &str = "SELECT w.tenant_id, w.id, w.name, w.channel, w.agent_id, \
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
     LEFT JOIN tenants t ON t.id = a.tenant_id";

fn workspace_from_row(row: &SqliteRow) -> StoreResult<Workspace> {
    let err = |e| db_error(e, "read a workspace");
    let channel: String = row.try_get("channel").map_err(err)?;
    let agent: Option<String> = row.try_get("agent_id").map_err(err)?;
    let link: String = row.try_get("link").map_err(err)?;
    let agent_link = match link.as_str() {
        "ok" => AgentLink::Ok,
        "deleted" => AgentLink::Deleted,
        "unshared" => AgentLink::Unshared,
        _ => AgentLink::None,
    };
    Ok(Workspace {
        id: parse_uuid(&row.try_get::<String, _>("id").map_err(err)?)?,
        tenant_id: parse_uuid(&row.try_get::<String, _>("tenant_id").map_err(err)?)?,
        name: row.try_get("name").map_err(err)?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad channel {channel:?}")))?,
        agent_id: agent.as_deref().map(parse_uuid).transpose()?,
        agent_name: row.try_get("agent_name").map_err(err)?,
        agent_link,
        strategy_active: row.try_get::<i64, _>("strategy_active").map_err(err)? != 0,
        created_at: to_dt(row.try_get("created_at").map_err(err)?),
    })
}

#[async_trait]
impl WorkspaceStore for SqliteStore {
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>> {
        let rows = sqlx::query(&format!(
            "{WORKSPACE_SELECT} WHERE w.tenant_id = ? ORDER BY w.name"
        ))
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list workspaces"))?;
        rows.iter().map(workspace_from_row).collect()
    }

    async fn workspace(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>> {
        let row = sqlx::query(&format!(
            "{WORKSPACE_SELECT} WHERE w.tenant_id = ? AND w.id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "read a workspace"))?;
        row.map(|r| workspace_from_row(&r)).transpose()
    }

    async fn create_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        let id = Uuid::now_v7();
        {
            let (_writer, mut tx) = self.write().await?;
            sqlx::query(
                "INSERT INTO workspaces (tenant_id, id, name, channel, agent_tenant_id, agent_id, \
                 strategy_active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .bind(&row.name)
            .bind(row.channel.as_str())
            .bind(row.agent.map(|(t, _)| t.to_string()))
            .bind(row.agent.map(|(_, a)| a.to_string()))
            .bind(row.strategy_active as i64)
            .bind(now_ms())
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
            tx.commit()
                .await
                .map_err(|e| db_error(e, "commit a workspace"))?;
        }
        self.workspace(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn update_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        let before = self
            .workspace(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        {
            let (_writer, mut tx) = self.write().await?;
            let done = sqlx::query(
                "UPDATE workspaces SET name = ?, channel = ?, agent_tenant_id = ?, agent_id = ?, \
                 strategy_active = ? WHERE tenant_id = ? AND id = ?",
            )
            .bind(&row.name)
            .bind(row.channel.as_str())
            .bind(row.agent.map(|(t, _)| t.to_string()))
            .bind(row.agent.map(|(_, a)| a.to_string()))
            .bind(row.strategy_active as i64)
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "update a workspace"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
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
            tx.commit()
                .await
                .map_err(|e| db_error(e, "commit a workspace update"))?;
        }
        self.workspace(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn delete_workspace(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query("DELETE FROM workspaces WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a workspace"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Keys bound to it keep working; their leads just land unassigned.
        sqlx::query(
            "UPDATE api_keys SET workspace_id = NULL WHERE tenant_id = ? AND workspace_id = ?",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
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
