//! After a tenant's SLA settings change (hours, at-risk share, business
//! hours), its unanswered leads' deadlines are recomputed in the background:
//! short batches, each its own transaction, so ingest never waits behind a
//! tenant with many open leads. Each lead whose deadline moves gets a
//! timeline entry.
//!
//! The work survives a restart: the settings change marks the tenant
//! pending in its own transaction, each batch moves a cursor stored with the
//! tenant, and the last batch clears the mark (see
//! [`SlaStore::reclock_leads`](crate::store::SlaStore::reclock_leads)). Every
//! SLA sweep (the first one as the server starts) resumes the pending
//! tenants this process is not already working on; several processes on one
//! PostgreSQL database may work on one tenant at once, taking turns batch by
//! batch on the tenant's row lock.

use uuid::Uuid;

use super::AppState;

/// Walks the tenant's unanswered leads in the background, batch by batch
/// from the stored cursor, until the store says nothing is left. Each batch
/// reads the settings current at that moment, and a change in between resets
/// the cursor, so two changes in quick succession end with the last applied.
pub fn spawn(state: &AppState, tenant_id: Uuid) {
    if !state.reclocks.claim(tenant_id) {
        return;
    }
    let store = state.store.clone();
    let clock = state.clock.clone();
    let running = state.reclocks.clone();
    tokio::spawn(async move {
        let mut changed = 0;
        loop {
            match store.reclock_leads(tenant_id, clock.now()).await {
                Ok(batch) => {
                    changed += batch.changed;
                    if batch.done {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                Err(e) => {
                    tracing::warn!(%tenant_id, error = format!("{e:#}"), "recomputing SLA deadlines stopped; the next SLA sweep resumes it");
                    running.release(tenant_id);
                    return;
                }
            }
        }
        running.release(tenant_id);
        tracing::info!(%tenant_id, changed, "SLA deadlines recomputed");
    });
}

/// Starts a walk for every tenant left pending (by a restart, a failed
/// batch, or another process that stopped).
pub async fn resume_pending(state: &AppState) -> anyhow::Result<usize> {
    let pending = state.store.pending_reclocks().await?;
    for tenant in &pending {
        spawn(state, *tenant);
    }
    Ok(pending.len())
}
