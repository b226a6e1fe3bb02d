//! Agents (versioned configurations, optionally shared with other tenants) and
//! the one plan of a change every backend applies. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use uuid::Uuid;

use super::row::{Id, IdList, Int, TextList, Time};
use super::sql::Dialect;
use super::{Actor, AuditEntry, StoreResult};
use crate::domain::{Agent, AgentConfig, AgentVersion, Sharing};

/// An agent with its current version's configuration, `$1`'s view of it:
/// both backends' [`agent_select`] reads it. `shares` lists the tenants a
/// selective agent is shared with.
#[derive(sqlx::FromRow)]
pub(crate) struct AgentRecord {
    tenant_id: Id,
    id: Id,
    name: String,
    description: String,
    current_version: Int,
    sharing: Sharing,
    created_at: Time,
    updated_at: Time,
    tags: TextList,
    category: Option<String>,
    use_count: i64,
    last_used_at: Option<Time>,
    owner_name: String,
    #[sqlx(flatten)]
    config: ConfigRecord,
    shares: Option<IdList>,
}

/// An agent version's configuration columns.
#[derive(sqlx::FromRow)]
pub(crate) struct ConfigRecord {
    system_prompt: String,
    model: String,
    temperature: f64,
    max_tokens: Int,
}

impl ConfigRecord {
    fn into_config(self) -> StoreResult<AgentConfig> {
        Ok(AgentConfig {
            system_prompt: self.system_prompt,
            model: self.model,
            temperature: self.temperature as f32,
            max_tokens: self.max_tokens.to_u32("max_tokens")?,
        })
    }
}

impl AgentRecord {
    /// The agent as `viewer` sees it: read-only unless it owns it, and only
    /// the owner learns whom it is shared with.
    pub(crate) fn into_agent(self, viewer: Uuid) -> StoreResult<Agent> {
        let tenant_id: Uuid = self.tenant_id.into();
        let owner = tenant_id == viewer;
        Ok(Agent {
            id: self.id.into(),
            tenant_id,
            owner_name: self.owner_name,
            name: self.name,
            description: self.description,
            version: self.current_version.to_u32("agent version")?,
            config: self.config.into_config()?,
            sharing: self.sharing,
            shared_with: match self.shares {
                Some(shares) if owner => shares.0,
                _ => Vec::new(),
            },
            read_only: !owner,
            tags: self.tags.0,
            category: self.category,
            use_count: self.use_count.max(0) as u64,
            last_used_at: self.last_used_at.map(Into::into),
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

/// One stored version of an agent, as [`AGENT_VERSIONS_SQL`] reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct AgentVersionRecord {
    version: Int,
    #[sqlx(flatten)]
    config: ConfigRecord,
    created_by: Option<String>,
    created_at: Time,
    restored_from: Option<Int>,
}

impl AgentVersionRecord {
    pub(crate) fn into_version(self, agent_id: Uuid) -> StoreResult<AgentVersion> {
        Ok(AgentVersion {
            agent_id,
            version: self.version.to_u32("agent version")?,
            config: self.config.into_config()?,
            created_by: self.created_by,
            created_at: self.created_at.into(),
            restored_from: self
                .restored_from
                .map(|v| v.to_u32("agent version"))
                .transpose()?,
        })
    }
}

/// The agents `$1` may see (its own, global ones of the platform tenant,
/// selective ones shared with it), read by [`AgentRecord`]; a WHERE
/// clause or more follows.
pub(crate) fn agent_select(d: Dialect) -> String {
    let shares = match d {
        Dialect::Sqlite => "group_concat(s.shared_tenant_id)",
        Dialect::Postgres => "array_agg(s.shared_tenant_id ORDER BY s.shared_tenant_id)",
    };
    d.write(&format!(
        "SELECT a.tenant_id, a.id, a.name, a.description, a.current_version, \
         a.sharing, a.created_at, a.updated_at, a.tags, a.category, a.use_count, a.last_used_at, \
         t.name AS owner_name, v.system_prompt, v.model, v.temperature, v.max_tokens, \
         (SELECT {shares} FROM agent_shares s \
            WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id) AS shares \
         FROM agents a JOIN tenants t ON t.id = a.tenant_id \
         JOIN agent_versions v ON v.tenant_id = a.tenant_id AND v.agent_id = a.id \
            AND v.version = a.current_version"
    ))
}

/// Agents `$1` may see: its own, global ones of the platform tenant, and
/// selective ones shared with it (`a` an agent, `t` its owner).
pub(crate) const VISIBLE_TO: &str = "(a.tenant_id = $1 \
     OR (a.sharing = 'global' AND t.is_platform) \
     OR (a.sharing = 'selective' AND EXISTS (SELECT 1 FROM agent_shares s \
        WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id AND s.shared_tenant_id = $1)))";

/// The agents `$1` may see, its own first, by name (in byte order).
pub(crate) fn list_agents_sql(d: Dialect) -> String {
    d.write(&format!(
        "{} WHERE {VISIBLE_TO} ORDER BY a.tenant_id <> $1, a.name COLLATE \"C\"",
        agent_select(d)
    ))
}

/// Agent `$2` if `$1` may see it.
pub(crate) fn visible_agent_sql(d: Dialect) -> String {
    d.write(&format!(
        "{} WHERE {VISIBLE_TO} AND a.id = $2",
        agent_select(d)
    ))
}

/// Tenant `$1`'s own agent `$2`, as its owner sees it.
pub(crate) fn owned_agent_sql(d: Dialect) -> String {
    d.write(&format!(
        "{} WHERE a.tenant_id = $1 AND a.id = $2",
        agent_select(d)
    ))
}

/// Agent `$2` of tenant `$1`'s versions, newest first.
pub(crate) const AGENT_VERSIONS_SQL: &str = "SELECT version, system_prompt, model, temperature, \
     max_tokens, created_by, created_at, restored_from FROM agent_versions \
     WHERE tenant_id = $1 AND agent_id = $2 ORDER BY version DESC";

/// A version: tenant, agent, version, system prompt, model, temperature,
/// max tokens, author, time, the version it restores.
pub(crate) const INSERT_VERSION_SQL: &str = "INSERT INTO agent_versions (tenant_id, agent_id, \
     version, system_prompt, model, temperature, max_tokens, created_by, created_at, \
     restored_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// A new agent at version 1: tenant, id, name, description, sharing, tags,
/// category, time (created and updated).
pub(crate) const INSERT_AGENT_SQL: &str = "INSERT INTO agents (tenant_id, id, name, description, \
     current_version, sharing, tags, category, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $8)";

/// An [`AgentPlan`] applied: name, description, version, time, tenant,
/// id, tags, category.
pub(crate) const UPDATE_AGENT_SQL: &str = "UPDATE agents SET name = $1, description = $2, \
     current_version = $3, updated_at = $4, tags = $7, category = $8 \
     WHERE tenant_id = $5 AND id = $6";

pub(crate) const DELETE_AGENT_SQL: &str = "DELETE FROM agents WHERE tenant_id = $1 AND id = $2";

/// Sharing `$1` at time `$2` for tenant `$3`'s agent `$4`.
pub(crate) const SET_SHARING_SQL: &str =
    "UPDATE agents SET sharing = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4";

pub(crate) const CLEAR_SHARES_SQL: &str =
    "DELETE FROM agent_shares WHERE tenant_id = $1 AND agent_id = $2";

/// A starter's key recorded as seeded (tenant, key, time); nothing when it
/// was seeded before.
pub(crate) const RECORD_SEED_SQL: &str = "INSERT INTO agent_library_seeds (tenant_id, key, \
     seeded_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// What the audit log says of a deleted agent.
pub fn agent_delete_audit(agent: &Agent) -> AuditEntry {
    AuditEntry {
        action: "agent.delete",
        resource: "agent",
        resource_id: agent.id.to_string(),
        changes: serde_json::json!({ "name": agent.name }),
    }
}

/// What the audit log says of a change of sharing.
pub fn agent_sharing_audit(before: &Agent, sharing: Sharing, tenants: &[Uuid]) -> AuditEntry {
    AuditEntry {
        action: "agent.sharing",
        resource: "agent",
        resource_id: before.id.to_string(),
        changes: serde_json::json!({
            "sharing": { "from": before.sharing, "to": sharing },
            "tenants": { "from": before.shared_with, "to": tenants },
        }),
    }
}

/// A new agent, validated by the server.
#[derive(Debug, Clone)]
pub struct AgentRow {
    pub name: String,
    pub description: String,
    pub config: AgentConfig,
    pub tags: Vec<String>,
    pub category: Option<String>,
    /// A copy ("use as template"): the agent it was made from, (owner, id),
    /// recorded in the audit log.
    pub copied_from: Option<(Uuid, Uuid)>,
}

impl AgentRow {
    /// A starter of the library, as first seeded.
    pub fn starter(s: &super::agent_library::Starter) -> Self {
        AgentRow {
            name: s.name.to_string(),
            description: s.description.to_string(),
            config: s.config(),
            tags: s.tags(),
            category: Some(s.category.to_string()),
            copied_from: None,
        }
    }

    /// What the audit log says of a new agent.
    pub fn audit(&self, id: Uuid) -> AuditEntry {
        let mut changes = serde_json::json!({
            "name": self.name, "model": self.config.model, "version": 1,
        });
        if let Some((owner, from)) = self.copied_from {
            changes["copied_from"] = serde_json::json!({ "tenant_id": owner, "agent_id": from });
        }
        AuditEntry {
            action: "agent.create",
            resource: "agent",
            resource_id: id.to_string(),
            changes,
        }
    }
}

/// A change to an agent, validated by the server.
#[derive(Debug, Clone, Default)]
pub struct AgentChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `Some(None)` clears it.
    pub category: Option<Option<String>>,
    /// A new version with this configuration.
    pub config: Option<AgentConfig>,
    /// The version this one restores, for the record.
    pub restored_from: Option<u32>,
}

/// What an [`AgentChange`] does, worked out once for every backend.
#[derive(Debug, Clone)]
pub struct AgentPlan {
    /// A new version to store, with its number.
    pub new_version: Option<(u32, AgentConfig)>,
    pub version: u32,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub category: Option<String>,
    /// Empty when nothing changes.
    pub fields: Vec<&'static str>,
    pub audit: AuditEntry,
}

pub fn plan_agent_change(before: &Agent, change: AgentChange) -> AgentPlan {
    let mut version = before.version;
    let mut fields = Vec::new();
    let mut new_version = None;
    if let Some(config) = change.config.filter(|c| *c != before.config) {
        version += 1;
        new_version = Some((version, config));
        fields.push("config");
    }
    let name = change.name.unwrap_or_else(|| before.name.clone());
    let description = change
        .description
        .unwrap_or_else(|| before.description.clone());
    if name != before.name {
        fields.push("name");
    }
    if description != before.description {
        fields.push("description");
    }
    let tags = change.tags.unwrap_or_else(|| before.tags.clone());
    if tags != before.tags {
        fields.push("tags");
    }
    let category = change.category.unwrap_or_else(|| before.category.clone());
    if category != before.category {
        fields.push("category");
    }
    let audit = AuditEntry {
        action: if change.restored_from.is_some() {
            "agent.restore"
        } else {
            "agent.update"
        },
        resource: "agent",
        resource_id: before.id.to_string(),
        changes: serde_json::json!({
            "fields": fields,
            "version": { "from": before.version, "to": version },
            "restored_from": change.restored_from,
        }),
    };
    AgentPlan {
        new_version,
        version,
        name,
        description,
        tags,
        category,
        fields,
        audit,
    }
}

/// Agents; `viewer` is the tenant looking: shared agents are read-only to it.
#[async_trait]
pub trait AgentStore: Send + Sync {
    async fn list_agents(&self, viewer: Uuid) -> StoreResult<Vec<Agent>>;
    async fn agent(&self, viewer: Uuid, id: Uuid) -> StoreResult<Option<Agent>>;
    async fn create_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: &AgentRow,
    ) -> StoreResult<Agent>;
    /// Renames and/or records `config` as a new version (when it is given).
    async fn update_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: AgentChange,
    ) -> StoreResult<Agent>;
    async fn delete_agent(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    async fn agent_versions(&self, viewer: Uuid, id: Uuid) -> StoreResult<Vec<AgentVersion>>;
    async fn set_agent_sharing(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        sharing: Sharing,
        tenants: &[Uuid],
    ) -> StoreResult<Agent>;
    /// Seeds the platform tenant with the starters of
    /// [`super::agent_library::STARTERS`] not seeded before (ever: a deleted
    /// one stays deleted); returns the keys seeded now.
    async fn seed_agent_library(&self) -> StoreResult<Vec<&'static str>>;
    /// Counts one answer of agent `id` of tenant `owner`, used by tenant
    /// `user` (the owner, or a tenant the agent is shared with): one atomic
    /// increment of its use count, and its last use set to now. False when
    /// `user` cannot see the agent (it was deleted or unshared meanwhile).
    async fn record_agent_use(&self, user: Uuid, owner: Uuid, id: Uuid) -> StoreResult<bool>;
}
