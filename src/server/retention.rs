//! Retention for outbound traffic: deletes delivered (or given-up) webhook
//! deliveries with their attempts, and sent mail, once older than
//! `outbound_retention`; and live events older than `event_retention` that
//! no delivery refers to any more. The webhook dispatcher starts a pass every
//! `outbound_purge_interval`; what is still pending is never touched.

use super::AppState;
use crate::store::{OutboundPurge, StoreResult};

/// Rows deleted per statement, so a large backlog never holds locks (or
/// SQLite's writer) for long.
const BATCH: u32 = 1000;

/// One pass: deletes everything past retention, a batch at a time.
pub async fn purge_expired(state: &AppState) -> StoreResult<OutboundPurge> {
    let now = state.clock.now();
    // A retention reaching before the calendar's start keeps everything.
    let Some(before) = now.checked_sub_signed(state.settings.outbound_retention) else {
        return Ok(OutboundPurge::default());
    };
    let mut total = OutboundPurge::default();
    loop {
        let done = state.store.purge_outbound(before, BATCH).await?;
        total.deliveries += done.deliveries;
        total.mails += done.mails;
        if done.deliveries < u64::from(BATCH) && done.mails < u64::from(BATCH) {
            break;
        }
        // Let other writers in between batches.
        tokio::task::yield_now().await;
    }
    if let Some(before) = now.checked_sub_signed(state.settings.event_retention) {
        loop {
            let gone = state.store.purge_events(before, BATCH).await?;
            total.events += gone;
            if gone < u64::from(BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    if total != OutboundPurge::default() {
        tracing::info!(
            events = total.events,
            deliveries = total.deliveries,
            mails = total.mails,
            before = %before,
            "deleted outbound rows past retention"
        );
    }
    Ok(total)
}

/// Runs one pass in the background; the caller keeps the handle so passes
/// never overlap.
pub fn spawn_pass(state: &AppState) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        // A panic is logged there and the next pass runs as planned.
        let pass = super::supervise::catch_panic("retention pass", purge_expired(&state));
        if let Ok(Err(e)) = pass.await {
            tracing::warn!(error = %e, "cannot delete outbound rows past retention; will try again");
        }
    })
}
