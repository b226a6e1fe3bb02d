//! Evals in PostgreSQL: everything but the recovery of interrupted runs is
//! `store::evals`', written once for both backends; the recovery crosses
//! tenants, so the owner's `sb_recover_eval_runs` fails the runs and each
//! tenant's transaction logs their events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::leads::log_event;
use super::{db_error, ms, PgStore};
use crate::domain::eval::EvalRunStatus;
use crate::store::evals::{finished_event, EvalStore, FINISHED_EVENT, INTERRUPTED};
use crate::store::StoreResult;

#[async_trait]
impl EvalStore for PgStore {
    async fn recover_eval_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        let failed: Vec<(Uuid, Uuid, Uuid)> =
            sqlx::query_as("SELECT tenant_id, id, set_id FROM sb_recover_eval_runs($1, $2)")
                .bind(ms(now))
                .bind(INTERRUPTED)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_error(e, "recover eval runs"))?;
        let mut tenants = Vec::new();
        for (tenant, run, set) in failed {
            let mut tx = self.tenant_tx(tenant).await?;
            let status = EvalRunStatus::Failed;
            let event = finished_event(run, set, status, Some(INTERRUPTED));
            log_event(&mut tx, tenant, FINISHED_EVENT, event, now).await?;
            tx.commit()
                .await
                .map_err(|e| db_error(e, "log an interrupted eval run"))?;
            tenants.push(tenant);
        }
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }
}
