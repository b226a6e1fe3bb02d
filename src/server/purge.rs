//! A deleted tenant's data goes in the background, batch by batch (see
//! `store::purge`), so the request answers at once and no transaction holds
//! locks for long. The purge survives a restart: the tenant's mark is
//! stored, and every SLA sweep (the first one as the server starts)
//! resumes the purges this process is not already running.

use uuid::Uuid;

use super::AppState;

/// Purges the tenant's rows until its row is gone.
pub fn spawn(state: &AppState, tenant_id: Uuid) {
    if !state.purges.claim(tenant_id) {
        return;
    }
    let store = state.store.clone();
    let running = state.purges.clone();
    tokio::spawn(async move {
        let mut deleted = 0u64;
        loop {
            match store.purge_tenant_step(tenant_id).await {
                Ok(step) if step.done => break,
                Ok(step) => {
                    deleted += step.deleted;
                    tokio::task::yield_now().await;
                }
                Err(e) => {
                    tracing::warn!(%tenant_id, error = format!("{e:#}"), "purging a deleted tenant stopped; the next SLA sweep resumes it");
                    running.release(tenant_id);
                    return;
                }
            }
        }
        running.release(tenant_id);
        tracing::info!(%tenant_id, deleted, "deleted tenant purged");
    });
}

/// Starts a purge for every tenant left marked (by a restart, a failed
/// batch, or another process that stopped).
pub async fn resume_pending(state: &AppState) -> anyhow::Result<usize> {
    let pending = state.store.pending_purges().await?;
    for tenant in &pending {
        spawn(state, *tenant);
    }
    Ok(pending.len())
}
