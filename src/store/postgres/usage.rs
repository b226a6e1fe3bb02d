//! Rate windows and usage counters on PostgreSQL (see `store::usage`).
//! Every statement runs under the tenant (RLS), but the platform
//! overview's, which reads through a definer function.

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{db_error, write_audit, PgStore, Tx};
use crate::domain::usage::{day_number, RateOverrides, StorageUse, UsageDay};
use crate::store::usage::{
    add_usage_sql, by_family, claim_sql, count, drop_old_windows_sql, limits_audit, overrides_of,
    set_overrides_sql, usage_days_sql, Dialect, UsageRow, RATE_WINDOW_KEEP_MINUTES, USAGE_FAMILIES,
};

const SQL: Dialect = Dialect::Postgres;
use crate::store::{Actor, RateClaim, RateGrant, StoreResult, UsageCounts, UsageDelta, UsageStore};

async fn commit(tx: Tx, doing: &str) -> StoreResult<()> {
    tx.commit().await.map_err(|e| db_error(e, doing))
}

#[async_trait]
impl UsageStore for PgStore {
    async fn claim_rate(&self, claim: RateClaim) -> StoreResult<RateGrant> {
        let mut tx = self.tenant_tx(claim.tenant_id).await?;
        sqlx::query(&drop_old_windows_sql(SQL))
            .bind(claim.tenant_id)
            .bind(claim.kind.as_str())
            .bind(claim.window - RATE_WINDOW_KEEP_MINUTES)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "drop old rate windows"))?;
        let (granted, limit): (i32, i32) = sqlx::query_as(&claim_sql(SQL, claim.kind))
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
        sqlx::query(&set_overrides_sql(SQL))
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
            sqlx::query(&add_usage_sql(SQL))
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
        let rows: Vec<UsageRow> = sqlx::query_as(&usage_days_sql(SQL))
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
