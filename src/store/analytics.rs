//! Aggregates for the analytics views. A supertrait of [`super::Store`], so
//! `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreResult;

#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Aggregates over `[from, to)` for one tenant, or every tenant (`None`);
    /// with `assignee`, over the leads assigned to that member only.
    async fn analytics(
        &self,
        tenant: Option<Uuid>,
        assignee: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Analytics>;
    /// One row per client tenant (the platform tenant left out).
    async fn tenant_overview(
        &self,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<crate::domain::TenantOverview>>;
}
