//! Rate windows and usage counters on SQLite (see `store::usage`).

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{db_error, parse_uuid, write_audit, SqliteStore};
use crate::domain::usage::{day_number, RateOverrides, StorageUse, UsageDay};
use crate::store::usage::{
    add_usage_sql, by_family, claim_sql, count, drop_old_windows_sql, limits_audit, overrides_of,
    set_overrides_sql, usage_days_sql, Dialect, UsageRow, RATE_WINDOW_KEEP_MINUTES, USAGE_FAMILIES,
};

const SQL: Dialect = Dialect::Sqlite;
use crate::store::{Actor, RateClaim, RateGrant, StoreResult, UsageCounts, UsageDelta, UsageStore};

#[async_trait]
impl UsageStore for SqliteStore {
    async fn claim_rate(&self, claim: RateClaim) -> StoreResult<RateGrant> {
        let tenant = claim.tenant_id.to_string();
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(&drop_old_windows_sql(SQL))
            .bind(&tenant)
            .bind(claim.kind.as_str())
            .bind(claim.window - RATE_WINDOW_KEEP_MINUTES)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "drop old rate windows"))?;
        let (granted, limit): (i64, i64) = sqlx::query_as(&claim_sql(SQL, claim.kind))
            .bind(&tenant)
            .bind(claim.kind.as_str())
            .bind(claim.window)
            .bind(i64::from(claim.want))
            .bind(i64::from(claim.tier_default))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "claim from a tenant's rate window"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a rate claim"))?;
        Ok(RateGrant {
            granted: granted.clamp(0, i64::from(u32::MAX)) as u32,
            limit: limit.clamp(0, i64::from(u32::MAX)) as u32,
        })
    }

    async fn rate_overrides(&self, tenant_id: Uuid) -> StoreResult<RateOverrides> {
        let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT api_per_minute, ingest_per_minute FROM rate_overrides WHERE tenant_id = ?",
        )
        .bind(tenant_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "read a tenant's rate limits"))?;
        Ok(overrides_of(row))
    }

    async fn set_rate_overrides(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        overrides: &RateOverrides,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(&set_overrides_sql(SQL))
            .bind(tenant_id.to_string())
            .bind(overrides.api_per_minute.map(i64::from))
            .bind(overrides.ingest_per_minute.map(i64::from))
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
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a tenant's rate limits"))
    }

    async fn add_usage(&self, deltas: &[UsageDelta]) -> StoreResult<()> {
        if deltas.is_empty() {
            return Ok(());
        }
        let (_writer, mut tx) = self.write().await?;
        for d in deltas {
            let c = &d.counts;
            sqlx::query(&add_usage_sql(SQL))
                .bind(d.tenant_id.to_string())
                .bind(d.day)
                .bind(count(c.api_calls))
                .bind(count(c.ingests))
                .bind(count(c.generations))
                .bind(count(c.prompt_tokens))
                .bind(count(c.completion_tokens))
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "count a tenant's usage"))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a tenant's usage"))
    }

    async fn usage_days(
        &self,
        tenant_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<UsageDay>> {
        let rows: Vec<UsageRow> = sqlx::query_as(&usage_days_sql(SQL))
            .bind(tenant_id.to_string())
            .bind(day_number(from))
            .bind(day_number(to))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "read a tenant's usage"))?;
        Ok(rows.into_iter().map(UsageDay::from).collect())
    }

    async fn usage_on(&self, day: NaiveDate) -> StoreResult<Vec<(Uuid, UsageCounts)>> {
        let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT tenant_id, api_calls, ingests, generations, prompt_tokens, completion_tokens \
             FROM tenant_usage WHERE day = ?",
        )
        .bind(day_number(day))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "read the day's usage"))?;
        rows.into_iter()
            .map(|(tenant, api, ingests, generations, prompt, completion)| {
                let row = UsageRow {
                    day: day_number(day),
                    api_calls: api,
                    ingests,
                    generations,
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                };
                Ok((parse_uuid(&tenant)?, UsageDay::from(row).counts))
            })
            .collect()
    }

    async fn storage_use(&self, tenant_id: Uuid) -> StoreResult<Vec<StorageUse>> {
        let tenant = tenant_id.to_string();
        let mut tables = Vec::new();
        for (table, _) in USAGE_FAMILIES {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
                .bind(table)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_error(e, "list a table's columns"))?;
            let size = columns
                .iter()
                .map(|c| format!("coalesce(length(CAST(\"{c}\" AS BLOB)), 0)"))
                .collect::<Vec<_>>()
                .join(" + ");
            let (rows, bytes): (i64, i64) = sqlx::query_as(&format!(
                "SELECT count(*), coalesce(sum({size}), 0) FROM {table} WHERE tenant_id = ?"
            ))
            .bind(&tenant)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_error(e, "measure a tenant's storage"))?;
            tables.push((table, rows.max(0) as u64, bytes.max(0) as u64));
        }
        Ok(by_family(&tables))
    }
}
