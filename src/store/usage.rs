//! Per-tenant rate windows and usage counters, shared by every server on
//! one database.
//!
//! A rate limit counts requests per tenant in fixed one-minute windows. The
//! count lives in the database (`rate_windows`): a server takes a *lease*
//! of several requests at once with one atomic upsert that never lets the
//! window's count pass the limit, and spends the lease from memory. So N
//! servers never admit more than the limit in a window together (no
//! overshoot); what a server leased and did not spend before the window
//! ended is lost (an undershoot of at most N × the lease size). The limit
//! itself is read in that upsert (the tenant's override, else the tier's
//! default), so a change applies from the next lease.
//!
//! Usage (API calls, ingests, generations, tokens per UTC day) is counted
//! in memory and added to `tenant_usage` every few seconds in one batch.

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

pub(crate) use super::sql::Dialect;
use super::StoreResult;
use crate::domain::usage::{RateKind, RateOverrides, StorageUse, UsageCounts, UsageDay};

/// Every tenant table, by the family its usage is reported under. The
/// catalogue test checks this covers every table that carries a tenant.
pub const USAGE_FAMILIES: [(&str, &str); 33] = [
    ("leads", "leads"),
    ("lead_events", "leads"),
    ("lead_usage", "leads"),
    ("idempotency_keys", "leads"),
    ("events", "leads"),
    ("agents", "agents"),
    ("agent_versions", "agents"),
    ("agent_shares", "agents"),
    ("agent_library_seeds", "agents"),
    ("workspaces", "agents"),
    ("playground_sessions", "playground"),
    ("playground_messages", "playground"),
    ("knowledge_documents", "knowledge"),
    ("knowledge_chunks", "knowledge"),
    ("agent_knowledge", "knowledge"),
    ("workflows", "workflows"),
    ("workflow_steps", "workflows"),
    ("eval_sets", "evals"),
    ("eval_cases", "evals"),
    ("eval_runs", "evals"),
    ("eval_results", "evals"),
    ("webhook_endpoints", "webhooks"),
    ("webhook_deliveries", "webhooks"),
    ("webhook_attempts", "webhooks"),
    ("outbox", "webhooks"),
    ("mail_quota", "webhooks"),
    ("audit_events", "audit"),
    ("memberships", "access"),
    ("invitations", "access"),
    ("api_keys", "access"),
    ("rate_windows", "usage"),
    ("rate_overrides", "usage"),
    ("tenant_usage", "usage"),
];

/// The families in the order reports list them.
pub fn usage_families() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for (_, family) in USAGE_FAMILIES {
        if !out.contains(&family) {
            out.push(family);
        }
    }
    out
}

/// Adds per-table figures up by family, every family listed.
pub fn by_family(tables: &[(&str, u64, u64)]) -> Vec<StorageUse> {
    usage_families()
        .into_iter()
        .map(|family| {
            let (rows, bytes) = tables
                .iter()
                .filter(|(t, _, _)| {
                    USAGE_FAMILIES
                        .iter()
                        .any(|(table, f)| table == t && *f == family)
                })
                .fold((0, 0), |(r, b), (_, rows, bytes)| (r + rows, b + bytes));
            StorageUse {
                family: family.to_string(),
                rows,
                bytes,
            }
        })
        .collect()
}

/// A lease asked of a tenant's rate window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateClaim {
    pub tenant_id: Uuid,
    pub kind: RateKind,
    /// The window: minutes since 1970-01-01 00:00 UTC.
    pub window: i64,
    /// Requests wanted.
    pub want: u32,
    /// The tier's default, used when the tenant has no override.
    pub tier_default: u32,
}

/// What a [`RateClaim`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateGrant {
    /// Requests granted (0 when the window is spent).
    pub granted: u32,
    /// The limit the window was counted against.
    pub limit: u32,
}

/// Usage to add to one tenant's UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageDelta {
    pub tenant_id: Uuid,
    /// Days since 1970-01-01.
    pub day: i64,
    pub counts: UsageCounts,
}

#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Takes up to `claim.want` requests of the window's limit at once;
    /// concurrent claims (from any server) never take more than the limit
    /// together. Windows more than a few minutes old are dropped on the way.
    async fn claim_rate(&self, claim: RateClaim) -> StoreResult<RateGrant>;

    /// The tenant's own limits (none set: both `None`).
    async fn rate_overrides(&self, tenant_id: Uuid) -> StoreResult<RateOverrides>;

    /// Replaces the tenant's own limits, audited as `tenant.limits`.
    async fn set_rate_overrides(
        &self,
        actor: &super::Actor,
        tenant_id: Uuid,
        overrides: &RateOverrides,
    ) -> StoreResult<()>;

    /// Adds counted usage, one upsert per tenant and day.
    async fn add_usage(&self, deltas: &[UsageDelta]) -> StoreResult<()>;

    /// The tenant's counted days within `[from, to]` (days without use are
    /// absent).
    async fn usage_days(
        &self,
        tenant_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<UsageDay>>;

    /// Every listed tenant's usage on one day, for the platform overview.
    async fn usage_on(&self, day: NaiveDate) -> StoreResult<Vec<(Uuid, UsageCounts)>>;

    /// Rows and bytes the tenant holds, per table family
    /// ([`USAGE_FAMILIES`]).
    async fn storage_use(&self, tenant_id: Uuid) -> StoreResult<Vec<StorageUse>>;
}

/// The days of `[from, to]`, each with what `counted` holds for it.
pub fn every_day(from: NaiveDate, to: NaiveDate, counted: &[UsageDay]) -> Vec<UsageDay> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|day| UsageDay {
            day,
            counts: counted
                .iter()
                .find(|c| c.day == day)
                .map(|c| c.counts)
                .unwrap_or_default(),
        })
        .collect()
}

/// A `tenant_usage` row as both backends read it.
#[derive(sqlx::FromRow)]
pub(crate) struct UsageRow {
    pub day: i64,
    pub api_calls: i64,
    pub ingests: i64,
    pub generations: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

impl From<UsageRow> for UsageDay {
    fn from(r: UsageRow) -> UsageDay {
        let n = |v: i64| v.max(0) as u64;
        UsageDay {
            day: crate::domain::usage::day_of(r.day),
            counts: UsageCounts {
                api_calls: n(r.api_calls),
                ingests: n(r.ingests),
                generations: n(r.generations),
                prompt_tokens: n(r.prompt_tokens),
                completion_tokens: n(r.completion_tokens),
            },
        }
    }
}

/// A count as the tables store it.
pub(crate) fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Overrides as read: both columns of the row, or none.
pub(crate) fn overrides_of(row: Option<(Option<i64>, Option<i64>)>) -> RateOverrides {
    let limit = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    row.map(|(api, ingest)| RateOverrides {
        api_per_minute: limit(api),
        ingest_per_minute: limit(ingest),
    })
    .unwrap_or_default()
}

/// The audit entry of a change to a tenant's limits.
pub(crate) fn limits_audit(tenant_id: Uuid, overrides: &RateOverrides) -> super::AuditEntry {
    super::AuditEntry {
        action: "tenant.limits",
        resource: "tenant",
        resource_id: tenant_id.to_string(),
        changes: serde_json::json!({
            "api_per_minute": overrides.api_per_minute,
            "ingest_per_minute": overrides.ingest_per_minute,
        }),
    }
}

/// The column of [`RateOverrides`] that holds `kind`'s limit.
fn override_column(kind: RateKind) -> &'static str {
    match kind {
        RateKind::Api => "api_per_minute",
        RateKind::Ingest => "ingest_per_minute",
    }
}

/// Drops the tenant's windows of `kind` before `$3` (tenant `$1`, kind `$2`).
pub(crate) fn drop_old_windows_sql(d: Dialect) -> String {
    d.write("DELETE FROM rate_windows WHERE tenant_id = $1 AND kind = $2 AND window_start < $3")
}

/// A [`RateClaim`] as one upsert (tenant `$1`, kind `$2`, window `$3`, want
/// `$4`, tier default `$5`) returning `granted, limit_per_minute`. The
/// upsert locks the window's row, so claims from every server take in turn;
/// in SET every column reads the row as it was before the update.
pub(crate) fn claim_sql(d: Dialect, kind: RateKind) -> String {
    d.write(&format!(
        "INSERT INTO rate_windows \
           (tenant_id, kind, window_start, used, granted, limit_per_minute) \
         SELECT $1, $2, $3, LEAST($4, l), LEAST($4, l), l FROM (SELECT coalesce( \
           (SELECT {col} FROM rate_overrides WHERE tenant_id = $1), $5) AS l) lim WHERE true \
         ON CONFLICT (tenant_id, kind, window_start) DO UPDATE SET \
           granted = GREATEST(0, LEAST(rate_windows.used + $4, excluded.limit_per_minute) \
                                 - rate_windows.used), \
           used = GREATEST(rate_windows.used, \
                           LEAST(rate_windows.used + $4, excluded.limit_per_minute)), \
           limit_per_minute = excluded.limit_per_minute \
         RETURNING granted, limit_per_minute",
        col = override_column(kind)
    ))
}

/// Replaces a tenant's overrides (tenant `$1`, API `$2`, ingest `$3`).
pub(crate) fn set_overrides_sql(d: Dialect) -> String {
    d.write(
        "INSERT INTO rate_overrides (tenant_id, api_per_minute, ingest_per_minute) \
         VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET \
           api_per_minute = excluded.api_per_minute, \
           ingest_per_minute = excluded.ingest_per_minute",
    )
}

/// Adds a [`UsageDelta`] (tenant `$1`, day `$2`, then the five counts) to
/// the tenant's day, unless the tenant is being deleted.
pub(crate) fn add_usage_sql(d: Dialect) -> String {
    d.write(
        "INSERT INTO tenant_usage (tenant_id, day, api_calls, ingests, generations, \
           prompt_tokens, completion_tokens) \
         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS \
           (SELECT 1 FROM tenants WHERE id = $1 AND deleting_at IS NULL) \
         ON CONFLICT (tenant_id, day) DO UPDATE SET \
           api_calls = tenant_usage.api_calls + excluded.api_calls, \
           ingests = tenant_usage.ingests + excluded.ingests, \
           generations = tenant_usage.generations + excluded.generations, \
           prompt_tokens = tenant_usage.prompt_tokens + excluded.prompt_tokens, \
           completion_tokens = tenant_usage.completion_tokens + excluded.completion_tokens",
    )
}

/// The tenant's days `$2` to `$3` (tenant `$1`) as [`UsageRow`]s.
pub(crate) fn usage_days_sql(d: Dialect) -> String {
    let day = match d {
        Dialect::Sqlite => "day",
        Dialect::Postgres => "day::bigint AS day",
    };
    d.write(&format!(
        "SELECT {day}, api_calls, ingests, generations, prompt_tokens, completion_tokens \
         FROM tenant_usage WHERE tenant_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day"
    ))
}

/// Windows older than this many minutes are dropped by claims.
pub const RATE_WINDOW_KEEP_MINUTES: i64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_add_up_and_every_family_is_listed() {
        let storage = by_family(&[("leads", 2, 100), ("lead_events", 3, 50), ("agents", 1, 10)]);
        let leads = storage.iter().find(|s| s.family == "leads");
        assert_eq!(leads.map(|s| (s.rows, s.bytes)), Some((5, 150)));
        assert_eq!(storage.len(), usage_families().len());
        assert!(storage.iter().any(|s| s.family == "audit" && s.rows == 0));
    }

    #[test]
    fn one_statement_is_written_for_each_backend() {
        let pg = claim_sql(Dialect::Postgres, RateKind::Ingest);
        let lite = claim_sql(Dialect::Sqlite, RateKind::Ingest);
        assert!(pg.contains("LEAST($4, l)") && pg.contains("ingest_per_minute"));
        assert!(lite.contains("min(?4, l)") && lite.contains("max(0, min("));
        assert!(!lite.contains('$') && !lite.contains("LEAST"));
    }

    #[test]
    fn every_day_fills_the_gaps() {
        let d = |n| crate::domain::usage::day_of(n);
        let counted = [UsageDay {
            day: d(20_000),
            counts: UsageCounts {
                api_calls: 3,
                ..UsageCounts::default()
            },
        }];
        let days = every_day(d(19_999), d(20_001), &counted);
        assert_eq!(days.len(), 3);
        assert_eq!(days[1].counts.api_calls, 3);
        assert!(days[0].counts.is_empty() && days[2].counts.is_empty());
    }
}
