//! Per-tenant rate limits (leased from the store's shared windows, see
//! `store::usage`) and usage counting; `GET …/usage` and `PUT …/limits`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::State;
use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::AppState;
use crate::domain::lead::next_month_start;
use crate::domain::usage::{day_number, RateKind, RateLimits, RateOverrides, Usage, UsageQuery};
use crate::domain::{Problem, Tenant};
use crate::store::usage::every_day;
use crate::store::{DynStore, RateClaim, StoreResult, UsageCounts, UsageDelta};

/// Requests one lease takes from a window whose limit is `limit`: a
/// twentieth, so a server goes to the database about every twentieth
/// request, and at most a twentieth per server is lost when a window ends.
pub fn lease_size(limit: u32) -> u32 {
    (limit / 20).clamp(1, 100)
}

/// The minute `now` falls in (minutes since the epoch).
fn window_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(60)
}

/// Seconds from `now` until the next window opens (at least 1).
fn until_next_window(now: DateTime<Utc>) -> u64 {
    (60 - now.timestamp().rem_euclid(60)).max(1) as u64
}

#[derive(Debug, Default, Clone, Copy)]
struct Lease {
    window: i64,
    /// Requests leased and not spent yet.
    left: u32,
    /// The window's limit is all taken: refuse until the next one.
    spent: bool,
    /// The limit the last claim counted against.
    limit: Option<u32>,
}

type LeaseKey = (Uuid, RateKind);

/// This server's leases on every tenant's windows. One claim per window
/// key is in flight at a time (the others wait for it and spend what it
/// got), so a server never holds more than one unspent lease of a window.
#[derive(Debug, Default)]
pub struct TenantLimiter {
    leases: Mutex<HashMap<LeaseKey, Lease>>,
    claims: Mutex<HashMap<LeaseKey, Arc<tokio::sync::Mutex<()>>>>,
}

/// What the fast path found.
enum Spend {
    Took,
    Spent,
    Claim(Option<u32>),
}

impl TenantLimiter {
    fn lock(&self) -> MutexGuard<'_, HashMap<LeaseKey, Lease>> {
        self.leases.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn gate(&self, key: LeaseKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(claims.entry(key).or_default())
    }

    /// Spends one request from the lease of `key` in `window` if it can.
    fn spend(&self, key: LeaseKey, window: i64) -> Spend {
        let mut leases = self.lock();
        let lease = leases.entry(key).or_default();
        if lease.window != window {
            *lease = Lease {
                window,
                limit: lease.limit,
                ..Lease::default()
            };
        }
        if lease.left > 0 {
            lease.left -= 1;
            Spend::Took
        } else if lease.spent {
            Spend::Spent
        } else {
            Spend::Claim(lease.limit)
        }
    }

    /// Spends one request of `tenant`'s `kind` window from the lease, or
    /// takes a new lease; `Err` is the 429 to answer.
    pub async fn admit(
        &self,
        store: &DynStore,
        tenant: &Tenant,
        kind: RateKind,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let key = (tenant.id, kind);
        let window = window_of(now);
        let refused = |limit: Option<u32>| {
            let retry_after = until_next_window(now);
            let what = match kind {
                RateKind::Api => "API calls",
                RateKind::Ingest => "leads posted",
            };
            let limit = limit.unwrap_or_else(|| kind.tier_default(tenant.tier));
            ApiError::Busy {
                retry_after,
                why: format!(
                    "{} has had its {limit} {what} of this minute; try again in {retry_after} s \
                     (a platform admin can raise the tenant's limit)",
                    tenant.name
                ),
            }
        };
        match self.spend(key, window) {
            Spend::Took => return Ok(()),
            Spend::Spent => return Err(refused(self.lock().get(&key).and_then(|l| l.limit))),
            Spend::Claim(_) => {}
        }
        let gate = self.gate(key);
        let _turn = gate.lock().await;
        // The claim this one waited for may have brought enough.
        let known_limit = match self.spend(key, window) {
            Spend::Took => return Ok(()),
            Spend::Spent => return Err(refused(self.lock().get(&key).and_then(|l| l.limit))),
            Spend::Claim(limit) => limit,
        };
        let tier_default = kind.tier_default(tenant.tier);
        let grant = store
            .claim_rate(RateClaim {
                tenant_id: tenant.id,
                kind,
                window,
                want: lease_size(known_limit.unwrap_or(tier_default)),
                tier_default,
            })
            .await?;
        let mut leases = self.lock();
        let lease = leases.entry(key).or_default();
        if lease.window != window {
            *lease = Lease {
                window,
                ..Lease::default()
            };
        }
        lease.limit = Some(grant.limit);
        if grant.granted == 0 {
            lease.spent = true;
            return Err(refused(Some(grant.limit)));
        }
        lease.left += grant.granted - 1;
        Ok(())
    }
}

/// Usage counted in this server since the last flush, per tenant and day.
#[derive(Debug, Default)]
pub struct UsageMeter {
    counts: Mutex<HashMap<(Uuid, i64), UsageCounts>>,
}

impl UsageMeter {
    fn lock(&self) -> MutexGuard<'_, HashMap<(Uuid, i64), UsageCounts>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, tenant: Uuid, now: DateTime<Utc>, counts: UsageCounts) {
        self.lock()
            .entry((tenant, day_number(now.date_naive())))
            .or_default()
            .add(&counts);
    }

    pub fn api_call(&self, tenant: Uuid, now: DateTime<Utc>) {
        self.add(
            tenant,
            now,
            UsageCounts {
                api_calls: 1,
                ..UsageCounts::default()
            },
        );
    }

    pub fn ingest(&self, tenant: Uuid, now: DateTime<Utc>) {
        self.add(
            tenant,
            now,
            UsageCounts {
                ingests: 1,
                ..UsageCounts::default()
            },
        );
    }

    /// One model generation and its tokens.
    pub fn generation(
        &self,
        tenant: Uuid,
        now: DateTime<Utc>,
        prompt_tokens: u32,
        completion_tokens: u32,
    ) {
        self.add(
            tenant,
            now,
            UsageCounts {
                generations: 1,
                prompt_tokens: u64::from(prompt_tokens),
                completion_tokens: u64::from(completion_tokens),
                ..UsageCounts::default()
            },
        );
    }

    /// Adds what was counted to the store; on failure it is kept for the
    /// next flush.
    pub async fn flush(&self, store: &DynStore) -> StoreResult<()> {
        let mut taken: Vec<UsageDelta> = self
            .lock()
            .drain()
            .filter(|(_, c)| !c.is_empty())
            .map(|((tenant_id, day), counts)| UsageDelta {
                tenant_id,
                day,
                counts,
            })
            .collect();
        // One order for every server: concurrent flushes lock rows in turn
        // instead of deadlocking.
        taken.sort_by_key(|d| (d.tenant_id, d.day));
        if let Err(e) = store.add_usage(&taken).await {
            let mut counts = self.lock();
            for d in taken {
                counts
                    .entry((d.tenant_id, d.day))
                    .or_default()
                    .add(&d.counts);
            }
            return Err(e);
        }
        Ok(())
    }
}

/// Flushes the meter every `every` until aborted.
pub async fn usage_flusher(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.usage.flush(&state.store).await {
            tracing::warn!(error = %e, "cannot record tenant usage; keeping it for the next try");
        }
    }
}

impl AppState {
    /// Counts one signed-in call to `tenant` and, for members, spends it
    /// from the tenant's API limit. Platform admins are counted but never
    /// refused: whoever runs the platform must be able to act on a tenant
    /// that spent its budget.
    pub(crate) async fn admit_api_call(
        &self,
        tenant: &crate::domain::Tenant,
        platform_admin: bool,
    ) -> ApiResult<()> {
        let now = self.clock.now();
        if self.settings.tenant_rate_limits && !platform_admin {
            (self.limiter)
                .admit(&self.store, tenant, RateKind::Api, now)
                .await?;
        }
        self.usage.api_call(tenant.id, now);
        Ok(())
    }

    /// Counts one model generation of `tenant` and its tokens, on the day
    /// the server's clock says (as calls and ingests are).
    pub(crate) fn count_generation(
        &self,
        tenant: Uuid,
        prompt_tokens: u32,
        completion_tokens: u32,
    ) {
        let now = self.clock.now();
        (self.usage).generation(tenant, now, prompt_tokens, completion_tokens);
    }

    /// Spends one lead from `tenant`'s ingest limit and counts it.
    pub(crate) async fn admit_ingest(&self, tenant: &crate::domain::Tenant) -> ApiResult<()> {
        let now = self.clock.now();
        if self.settings.tenant_rate_limits {
            (self.limiter)
                .admit(&self.store, tenant, RateKind::Ingest, now)
                .await?;
        }
        self.usage.ingest(tenant.id, now);
        Ok(())
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/usage", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant id or slug"), UsageQuery),
    responses((status = 200, body = Usage), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem)),
    security(("bearer" = [])))]
#[instrument(skip_all)]
pub async fn usage(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<Usage>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    let now = state.clock.now();
    let (from, to) = q
        .days(now.date_naive())
        .map_err(|why| ApiError::field("from", why))?;
    // What this server counted so far is part of the answer.
    state.usage.flush(&state.store).await?;
    let t = access.tenant;
    let counted = state.store.usage_days(t.id, from, to).await?;
    let days = every_day(from, to, &counted);
    let mut totals = UsageCounts::default();
    for d in &days {
        totals.add(&d.counts);
    }
    let overrides = state.store.rate_overrides(t.id).await?;
    let storage = match q.storage {
        true => Some(state.store.storage_use(t.id).await?),
        false => None,
    };
    Ok(Json(Usage {
        leads_this_month: state.store.leads_this_month(t.id, now).await?,
        lead_limit: t.tier.lead_limit(),
        users: t.usage.users,
        user_limit: t.usage.user_limit,
        resets_at: next_month_start(now),
        limits: RateLimits::of(t.tier, &overrides),
        from,
        to,
        days,
        totals,
        storage,
    }))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/limits", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    request_body = RateOverrides,
    responses((status = 200, body = RateLimits), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[instrument(skip_all)]
pub async fn set_limits(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(overrides): Json<RateOverrides>,
) -> ApiResult<Json<RateLimits>> {
    let access = session.tenant(&state, &tenant, Need::PlatformAdmin).await?;
    if let Some((field, why)) = overrides.problems().into_iter().next() {
        return Err(ApiError::field(field, why));
    }
    state
        .store
        .set_rate_overrides(&access.actor, access.tenant.id, &overrides)
        .await?;
    Ok(Json(RateLimits::of(access.tenant.tier, &overrides)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_a_twentieth_within_bounds() {
        assert_eq!(lease_size(1), 1);
        assert_eq!(lease_size(40), 2);
        assert_eq!(lease_size(600), 30);
        assert_eq!(lease_size(1_000_000), 100);
    }

    #[test]
    fn retry_after_counts_to_the_next_minute() {
        let t = |s| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default();
        assert_eq!(until_next_window(t(120)), 60);
        assert_eq!(until_next_window(t(179)), 1);
        assert_eq!(window_of(t(179)), 2);
    }
}
