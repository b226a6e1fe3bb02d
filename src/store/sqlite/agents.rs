//! Agents: versions are immutable rows; the agent points at its current one.
//! A tenant sees its own agents, the platform's global ones and those shared
//! with it; only the owner changes them.

use async_trait::async_trait;
use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::{db_error, now_ms, parse_uuid, to_dt, write_audit, SqliteStore};
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
     (SELECT group_concat(s.shared_tenant_id) FROM agent_shares s \
        WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id) AS shares \
     FROM agents a JOIN tenants t ON t.id = a.tenant_id \
     JOIN agent_versions v ON v.tenant_id = a.tenant_id AND v.agent_id = a.id \
        AND v.version = a.current_version";

/// Agents `?1` may see: its own, global ones of the platform tenant, and
/// selective ones shared with it.
const VISIBLE_TO: &str = "(a.tenant_id = ?1 \
     OR (a.sharing = 'global' AND t.is_platform = 1) \
     OR (a.sharing = 'selective' AND EXISTS (SELECT 1 FROM agent_shares s \
        WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id AND s.shared_tenant_id = ?1)))";

fn agent_from_row(row: &SqliteRow, viewer: Uuid) -> StoreResult<Agent> {
    let err = |e| db_error(e, "read an agent");
    let tenant_id = parse_uuid(&row.try_get::<String, _>("tenant_id").map_err(err)?)?;
    let sharing: String = row.try_get("sharing").map_err(err)?;
    let owner = tenant_id == viewer;
    let shares: Option<String> = row.try_get("shares").map_err(err)?;
    let shared_with = if owner {
        shares
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(parse_uuid)
            .collect::<StoreResult<Vec<_>>>()?
    } else {
        Vec::new()
    };
    Ok(Agent {
        id: parse_uuid(&row.try_get::<String, _>("id").map_err(err)?)?,
        tenant_id,
        owner_name: row.try_get("owner_name").map_err(err)?,
        name: row.try_get("name").map_err(err)?,
        description: row.try_get("description").map_err(err)?,
        version: row.try_get::<i64, _>("current_version").map_err(err)? as u32,
        config: AgentConfig {
            system_prompt: row.try_get("system_prompt").map_err(err)?,
            model: row.try_get("model").map_err(err)?,
            temperature: row.try_get::<f64, _>("temperature").map_err(err)? as f32,
            max_tokens: row.try_get::<i64, _>("max_tokens").map_err(err)? as u32,
        },
        sharing: Sharing::parse(&sharing)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad sharing {sharing:?}")))?,
        shared_with,
        read_only: !owner,
        tags: serde_json::from_str(&row.try_get::<String, _>("tags").map_err(err)?)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("bad agent tags in store: {e}")))?,
        category: row.try_get("category").map_err(err)?,
        use_count: row.try_get::<i64, _>("use_count").map_err(err)?.max(0) as u64,
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")
            .map_err(err)?
            .map(to_dt),
        created_at: to_dt(row.try_get("created_at").map_err(err)?),
        updated_at: to_dt(row.try_get("updated_at").map_err(err)?),
    })
}

async fn insert_version(
    tx: &mut Transaction<'static, Sqlite>,
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
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
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
    let at = now_ms();
    sqlx::query(
        "INSERT INTO agents (tenant_id, id, name, description, current_version, sharing, \
         tags, category, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
    )
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .bind(&row.name)
    .bind(&row.description)
    .bind(sharing.as_str())
    .bind(tags_json(&row.tags)?)
    .bind(row.category.as_deref())
    .bind(at)
    .bind(at)
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
    let row = sqlx::query(&format!(
        "{AGENT_SELECT} WHERE a.tenant_id = ? AND a.id = ?"
    ))
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read an agent"))?
    .ok_or(StoreError::NotFound)?;
    agent_from_row(&row, tenant_id)
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn list_agents(&self, viewer: Uuid) -> StoreResult<Vec<Agent>> {
        let rows = sqlx::query(&format!(
            "{AGENT_SELECT} WHERE {VISIBLE_TO} ORDER BY a.tenant_id <> ?1, a.name"
        ))
        .bind(viewer.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list agents"))?;
        rows.iter().map(|r| agent_from_row(r, viewer)).collect()
    }

    async fn agent(&self, viewer: Uuid, id: Uuid) -> StoreResult<Option<Agent>> {
        let row = sqlx::query(&format!("{AGENT_SELECT} WHERE {VISIBLE_TO} AND a.id = ?2"))
            .bind(viewer.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "read an agent"))?;
        row.map(|r| agent_from_row(&r, viewer)).transpose()
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
        sqlx::query(
            "UPDATE agents SET name = ?, description = ?, tags = ?, category = ?, \
             current_version = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(&name)
        .bind(&description)
        .bind(tags_json(&tags)?)
        .bind(category.as_deref())
        .bind(version as i64)
        .bind(now_ms())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
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
        sqlx::query("DELETE FROM agents WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id.to_string())
            .bind(id.to_string())
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
        let Some(agent) = self.agent(viewer, id).await? else {
            return Err(StoreError::NotFound);
        };
        let rows = sqlx::query(
            "SELECT version, system_prompt, model, temperature, max_tokens, created_by, \
             created_at, restored_from FROM agent_versions WHERE tenant_id = ? AND agent_id = ? \
             ORDER BY version DESC",
        )
        .bind(agent.tenant_id.to_string())
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list agent versions"))?;
        rows.iter()
            .map(|r| {
                let err = |e| db_error(e, "read an agent version");
                Ok(AgentVersion {
                    agent_id: id,
                    version: r.try_get::<i64, _>("version").map_err(err)? as u32,
                    config: AgentConfig {
                        system_prompt: r.try_get("system_prompt").map_err(err)?,
                        model: r.try_get("model").map_err(err)?,
                        temperature: r.try_get::<f64, _>("temperature").map_err(err)? as f32,
                        max_tokens: r.try_get::<i64, _>("max_tokens").map_err(err)? as u32,
                    },
                    created_by: r.try_get("created_by").map_err(err)?,
                    created_at: to_dt(r.try_get("created_at").map_err(err)?),
                    restored_from: r
                        .try_get::<Option<i64>, _>("restored_from")
                        .map_err(err)?
                        .map(|v| v as u32),
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
        let (_writer, mut tx) = self.write().await?;
        let before = owned_in(&mut tx, tenant_id, id).await?;
        sqlx::query("UPDATE agents SET sharing = ?, updated_at = ? WHERE tenant_id = ? AND id = ?")
            .bind(sharing.as_str())
            .bind(now_ms())
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "change sharing"))?;
        sqlx::query("DELETE FROM agent_shares WHERE tenant_id = ? AND agent_id = ?")
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
            let fresh = sqlx::query(
                "INSERT INTO agent_library_seeds (tenant_id, key, seeded_at) VALUES (?, ?, ?) \
                 ON CONFLICT DO NOTHING",
            )
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
        // visibility rule as VISIBLE_TO, for the user of the agent.
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
