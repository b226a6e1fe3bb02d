//! Live events of every tenant the caller may see on one connection
//! (`GET /api/v1/events`): the per-tenant stream's rules for each tenant,
//! each event naming its tenant, resumable with `Last-Event-ID`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::events::{hidden_sse, EventsQuery, Sight};
use super::extract::{Query, Session};
use super::queue::{tenant_rights, TenantRights};
use super::AppState;
use crate::domain::Problem;
use crate::store::EventRecord;

/// The stream's reader and what they may see, tenant by tenant.
struct Reader {
    user: Uuid,
    token_hash: String,
    platform_admin: bool,
    rights: HashMap<Uuid, TenantRights>,
    /// The tenants, for the store's reads.
    tenants: Vec<Uuid>,
    /// Leads this stream has shown, so that one assigned away is withdrawn.
    shown: HashSet<Uuid>,
}

impl Reader {
    fn new(
        user: Uuid,
        token_hash: String,
        platform_admin: bool,
        rights: Vec<TenantRights>,
    ) -> Self {
        let mut reader = Reader {
            user,
            token_hash,
            platform_admin,
            rights: HashMap::new(),
            tenants: Vec::new(),
            shown: HashSet::new(),
        };
        reader.set(rights);
        reader
    }

    fn set(&mut self, rights: Vec<TenantRights>) {
        self.tenants = rights.iter().map(|r| r.access.tenant.id).collect();
        self.rights = rights
            .into_iter()
            .map(|r| (r.access.tenant.id, r))
            .collect();
    }

    /// The event as this reader may see it, with its tenant in the data.
    async fn filter(&mut self, state: &AppState, e: EventRecord) -> Option<Event> {
        let rights = self.rights.get(&e.tenant_id)?;
        let sight = rights
            .events(self.user)
            .sight(&mut self.shown, state, e.tenant_id, &e)
            .await?;
        let tenant = serde_json::json!(rights.access.tenant);
        Some(match sight {
            Sight::Event => {
                let mut data = e.data.clone();
                match data.as_object_mut() {
                    Some(map) => {
                        map.insert("tenant".into(), tenant);
                    }
                    None => data = serde_json::json!({ "tenant": tenant, "data": data }),
                }
                Event::default()
                    .id(e.id.to_string())
                    .event(e.kind.clone())
                    .data(data.to_string())
            }
            Sight::Hidden(lead) => hidden_sse(&e, lead, serde_json::json!({ "tenant": tenant })),
        })
    }

    /// Whether the session still holds, and the reader's rights in the
    /// tenants they read are the ones the stream was opened with: a lost or
    /// changed one ends the stream (the client reopens it with the new
    /// rights, resuming where it was); tenants newly visible join it.
    async fn still_allowed(&mut self, state: &AppState) -> bool {
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
        let now = match tenant_rights(state, self.user, self.platform_admin).await {
            Ok(now) => now,
            Err(_) => return false,
        };
        let kept = self.rights.values().all(|before| {
            now.iter().any(|r| {
                r.access.tenant.id == before.access.tenant.id
                    && r.access.role == before.access.role
                    && r.all_leads == before.all_leads
                    && r.settings == before.settings
                    && r.evals == before.evals
            })
        });
        if kept && now.len() != self.rights.len() {
            self.set(now);
        }
        kept
    }
}

struct Feed {
    state: AppState,
    last: i64,
    buffer: VecDeque<EventRecord>,
    wake: broadcast::Receiver<Uuid>,
    reader: Reader,
    next_check: tokio::time::Instant,
    _slot: super::slots::Slot,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "resume after this event")),
    responses((status = 200, description = "text/event-stream of the events of every tenant the \
        caller may see (platform admins: all), the same kinds as a tenant's stream, each with its \
        tenant as data.tenant {id, slug, name}; in each tenant the caller receives only what its \
        stream would send them. Event ids are one order across tenants: resuming after one skips \
        nothing. The stream ends within seconds of the session's end or a change of the caller's \
        rights in one of the tenants; tenants that become visible join it."),
        (status = 401, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)),
    security(("bearer" = [])))]
pub async fn stream(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::field("Last-Event-ID", "must be an event id"))
        })
        .transpose()?;
    let admin = session.user.platform_admin;
    let rights = tenant_rights(&state, session.user.id, admin).await?;
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
    let reader = Reader::new(session.user.id, session.token_hash.clone(), admin, rights);
    // Without a resume point, start from now: the console loads current
    // state through the lists and only needs what changes next.
    let last = match header.or(q.after) {
        Some(id) => id,
        None => state.store.last_event_across(&reader.tenants).await?,
    };
    let feed = Feed {
        last,
        buffer: VecDeque::new(),
        wake: state.events.subscribe(),
        next_check: tokio::time::Instant::now() + state.settings.stream_recheck,
        state,
        reader,
        _slot: slot,
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        loop {
            if tokio::time::Instant::now() >= feed.next_check {
                if !feed.reader.still_allowed(&feed.state).await {
                    return None;
                }
                feed.next_check = tokio::time::Instant::now() + feed.state.settings.stream_recheck;
            }
            if let Some(e) = feed.buffer.pop_front() {
                let state = feed.state.clone();
                match feed.reader.filter(&state, e).await {
                    Some(event) => return Some((Ok(event), feed)),
                    None => continue,
                }
            }
            match feed
                .state
                .store
                .events_across(&feed.reader.tenants, feed.last, 200)
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
                    tracing::warn!(error = %e, "all-tenant event stream read failed");
                    return None;
                }
            }
            let deadline = feed.next_check;
            loop {
                let woke = tokio::time::timeout_at(deadline, feed.wake.recv()).await;
                match woke {
                    Err(_) => break, // time to re-check the session
                    Ok(Ok(t)) if feed.reader.rights.contains_key(&t) => break,
                    Ok(Ok(_)) => continue,
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => break,
                    Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(30))))
}
