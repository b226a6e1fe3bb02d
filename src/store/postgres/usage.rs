//! Rate windows and usage counters on PostgreSQL (see `store::usage`).
//! Every statement runs under the tenant (RLS), but the platform
//! overview's, which reads through a definer function.

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{db_error, write_audit, PgStore, Tx};
use crate::domain::usage::{day_number, RateKind, RateOverrides, StorageUse, UsageDay};
use crate::store::usage::{
    by_family, count, limits_audit, overrides_of, UsageRow, RATE_WINDOW_KEEP_MINUTES,
    USAGE_FAMILIES,
};
use crate::store::{Actor, RateClaim, RateGrant, StoreResult, UsageCounts, UsageDelta, UsageStore};

fn override_column(kind: RateKind) -> &'static str {
    match kind {
        RateKind::Api => "api_per_minute",
        RateKind::Ingest => "ingest_per_minute",
    }
}

async fn commit(tx: Tx, doing: &str) -> StoreResult<()> {
    tx.commit().await.map_err(|e| db_error(e, doing))
}

#[async_trait]
impl UsageStore for PgStore {
    async fn claim_rate(&self, claim: RateClaim) -> StoreResult<RateGrant> {
        let mut tx = self.tenant_tx(claim.tenant_id).await?;
        sqlx::query(
            "DELETE FROM rate_windows WHERE tenant_id = $1 AND kind = $2 AND window_start < $3",
        )
        .bind(claim.tenant_id)
        .bind(claim.kind.as_str())
        .bind(claim.window - RATE_WINDOW_KEEP_MINUTES)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "drop old rate windows"))?;
        // The upsert locks the window's row: claims from every server take
        // in turn, and in SET every column reads the row before the update.
        let (granted, limit): (i32, i32) = sqlx::query_as(&format!(
            "INSERT INTO rate_windows \
               (tenant_id, kind, window_start, used, granted, limit_per_minute) \
             SELECT $1, $2, $3, LEAST($4, l), LEAST($4, l), l FROM (SELECT coalesce( \
               (SELECT {col} FROM rate_overrides WHERE tenant_id = $1), $5) AS l) lim \
             ON CONFLICT (tenant_id, kind, window_start) DO UPDATE SET \
               granted = GREATEST(0, LEAST(rate_windows.used + $4, excluded.limit_per_minute) \
                                     - rate_windows.used), \
               used = GREATEST(rate_windows.used, \
                               LEAST(rate_windows.used + $4, excluded.limit_per_minute)), \
               limit_per_minute = excluded.limit_per_minute \
             RETURNING granted, limit_per_minute",
            col = override_column(claim.kind)
        ))
        .bind(claim.tenant_id)
        .bind(claim.kind.as_str())
        .bind(claim.window)
        .bind(i32::try_from(claim.want).unwrap_or(i32::MAX))
        .bind(i32::try_from(claim.tier_default).unwrap_or(i32::MAX))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(e, "claim from a tenant's rate window"))?;
        commit(tx, "commit a rate claim").await?;
        Ok(RateGrant {
            granted: granted.max(0) as u32,
            limit: limit.max(0) as u32,
        })
    }

    async fn rate_overrides(&self, tenant_id: Uuid) -> StoreResult<RateOverrides> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let row: Option<(Option<i32>, Option<i32>)> = sqlx::query_as(
            "SELECT api_per_minute, ingest_per_minute FROM rate_overrides WHERE tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read a tenant's rate limits"))?;
        commit(tx, "read a tenant's rate limits").await?;
        Ok(overrides_of(
            row.map(|(a, i)| (a.map(i64::from), i.map(i64::from))),
        ))
    }

    async fn set_rate_overrides(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        overrides: &RateOverrides,
    ) -> StoreResult<()> {
        let limit = |v: Option<u32>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
        let mut tx = self.tenant_tx(tenant_id).await?;
        sqlx::query(
            "INSERT INTO rate_overrides (tenant_id, api_per_minute, ingest_per_minute) \
             VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET \
               api_per_minute = excluded.api_per_minute, \
               ingest_per_minute = excluded.ingest_per_minute",
        )
        .bind(tenant_id)
        .bind(limit(overrides.api_per_minute))
        .bind(limit(overrides.ingest_per_minute))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "set a tenant's rate limits"))?;
        write_audit(
            &mut tx,
            tenant_id,
            actor,
            &limits_audit(tenant_id, overrides),
        )
        .await?;
        commit(tx, "commit a tenant's rate limits").await
    }

    async fn add_usage(&self, deltas: &[UsageDelta]) -> StoreResult<()> {
        let Some(first) = deltas.first() else {
            return Ok(());
        };
        // One transaction for the batch (a retry after a failure counts
        // nothing twice); each upsert runs under its own tenant.
        let mut tx = self.tenant_tx(first.tenant_id).await?;
        for d in deltas {
            let c = &d.counts;
            super::set_tenant(&mut tx, d.tenant_id).await?;
            // A tenant being deleted counts nothing more.
            sqlx::query(
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
            .bind(d.tenant_id)
            .bind(i32::try_from(d.day).unwrap_or(i32::MAX))
            .bind(count(c.api_calls))
            .bind(count(c.ingests))
            .bind(count(c.generations))
            .bind(count(c.prompt_tokens))
            .bind(count(c.completion_tokens))
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "count a tenant's usage"))?;
        }
        commit(tx, "commit the tenants' usage").await
    }

    async fn usage_days(
        &self,
        tenant_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<UsageDay>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows: Vec<UsageRow> = sqlx::query_as(
            "SELECT day::bigint AS day, api_calls, ingests, generations, prompt_tokens, \
               completion_tokens \
             FROM tenant_usage WHERE tenant_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day",
        )
        .bind(tenant_id)
        .bind(i32::try_from(day_number(from)).unwrap_or(i32::MIN))
        .bind(i32::try_from(day_number(to)).unwrap_or(i32::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read a tenant's usage"))?;
        commit(tx, "read a tenant's usage").await?;
        Ok(rows.into_iter().map(UsageDay::from).collect())
    }

    async fn usage_on(&self, day: NaiveDate) -> StoreResult<Vec<(Uuid, UsageCounts)>> {
        let rows: Vec<(Uuid, i64, i64, i64, i64, i64, i64)> =
            sqlx::query_as("SELECT * FROM sb_usage_on($1)")
                .bind(i32::try_from(day_number(day)).unwrap_or(i32::MAX))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_error(e, "read the day's usage"))?;
        Ok(rows
            .into_iter()
            .map(
                |(tenant, day, api, ingests, generations, prompt, completion)| {
                    let row = UsageRow {
                        day,
                        api_calls: api,
                        ingests,
                        generations,
                        prompt_tokens: prompt,
                        completion_tokens: completion,
                    };
                    (tenant, UsageDay::from(row).counts)
                },
            )
            .collect())
    }

    async fn storage_use(&self, tenant_id: Uuid) -> StoreResult<Vec<StorageUse>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let mut tables = Vec::new();
        for (table, _) in USAGE_FAMILIES {
            let (rows, bytes): (i64, i64) = sqlx::query_as(&format!(
                "SELECT count(*), coalesce(sum(pg_column_size(t.*)), 0)::bigint \
                 FROM {table} t WHERE tenant_id = $1"
            ))
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "measure a tenant's storage"))?;
            tables.push((table, rows.max(0) as u64, bytes.max(0) as u64));
        }
        commit(tx, "measure a tenant's storage").await?;
        Ok(by_family(&tables))
    }
}
