//! Agents (versioned configurations, optionally shared with other tenants) and
//! the one plan of a change every backend applies. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use uuid::Uuid;

use super::{Actor, AuditEntry, StoreResult};
use crate::domain::{Agent, AgentConfig, AgentVersion, Sharing};

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
