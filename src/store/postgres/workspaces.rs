//! Workspaces: channels where leads arrive, each linked to an agent that may
//! belong to another tenant (shared), so its state is worked out on read.
//!
//! Whether a linked agent was deleted or merely unshared cannot be seen
//! through RLS once it is no longer shared, so the name and the state come
//! from the owner's narrow `sb_workspace_agent_links` (see
//! `migrations/0003_agents.sql`), limited to the transaction's tenant.

use async_trait::async_trait;
use uuid::Uuid;

use super::{db_error, now, write_audit, PgStore, Tx};
use crate::domain::Workspace;
use crate::store::workspaces::{
    workspace_delete_audit, WorkspaceRecord, DELETE_WORKSPACE_SQL, INSERT_WORKSPACE_SQL,
    UNBIND_KEYS_SQL, UPDATE_WORKSPACE_SQL,
};
use crate::store::{Actor, StoreError, StoreResult, WorkspaceRow, WorkspaceStore};

/// `$2` is one workspace's id, or NULL for all of the tenant's.
const WORKSPACE_SELECT: &str = "SELECT w.tenant_id, w.id, w.name, w.channel, w.agent_id, \
     w.strategy_active, w.created_at, l.agent_name, l.link \
     FROM workspaces w JOIN sb_workspace_agent_links($2) l ON l.workspace_id = w.id \
     WHERE w.tenant_id = $1";

async fn workspace_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>> {
    let row = sqlx::query_as::<_, WorkspaceRecord>(&format!("{WORKSPACE_SELECT} AND w.id = $2"))
        .bind(tenant_id)
        .bind(Some(id))
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read a workspace"))?;
    Ok(row.map(Workspace::from))
}

#[async_trait]
impl WorkspaceStore for PgStore {
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        // Byte order of names, like SQLite, whatever the database collation.
        let rows = sqlx::query_as::<_, WorkspaceRecord>(&format!(
            "{WORKSPACE_SELECT} ORDER BY w.name COLLATE \"C\""
        ))
        .bind(tenant_id)
        .bind(None::<Uuid>)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list workspaces"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(rows.into_iter().map(Workspace::from).collect())
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
        sqlx::query(INSERT_WORKSPACE_SQL)
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
        let entry = row.create_audit(id);
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
        sqlx::query(UPDATE_WORKSPACE_SQL)
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
        let entry = row.update_audit(&before);
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
        let done = sqlx::query(DELETE_WORKSPACE_SQL)
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a workspace"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(UNBIND_KEYS_SQL)
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "unbind API keys"))?;
        write_audit(&mut tx, tenant_id, actor, &workspace_delete_audit(id)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a workspace deletion"))
    }
}
