//! Live events per tenant as server-sent events, resumable with
//! `Last-Event-ID` from the persisted event log; and the SLA watcher.

use std::collections::{HashSet, VecDeque};
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
use crate::domain::access::effective;
use crate::domain::{Permission, Problem, Role};
use crate::store::{DynStore, EventRecord};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resume after this event id (same as the `Last-Event-ID` header).
    pub after: Option<i64>,
}

/// Who reads a stream, and what they may see of it: the same rules as the
/// lists (a member who sees only assigned leads gets only their events).
struct Viewer {
    user: Uuid,
    token_hash: String,
    /// The member's role and effective permissions when the stream opened.
    rights: Option<(Role, Vec<Permission>)>,
    platform_admin: bool,
    all_leads: bool,
    settings: bool,
    /// Sees eval runs' progress.
    evals: bool,
    /// Leads this stream has shown, so that one assigned away is withdrawn.
    shown: HashSet<Uuid>,
}

/// What an event says about which lead it concerns.
fn lead_of(data: &serde_json::Value) -> (Option<Uuid>, Option<Option<Uuid>>) {
    let uuid = |v: Option<&serde_json::Value>| v?.as_str()?.parse::<Uuid>().ok();
    if let Some(lead) = data.get("lead") {
        let assignee = lead.get("assignee_id").map(|a| uuid(Some(a)));
        return (uuid(lead.get("id")), Some(assignee.flatten()));
    }
    (uuid(data.get("lead_id")), None)
}

/// What a reader may see of one event.
pub(super) enum Sight {
    /// The event itself.
    Event,
    /// Only that this lead, which the reader saw before, is no longer theirs
    /// to see (`lead.hidden`).
    Hidden(Uuid),
}

/// What a reader may see of one tenant's events: the same rules as the
/// lists (a member who sees only assigned leads gets only their events).
#[derive(Debug, Clone, Copy)]
pub(super) struct EventRights {
    pub user: Uuid,
    pub all_leads: bool,
    pub settings: bool,
    /// Sees eval runs' progress.
    pub evals: bool,
}

impl EventRights {
    /// What this reader may see of `e`, an event of `tenant`; `shown` holds
    /// the leads their stream has shown (a lead's ids are unique across
    /// tenants), so that one assigned away is withdrawn.
    pub(super) async fn sight(
        &self,
        shown: &mut HashSet<Uuid>,
        state: &AppState,
        tenant: Uuid,
        e: &EventRecord,
    ) -> Option<Sight> {
        let (lead, assignee) = lead_of(&e.data);
        let Some(lead) = lead else {
            // Not about one lead: usage is for every member, webhooks for
            // those who manage them, the rest for who sees every lead.
            let ok = if e.kind.starts_with("usage.") {
                true
            } else if e.kind.starts_with("webhook.") {
                self.settings
            } else if e.kind.starts_with("eval.") {
                self.evals
            } else {
                self.all_leads
            };
            return ok.then_some(Sight::Event);
        };
        if self.all_leads {
            return Some(Sight::Event);
        }
        let visible = match assignee {
            Some(assignee) => assignee == Some(self.user),
            // Only the id: where the lead stands now decides (a deleted one
            // is withdrawn only if this stream showed it).
            None if e.kind == "lead.deleted" => shown.contains(&lead),
            None => match state.store.lead(tenant, lead, state.clock.now()).await {
                Ok(Some(l)) => l.assignee_id == Some(self.user),
                Ok(None) => false,
                Err(err) => {
                    tracing::warn!(error = %err, "event visibility check failed; event withheld");
                    false
                }
            },
        };
        if visible {
            if e.kind == "lead.deleted" {
                shown.remove(&lead);
            } else {
                shown.insert(lead);
            }
            return Some(Sight::Event);
        }
        shown.remove(&lead).then_some(Sight::Hidden(lead))
    }
}

/// The `lead.hidden` event that withdraws `lead`, at `e`'s place in the log.
pub(super) fn hidden_sse(e: &EventRecord, lead: Uuid, data: serde_json::Value) -> Event {
    let mut data = data;
    if let Some(map) = data.as_object_mut() {
        map.insert("lead_id".into(), serde_json::json!(lead));
    }
    Event::default()
        .id(e.id.to_string())
        .event("lead.hidden")
        .data(data.to_string())
}

impl Viewer {
    /// The event as this viewer may see it: itself, a `lead.hidden` that
    /// withdraws a lead it no longer sees, or nothing.
    async fn filter(&mut self, state: &AppState, tenant: Uuid, e: EventRecord) -> Option<Event> {
        let rights = EventRights {
            user: self.user,
            all_leads: self.all_leads,
            settings: self.settings,
            evals: self.evals,
        };
        match rights.sight(&mut self.shown, state, tenant, &e).await? {
            Sight::Event => Some(to_sse(&e)),
            Sight::Hidden(lead) => Some(hidden_sse(&e, lead, serde_json::json!({}))),
        }
    }

    /// Whether the session still holds and the member's rights are the
    /// ones the stream was opened with; a changed role or grant ends the
    /// stream so the client reopens it with the new rights.
    async fn still_allowed(&self, state: &AppState, tenant: Uuid) -> bool {
        let user = match state
            .store
            .session_user(&self.token_hash, state.session_clock())
            .await
        {
            Ok(Some(u)) => u,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(error = %e, "stream re-check failed; ending the stream");
                return false;
            }
        };
        if user.platform_admin != self.platform_admin {
            return false;
        }
        match state.store.rights_of(tenant, self.user).await {
            Ok(rights) => {
                let now = rights.map(|r| (r.role, effective(r.role, &r.grants)));
                now == self.rights && (now.is_some() || self.platform_admin)
            }
            Err(_) => false,
        }
    }
}

struct Feed {
    state: AppState,
    tenant: Uuid,
    last: i64,
    buffer: VecDeque<EventRecord>,
    wake: broadcast::Receiver<Uuid>,
    viewer: Viewer,
    next_check: tokio::time::Instant,
    _slot: super::slots::Slot,
}

pub(super) fn to_sse(e: &EventRecord) -> Event {
    Event::default()
        .id(e.id.to_string())
        .event(e.kind.clone())
        .data(e.data.to_string())
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/events", tag = "events",
    params(("tenant" = String, Path, description = "tenant id or slug"), EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "resume after this event")),
    responses((status = 200, description = "text/event-stream of lead.created, lead.updated, lead.deleted, \
        lead.hidden (a lead the caller no longer sees), sla.at_risk, sla.breached, workflow.*, usage.*, \
        webhook.*, eval.progress and eval.finished (to who may view evals); each member receives only the events of leads they may see. The stream ends within \
        seconds of the session's end or a change of the member's role."),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)),
    security(("bearer" = [])))]
pub async fn stream(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    let all_leads = access.can(Permission::LeadsViewAll);
    if !all_leads && !access.can(Permission::LeadsViewAssigned) {
        return Err(ApiError::Forbidden(
            "your role cannot see leads, so it has no live events; ask a tenant admin".into(),
        ));
    }
    let header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::field("Last-Event-ID", "must be an event id"))
        })
        .transpose()?;
    let slot = state
        .streams
        .try_take(session.user.id, 1)
        .ok_or_else(|| ApiError::Busy {
            retry_after: 5,
            why: format!(
                "you already have {} live event streams open (the most one user may); \
                 close one (another console or tab) and retry",
                state.settings.streams_per_user
            ),
        })?;
    // Without a resume point, start from now: the console loads current
    // state through the lists and only needs what changes next.
    let last = match header.or(q.after) {
        Some(id) => id,
        None => latest_event(&state.store, access.tenant.id).await?,
    };
    let viewer = Viewer {
        user: session.user.id,
        token_hash: session.token_hash.clone(),
        rights: access.role.map(|r| (r, access.permissions.clone())),
        platform_admin: access.platform_admin,
        all_leads,
        settings: access.can(Permission::SettingsManage),
        evals: access.can(Permission::EvalsView),
        shown: HashSet::new(),
    };
    let feed = Feed {
        tenant: access.tenant.id,
        last,
        buffer: VecDeque::new(),
        wake: state.events.subscribe(),
        next_check: tokio::time::Instant::now() + state.settings.stream_recheck,
        state,
        viewer,
        _slot: slot,
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        loop {
            if tokio::time::Instant::now() >= feed.next_check {
                if !feed.viewer.still_allowed(&feed.state, feed.tenant).await {
                    return None;
                }
                feed.next_check = tokio::time::Instant::now() + feed.state.settings.stream_recheck;
            }
            if let Some(e) = feed.buffer.pop_front() {
                let (state, tenant) = (feed.state.clone(), feed.tenant);
                match feed.viewer.filter(&state, tenant, e).await {
                    Some(event) => return Some((Ok(event), feed)),
                    None => continue,
                }
            }
            match feed
                .state
                .store
                .events_after(feed.tenant, feed.last, 200)
                .await
            {
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
            let deadline = feed.next_check;
            loop {
                let woke = tokio::time::timeout_at(deadline, feed.wake.recv()).await;
                match woke {
                    Err(_) => break, // time to re-check the session
                    Ok(Ok(t)) if t == feed.tenant => break,
                    Ok(Ok(_)) => continue,
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => break,
                    Ok(Err(broadcast::error::RecvError::Closed)) => return None,
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
        // A panic is caught (and logged) there: the next tick sweeps again.
        let sweep = super::supervise::catch_panic("SLA sweep", sweep_once(&state));
        if let Ok(Err(e)) = sweep.await {
            tracing::error!(error = %e, "SLA sweep failed; retrying at the next tick");
        }
    }
}

/// One sweep: emits due alerts and wakes the tenants' live streams.
pub async fn sweep_once(state: &AppState) -> anyhow::Result<crate::store::SweepReport> {
    super::supervise::inject!(state, SlaSweep);
    // Deadlines a restart or a failure left half recomputed: their walks
    // start again (in the background, beside this sweep).
    super::reclock::resume_pending(state).await?;
    // Deleted tenants whose purge a restart or a failure left unfinished.
    super::purge::resume_pending(state).await?;
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
