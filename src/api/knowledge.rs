//! Knowledge base calls: documents, search, an agent's knowledge link, and
//! the starter document "Initialize tenant" writes.

use uuid::Uuid;

use super::{ApiResult, Client};
use crate::domain::knowledge::{starter_document, KnowledgeQuery};
use crate::domain::{
    AgentKnowledge, KnowledgeDocument, KnowledgePatch, KnowledgeSnippet, KnowledgeSummary,
    NewKnowledgeDocument,
};

fn knowledge(tenant: &str) -> String {
    format!("/api/v1/tenants/{tenant}/knowledge")
}

impl Client {
    /// The tenant's documents (without bodies), by title.
    pub async fn knowledge(&self, tenant: &str) -> ApiResult<Vec<KnowledgeSummary>> {
        self.get(&knowledge(tenant)).await
    }

    pub async fn knowledge_document(&self, tenant: &str, id: Uuid) -> ApiResult<KnowledgeDocument> {
        self.get(&format!("{}/{id}", knowledge(tenant))).await
    }

    pub async fn create_knowledge(
        &self,
        tenant: &str,
        new: &NewKnowledgeDocument,
    ) -> ApiResult<KnowledgeDocument> {
        self.post(&knowledge(tenant), new).await
    }

    pub async fn update_knowledge(
        &self,
        tenant: &str,
        id: Uuid,
        patch: &KnowledgePatch,
    ) -> ApiResult<KnowledgeDocument> {
        self.patch(&format!("{}/{id}", knowledge(tenant)), patch)
            .await
    }

    pub async fn delete_knowledge(&self, tenant: &str, id: Uuid) -> ApiResult<()> {
        self.delete(&format!("{}/{id}", knowledge(tenant))).await
    }

    /// The chunks best matching `q`, best first (`limit` 1–20, default 5).
    pub async fn search_knowledge(
        &self,
        tenant: &str,
        q: &str,
        limit: Option<u32>,
    ) -> ApiResult<Vec<KnowledgeSnippet>> {
        let query = KnowledgeQuery {
            q: q.to_string(),
            limit,
        };
        let rb = self
            .request(
                reqwest::Method::GET,
                &format!("{}/search", knowledge(tenant)),
            )
            .query(&query);
        self.json(rb).await
    }

    pub async fn agent_knowledge(&self, tenant: &str, agent: Uuid) -> ApiResult<AgentKnowledge> {
        self.get(&format!(
            "/api/v1/tenants/{tenant}/agents/{agent}/knowledge"
        ))
        .await
    }

    pub async fn set_agent_knowledge(
        &self,
        tenant: &str,
        agent: Uuid,
        link: &AgentKnowledge,
    ) -> ApiResult<AgentKnowledge> {
        let rb = self
            .request(
                reqwest::Method::PUT,
                &format!("/api/v1/tenants/{tenant}/agents/{agent}/knowledge"),
            )
            .json(link);
        self.json(rb).await
    }

    /// What "Initialize tenant" sends after creating the tenant: a short
    /// document about the business from the description the user typed.
    /// `Ok(None)` when nothing was typed (nothing is written).
    pub async fn write_starter_knowledge(
        &self,
        tenant: &str,
        tenant_name: &str,
        business: &str,
    ) -> ApiResult<Option<KnowledgeDocument>> {
        match starter_document(tenant_name, business) {
            Some(doc) => self.create_knowledge(tenant, &doc).await.map(Some),
            None => Ok(None),
        }
    }
}
