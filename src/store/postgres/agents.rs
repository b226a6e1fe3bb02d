//! Agents: versions are immutable rows; the agent points at its current one.
//! A tenant sees its own agents, the platform's global ones and those shared
//! with it; only the owner changes them. The queries state that rule, and
//! the `shared_read` policies (`migrations/0003_agents.sql`) are what let a
//! foreign agent through RLS for reading; writes stay under
//! `tenant_isolation`, so they can only ever touch the owner's rows. The one
//! exception is a use count, which every user of a shared agent adds to:
//! through `sb_record_agent_use` (`migrations/0019_agent_library.sql`).

use async_trait::async_trait;
use uuid::Uuid;

use super::{db_error, now, write_audit, PgStore, Tx};
use crate::domain::{Agent, AgentConfig, AgentVersion, Sharing};
use crate::store::agent_library::{PLATFORM_TENANT, STARTERS};
use crate::store::agents::{
    agent_delete_audit, agent_sharing_audit, list_agents_sql, owned_agent_sql, visible_agent_sql,
    AgentRecord, AgentVersionRecord, AGENT_VERSIONS_SQL, CLEAR_SHARES_SQL, DELETE_AGENT_SQL,
    INSERT_AGENT_SQL, INSERT_VERSION_SQL, RECORD_SEED_SQL, SET_SHARING_SQL, UPDATE_AGENT_SQL,
    VISIBLE_TO,
};
use crate::store::sql::Dialect;
use crate::store::{
    plan_agent_change, Actor, AgentChange, AgentPlan, AgentRow, AgentStore, StoreError, StoreResult,
};

const SQL: Dialect = Dialect::Postgres;

fn to_i32(v: u32, what: &str) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| StoreError::Other(anyhow::anyhow!("{what} {v} is out of range")))
}

async fn insert_version(
    tx: &mut Tx,
    tenant_id: Uuid,
    agent_id: Uuid,
    version: u32,
    config: &AgentConfig,
    actor: &Actor,
    restored_from: Option<u32>,
) -> StoreResult<()> {
    sqlx::query(INSERT_VERSION_SQL)
        .bind(tenant_id)
        .bind(agent_id)
        .bind(to_i32(version, "agent version")?)
        .bind(&config.system_prompt)
        .bind(&config.model)
        .bind(f64::from(config.temperature))
        .bind(to_i32(config.max_tokens, "max_tokens")?)
        .bind(actor.email.as_deref())
        .bind(now())
        .bind(
            restored_from
                .map(|v| to_i32(v, "restored version"))
                .transpose()?,
        )
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "store an agent version"))?;
    Ok(())
}

/// A new agent at version 1, with its audit entry; returns its id.
async fn insert_agent(
    tx: &mut Tx,
    actor: &Actor,
    tenant_id: Uuid,
    row: &AgentRow,
    sharing: Sharing,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(INSERT_AGENT_SQL)
        .bind(tenant_id)
        .bind(id)
        .bind(&row.name)
        .bind(&row.description)
        .bind(sharing.as_str())
        .bind(&row.tags)
        .bind(row.category.as_deref())
        .bind(now())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "create an agent"))?;
    insert_version(tx, tenant_id, id, 1, &row.config, actor, None).await?;
    write_audit(tx, tenant_id, actor, &row.audit(id)).await?;
    Ok(id)
}

/// The tenant's own agent, locked for the rest of the transaction when
/// `lock` is set, so concurrent updates (in any process) take turns drawing
/// the next version number instead of colliding on it.
async fn owned_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid, lock: bool) -> StoreResult<Agent> {
    let lock = if lock { " FOR UPDATE OF a" } else { "" };
    sqlx::query_as::<_, AgentRecord>(&format!("{}{lock}", owned_agent_sql(SQL)))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db_error(e, "read an agent"))?
        .ok_or(StoreError::NotFound)?
        .into_agent(tenant_id)
}

#[async_trait]
impl AgentStore for PgStore {
    async fn list_agents(&self, viewer: Uuid) -> StoreResult<Vec<Agent>> {
        let mut tx = self.tenant_tx(viewer).await?;
        let rows = sqlx::query_as::<_, AgentRecord>(&list_agents_sql(SQL))
            .bind(viewer)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "list agents"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        rows.into_iter().map(|r| r.into_agent(viewer)).collect()
    }

    async fn agent(&self, viewer: Uuid, id: Uuid) -> StoreResult<Option<Agent>> {
        let mut tx = self.tenant_tx(viewer).await?;
        let row = sqlx::query_as::<_, AgentRecord>(&visible_agent_sql(SQL))
            .bind(viewer)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error(e, "read an agent"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        row.map(|r| r.into_agent(viewer)).transpose()
    }

    async fn create_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: &AgentRow,
    ) -> StoreResult<Agent> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let id = insert_agent(&mut tx, actor, tenant_id, row, Sharing::Private).await?;
        let agent = owned_in(&mut tx, tenant_id, id, false).await?;
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let before = owned_in(&mut tx, tenant_id, id, true).await?;
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
        sqlx::query(UPDATE_AGENT_SQL)
            .bind(&name)
            .bind(&description)
            .bind(to_i32(version, "agent version")?)
            .bind(now())
            .bind(tenant_id)
            .bind(id)
            .bind(&tags)
            .bind(category.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "update an agent"))?;
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let agent = owned_in(&mut tx, tenant_id, id, false).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an agent update"))?;
        Ok(agent)
    }

    async fn delete_agent(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let agent = owned_in(&mut tx, tenant_id, id, true).await?;
        sqlx::query(DELETE_AGENT_SQL)
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete an agent"))?;
        write_audit(&mut tx, tenant_id, actor, &agent_delete_audit(&agent)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an agent deletion"))
    }

    async fn agent_versions(&self, viewer: Uuid, id: Uuid) -> StoreResult<Vec<AgentVersion>> {
        let mut tx = self.tenant_tx(viewer).await?;
        // The visibility check and the read in one transaction (one snapshot
        // of the sharing state).
        let owner: Option<Uuid> = sqlx::query_scalar(&format!(
            "SELECT a.tenant_id FROM agents a JOIN tenants t ON t.id = a.tenant_id \
             WHERE {VISIBLE_TO} AND a.id = $2"
        ))
        .bind(viewer)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an agent"))?;
        let owner = owner.ok_or(StoreError::NotFound)?;
        let rows = sqlx::query_as::<_, AgentVersionRecord>(AGENT_VERSIONS_SQL)
            .bind(owner)
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "list agent versions"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let before = owned_in(&mut tx, tenant_id, id, true).await?;
        sqlx::query(SET_SHARING_SQL)
            .bind(sharing.as_str())
            .bind(now())
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "change sharing"))?;
        sqlx::query(CLEAR_SHARES_SQL)
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "change sharing"))?;
        if sharing == Sharing::Selective && !tenants.is_empty() {
            sqlx::query(
                "INSERT INTO agent_shares (tenant_id, agent_id, shared_tenant_id) \
                 SELECT $1, $2, t FROM unnest($3::uuid[]) AS t ON CONFLICT DO NOTHING",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(tenants)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "share an agent"))?;
        }
        let entry = agent_sharing_audit(&before, sharing, tenants);
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        let agent = owned_in(&mut tx, tenant_id, id, false).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a sharing change"))?;
        Ok(agent)
    }

    async fn seed_agent_library(&self) -> StoreResult<Vec<&'static str>> {
        let mut tx = self.tenant_tx(PLATFORM_TENANT).await?;
        let mut seeded = Vec::new();
        for starter in &STARTERS {
            // The record first: a key seeded before (even if its agent was
            // deleted since) inserts nothing. Servers starting together
            // wait on the key's unique index; the later ones insert nothing.
            let fresh = sqlx::query(RECORD_SEED_SQL)
                .bind(PLATFORM_TENANT)
                .bind(starter.key)
                .bind(now())
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
        // RLS lets the user read a shared agent but not write it; the
        // function does this one increment as the owner (see its comment).
        let mut tx = self.tenant_tx(user).await?;
        let counted: bool = sqlx::query_scalar("SELECT public.sb_record_agent_use($1, $2, $3)")
            .bind(owner)
            .bind(id)
            .bind(now())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "count an agent's use"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an agent's use"))?;
        Ok(counted)
    }
}
