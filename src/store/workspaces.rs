//! Workspaces: a channel with the agent that answers on it. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use uuid::Uuid;

use super::{Actor, StoreResult};
use crate::domain::{Channel, Workspace};

/// A workspace as stored: the agent is addressed with its owner tenant.
#[derive(Debug, Clone)]
pub struct WorkspaceRow {
    pub name: String,
    pub channel: Channel,
    pub agent: Option<(Uuid, Uuid)>,
    pub strategy_active: bool,
}

#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    async fn list_workspaces(&self, tenant_id: Uuid) -> StoreResult<Vec<Workspace>>;
    async fn workspace(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Workspace>>;
    async fn create_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace>;
    async fn update_workspace(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        row: WorkspaceRow,
    ) -> StoreResult<Workspace>;
    async fn delete_workspace(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
}
