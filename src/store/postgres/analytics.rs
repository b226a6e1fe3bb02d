//! Analytics and the platform overview through the owner's aggregate
//! functions (`sb_analytics`, `sb_tenant_overview`; see
//! `migrations/0005_workflows_analytics.sql`): they look across tenants for
//! platform admins, which RLS would hide.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{db_error, ms, PgStore};
use crate::domain::analytics::{every_day, met_percent};
use crate::domain::lead::month_key;
use crate::domain::{
    Analytics, DayCount, FunnelLead, NamedCount, ResponseTimes, SlaSummary, StageMove,
    TenantOverview,
};
use crate::store::analytics::{with_moves, OverviewRecord};
use crate::store::{AnalyticsStore, StoreError, StoreResult};

/// What `sb_analytics` returns.
#[derive(Deserialize)]
struct Aggregates {
    leads: u32,
    spam: u32,
    by_day: Vec<DayCount>,
    by_source: Vec<NamedCount>,
    by_stage: Vec<NamedCount>,
    qualification: Vec<NamedCount>,
    met: u32,
    missed: u32,
    open: u32,
    responded: u32,
    median_ms: Option<f64>,
    p90_ms: Option<f64>,
}

/// A lead of the conversion cohort.
#[derive(sqlx::FromRow)]
struct CohortRow {
    id: Uuid,
    source: String,
    stage: String,
    created_at: DateTime<Utc>,
}

/// A stage move of a lead of the cohort.
#[derive(sqlx::FromRow)]
struct MoveRow {
    lead_id: Uuid,
    created_at: DateTime<Utc>,
    from_stage: Option<String>,
    to_stage: Option<String>,
}

#[async_trait]
impl AnalyticsStore for PgStore {
    async fn analytics(
        &self,
        tenant: Option<Uuid>,
        assignee: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Analytics> {
        let json: serde_json::Value = sqlx::query_scalar("SELECT sb_analytics($1, $2, $3, $4, $5)")
            .bind(tenant)
            .bind(ms(from))
            .bind(ms(to))
            .bind(ms(now))
            .bind(assignee)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_error(e, "compute analytics"))?;
        let a: Aggregates = serde_json::from_value(json)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("bad analytics from the store: {e}")))?;
        Ok(Analytics {
            tenant_id: tenant,
            assignee_id: assignee,
            from,
            to,
            leads: a.leads,
            spam: a.spam,
            spam_rate: (a.leads > 0).then(|| f64::from(a.spam) / f64::from(a.leads)),
            by_day: every_day(from, to, &a.by_day),
            by_source: a.by_source,
            by_stage: a.by_stage,
            qualification: a.qualification,
            sla: SlaSummary {
                met: a.met,
                missed: a.missed,
                open: a.open,
                met_percent: met_percent(a.met, a.missed),
            },
            first_response: ResponseTimes {
                responded: a.responded,
                median_minutes: a.median_ms.map(|v| v / 60_000.0),
                p90_minutes: a.p90_ms.map(|v| v / 60_000.0),
            },
            conversion: None,
        })
    }

    async fn funnel_leads(
        &self,
        tenant: Uuid,
        assignee: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<FunnelLead>> {
        // One tenant's rows: RLS scopes the transaction to it.
        let mut tx = self.tenant_tx(tenant).await?;
        let err = |e| db_error(e, "compute the conversion");
        let leads: Vec<CohortRow> = sqlx::query_as(
            "SELECT id, source, stage, created_at FROM leads \
             WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 AND NOT spam \
               AND ($4::uuid IS NULL OR assignee_id = $4)",
        )
        .bind(tenant)
        .bind(ms(from))
        .bind(ms(to))
        .bind(assignee)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        let moves: Vec<MoveRow> = sqlx::query_as(
            "SELECT e.lead_id, e.created_at, e.data->>'from' AS from_stage, \
               e.data->>'to' AS to_stage \
             FROM lead_events e JOIN leads l ON l.tenant_id = e.tenant_id AND l.id = e.lead_id \
             WHERE e.tenant_id = $1 AND e.kind = 'stage_changed' \
               AND l.created_at >= $2 AND l.created_at < $3 AND NOT l.spam \
               AND ($4::uuid IS NULL OR l.assignee_id = $4) \
             ORDER BY e.created_at, e.id",
        )
        .bind(tenant)
        .bind(ms(from))
        .bind(ms(to))
        .bind(assignee)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        let leads = leads
            .into_iter()
            .map(|r| FunnelLead {
                id: r.id,
                source: r.source,
                stage: r.stage,
                created_at: r.created_at,
                moves: Vec::new(),
            })
            .collect();
        let moves = moves
            .into_iter()
            .map(|r| {
                (
                    r.lead_id,
                    StageMove {
                        at: r.created_at,
                        from: r.from_stage.unwrap_or_default(),
                        to: r.to_stage.unwrap_or_default(),
                    },
                )
            })
            .collect();
        Ok(with_moves(leads, moves))
    }

    async fn tenant_overview(&self, now: DateTime<Utc>) -> StoreResult<Vec<TenantOverview>> {
        // A tenant being deleted is gone from the overview at once.
        let rows = sqlx::query_as::<_, OverviewRecord>(
            "SELECT o.* FROM sb_tenant_overview($1, $2, $3) o \
             JOIN tenants t ON t.id = o.id WHERE t.deleting_at IS NULL",
        )
        .bind(month_key(now))
        .bind(ms(now))
        .bind(ms(now - chrono::Duration::days(30)))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "compute the platform overview"))?;
        Ok(rows.into_iter().map(TenantOverview::from).collect())
    }
}
