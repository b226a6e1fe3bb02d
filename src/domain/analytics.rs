//! How a tenant (or the whole platform) is doing over a period, and the
//! operator's morning table of every tenant.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::conversion::Conversion;
use super::tenant::Tier;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DayCount {
    pub day: NaiveDate,
    pub leads: u32,
    pub spam: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NamedCount {
    pub name: String,
    pub count: u32,
}

/// SLA outcomes of the period's leads (spam left out).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlaSummary {
    /// Answered within the SLA window.
    pub met: u32,
    /// Answered late, or not answered and past due.
    pub missed: u32,
    /// Not answered, still within the window.
    pub open: u32,
    /// met / (met + missed), when anything is decided.
    pub met_percent: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResponseTimes {
    /// Leads answered.
    pub responded: u32,
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Analytics {
    /// `None`: every tenant (platform admins).
    pub tenant_id: Option<Uuid>,
    /// Set when the figures cover only the leads assigned to this member
    /// (`analytics:view_own` without `analytics:view_all`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub leads: u32,
    pub spam: u32,
    /// spam / leads, when there are leads.
    pub spam_rate: Option<f64>,
    /// Every day of the period, oldest first, zeros included.
    pub by_day: Vec<DayCount>,
    pub by_source: Vec<NamedCount>,
    pub by_stage: Vec<NamedCount>,
    /// Qualification categories, `unqualified` for the rest (spam left out).
    pub qualification: Vec<NamedCount>,
    pub sla: SlaSummary,
    pub first_response: ResponseTimes,
    /// Conversion through the tenant's pipeline; only in one tenant's
    /// figures (pipelines differ between tenants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<Conversion>,
}

/// One row of the platform overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantOverview {
    pub tenant_id: Uuid,
    pub name: String,
    pub slug: String,
    pub tier: Tier,
    pub suspended: bool,
    pub leads_this_month: u32,
    pub lead_limit: Option<u32>,
    /// Over the last 30 days.
    pub sla_met_percent: Option<f64>,
    /// Unanswered and past due, right now.
    pub overdue_now: u32,
    pub awaiting_approval: u32,
    /// API calls, ingests, generations and tokens so far today (UTC).
    #[serde(default)]
    pub usage_today: crate::domain::usage::UsageCounts,
}

/// `?from=&to=` as dates (UTC days, `to` inclusive); default the last 30 days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The longest period one request may cover.
pub const MAX_DAYS: i64 = 366;

impl AnalyticsQuery {
    /// The period as instants `[from, to)`, or what is wrong with it.
    pub fn period(&self, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
        let today = now.date_naive();
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or_else(|| to - chrono::Duration::days(29));
        if from > to {
            return Err(format!("from ({from}) is after to ({to})"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(format!(
                "the period is longer than {MAX_DAYS} days; shorten it"
            ));
        }
        let start = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let end = (to + chrono::Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc();
        Ok((start, end))
    }
}

/// Fills the days with no leads so a chart has every day of the period.
pub fn every_day(from: DateTime<Utc>, to: DateTime<Utc>, counted: &[DayCount]) -> Vec<DayCount> {
    let mut out = Vec::new();
    let mut day = from.date_naive();
    let last = (to - chrono::Duration::milliseconds(1)).date_naive();
    while day <= last {
        out.push(
            counted
                .iter()
                .find(|d| d.day == day)
                .cloned()
                .unwrap_or(DayCount {
                    day,
                    leads: 0,
                    spam: 0,
                }),
        );
        day += chrono::Duration::days(1);
    }
    out
}

/// met / (met + missed) as a percentage.
pub fn met_percent(met: u32, missed: u32) -> Option<f64> {
    let decided = met + missed;
    (decided > 0).then(|| f64::from(met) * 100.0 / f64::from(decided))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_period_is_the_last_30_days_inclusive() {
        let now = "2026-11-25T17:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let (from, to) = AnalyticsQuery::default().period(now).unwrap();
        assert_eq!(from.to_rfc3339(), "2026-10-27T00:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-26T00:00:00+00:00");
        assert_eq!(every_day(from, to, &[]).len(), 30);
        let bad = AnalyticsQuery {
            from: NaiveDate::from_ymd_opt(2026, 11, 2),
            to: NaiveDate::from_ymd_opt(2026, 11, 1),
        };
        assert!(bad.period(now).is_err());
    }
}
