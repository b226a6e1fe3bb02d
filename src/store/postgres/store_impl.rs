//! `Store` for `PgStore`: one line per operation, delegating to the
//! modules that own them; and the LISTEN side of cross-process live events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::PgStore;
use crate::domain::{Agent, AgentConfig, AgentVersion, Sharing, Workspace};
use crate::store::{Actor, AgentChange, Store, StoreResult, WorkspaceRow};

#[async_trait]
impl Store for PgStore {
    async fn list_agents(&self, viewer: Uuid) -> StoreResult<Vec<Agent>> {
        self.list_agents_impl(viewer).await
    }
    async fn agent(&self, viewer: Uuid, id: Uuid) -> StoreResult<Option<Agent>> {
        self.agent_impl(viewer, id).await
    }
    async fn create_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        name: &str,
        description: &str,
        config: &AgentConfig,
    ) -> StoreResult<Agent> {
        self.create_agent_impl(actor, tenant_id, name, description, config)
            .await
    }
    async fn update_agent(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: AgentChange,
    ) -> StoreResult<Agent> {
        self.update_agent_impl(actor, tenant_id, id, change).await
    }
    async fn delete_agent(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        self.delete_agent_impl(actor, tenant_id, id).await
    }
    async fn agent_versions(&self, viewer: Uuid, id: Uuid) -> StoreResult<Vec<AgentVersion>> {
        self.agent_versions_impl(viewer, id).await
    }
    async fn set_agent_sharing(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        sharing: Sharing,
        tenants: &[Uuid],
    ) -> StoreResult<Agent> {
        self.set_agent_sharing_impl(actor, tenant_id, id, sharing, tenants)
            .await
    }
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>> {
        self.list_workspaces_impl(tenant_id).await
    }
    async fn workspace(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>> {
        self.workspace_impl(tenant_id, id).await
    }
    async fn create_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        self.create_workspace_impl(actor, tenant_id, row).await
    }
    async fn update_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace> {
        self.update_workspace_impl(actor, tenant_id, id, row).await
    }
    async fn delete_workspace(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        self.delete_workspace_impl(actor, tenant_id, id).await
    }

    async fn create_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: crate::store::PlaygroundSessionRow,
    ) -> StoreResult<crate::domain::PlaygroundSession> {
        self.create_playground_session_impl(actor, tenant_id, row)
            .await
    }
    async fn list_playground_sessions(
        &self,
        tenant_id: Uuid,
    ) -> StoreResult<Vec<crate::domain::PlaygroundSession>> {
        self.list_playground_sessions_impl(tenant_id).await
    }
    async fn playground_session(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<crate::domain::PlaygroundSession>> {
        self.playground_session_impl(tenant_id, id).await
    }
    async fn delete_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        self.delete_playground_session_impl(actor, tenant_id, id)
            .await
    }
    async fn playground_messages(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
    ) -> StoreResult<Vec<crate::domain::PlaygroundMessage>> {
        self.playground_messages_impl(tenant_id, session_id).await
    }
    async fn add_playground_message(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
        row: crate::store::PlaygroundMessageRow,
    ) -> StoreResult<crate::domain::PlaygroundMessage> {
        self.add_playground_message_impl(tenant_id, session_id, row)
            .await
    }
    async fn link_playground_lead(
        &self,
        tenant_id: Uuid,
        message_id: Uuid,
        lead_id: Uuid,
    ) -> StoreResult<()> {
        self.link_playground_lead_impl(tenant_id, message_id, lead_id)
            .await
    }

    async fn create_workflow(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: crate::store::NewWorkflowRow,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Workflow> {
        self.create_workflow_impl(actor, tenant_id, row, now).await
    }
    async fn workflow(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<crate::domain::Workflow>> {
        self.workflow_impl(tenant_id, id).await
    }
    async fn list_workflows(
        &self,
        tenant_id: Uuid,
        status: Option<crate::domain::WorkflowStatus>,
        lead_id: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::Workflow>> {
        self.list_workflows_impl(tenant_id, status, lead_id, limit)
            .await
    }
    async fn transition_workflow(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        t: crate::store::WorkflowTransition,
    ) -> StoreResult<crate::domain::Workflow> {
        self.transition_workflow_impl(tenant_id, id, t).await
    }
    async fn claim_workflow(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<crate::store::ClaimedWorkflow>> {
        self.claim_workflow_impl(now, lease_until).await
    }
    async fn recover_workflows(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        self.recover_workflows_impl(now).await
    }

    async fn analytics(
        &self,
        tenant: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Analytics> {
        self.analytics_impl(tenant, from, to, now).await
    }
    async fn tenant_overview(
        &self,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<crate::domain::TenantOverview>> {
        self.tenant_overview_impl(now).await
    }
}
