//! After a tenant's SLA settings change (hours, at-risk share, business
//! hours), its unanswered leads' deadlines are recomputed in the background:
//! short batches, each its own transaction, so ingest never waits behind a
//! tenant with many open leads. Each lead whose deadline moves gets a
//! timeline entry.

use uuid::Uuid;

use super::AppState;
use crate::domain::TenantSettings;
use crate::store::RECLOCK_BATCH;

/// Whether `before` → `after` changes how SLA deadlines are computed.
pub fn clock_changed(before: &TenantSettings, after: &TenantSettings) -> bool {
    before.sla_hours != after.sla_hours
        || before.sla_at_risk_percent != after.sla_at_risk_percent
        || before.business_hours != after.business_hours
}

/// Walks the tenant's unanswered leads in the background. Each batch reads
/// the settings current at that moment, so two changes in quick succession
/// end with the last one applied.
pub fn spawn(state: &AppState, tenant_id: Uuid) {
    let store = state.store.clone();
    let clock = state.clock.clone();
    tokio::spawn(async move {
        let mut after = None;
        let mut changed = 0;
        loop {
            match store.reclock_leads(tenant_id, after, clock.now()).await {
                Ok(batch) => {
                    changed += batch.changed;
                    if batch.scanned < RECLOCK_BATCH {
                        break;
                    }
                    after = batch.last;
                    tokio::task::yield_now().await;
                }
                Err(e) => {
                    tracing::warn!(%tenant_id, error = %e, "recomputing SLA deadlines stopped; saving the settings again resumes it");
                    return;
                }
            }
        }
        tracing::info!(%tenant_id, changed, "SLA deadlines recomputed");
    });
}
