//! Rate windows and usage counters on SQLite (see `store::usage`).

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{db_error, parse_uuid, write_audit, SqliteStore};
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

#[async_trait]
impl UsageStore for SqliteStore {
    async fn claim_rate(&self, claim: RateClaim) -> StoreResult<RateGrant> {
        let tenant = claim.tenant_id.to_string();
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(
            "DELETE FROM rate_windows WHERE tenant_id = ? AND kind = ? AND window_start < ?",
        )
        .bind(&tenant)
        .bind(claim.kind.as_str())
        .bind(claim.window - RATE_WINDOW_KEEP_MINUTES)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "drop old rate windows"))?;
        // In SET every column reads the row as it was before the update.
        let (granted, limit): (i64, i64) = sqlx::query_as(&format!(
            "INSERT INTO rate_windows \
               (tenant_id, kind, window_start, used, granted, limit_per_minute) \
             SELECT ?1, ?2, ?3, min(?4, l), min(?4, l), l FROM (SELECT coalesce( \
               (SELECT {col} FROM rate_overrides WHERE tenant_id = ?1), ?5) AS l) WHERE 1 \
             ON CONFLICT (tenant_id, kind, window_start) DO UPDATE SET \
               granted = max(0, min(rate_windows.used + ?4, excluded.limit_per_minute) \
                                - rate_windows.used), \
               used = max(rate_windows.used, \
                          min(rate_windows.used + ?4, excluded.limit_per_minute)), \
               limit_per_minute = excluded.limit_per_minute \
             RETURNING granted, limit_per_minute",
            col = override_column(claim.kind)
        ))
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
        sqlx::query(
            "INSERT INTO rate_overrides (tenant_id, api_per_minute, ingest_per_minute) \
             VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET \
               api_per_minute = excluded.api_per_minute, \
               ingest_per_minute = excluded.ingest_per_minute",
        )
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
            // A tenant deleted meanwhile has no row to count against.
            sqlx::query(
                "INSERT INTO tenant_usage (tenant_id, day, api_calls, ingests, generations, \
                   prompt_tokens, completion_tokens) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS \
                   (SELECT 1 FROM tenants WHERE id = ?1 AND deleting_at IS NULL) \
                 ON CONFLICT (tenant_id, day) DO UPDATE SET \
                   api_calls = api_calls + excluded.api_calls, \
                   ingests = ingests + excluded.ingests, \
                   generations = generations + excluded.generations, \
                   prompt_tokens = prompt_tokens + excluded.prompt_tokens, \
                   completion_tokens = completion_tokens + excluded.completion_tokens",
            )
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
        let rows: Vec<UsageRow> = sqlx::query_as(
            "SELECT day, api_calls, ingests, generations, prompt_tokens, completion_tokens \
             FROM tenant_usage WHERE tenant_id = ? AND day BETWEEN ? AND ? ORDER BY day",
        )
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
