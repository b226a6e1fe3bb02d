//! Live events per tenant as server-sent events, resumable with
//! `Last-Event-ID` from the persisted event log; and the SLA watcher.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use tokio::sync::broadcast;
use utoipa::IntoParams;
use uuid::Uuid;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Path, Query, Session};
use super::AppState;
use crate::domain::Problem;
use crate::store::{DynStore, EventRecord};

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Resume after this event id (same as the `Last-Event-ID` header).
    pub after: Option<i64>,
}

struct Feed {
    store: DynStore,
    tenant: Uuid,
    last: i64,
    buffer: VecDeque<EventRecord>,
    wake: broadcast::Receiver<Uuid>,
}

fn to_sse(e: &EventRecord) -> Event {
    Event::default()
        .id(e.id.to_string())
        .event(e.kind.clone())
        .data(e.data.to_string())
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/events", tag = "events",
    params(("tenant" = String, Path, description = "tenant id or slug"), EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "resume after this event")),
    responses((status = 200, description = "text/event-stream of lead.created, lead.updated, lead.deleted, sla.at_risk, sla.breached"),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn stream(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    let header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::field("Last-Event-ID", "must be an event id"))
        })
        .transpose()?;
    // Without a resume point, start from now: the console loads current
    // state through the lists and only needs what changes next.
    let last = match header.or(q.after) {
        Some(id) => id,
        None => latest_event(&state.store, access.tenant.id).await?,
    };
    let feed = Feed {
        store: state.store.clone(),
        tenant: access.tenant.id,
        last,
        buffer: VecDeque::new(),
        wake: state.events.subscribe(),
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        loop {
            if let Some(e) = feed.buffer.pop_front() {
                return Some((Ok(to_sse(&e)), feed));
            }
            match feed.store.events_after(feed.tenant, feed.last, 200).await {
                Ok(events) if !events.is_empty() => {
                    feed.last = events.last().map(|e| e.id).unwrap_or(feed.last);
                    feed.buffer.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    // End the stream; the client resumes from its last id.
                    tracing::warn!(error = %e, "event stream read failed");
                    return None;
                }
            }
            loop {
                match feed.wake.recv().await {
                    Ok(t) if t == feed.tenant => break,
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(30))))
}

async fn latest_event(store: &DynStore, tenant: Uuid) -> ApiResult<i64> {
    Ok(store.last_event_id(tenant).await?)
}

/// Feeds tenants woken by other processes (the store's LISTEN) into this
/// process's broadcast, until the server stops.
pub async fn forward_wakeups(
    mut wakeups: futures::stream::BoxStream<'static, Uuid>,
    events: broadcast::Sender<Uuid>,
) {
    use futures::StreamExt;
    while let Some(tenant) = wakeups.next().await {
        // No subscribers is fine: nobody is watching.
        let _ = events.send(tenant);
    }
}

/// Runs SLA sweeps until the state's server shuts down.
pub async fn sla_watcher(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = sweep_once(&state).await {
            tracing::error!(error = %e, "SLA sweep failed; retrying at the next tick");
        }
    }
}

/// One sweep: emits due alerts and wakes the tenants' live streams.
pub async fn sweep_once(state: &AppState) -> anyhow::Result<crate::store::SweepReport> {
    let report = state.store.sla_sweep(state.clock.now()).await?;
    for t in &report.tenants {
        state.notify(*t);
    }
    if report.at_risk + report.breached > 0 {
        tracing::info!(
            at_risk = report.at_risk,
            breached = report.breached,
            "SLA alerts emitted"
        );
    }
    Ok(report)
}
