//! Workspaces: channels where leads arrive, each linked to an agent that may
//! belong to another tenant (shared), so its state is worked out on read.

use async_trait::async_trait;
use uuid::Uuid;

use super::{db_error, now_ms, write_audit, SqliteStore};
use crate::domain::Workspace;
use crate::store::sql::Dialect;
use crate::store::workspaces::{
    workspace_delete_audit, WorkspaceRecord, DELETE_WORKSPACE_SQL, INSERT_WORKSPACE_SQL,
    UNBIND_KEYS_SQL, UPDATE_WORKSPACE_SQL,
};
use crate::store::{Actor, StoreError, StoreResult, WorkspaceRow, WorkspaceStore};

const SQL: Dialect = Dialect::Sqlite;

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

#[async_trait]
impl WorkspaceStore for SqliteStore {
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>> {
        let rows = sqlx::query_as::<_, WorkspaceRecord>(&format!(
            "{WORKSPACE_SELECT} WHERE w.tenant_id = ? ORDER BY w.name"
        ))
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list workspaces"))?;
        Ok(rows.into_iter().map(Workspace::from).collect())
    }

    async fn workspace(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>> {
        let row = sqlx::query_as::<_, WorkspaceRecord>(&format!(
            "{WORKSPACE_SELECT} WHERE w.tenant_id = ? AND w.id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "read a workspace"))?;
        Ok(row.map(Workspace::from))
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
            sqlx::query(&SQL.write(INSERT_WORKSPACE_SQL))
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
            let entry = row.create_audit(id);
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
            let done = sqlx::query(&SQL.write(UPDATE_WORKSPACE_SQL))
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
            let entry = row.update_audit(&before);
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
        let done = sqlx::query(&SQL.write(DELETE_WORKSPACE_SQL))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a workspace"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(&SQL.write(UNBIND_KEYS_SQL))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "unbind API keys"))?;
        write_audit(&mut tx, tenant_id, actor, &workspace_delete_audit(id)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a workspace deletion"))
    }
}
