//! Analytics as SQL aggregates over one tenant's (or every tenant's) leads
//! in a period, and the platform overview.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{db_error, parse_uuid, to_dt, SqliteStore};
use crate::domain::analytics::{every_day, met_percent};
use crate::domain::lead::month_key;
use crate::domain::{
    Analytics, DayCount, FunnelLead, NamedCount, ResponseTimes, SlaSummary, StageMove,
    TenantOverview,
};
use crate::store::analytics::{with_moves, OverviewRecord};
use crate::store::{AnalyticsStore, StoreError, StoreResult};

/// `?1` tenant (NULL: all), `?2`..`?3` the period in ms, `?4` the assignee
/// (NULL: every lead).
const PERIOD: &str = "(?1 IS NULL OR tenant_id = ?1) AND created_at >= ?2 AND created_at < ?3 \
                      AND (?4 IS NULL OR assignee_id = ?4)";

/// A lead of the conversion cohort.
#[derive(sqlx::FromRow)]
struct CohortRow {
    id: String,
    source: String,
    stage: String,
    created_at: i64,
}

/// A stage move of a lead of the cohort.
#[derive(sqlx::FromRow)]
struct MoveRow {
    lead_id: String,
    created_at: i64,
    from_stage: Option<String>,
    to_stage: Option<String>,
}

impl SqliteStore {
    async fn named(
        &self,
        sql: String,
        args: (&Option<String>, i64, i64, &Option<String>),
    ) -> StoreResult<Vec<NamedCount>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(&sql)
            .bind(args.0)
            .bind(args.1)
            .bind(args.2)
            .bind(args.3)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "count leads"))?;
        Ok(rows
            .into_iter()
            .map(|(name, n)| NamedCount {
                name,
                count: n as u32,
            })
            .collect())
    }
}

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn analytics(
        &self,
        tenant: Option<Uuid>,
        assignee: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Analytics> {
        let t = tenant.map(|t| t.to_string());
        let a = assignee.map(|a| a.to_string());
        let args = (&t, from.timestamp_millis(), to.timestamp_millis(), &a);
        let err = |e| db_error(e, "compute analytics");
        let (leads, spam): (i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*) AS n, coalesce(sum(spam), 0) AS spam FROM leads WHERE {PERIOD}"
        ))
        .bind(args.0)
        .bind(args.1)
        .bind(args.2)
        .bind(args.3)
        .fetch_one(&self.pool)
        .await
        .map_err(err)?;
        let (leads, spam) = (leads as u32, spam as u32);

        let days: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT date(created_at / 1000, 'unixepoch') AS day, count(*) AS n, \
             sum(spam) AS spam FROM leads WHERE {PERIOD} GROUP BY day"
        ))
        .bind(args.0)
        .bind(args.1)
        .bind(args.2)
        .bind(args.3)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let mut counted = Vec::with_capacity(days.len());
        for (day, n, spam) in days {
            let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                .map_err(|e| StoreError::Other(anyhow::anyhow!("bad day {day:?}: {e}")))?;
            counted.push(DayCount {
                day,
                leads: n as u32,
                spam: spam as u32,
            });
        }
        let by_source = self
            .named(
                format!(
                    "SELECT source AS label, count(*) AS n FROM leads WHERE {PERIOD} \
                     GROUP BY 1 ORDER BY n DESC, label"
                ),
                args,
            )
            .await?;
        let by_stage = self
            .named(
                format!(
                    "SELECT stage AS label, count(*) AS n FROM leads WHERE {PERIOD} AND spam = 0 \
                     GROUP BY 1 ORDER BY n DESC, label"
                ),
                args,
            )
            .await?;
        let qualification = self
            .named(
                format!(
                    "SELECT coalesce(qual_category, 'unqualified') AS label, count(*) AS n \
                     FROM leads WHERE {PERIOD} AND spam = 0 GROUP BY 1 ORDER BY n DESC, label"
                ),
                args,
            )
            .await?;

        let (met, missed, open, responded): (i64, i64, i64, i64) = sqlx::query_as(&format!(
            "SELECT \
               coalesce(sum(first_response_at IS NOT NULL AND first_response_at <= sla_due_at), 0) AS met, \
               coalesce(sum(first_response_at > sla_due_at \
                   OR (first_response_at IS NULL AND sla_due_at < ?5)), 0) AS missed, \
               coalesce(sum(first_response_at IS NULL AND sla_due_at >= ?5), 0) AS open, \
               coalesce(sum(first_response_at IS NOT NULL), 0) AS responded \
             FROM leads WHERE {PERIOD} AND spam = 0"
        ))
        .bind(args.0)
        .bind(args.1)
        .bind(args.2)
        .bind(args.3)
        .bind(now.timestamp_millis())
        .fetch_one(&self.pool)
        .await
        .map_err(err)?;
        let (met, missed, responded) = (met as u32, missed as u32, responded as u32);
        // Nearest-rank percentiles (like PostgreSQL's percentile_disc).
        let rank = |q: f64| ((q * f64::from(responded)).ceil() as i64 - 1).max(0);
        let mut minutes = Vec::new();
        for q in [0.5, 0.9] {
            let v: Option<i64> = if responded == 0 {
                None
            } else {
                sqlx::query_scalar(&format!(
                    "SELECT first_response_at - created_at AS ms FROM leads \
                     WHERE {PERIOD} AND spam = 0 AND first_response_at IS NOT NULL \
                     ORDER BY ms LIMIT 1 OFFSET ?5"
                ))
                .bind(args.0)
                .bind(args.1)
                .bind(args.2)
                .bind(args.3)
                .bind(rank(q))
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?
            };
            minutes.push(v.map(|ms| ms as f64 / 60_000.0));
        }
        Ok(Analytics {
            tenant_id: tenant,
            assignee_id: assignee,
            from,
            to,
            leads,
            spam,
            spam_rate: (leads > 0).then(|| f64::from(spam) / f64::from(leads)),
            by_day: every_day(from, to, &counted),
            by_source,
            by_stage,
            qualification,
            sla: SlaSummary {
                met,
                missed,
                open: open as u32,
                met_percent: met_percent(met, missed),
            },
            first_response: ResponseTimes {
                responded,
                median_minutes: minutes[0],
                p90_minutes: minutes[1],
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
        let t = Some(tenant.to_string());
        let a = assignee.map(|a| a.to_string());
        let err = |e| db_error(e, "compute the conversion");
        let leads: Vec<CohortRow> = sqlx::query_as(&format!(
            "SELECT id, source, stage, created_at FROM leads WHERE {PERIOD} AND spam = 0"
        ))
        .bind(&t)
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .bind(&a)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let moves: Vec<MoveRow> = sqlx::query_as(
            "SELECT e.lead_id, e.created_at, json_extract(e.data, '$.from') AS from_stage, \
               json_extract(e.data, '$.to') AS to_stage \
             FROM lead_events e JOIN leads l ON l.tenant_id = e.tenant_id AND l.id = e.lead_id \
             WHERE e.tenant_id = ?1 AND e.kind = 'stage_changed' \
               AND l.created_at >= ?2 AND l.created_at < ?3 AND l.spam = 0 \
               AND (?4 IS NULL OR l.assignee_id = ?4) \
             ORDER BY e.created_at, e.id",
        )
        .bind(&t)
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .bind(&a)
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let leads = leads
            .into_iter()
            .map(|r| {
                Ok(FunnelLead {
                    id: parse_uuid(&r.id)?,
                    source: r.source,
                    stage: r.stage,
                    created_at: to_dt(r.created_at),
                    moves: Vec::new(),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let moves = moves
            .into_iter()
            .map(|r| {
                Ok((
                    parse_uuid(&r.lead_id)?,
                    StageMove {
                        at: to_dt(r.created_at),
                        from: r.from_stage.unwrap_or_default(),
                        to: r.to_stage.unwrap_or_default(),
                    },
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(with_moves(leads, moves))
    }

    async fn tenant_overview(&self, now: DateTime<Utc>) -> StoreResult<Vec<TenantOverview>> {
        let since = now - chrono::Duration::days(30);
        let rows = sqlx::query_as::<_, OverviewRecord>(
            "SELECT t.id, t.name, t.slug, t.tier, t.status, \
               coalesce((SELECT count FROM lead_usage u \
                         WHERE u.tenant_id = t.id AND u.month = ?1), 0) AS month_leads, \
               (SELECT count(*) FROM leads l WHERE l.tenant_id = t.id AND l.spam = 0 \
                  AND l.responded = 0 AND l.sla_due_at < ?2) AS overdue, \
               (SELECT coalesce(sum(l.first_response_at IS NOT NULL \
                                    AND l.first_response_at <= l.sla_due_at), 0) \
                  FROM leads l WHERE l.tenant_id = t.id AND l.spam = 0 AND l.created_at >= ?3) AS met, \
               (SELECT coalesce(sum(l.first_response_at > l.sla_due_at \
                                    OR (l.first_response_at IS NULL AND l.sla_due_at < ?2)), 0) \
                  FROM leads l WHERE l.tenant_id = t.id AND l.spam = 0 AND l.created_at >= ?3) AS missed, \
               (SELECT count(*) FROM workflows w WHERE w.tenant_id = t.id \
                  AND w.status = 'awaiting_approval') AS awaiting \
             FROM tenants t WHERE t.is_platform = 0 AND t.deleting_at IS NULL ORDER BY t.name",
        )
        .bind(month_key(now))
        .bind(now.timestamp_millis())
        .bind(since.timestamp_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "compute the platform overview"))?;
        Ok(rows.into_iter().map(TenantOverview::from).collect())
    }
}
