//! Per-tenant rate limits and usage: what a tenant may do per minute, and
//! what it did per day (API calls, ingests, generations and tokens) and
//! holds (rows and bytes per table family).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Tier;

/// What a per-tenant rate limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateKind {
    /// Signed-in API calls to the tenant's resources.
    Api,
    /// Leads posted with the tenant's API keys.
    Ingest,
}

impl RateKind {
    pub const ALL: [RateKind; 2] = [RateKind::Api, RateKind::Ingest];

    pub fn as_str(self) -> &'static str {
        match self {
            RateKind::Api => "api",
            RateKind::Ingest => "ingest",
        }
    }

    /// The tier's default, in requests per minute.
    pub fn tier_default(self, tier: Tier) -> u32 {
        match (self, tier) {
            (RateKind::Api, Tier::Starter) => 600,
            (RateKind::Api, Tier::Pro) => 3_000,
            (RateKind::Api, Tier::Enterprise) => 12_000,
            (RateKind::Ingest, Tier::Starter) => 120,
            (RateKind::Ingest, Tier::Pro) => 600,
            (RateKind::Ingest, Tier::Enterprise) => 3_000,
        }
    }
}

/// The largest per-minute limit a tenant may be given.
pub const MAX_RATE_PER_MINUTE: u32 = 1_000_000;

/// A tenant's own limits, replacing its tier's defaults (platform admins
/// set them); `None` keeps the tier's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateOverrides {
    /// Signed-in API calls per minute.
    #[schema(minimum = 1, maximum = 1000000)]
    pub api_per_minute: Option<u32>,
    /// Leads ingested per minute (all the tenant's keys together).
    #[schema(minimum = 1, maximum = 1000000)]
    pub ingest_per_minute: Option<u32>,
}

impl RateOverrides {
    pub fn get(&self, kind: RateKind) -> Option<u32> {
        match kind {
            RateKind::Api => self.api_per_minute,
            RateKind::Ingest => self.ingest_per_minute,
        }
    }

    /// What is wrong with these overrides, field by field.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (field, value) in [
            ("api_per_minute", self.api_per_minute),
            ("ingest_per_minute", self.ingest_per_minute),
        ] {
            if let Some(v) = value {
                if !(1..=MAX_RATE_PER_MINUTE).contains(&v) {
                    out.push((
                        field,
                        format!(
                            "must be between 1 and {MAX_RATE_PER_MINUTE} requests a minute, \
                             or null for the tier's default"
                        ),
                    ));
                }
            }
        }
        out
    }
}

/// One limit as it applies to a tenant now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RateLimit {
    pub per_minute: u32,
    /// Set for this tenant rather than its tier's default.
    pub overridden: bool,
}

/// A tenant's limits as they apply now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RateLimits {
    pub api: RateLimit,
    pub ingest: RateLimit,
}

impl RateLimits {
    pub fn of(tier: Tier, overrides: &RateOverrides) -> Self {
        let one = |kind: RateKind| RateLimit {
            per_minute: overrides
                .get(kind)
                .unwrap_or_else(|| kind.tier_default(tier)),
            overridden: overrides.get(kind).is_some(),
        };
        RateLimits {
            api: one(RateKind::Api),
            ingest: one(RateKind::Ingest),
        }
    }
}

/// What a tenant did on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsageCounts {
    /// Signed-in API calls to the tenant's resources.
    pub api_calls: u64,
    /// Leads posted with the tenant's API keys (accepted or not).
    pub ingests: u64,
    /// Model generations (playground replies, workflow and eval steps).
    pub generations: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl UsageCounts {
    pub fn add(&mut self, other: &UsageCounts) {
        self.api_calls += other.api_calls;
        self.ingests += other.ingests;
        self.generations += other.generations;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
    }

    pub fn is_empty(&self) -> bool {
        *self == UsageCounts::default()
    }

    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsageDay {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub counts: UsageCounts,
}

/// Rows and bytes a tenant holds in one family of tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StorageUse {
    /// `leads`, `agents`, `playground`, `knowledge`, `workflows`, `evals`,
    /// `webhooks`, `audit`, `access`, `usage`.
    pub family: String,
    pub rows: u64,
    /// The stored size of those rows' values (the database's own measure
    /// on PostgreSQL, the values' lengths on SQLite); indexes not counted.
    pub bytes: u64,
}

/// `GET /api/v1/tenants/{tenant}/usage`: the tier's limits and how much of
/// them is used, the rate limits, what the tenant did per day and, when
/// asked for, what it stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub leads_this_month: u32,
    pub lead_limit: Option<u32>,
    pub users: u32,
    pub user_limit: Option<u32>,
    /// When the monthly lead count starts again (UTC).
    pub resets_at: DateTime<Utc>,
    /// The per-minute limits on API calls and ingest.
    pub limits: RateLimits,
    /// The period `days` covers (UTC days, inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// One entry per day of the period, days without use included.
    pub days: Vec<UsageDay>,
    pub totals: UsageCounts,
    /// Rows and bytes per table family, with `?storage=true` (it reads
    /// every row the tenant has, so it is not measured unless asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Vec<StorageUse>>,
}

/// `?from=&to=` as UTC days (`to` inclusive; default the last 30 days),
/// and `storage=true` to measure what the tenant stores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[serde(default)]
    pub storage: bool,
}

/// The longest period one usage request covers.
pub const MAX_USAGE_DAYS: i64 = 366;

impl UsageQuery {
    /// The period's first and last day, or what is wrong with it.
    pub fn days(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), String> {
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or(to - chrono::Duration::days(29));
        if from > to {
            return Err(format!("`from` ({from}) is after `to` ({to})"));
        }
        if (to - from).num_days() + 1 > MAX_USAGE_DAYS {
            return Err(format!(
                "the period covers more than {MAX_USAGE_DAYS} days; ask for a shorter one"
            ));
        }
        Ok((from, to))
    }
}

/// Days since 1970-01-01, as the usage tables key a UTC day.
pub fn day_number(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days()
}

/// The UTC day a day number names.
pub fn day_of(number: i64) -> NaiveDate {
    NaiveDate::default() + chrono::Duration::days(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_the_tier_default_one_by_one() {
        let limits = RateLimits::of(
            Tier::Starter,
            &RateOverrides {
                api_per_minute: None,
                ingest_per_minute: Some(7),
            },
        );
        assert_eq!(limits.api.per_minute, 600);
        assert!(!limits.api.overridden);
        assert_eq!(limits.ingest.per_minute, 7);
        assert!(limits.ingest.overridden);
    }

    #[test]
    fn out_of_range_overrides_are_named() {
        let bad = RateOverrides {
            api_per_minute: Some(0),
            ingest_per_minute: Some(MAX_RATE_PER_MINUTE + 1),
        };
        let fields: Vec<_> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["api_per_minute", "ingest_per_minute"]);
        assert!(RateOverrides::default().problems().is_empty());
    }

    #[test]
    fn day_numbers_round_trip() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
        assert_eq!(day_of(day_number(day)), day);
        assert_eq!(
            day_number(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap_or_default()),
            1
        );
    }

    #[test]
    fn the_default_period_is_the_last_thirty_days() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
        let (from, to) = UsageQuery::default().days(today).unwrap_or((today, today));
        assert_eq!((to - from).num_days(), 29);
        assert_eq!(to, today);
        let reversed = UsageQuery {
            from: Some(today),
            to: Some(today - chrono::Duration::days(1)),
            storage: false,
        };
        assert!(reversed.days(today).is_err());
    }
}
