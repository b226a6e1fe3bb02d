//! Agents: versions are immutable rows; the agent points at its current one.
//! A tenant sees its own agents, the platform's global ones and those shared
//! with it; only the owner changes them.

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::{db_error, now_ms, write_audit, SqliteStore};
use crate::domain::{Agent, AgentConfig, AgentVersion, Sharing};
use crate::store::agent_library::{PLATFORM_TENANT, STARTERS};
use crate::store::agents::{
    agent_delete_audit, agent_sharing_audit, list_agents_sql, owned_agent_sql, visible_agent_sql,
    AgentRecord, AgentVersionRecord, AGENT_VERSIONS_SQL, CLEAR_SHARES_SQL, DELETE_AGENT_SQL,
    INSERT_AGENT_SQL, INSERT_VERSION_SQL, RECORD_SEED_SQL, SET_SHARING_SQL, UPDATE_AGENT_SQL,
};
use crate::store::sql::Dialect;
use crate::store::{
    plan_agent_change, Actor, AgentChange, AgentPlan, AgentRow, AgentStore, StoreError, StoreResult,
};

const SQL: Dialect = Dialect::Sqlite;

async fn insert_version(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    agent_id: Uuid,
    version: u32,
    config: &AgentConfig,
    actor: &Actor,
    restored_from: Option<u32>,
) -> StoreResult<()> {
    sqlx::query(&SQL.write(INSERT_VERSION_SQL))
        .bind(tenant_id.to_string())
        .bind(agent_id.to_string())
        .bind(version as i64)
        .bind(&config.system_prompt)
        .bind(&config.model)
        .bind(config.temperature as f64)
        .bind(config.max_tokens as i64)
        .bind(actor.email.as_deref())
        .bind(now_ms())
        .bind(restored_from.map(|v| v as i64))
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "store an agent version"))?;
    Ok(())
}

fn tags_json(tags: &[String]) -> StoreResult<String> {
    serde_json::to_string(tags)
        .map_err(|e| StoreError::Other(anyhow::anyhow!("cannot encode agent tags: {e}")))
}

/// A new agent at version 1, with its audit entry; returns its id.
async fn insert_agent(
    tx: &mut Transaction<'static, Sqlite>,
    actor: &Actor,
    tenant_id: Uuid,
    row: &AgentRow,
    sharing: Sharing,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(&SQL.write(INSERT_AGENT_SQL))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(&row.name)
        .bind(&row.description)
        .bind(sharing.as_str())
        .bind(tags_json(&row.tags)?)
        .bind(row.category.as_deref())
        .bind(now_ms())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "create an agent"))?;
    insert_version(tx, tenant_id, id, 1, &row.config, actor, None).await?;
    write_audit(tx, tenant_id, actor, &row.audit(id)).await?;
    Ok(id)
}

async fn owned_in(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Agent> {
    sqlx::query_as::<_, AgentRecord>(&owned_agent_sql(SQL))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read an agent"))?
        .ok_or(StoreError::NotFound)?
        .into_agent(tenant_id)
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn list_agents(&self, viewer: Uuid) -> StoreResult<Vec<Agent>> {
        let rows = sqlx::query_as::<_, AgentRecord>(&list_agents_sql(SQL))
            .bind(viewer.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list agents"))?;
        rows.into_iter().map(|r| r.into_agent(viewer)).collect()
    }

    async fn agent(&self, viewer: Uuid, id: Uuid) -> StoreResult<Option<Agent>> {
        let row = sqlx::query_as::<_, AgentRecord>(&visible_agent_sql(SQL))
            .bind(viewer.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "read an agent"))?;
        row.map(|r| r.into_agent(viewer)).transpose()
    }

    async fn create_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: &AgentRow,
    ) -> StoreResult<Agent> {
        let (_writer, mut tx) = self.write().await?;
        let id = insert_agent(&mut tx, actor, tenant_id, row, Sharing::Private).await?;
        let agent = owned_in(&mut tx, tenant_id, id).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a new agent"))?;
        Ok(agent)
    }

    async fn update_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: AgentChange,
    ) -> StoreResult<Agent> {
        let (_writer, mut tx) = self.write().await?;
        let before = owned_in(&mut tx, tenant_id, id).await?;
        let restored_from = change.restored_from;
        let plan = plan_agent_change(&before, change);
        if plan.fields.is_empty() {
            return Ok(before);
        }
        if let Some((version, config)) = &plan.new_version {
            insert_version(
                &mut tx,
                tenant_id,
                id,
                *version,
                config,
                actor,
                restored_from,
            )
            .await?;
        }
        let AgentPlan {
            version,
            name,
            description,
            tags,
            category,
            audit: entry,
            ..
        } = plan;
        sqlx::query(&SQL.write(UPDATE_AGENT_SQL))
            .bind(&name)
            .bind(&description)
            .bind(version as i64)
            .bind(now_ms())
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .bind(tags_json(&tags)?)
            .bind(category.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "update an agent"))?;
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let agent = owned_in(&mut tx, tenant_id, id).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an agent update"))?;
        Ok(agent)
    }

    async fn delete_agent(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let agent = owned_in(&mut tx, tenant_id, id).await?;
        sqlx::query(&SQL.write(DELETE_AGENT_SQL))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete an agent"))?;
        write_audit(&mut tx, tenant_id, actor, &agent_delete_audit(&agent)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an agent deletion"))
    }

    async fn agent_versions(&self, viewer: Uuid, id: Uuid) -> StoreResult<Vec<AgentVersion>> {
        let Some(agent) = self.agent(viewer, id).await? else {
            return Err(StoreError::NotFound);
        };
        let rows = sqlx::query_as::<_, AgentVersionRecord>(&SQL.write(AGENT_VERSIONS_SQL))
            .bind(agent.tenant_id.to_string())
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list agent versions"))?;
        rows.into_iter().map(|r| r.into_version(id)).collect()
    }

    async fn set_agent_sharing(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        sharing: Sharing,
        tenants: &[Uuid],
    ) -> StoreResult<Agent> {
        let (_writer, mut tx) = self.write().await?;
        let before = owned_in(&mut tx, tenant_id, id).await?;
        sqlx::query(&SQL.write(SET_SHARING_SQL))
            .bind(sharing.as_str())
            .bind(now_ms())
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "change sharing"))?;
        sqlx::query(&SQL.write(CLEAR_SHARES_SQL))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "change sharing"))?;
        if sharing == Sharing::Selective {
            for t in tenants {
                sqlx::query(
                    "INSERT OR IGNORE INTO agent_shares (tenant_id, agent_id, shared_tenant_id) \
                     VALUES (?, ?, ?)",
                )
                .bind(tenant_id.to_string())
                .bind(id.to_string())
                .bind(t.to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "share an agent"))?;
            }
        }
        let entry = agent_sharing_audit(&before, sharing, tenants);
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let agent = owned_in(&mut tx, tenant_id, id).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a sharing change"))?;
        Ok(agent)
    }

    async fn seed_agent_library(&self) -> StoreResult<Vec<&'static str>> {
        let (_writer, mut tx) = self.write().await?;
        let mut seeded = Vec::new();
        for starter in &STARTERS {
            // The record first: a key seeded before (even if its agent was
            // deleted since) inserts nothing, and nothing is seeded again.
            let fresh = sqlx::query(&SQL.write(RECORD_SEED_SQL))
                .bind(PLATFORM_TENANT.to_string())
                .bind(starter.key)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "record a seeded starter agent"))?
                .rows_affected()
                == 1;
            if fresh {
                let row = AgentRow::starter(starter);
                insert_agent(
                    &mut tx,
                    &Actor::system(),
                    PLATFORM_TENANT,
                    &row,
                    Sharing::Global,
                )
                .await?;
                seeded.push(starter.key);
            }
        }
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit the starter agents"))?;
        Ok(seeded)
    }

    async fn record_agent_use(&self, user: Uuid, owner: Uuid, id: Uuid) -> StoreResult<bool> {
        let _writer = self.writer_turn().await;
        // One statement, so concurrent uses never lose a count; the same
        // visibility rule as store::agents::VISIBLE_TO, for the user of the agent.
        let done = sqlx::query(
            "UPDATE agents SET use_count = use_count + 1, last_used_at = ?4 \
             WHERE tenant_id = ?1 AND id = ?2 AND (tenant_id = ?3 \
               OR (sharing = 'global' AND EXISTS (SELECT 1 FROM tenants t \
                    WHERE t.id = agents.tenant_id AND t.is_platform = 1)) \
               OR (sharing = 'selective' AND EXISTS (SELECT 1 FROM agent_shares s \
                    WHERE s.tenant_id = agents.tenant_id AND s.agent_id = agents.id \
                      AND s.shared_tenant_id = ?3)))",
        )
        .bind(owner.to_string())
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(e, "count an agent's use"))?;
        Ok(done.rows_affected() == 1)
    }
}
