//! Evals in SQLite: everything but the recovery of interrupted runs is
//! `store::evals`', written once for both backends.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{SqliteStore, SqliteTx};
use crate::domain::eval::EvalRunStatus;
use crate::store::conn::{log_event, Conn, Stmt};
use crate::store::evals::{end_run, finished_event, EvalStore, FINISHED_EVENT, INTERRUPTED};
use crate::store::row::Id;
use crate::store::StoreResult;

#[async_trait]
impl EvalStore for SqliteStore {
    async fn recover_eval_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        let (writer, tx) = self.write().await?;
        let mut tx = SqliteTx::Write(tx, writer);
        let stale = Stmt::new(
            "SELECT tenant_id, id FROM eval_runs WHERE status = 'running' AND lease_until < $1",
            "find interrupted eval runs",
        )
        .time(now);
        let stale = tx.fetch_all::<(Id, Id)>(stale).await?;
        let mut tenants = Vec::new();
        for (tenant, run) in stale {
            let (tenant, run) = (tenant.into(), run.into());
            let status = EvalRunStatus::Failed;
            let set_id = end_run(&mut tx, tenant, run, status, Some(INTERRUPTED), now).await?;
            let event = finished_event(run, set_id, status, Some(INTERRUPTED));
            log_event(&mut tx, tenant, FINISHED_EVENT, event, now).await?;
            tenants.push(tenant);
        }
        tx.commit("commit interrupted eval runs").await?;
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }
}
