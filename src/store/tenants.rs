//! Tenants: the organisations everything else belongs to. A supertrait of
//! [`super::Store`], so `DynStore` offers it too.

use async_trait::async_trait;
use uuid::Uuid;

use super::row::{Id, Time};
use super::{Actor, AuditEntry, StoreError, StoreResult};
use crate::domain::tenant_profile::effective_user_limit;
use crate::domain::{
    Page, PageQuery, Stage, Tenant, TenantSettings, TenantStatus, TenantUsage, Tier,
};

/// A tenant as stored (name, slug, tier, settings).
#[derive(Debug, Clone)]
pub struct TenantRow {
    pub name: String,
    pub slug: String,
    pub tier: Tier,
    pub settings: TenantSettings,
    /// A platform admin's override of the tier's member limit.
    pub user_limit: Option<u32>,
}

impl TenantRow {
    /// The row of a tenant as it is now, to change.
    pub fn of(t: &Tenant) -> Self {
        Self {
            name: t.name.clone(),
            slug: t.slug.clone(),
            tier: t.tier,
            settings: t.settings.clone(),
            user_limit: t.user_limit_override,
        }
    }
}

/// A tenant as each backend's tenant SELECT reads it, with its usage counted.
#[derive(sqlx::FromRow)]
pub(crate) struct TenantRecord {
    id: Id,
    name: String,
    slug: String,
    tier: Tier,
    status: TenantStatus,
    is_platform: bool,
    #[sqlx(json)]
    settings: TenantSettings,
    created_at: Time,
    user_limit: Option<i64>,
    users: i64,
    /// None before the tenant's first lead this month (SQLite).
    leads_this_month: Option<i64>,
}

impl From<TenantRecord> for Tenant {
    fn from(r: TenantRecord) -> Tenant {
        let user_limit_override = r.user_limit.and_then(|n| u32::try_from(n).ok());
        Tenant {
            id: r.id.into(),
            name: r.name,
            slug: r.slug,
            tier: r.tier,
            status: r.status,
            is_platform: r.is_platform,
            created_at: r.created_at.into(),
            settings: r.settings,
            user_limit_override,
            usage: TenantUsage {
                users: r.users as u32,
                user_limit: effective_user_limit(r.tier, user_limit_override),
                leads_this_month: r.leads_this_month.unwrap_or(0).max(0) as u32,
                lead_limit: r.tier.lead_limit(),
            },
        }
    }
}

/// Whose tenants a listing covers.
#[derive(Debug, Clone, Copy)]
pub enum TenantScope {
    All,
    MemberOf(Uuid),
}

/// The stages `before` has that `after` drops; each must be empty to go
/// (see [`stage_may_go`]).
pub fn dropped_stages<'a>(
    before: &'a TenantSettings,
    after: &'a TenantSettings,
) -> impl Iterator<Item = &'a Stage> + 'a {
    before
        .pipeline_stages
        .iter()
        .filter(|s| after.stage(&s.id).is_none())
}

/// The stage-in-use rule, given how many leads are in a dropped stage: a
/// stage may go only when no lead is in it.
pub fn stage_may_go(stage: &Stage, leads: i64) -> StoreResult<()> {
    if leads > 0 {
        return Err(StoreError::StageInUse {
            stage: stage.name.clone(),
            leads: leads as u32,
        });
    }
    Ok(())
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// A new tenant, recorded in its audit log.
    async fn create_tenant(&self, actor: &Actor, row: TenantRow) -> StoreResult<Tenant>;
    async fn list_tenants(&self, scope: TenantScope, page: &PageQuery)
        -> StoreResult<Page<Tenant>>;
    /// By id or slug.
    async fn tenant(&self, id_or_slug: &str) -> StoreResult<Option<Tenant>>;
    /// Stores the tenant as `row`, with the audit entry the server worked out.
    async fn update_tenant(
        &self,
        actor: &Actor,
        id: Uuid,
        row: TenantRow,
        audit: AuditEntry,
    ) -> StoreResult<Tenant>;
    async fn set_tenant_status(
        &self,
        actor: &Actor,
        id: Uuid,
        status: TenantStatus,
    ) -> StoreResult<Tenant>;
}
