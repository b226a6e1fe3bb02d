//! Agents: versions are immutable rows; the agent points at its current one.
//! A tenant sees its own agents, the platform's global ones and those shared
//! with it; only the owner changes them. The queries state that rule, and
//! the `shared_read` policies (`migrations/0003_agents.sql`) are what let a
//! foreign agent through RLS for reading; writes stay under
//! `tenant_isolation`, so they can only ever touch the owner's rows. The one
//! exception is a use count, which every user of a shared agent adds to:
//! through `sb_record_agent_use` (`migrations/0019_agent_library.sql`).

use async_trait::async_trait;
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::{db_error, now, write_audit, PgStore, Tx};
use crate::domain::{Agent, AgentConfig, AgentVersion, Sharing};
use crate::store::agent_library::{PLATFORM_TENANT, STARTERS};
use crate::store::{
    plan_agent_change, Actor, AgentChange, AgentPlan, AgentRow, AgentStore, AuditEntry, StoreError,
    StoreResult,
};

const AGENT_SELECT: &str = "SELECT a.tenant_id, a.id, a.name, a.description, a.current_version, \
     a.sharing, a.created_at, a.updated_at, a.tags, a.category, a.use_count, a.last_used_at, \
     t.name AS owner_name, v.system_prompt, v.model, \
     v.temperature, v.max_tokens, \
     (SELECT array_agg(s.shared_tenant_id ORDER BY s.shared_tenant_id) FROM agent_shares s \
        WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id) AS shares \
     FROM agents a JOIN tenants t ON t.id = a.tenant_id \
     JOIN agent_versions v ON v.tenant_id = a.tenant_id AND v.agent_id = a.id \
        AND v.version = a.current_version";

/// Agents `$1` may see: its own, global ones of the platform tenant, and
/// selective ones shared with it (the same rule as the SQLite store).
const VISIBLE_TO: &str = "(a.tenant_id = $1 \
     OR (a.sharing = 'global' AND t.is_platform) \
     OR (a.sharing = 'selective' AND EXISTS (SELECT 1 FROM agent_shares s \
        WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id AND s.shared_tenant_id = $1)))";

fn config_from_row(
    row: &PgRow,
    err: impl Fn(sqlx::Error) -> StoreError,
) -> StoreResult<AgentConfig> {
    Ok(AgentConfig {
        system_prompt: row.try_get("system_prompt").map_err(&err)?,
        model: row.try_get("model").map_err(&err)?,
        temperature: row.try_get::<f64, _>("temperature").map_err(&err)? as f32,
        max_tokens: u32::try_from(row.try_get::<i32, _>("max_tokens").map_err(&err)?)
            .map_err(|_| StoreError::Other(anyhow::anyhow!("negative max_tokens in store")))?,
    })
}

fn version_number(v: i32) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Other(anyhow::anyhow!("bad agent version {v}")))
}

fn agent_from_row(row: &PgRow, viewer: Uuid) -> StoreResult<Agent> {
    let err = |e| db_error(e, "read an agent");
    let tenant_id: Uuid = row.try_get("tenant_id").map_err(err)?;
    let sharing: String = row.try_get("sharing").map_err(err)?;
    let owner = tenant_id == viewer;
    // Only the owner learns whom it shares with (RLS would show another
    // viewer at most its own share row anyway).
    let shared_with = if owner {
        row.try_get::<Option<Vec<Uuid>>, _>("shares")
            .map_err(err)?
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Agent {
        id: row.try_get("id").map_err(err)?,
        tenant_id,
        owner_name: row.try_get("owner_name").map_err(err)?,
        name: row.try_get("name").map_err(err)?,
        description: row.try_get("description").map_err(err)?,
        version: version_number(row.try_get("current_version").map_err(err)?)?,
        config: config_from_row(row, err)?,
        sharing: Sharing::parse(&sharing)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad sharing {sharing:?}")))?,
        shared_with,
        read_only: !owner,
        tags: row.try_get("tags").map_err(err)?,
        category: row.try_get("category").map_err(err)?,
        use_count: row.try_get::<i64, _>("use_count").map_err(err)?.max(0) as u64,
        last_used_at: row.try_get("last_used_at").map_err(err)?,
        created_at: row.try_get("created_at").map_err(err)?,
        updated_at: row.try_get("updated_at").map_err(err)?,
    })
}

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
    sqlx::query(
        "INSERT INTO agent_versions (tenant_id, agent_id, version, system_prompt, model, \
         temperature, max_tokens, created_by, created_at, restored_from) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
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
    let at = now();
    sqlx::query(
        "INSERT INTO agents (tenant_id, id, name, description, current_version, sharing, \
         tags, category, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $8)",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(sharing.as_str())
    .bind(&row.tags)
    .bind(row.category.as_deref())
    .bind(at)
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
    let row = sqlx::query(&format!(
        "{AGENT_SELECT} WHERE a.tenant_id = $1 AND a.id = $2{lock}"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read an agent"))?
    .ok_or(StoreError::NotFound)?;
    agent_from_row(&row, tenant_id)
}

#[async_trait]
impl AgentStore for PgStore {
    async fn list_agents(&self, viewer: Uuid) -> StoreResult<Vec<Agent>> {
        let mut tx = self.tenant_tx(viewer).await?;
        // Byte order of names, like SQLite, whatever the database collation.
        let rows = sqlx::query(&format!(
            "{AGENT_SELECT} WHERE {VISIBLE_TO} ORDER BY a.tenant_id <> $1, a.name COLLATE \"C\""
        ))
        .bind(viewer)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list agents"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        rows.iter().map(|r| agent_from_row(r, viewer)).collect()
    }

    async fn agent(&self, viewer: Uuid, id: Uuid) -> StoreResult<Option<Agent>> {
        let mut tx = self.tenant_tx(viewer).await?;
        let row = sqlx::query(&format!("{AGENT_SELECT} WHERE {VISIBLE_TO} AND a.id = $2"))
            .bind(viewer)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error(e, "read an agent"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        row.map(|r| agent_from_row(&r, viewer)).transpose()
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
        sqlx::query(
            "UPDATE agents SET name = $1, description = $2, current_version = $3, \
             updated_at = $4, tags = $7, category = $8 WHERE tenant_id = $5 AND id = $6",
        )
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
        sqlx::query("DELETE FROM agents WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete an agent"))?;
        let entry = AuditEntry {
            action: "agent.delete",
            resource: "agent",
            resource_id: id.to_string(),
            changes: json!({ "name": agent.name }),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
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
        let rows = sqlx::query(
            "SELECT version, system_prompt, model, temperature, max_tokens, created_by, \
             created_at, restored_from FROM agent_versions WHERE tenant_id = $1 AND agent_id = $2 \
             ORDER BY version DESC",
        )
        .bind(owner)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list agent versions"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        rows.iter()
            .map(|r| {
                let err = |e| db_error(e, "read an agent version");
                Ok(AgentVersion {
                    agent_id: id,
                    version: version_number(r.try_get("version").map_err(err)?)?,
                    config: config_from_row(r, err)?,
                    created_by: r.try_get("created_by").map_err(err)?,
                    created_at: r.try_get("created_at").map_err(err)?,
                    restored_from: r
                        .try_get::<Option<i32>, _>("restored_from")
                        .map_err(err)?
                        .map(version_number)
                        .transpose()?,
                })
            })
            .collect()
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
        sqlx::query(
            "UPDATE agents SET sharing = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(sharing.as_str())
        .bind(now())
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "change sharing"))?;
        sqlx::query("DELETE FROM agent_shares WHERE tenant_id = $1 AND agent_id = $2")
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
        let entry = AuditEntry {
            action: "agent.sharing",
            resource: "agent",
            resource_id: id.to_string(),
            changes: json!({
                "sharing": { "from": before.sharing, "to": sharing },
                "tenants": { "from": before.shared_with, "to": tenants },
            }),
        };
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
            let fresh = sqlx::query(
                "INSERT INTO agent_library_seeds (tenant_id, key, seeded_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
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
