//! The webhook dispatcher: a background task that leases due deliveries
//! from the store, posts them signed (bounded concurrency, a timeout per
//! attempt), logs every attempt and schedules retries with backoff. Woken by
//! new events (this process's or, on PostgreSQL, any process's) and by a
//! timer for retries; all state is in the store, so restarts and several
//! servers are safe. It also starts the periodic retention pass
//! ([`super::retention`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::{broadcast, Semaphore};

use super::supervise::{catch_panic, keep_running};
use super::AppState;
use crate::domain::webhook::{
    event_id, sign, WebhookPayload, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use crate::domain::WebhookAttempt;
use crate::store::{AttemptNext, AttemptRecord, DeliveryJob, EventRecord};

/// Bytes of a receiver's response kept with the attempt.
const EXCERPT_BYTES: usize = 500;

/// What a webhook attempt that panicked records (the panic is in the log).
pub const ATTEMPT_PANICKED: &str = "internal error: the attempt panicked; see the server log";

/// Runs until the server stops; a panic in the dispatcher itself restarts it.
pub async fn webhook_dispatcher(state: AppState) {
    keep_running("webhook dispatcher", Duration::from_secs(1), || {
        dispatch_loop(state.clone())
    })
    .await
}

async fn dispatch_loop(state: AppState) {
    let mut builder = reqwest::Client::builder()
        .timeout(state.settings.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        // HTTP(S)_PROXY in the server's environment is for its own traffic:
        // a proxy would resolve and connect where the address filter below
        // cannot see, so deliveries never go through one.
        .no_proxy()
        .user_agent(concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !state.settings.webhook_private_targets {
        // Names are checked where they resolve, so a name that later points
        // inside the network (DNS rebinding) is refused too.
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; no webhooks will be sent");
            return;
        }
    };
    let mut wake = state.events.subscribe();
    let permits = Arc::new(Semaphore::new(state.settings.webhook_concurrency.max(1)));
    // Finished attempts free a slot: look for more work then too.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(64);
    // The first retention pass runs at start-up, then one per interval.
    let mut next_purge = Instant::now();
    let mut purge: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        if Instant::now() >= next_purge && purge.as_ref().is_none_or(|p| p.is_finished()) {
            purge = Some(super::retention::spawn_pass(&state));
            next_purge = Instant::now() + state.settings.outbound_purge_interval;
        }
        let free = permits.available_permits();
        let mut full = false;
        if free > 0 {
            let now = state.clock.now();
            // A lease outlives the attempt's timeout, so a live attempt is
            // never claimed twice; a dead process's lease simply expires.
            let lease = now + lease_for(state.settings.webhook_timeout);
            match state.store.claim_deliveries(now, lease, free as u32).await {
                Ok(jobs) => {
                    full = jobs.len() == free;
                    for job in jobs {
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            return;
                        };
                        let state = state.clone();
                        let client = client.clone();
                        let done = done_tx.clone();
                        tokio::spawn(async move {
                            deliver(&state, &job, post(&state, &client, &job)).await;
                            drop(permit);
                            let _ = done.try_send(());
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot claim webhook deliveries"),
            }
        }
        if full {
            continue;
        }
        tokio::select! {
            r = wake.recv() => {
                if matches!(r, Err(broadcast::error::RecvError::Closed)) {
                    return;
                }
                // A burst of events needs one look, not one per event.
                super::settle(&mut wake).await;
            }
            _ = done_rx.recv() => {}
            _ = tokio::time::sleep(state.settings.outbound_interval) => {}
        }
    }
}

fn lease_for(timeout: Duration) -> chrono::Duration {
    chrono::Duration::from_std(timeout * 2 + Duration::from_secs(30))
        .unwrap_or(chrono::Duration::minutes(5))
}

/// The body every attempt of `job` sends: the same bytes for the same event.
pub fn payload(job: &DeliveryJob) -> WebhookPayload {
    event_payload(job.tenant_id, &job.event)
}

/// The body a delivery of `event` sends.
pub fn event_payload(tenant: uuid::Uuid, event: &EventRecord) -> WebhookPayload {
    WebhookPayload {
        id: event_id(tenant, event.id),
        kind: event.kind.clone(),
        created_at: event.created_at,
        tenant,
        data: event.data.clone(),
    }
}

/// One attempt of `job`, made by `attempt`, logged; schedules the next one
/// or gives up. An attempt that panics counts as a failed attempt (retried
/// with backoff like any other), so one event cannot stall its endpoint.
async fn deliver(
    state: &AppState,
    job: &DeliveryJob,
    attempt: impl std::future::Future<Output = WebhookAttempt>,
) {
    let at = state.clock.now();
    let what = format!("webhook delivery {}", job.delivery_id);
    let attempt = match catch_panic(&what, attempt).await {
        Ok(attempt) => attempt,
        Err(_) => failed_attempt(at, 0, ATTEMPT_PANICKED.to_string()),
    };
    let ok = attempt.status_code.is_some_and(|c| (200..300).contains(&c));
    let policy = state.settings.outbound_retry;
    let failed = job.attempts + 1;
    let next = if ok {
        AttemptNext::Delivered
    } else {
        match policy.retry_at(failed, job.created_at, attempt.at) {
            Some(at) => AttemptNext::RetryAt(at),
            None => AttemptNext::Failed,
        }
    };
    tracing::info!(
        tenant = %job.tenant_id,
        webhook = %job.webhook_id,
        event = job.event.id,
        status = ?attempt.status_code,
        latency_ms = attempt.latency_ms,
        next = ?next,
        "webhook attempt"
    );
    let record = AttemptRecord {
        attempt,
        next,
        disable: (!ok).then_some(policy),
    };
    match state.store.record_attempt(job, record).await {
        Ok(true) => {
            tracing::warn!(tenant = %job.tenant_id, webhook = %job.webhook_id,
                "webhook endpoint disabled after repeated failures");
            state.notify(job.tenant_id);
        }
        // The attempt's live event wakes the tenant's streams.
        Ok(false) => state.notify(job.tenant_id),
        // The lease expires and the delivery is attempted again: at least once.
        Err(e) => tracing::error!(error = %e, "cannot record a webhook attempt"),
    }
}

/// Resolves receivers' names to their public addresses only.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<std::net::SocketAddr> = found
                .filter(|a| crate::domain::webhook::is_public_ip(a.ip()))
                .collect();
            if public.is_empty() {
                let why = format!(
                    "{host} resolves only to loopback or private addresses, where this server \
                     does not deliver"
                );
                return Err(why.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

async fn post(state: &AppState, client: &reqwest::Client, job: &DeliveryJob) -> WebhookAttempt {
    super::supervise::inject!(state, WebhookAttempt);
    let at = state.clock.now();
    if !state.settings.webhook_private_targets {
        if let Some(host) = crate::domain::webhook::private_host(&job.url) {
            let why = format!("refused: {host} is a loopback or private address");
            return failed_attempt(at, 0, why);
        }
    }
    let body = match serde_json::to_vec(&payload(job)) {
        Ok(b) => b,
        Err(e) => return failed_attempt(at, 0, format!("cannot encode the event: {e}")),
    };
    let timestamp = at.timestamp();
    let signature = sign(&job.secret, timestamp, &body);
    let started = Instant::now();
    let sent = client
        .post(&job.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_ID_HEADER, event_id(job.tenant_id, job.event.id))
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        // Without the URL: it may carry a token in its query.
        Err(e) => {
            let latency = started.elapsed().as_millis() as u64;
            return failed_attempt(at, latency, describe(&e.without_url()));
        }
    };
    let status = response.status().as_u16();
    let mut excerpt = Vec::with_capacity(EXCERPT_BYTES);
    let mut stream = response.bytes_stream();
    while excerpt.len() < EXCERPT_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let take = (EXCERPT_BYTES - excerpt.len()).min(chunk.len());
                excerpt.extend_from_slice(&chunk[..take]);
            }
            // A body cut short or timing out does not change the status.
            Some(Err(_)) | None => break,
        }
    }
    WebhookAttempt {
        at,
        status_code: Some(status),
        error: None,
        latency_ms: started.elapsed().as_millis() as u64,
        response_excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
    }
}

fn failed_attempt(
    at: chrono::DateTime<chrono::Utc>,
    latency_ms: u64,
    error: String,
) -> WebhookAttempt {
    WebhookAttempt {
        at,
        status_code: None,
        error: Some(error),
        latency_ms,
        response_excerpt: String::new(),
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut msg = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DeliveryStatus, PageQuery};
    use crate::server::supervise::fixture;
    use crate::store::{Actor, WebhookRow};

    /// Issue 13: a panic inside one delivery attempt is that attempt's
    /// failure (counted, retried with backoff), not a dead task that leaves
    /// the delivery leased and unrecorded.
    #[tokio::test]
    async fn a_panicking_attempt_is_recorded_as_a_failed_attempt() {
        let fx = fixture::Fixture::new(None).await;
        let (store, now) = (&fx.state.store, chrono::Utc::now());
        let hook = WebhookRow {
            url: "https://hooks.example.com/x".into(),
            events: vec!["*".into()],
            enabled: true,
            secret: "whsec_test".into(),
        };
        let hook = store
            .create_webhook(&Actor::system(), fx.tenant.id, hook, now)
            .await
            .unwrap();
        fx.overdue_lead().await;
        let now = chrono::Utc::now();
        let lease = now + chrono::Duration::minutes(5);
        let jobs = store.claim_deliveries(now, lease, 10).await.unwrap();
        assert_eq!(jobs.len(), 1, "the lead.created delivery");

        deliver(&fx.state, &jobs[0], async {
            panic!("injected into the attempt")
        })
        .await;

        let page = store
            .list_deliveries(fx.tenant.id, hook.id, &PageQuery::default())
            .await
            .unwrap();
        let delivery = &page.items[0];
        assert_eq!(delivery.attempt_count, 1, "{delivery:?}");
        assert_eq!(delivery.status, DeliveryStatus::Pending);
        assert!(delivery.next_attempt_at.is_some(), "retried later");
        let attempt = &delivery.attempts[0];
        assert_eq!(attempt.status_code, None);
        assert_eq!(attempt.error.as_deref(), Some(ATTEMPT_PANICKED));
    }
}
