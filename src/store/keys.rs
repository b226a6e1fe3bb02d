//! API keys (stored as hashes) and the audit log every change writes to. Both
//! are supertraits of [`super::Store`], so `DynStore` offers them too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Actor, StoreResult};
use crate::domain::{ApiKey, ApiKeyScope, AuditEvent, AuditFilter, Page, PageQuery, Tenant};

/// Who an API key belongs to, found by its hash.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub tenant_id: Uuid,
    pub key_id: Uuid,
    pub revoked: bool,
    pub workspace_id: Option<Uuid>,
}

/// A key as stored: the secret only as its hash, with a hint to tell it by.
#[derive(Debug, Clone)]
pub struct NewApiKeyRow {
    pub name: String,
    pub prefix: String,
    pub last_four: String,
    pub key_hash: String,
    pub scope: ApiKeyScope,
    pub workspace_id: Option<Uuid>,
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn create_api_key(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewApiKeyRow,
    ) -> StoreResult<ApiKey>;
    async fn list_api_keys(&self, tenant_id: Uuid, page: &PageQuery) -> StoreResult<Page<ApiKey>>;
    async fn revoke_api_key(&self, actor: &Actor, tenant_id: Uuid, id: Uuid)
        -> StoreResult<ApiKey>;
    async fn api_key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>>;
    /// What an ingest needs before it builds the lead: the key's owner and
    /// its tenant (one round trip on PostgreSQL). The tenant's usage counts
    /// are not read: they are zero here.
    async fn ingest_context(&self, key_hash: &str) -> StoreResult<Option<(KeyOwner, Tenant)>>;
    async fn touch_api_key(
        &self,
        tenant_id: Uuid,
        key_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn list_audit(
        &self,
        tenant_id: Uuid,
        filter: &AuditFilter,
        page: &PageQuery,
    ) -> StoreResult<Page<AuditEvent>>;
}
