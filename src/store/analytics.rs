//! Aggregates for the analytics views. A supertrait of [`super::Store`], so
//! `DynStore` offers it too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::row::Id;
use super::StoreResult;
use crate::domain::analytics::met_percent;
use crate::domain::{TenantOverview, Tier};

/// A tenant's line of the platform overview, as both backends read it.
#[derive(sqlx::FromRow)]
pub(crate) struct OverviewRecord {
    id: Id,
    name: String,
    slug: String,
    tier: Tier,
    status: String,
    month_leads: i64,
    overdue: i64,
    met: i64,
    missed: i64,
    awaiting: i64,
}

impl From<OverviewRecord> for TenantOverview {
    fn from(r: OverviewRecord) -> TenantOverview {
        TenantOverview {
            tenant_id: r.id.into(),
            name: r.name,
            slug: r.slug,
            tier: r.tier,
            suspended: r.status == "suspended",
            leads_this_month: r.month_leads as u32,
            lead_limit: r.tier.lead_limit(),
            sla_met_percent: met_percent(r.met as u32, r.missed as u32),
            overdue_now: r.overdue as u32,
            awaiting_approval: r.awaiting as u32,
            usage_today: Default::default(),
        }
    }
}

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
