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
    /// The conversion cohort: one tenant's leads created in `[from, to)`,
    /// spam left out, with their stage moves oldest first; with `assignee`,
    /// only the leads assigned to that member.
    async fn funnel_leads(
        &self,
        tenant: Uuid,
        assignee: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<crate::domain::FunnelLead>>;
    /// One row per client tenant (the platform tenant left out).
    async fn tenant_overview(
        &self,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<crate::domain::TenantOverview>>;
}

/// Gives each lead of the cohort its moves (`moves` in time order, each
/// with its lead's id); moves of leads outside the cohort are dropped.
pub(crate) fn with_moves(
    mut leads: Vec<crate::domain::FunnelLead>,
    moves: Vec<(Uuid, crate::domain::StageMove)>,
) -> Vec<crate::domain::FunnelLead> {
    let index: std::collections::HashMap<Uuid, usize> =
        leads.iter().enumerate().map(|(i, l)| (l.id, i)).collect();
    for (lead, m) in moves {
        if let Some(&i) = index.get(&lead) {
            leads[i].moves.push(m);
        }
    }
    leads
}
