//! A tenant's knowledge base, full-text indexed by the store itself (SQLite
//! FTS5, PostgreSQL `tsvector` with a GIN index), which agents may use it,
//! and the history the workflow's research step reads. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Actor, AuditEntry, StoreResult};
use crate::domain::knowledge::{
    AgentKnowledge, KnowledgeDocument, KnowledgeInput, KnowledgeSnippet, KnowledgeSummary,
};
use crate::domain::research::RelatedLead;

/// Earlier leads the research step reads at most.
pub const RESEARCH_LEADS: u32 = 5;
/// Notes per lead the research step reads at most.
pub const RESEARCH_NOTES: u32 = 5;

/// The audit entry of a knowledge change, the same on every backend.
pub fn knowledge_audit(
    action: &'static str,
    id: Uuid,
    input: Option<&KnowledgeInput>,
) -> AuditEntry {
    AuditEntry {
        action,
        resource: "knowledge_document",
        resource_id: id.to_string(),
        changes: match input {
            Some(i) => serde_json::json!({
                "title": i.title,
                "chars": i.body.chars().count(),
                "chunks": i.chunks.len(),
            }),
            None => serde_json::json!({}),
        },
    }
}

#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// The tenant's documents, by title.
    async fn list_knowledge(&self, tenant_id: Uuid) -> StoreResult<Vec<KnowledgeSummary>>;
    async fn knowledge_count(&self, tenant_id: Uuid) -> StoreResult<u32>;
    async fn knowledge_document(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<KnowledgeDocument>>;
    /// Stores the document and indexes its chunks, in one transaction.
    async fn create_knowledge(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        input: KnowledgeInput,
        now: DateTime<Utc>,
    ) -> StoreResult<KnowledgeDocument>;
    /// Replaces the document and its chunks, in one transaction.
    async fn update_knowledge(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        input: KnowledgeInput,
        now: DateTime<Utc>,
    ) -> StoreResult<KnowledgeDocument>;
    async fn delete_knowledge(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    /// The chunks best matching any of `terms`, best first; only the listed
    /// documents when `documents` is given. No terms find nothing.
    async fn search_knowledge(
        &self,
        tenant_id: Uuid,
        terms: &[String],
        documents: Option<&[Uuid]>,
        limit: u32,
    ) -> StoreResult<Vec<KnowledgeSnippet>>;
    /// Which knowledge an agent may use (the default when never set). The
    /// agent is `owner`'s.
    async fn agent_knowledge(&self, owner: Uuid, agent_id: Uuid) -> StoreResult<AgentKnowledge>;
    async fn set_agent_knowledge(
        &self,
        actor: &Actor,
        owner: Uuid,
        agent_id: Uuid,
        knowledge: &AgentKnowledge,
    ) -> StoreResult<AgentKnowledge>;
    /// The tenant's other leads with the same email or company as
    /// `lead_id` (newest first, at most [`RESEARCH_LEADS`]), each with its
    /// newest notes, and `lead_id`'s own notes as the first entry when it
    /// has any.
    async fn lead_history(&self, tenant_id: Uuid, lead_id: Uuid) -> StoreResult<Vec<RelatedLead>>;
}
