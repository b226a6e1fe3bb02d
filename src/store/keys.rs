//! API keys (stored as hashes) and the audit log every change writes to. Both
//! are supertraits of [`super::Store`], so `DynStore` offers them too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::row::{Id, JsonOrNull, Time};
use super::{Actor, AuditEntry, StoreError, StoreResult};
use crate::domain::{
    ApiKey, ApiKeyScope, ApiKeyState, AuditEvent, AuditFilter, Page, PageQuery, Tenant,
};

/// The key columns both backends select, read by [`ApiKeyRecord`].
pub(crate) const KEY_COLUMNS: &str = "id, name, prefix, last_four, scope, created_by, \
     workspace_id, created_at, last_used_at, revoked_at, expires_at, replaced_by";

/// An API key as [`KEY_COLUMNS`] reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRecord {
    id: Id,
    name: String,
    prefix: String,
    last_four: String,
    scope: ApiKeyScope,
    created_by: Option<Id>,
    workspace_id: Option<Id>,
    created_at: Time,
    last_used_at: Option<Time>,
    revoked_at: Option<Time>,
    expires_at: Option<Time>,
    replaced_by: Option<Id>,
}

impl From<ApiKeyRecord> for ApiKey {
    fn from(r: ApiKeyRecord) -> ApiKey {
        ApiKey {
            id: r.id.into(),
            name: r.name,
            prefix: r.prefix,
            last_four: r.last_four,
            scope: r.scope,
            created_by: r.created_by.map(Uuid::from),
            workspace_id: r.workspace_id.map(Uuid::from),
            created_at: r.created_at.into(),
            last_used_at: r.last_used_at.map(Into::into),
            revoked_at: r.revoked_at.map(Into::into),
            expires_at: r.expires_at.map(Into::into),
            replaced_by: r.replaced_by.map(Uuid::from),
        }
    }
}

/// Who a key belongs to: `tenant_id, key_id, revoked, workspace_id,
/// expires_at`.
#[derive(sqlx::FromRow)]
pub(crate) struct KeyOwnerRecord {
    tenant_id: Id,
    key_id: Id,
    revoked: bool,
    workspace_id: Option<Id>,
    expires_at: Option<Time>,
}

impl From<KeyOwnerRecord> for KeyOwner {
    fn from(r: KeyOwnerRecord) -> KeyOwner {
        KeyOwner {
            tenant_id: r.tenant_id.into(),
            key_id: r.key_id.into(),
            revoked: r.revoked,
            workspace_id: r.workspace_id.map(Uuid::from),
            expires_at: r.expires_at.map(Into::into),
        }
    }
}

/// The audit columns both backends select, read by [`AuditRecord`].
pub(crate) const AUDIT_COLUMNS: &str = "tenant_id, id, actor_id, actor_email, action, resource, \
     resource_id, changes, created_at";

/// An audit entry as [`AUDIT_COLUMNS`] reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRecord {
    id: Id,
    tenant_id: Id,
    actor_id: Option<Id>,
    actor_email: Option<String>,
    action: String,
    resource: String,
    resource_id: String,
    changes: JsonOrNull,
    created_at: Time,
}

impl From<AuditRecord> for AuditEvent {
    fn from(r: AuditRecord) -> AuditEvent {
        AuditEvent {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            actor_id: r.actor_id.map(Uuid::from),
            actor_email: r.actor_email,
            action: r.action,
            resource: r.resource,
            resource_id: r.resource_id,
            changes: r.changes.0,
            created_at: r.created_at.into(),
        }
    }
}

/// Who an API key belongs to, found by its hash.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    pub tenant_id: Uuid,
    pub key_id: Uuid,
    pub revoked: bool,
    pub workspace_id: Option<Uuid>,
    /// A rotated key works until then.
    pub expires_at: Option<DateTime<Utc>>,
}

impl KeyOwner {
    /// Whether ingest accepts the key at `now` (the server's clock): not
    /// revoked, and not past the end of a rotation's overlap.
    pub fn accepts(&self, now: DateTime<Utc>) -> bool {
        let revoked = self.revoked.then_some(now);
        ApiKeyState::of(revoked, self.expires_at, now).accepts()
    }
}

/// A rotation as stored: the new key's secret only as its hash, and when
/// the old key stops working (`now` itself revokes it at once).
#[derive(Debug, Clone)]
pub struct KeyRotation {
    pub prefix: String,
    pub last_four: String,
    pub key_hash: String,
    pub now: DateTime<Utc>,
    pub overlap: chrono::Duration,
}

impl KeyRotation {
    /// When the old key stops working.
    pub fn old_expires_at(&self) -> DateTime<Utc> {
        self.now + self.overlap
    }

    /// A zero overlap revokes the old key there and then, so an ingest
    /// already past its check is refused where the store re-checks it.
    pub fn revokes_at_once(&self) -> bool {
        self.overlap <= chrono::Duration::zero()
    }

    /// Refuses to rotate a key that no longer works or was already
    /// replaced: both backends call this on the row they locked.
    pub fn check(&self, old: &ApiKey) -> StoreResult<()> {
        let detail = match (old.state(self.now), old.replaced_by) {
            (ApiKeyState::Revoked { .. }, _) => {
                "this key is revoked and cannot be rotated; create a new key instead"
            }
            (ApiKeyState::Expired { .. }, _) => {
                "this key has expired and cannot be rotated; create a new key instead"
            }
            (_, Some(_)) => "this key was already rotated; rotate the key that replaced it instead",
            _ => return Ok(()),
        };
        Err(StoreError::Refused {
            field: "id",
            detail: detail.to_string(),
        })
    }

    /// The new key: the old one's name, scope and workspace.
    pub fn successor(&self, old: &ApiKey, actor: &Actor) -> ApiKey {
        ApiKey {
            id: Uuid::now_v7(),
            name: old.name.clone(),
            prefix: self.prefix.clone(),
            last_four: self.last_four.clone(),
            scope: old.scope,
            created_by: actor.user_id,
            workspace_id: old.workspace_id,
            created_at: self.now,
            last_used_at: None,
            revoked_at: None,
            expires_at: None,
            replaced_by: None,
        }
    }

    /// The audit entry on the old key: what replaced it and until when it
    /// works; the new key named by its id and prefix, never its secret.
    pub fn audit(&self, old: &ApiKey, new: &ApiKey) -> AuditEntry {
        AuditEntry {
            action: "api_key.rotate",
            resource: "api_key",
            resource_id: old.id.to_string(),
            changes: serde_json::json!({
                "replaced_by": new.id,
                "new_prefix": new.prefix,
                "overlap_minutes": self.overlap.num_minutes(),
                "expires_at": self.old_expires_at(),
            }),
        }
    }
}

/// The two keys after a rotation.
#[derive(Debug, Clone)]
pub struct RotatedKeys {
    pub new: ApiKey,
    pub old: ApiKey,
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
    /// Creates the key that replaces `id` and sets when `id` stops working,
    /// in one transaction with its audit entry. `NotFound` for no such key
    /// of the tenant; `Refused` (see [`KeyRotation::check`]).
    async fn rotate_api_key(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        rotation: KeyRotation,
    ) -> StoreResult<RotatedKeys>;
    async fn api_key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>>;
    /// What an ingest needs before it builds the lead: the key's owner and
    /// its tenant (one round trip on PostgreSQL). The tenant's usage counts
    /// are not read: they are zero here.
    async fn ingest_context(&self, key_hash: &str) -> StoreResult<Option<(KeyOwner, Tenant)>>;
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
