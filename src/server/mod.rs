//! The platform's HTTP API: `app(state)` builds the router (tests call it),
//! `serve` binds and runs it until shutdown.

mod access;
mod account;
mod agents;
mod analytics;
mod api_keys;
mod auth;
pub mod clock;
pub mod dispatch;
pub mod error;
mod eval_runner;
mod evals;
pub mod events;
mod events_all;
mod extract;
mod import;
mod ingest;
pub mod ingest_context;
pub mod knowledge;
mod leads;
pub mod mailer;
mod members;
mod openapi;
pub mod password;
mod platform;
mod playground;
pub mod purge;
mod queue;
mod ratelimit;
pub mod reclock;
pub mod retention;
pub mod slots;
pub mod supervise;
pub mod tenant_jobs;
mod tenants;
mod usage;
mod webhooks;
mod workflow_runner;
mod workflows;
mod workspaces;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{delete, get, patch, post, put};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::store::DynStore;
pub use ratelimit::LoginLimiter;

#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// A session's absolute lifetime, however much it is used.
    pub session_ttl: chrono::Duration,
    /// A session ends this long after its last use.
    pub session_idle: chrono::Duration,
    /// How often a live event stream re-checks its session and membership.
    pub stream_recheck: Duration,
    /// Concurrent live event streams one user may hold open.
    pub streams_per_user: usize,
    /// Model generations one tenant may run at once (playground replies
    /// and workflow steps together).
    pub generations_per_tenant: usize,
    /// How often the SLA watcher looks for alerts to emit.
    pub sla_interval: Duration,
    /// Lead ingest per API key: sustained rate and burst.
    pub ingest_per_minute: u32,
    pub ingest_burst: u32,
    /// How long an ingest key's owner and tenant are remembered between
    /// ingests (zero: read on every ingest). See `ingest_context`.
    pub ingest_context_ttl: Duration,
    /// The login limits' window: each limit allows a burst of its count,
    /// then one more attempt every `login_window` / count.
    pub login_window: Duration,
    /// Failed logins for one email from one client (IPv4 address or IPv6
    /// /64) at once; others may still sign in as that email.
    pub login_failures_per_email: usize,
    /// Failed logins from one client across all emails at once.
    pub login_failures_per_ip: usize,
    /// The header a trusted reverse proxy writes the client's address into
    /// (e.g. `X-Forwarded-For`); `None`: the peer address is the client,
    /// and no header a client sends is believed.
    pub trusted_proxy_header: Option<String>,
    /// Lead workflows run at once (0: none run in this process).
    pub workflow_workers: usize,
    /// How often the webhook dispatcher and the mailer look for retries due
    /// (new events wake them at once).
    pub outbound_interval: Duration,
    /// Longest wait for a webhook receiver's answer.
    pub webhook_timeout: Duration,
    /// Webhook attempts in flight at once (per process).
    pub webhook_concurrency: usize,
    /// Whether webhooks may target loopback and private addresses. Off for
    /// team servers (a tenant must not reach the server's own network); the
    /// embedded platform of a local console turns it on.
    pub webhook_private_targets: bool,
    /// Backoff for webhooks and mail; when webhooks give up and endpoints
    /// are disabled.
    pub outbound_retry: crate::domain::RetryPolicy,
    /// How long delivered (or given-up) webhook deliveries, their attempts
    /// and sent mail are kept; unfinished ones are kept until they finish.
    pub outbound_retention: chrono::Duration,
    /// How long the live event log is kept (streams resume from it).
    pub event_retention: chrono::Duration,
    /// How often the dispatcher deletes what is past retention.
    pub outbound_purge_interval: Duration,
    /// Where the mailer sends the outbox; `None` keeps it unsent.
    pub smtp: Option<mailer::SmtpSettings>,
    /// Emails one tenant's activity may make the platform send per UTC day
    /// (alerts, approval requests, replies); the rest wait for the next day.
    pub email_daily_quota_per_tenant: u32,
    /// Per-tenant limits on signed-in API calls and ingest (per minute, by
    /// tier or the tenant's override), shared by every server on the store.
    pub tenant_rate_limits: bool,
    /// How often counted usage is added to the store.
    pub usage_flush_interval: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::days(30),
            session_idle: chrono::Duration::days(7),
            stream_recheck: Duration::from_secs(2),
            streams_per_user: 8,
            generations_per_tenant: 2,
            sla_interval: Duration::from_secs(30),
            ingest_per_minute: 600,
            ingest_burst: 100,
            ingest_context_ttl: Duration::from_secs(3),
            login_window: Duration::from_secs(15 * 60),
            login_failures_per_email: 5,
            login_failures_per_ip: 50,
            trusted_proxy_header: None,
            workflow_workers: 2,
            outbound_interval: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(10),
            webhook_concurrency: 8,
            webhook_private_targets: false,
            outbound_retry: crate::domain::RetryPolicy::default(),
            outbound_retention: chrono::Duration::days(30),
            event_retention: chrono::Duration::days(30),
            outbound_purge_interval: Duration::from_secs(60 * 60),
            smtp: None,
            email_daily_quota_per_tenant: 200,
            tenant_rate_limits: true,
            usage_flush_interval: Duration::from_secs(2),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub settings: Arc<ServerSettings>,
    pub login_limiter: Arc<LoginLimiter>,
    pub ingest_limiter: Arc<ingest::IngestLimiter>,
    /// Ingest keys' owners and tenants, read lately.
    pub ingest_contexts: Arc<ingest_context::IngestContexts>,
    pub clock: Arc<dyn clock::Clock>,
    /// Wakes live event streams: carries the id of a tenant with new events.
    pub events: tokio::sync::broadcast::Sender<uuid::Uuid>,
    /// The model providers agents run on.
    pub providers: Arc<crate::llm::Providers>,
    /// Playground replies being generated, for cancel.
    pub playground: Arc<playground::PlaygroundRuns>,
    /// Workflows this process is running, for cancel.
    pub workflows: Arc<workflow_runner::WorkflowRuns>,
    /// Eval runs this process is running, for cancel.
    pub evals: Arc<eval_runner::EvalRuns>,
    /// Tenants whose SLA deadlines this process is recomputing.
    pub reclocks: Arc<tenant_jobs::Running>,
    /// Deleted tenants whose data this process is purging.
    pub purges: Arc<tenant_jobs::Running>,
    /// Live event streams open per user, for the per-user cap.
    pub streams: Arc<slots::Slots>,
    /// Model generations running per tenant, for the per-tenant cap.
    pub generations: Arc<slots::Slots>,
    /// This server's leases on the tenants' rate windows.
    pub limiter: Arc<usage::TenantLimiter>,
    /// Usage counted and not yet added to the store.
    pub usage: Arc<usage::UsageMeter>,
    /// Panics a test injects into background jobs.
    #[cfg(feature = "fault-injection")]
    pub faults: Arc<supervise::faults::Faults>,
}

impl AppState {
    pub fn new(store: DynStore, settings: ServerSettings) -> Self {
        Self::with_clock(store, settings, Arc::new(clock::SystemClock))
    }

    pub fn with_clock(
        store: DynStore,
        settings: ServerSettings,
        clock: Arc<dyn clock::Clock>,
    ) -> Self {
        let login_limiter = Arc::new(LoginLimiter::new(
            settings.login_window,
            settings.login_failures_per_email,
            settings.login_failures_per_ip,
        ));
        let ingest_limiter = Arc::new(ingest::IngestLimiter::new(
            settings.ingest_per_minute,
            settings.ingest_burst,
        ));
        let ingest_contexts = Arc::new(ingest_context::IngestContexts::new(
            settings.ingest_context_ttl,
        ));
        let (events, _) = tokio::sync::broadcast::channel(1024);
        let generations_per_tenant = settings.generations_per_tenant;
        let streams_per_user = settings.streams_per_user;
        Self {
            store,
            settings: Arc::new(settings),
            login_limiter,
            ingest_limiter,
            ingest_contexts,
            clock,
            events,
            providers: Arc::new(crate::llm::Providers::default()),
            playground: Arc::default(),
            workflows: Arc::default(),
            evals: Arc::default(),
            reclocks: Arc::default(),
            purges: Arc::default(),
            streams: Arc::new(slots::Slots::new(streams_per_user)),
            generations: Arc::new(slots::Slots::new(generations_per_tenant)),
            limiter: Arc::default(),
            usage: Arc::default(),
            #[cfg(feature = "fault-injection")]
            faults: Arc::default(),
        }
    }

    /// Now, and how long a session may sit unused, for session lookups.
    pub fn session_clock(&self) -> crate::store::SessionClock {
        crate::store::SessionClock {
            now: chrono::Utc::now(),
            idle: self.settings.session_idle,
        }
    }

    pub fn with_providers(mut self, providers: crate::llm::Providers) -> Self {
        self.providers = Arc::new(providers);
        self
    }

    /// Tells live streams of `tenant` that its event log grew.
    pub fn notify(&self, tenant: uuid::Uuid) {
        // No subscribers is fine: nobody is watching.
        let _ = self.events.send(tenant);
    }
}

/// How long a background loop (workflow workers, webhook dispatcher,
/// mailer) woken by a change lets the rest of a burst arrive before it
/// looks for work: a thousand ingests a second then cost each loop a few
/// dozen queries a second, not one per lead.
const WAKE_SETTLE: Duration = Duration::from_millis(25);

/// After a wake-up: waits out the burst, then drops the wake-ups it sent.
pub(crate) async fn settle(wake: &mut tokio::sync::broadcast::Receiver<uuid::Uuid>) {
    tokio::time::sleep(WAKE_SETTLE).await;
    while wake.try_recv().is_ok() {}
}

/// Largest request body the API accepts.
const BODY_LIMIT: usize = 256 * 1024;

pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/logout-all", post(account::logout_all))
        .route("/me", get(auth::me))
        .route("/me/password", post(account::change_password))
        .route("/me/invitations", get(account::my_invitations))
        .route("/me/invitations/{id}/accept", post(account::accept_mine))
        .route("/me/invitations/{id}/decline", post(account::decline_mine))
        .route("/models", get(auth::models))
        .route("/platform/settings", get(platform::get).put(platform::put))
        .route("/tenants", get(tenants::list).post(tenants::create))
        .route(
            "/tenants/{tenant}",
            get(tenants::get)
                .patch(tenants::update)
                .delete(tenants::delete),
        )
        .route("/tenants/{tenant}/suspend", post(tenants::suspend))
        .route("/tenants/{tenant}/usage", get(usage::usage))
        .route("/tenants/{tenant}/limits", put(usage::set_limits))
        .route("/tenants/{tenant}/reactivate", post(tenants::reactivate))
        .route(
            "/tenants/{tenant}/members",
            get(members::list).post(members::add),
        )
        .route(
            "/tenants/{tenant}/members/{user_id}",
            patch(members::change_role).delete(members::remove),
        )
        .route(
            "/tenants/{tenant}/members/{user_id}/permissions",
            get(members::permissions).put(members::set_permissions),
        )
        .route(
            "/tenants/{tenant}/invitations",
            get(members::list_invitations).post(members::invite),
        )
        .route(
            "/tenants/{tenant}/invitations/{id}",
            delete(members::revoke_invitation),
        )
        .route("/invitations/accept", post(members::accept))
        .route(
            "/tenants/{tenant}/api-keys",
            get(api_keys::list).post(api_keys::create),
        )
        .route("/tenants/{tenant}/api-keys/{id}", delete(api_keys::revoke))
        .route(
            "/tenants/{tenant}/api-keys/{id}/rotate",
            post(api_keys::rotate),
        )
        .route("/tenants/{tenant}/audit", get(api_keys::audit))
        .route("/ingest/leads", post(ingest::ingest))
        .route("/leads", get(queue::list))
        .route("/events", get(events_all::stream))
        .route(
            "/tenants/{tenant}/leads",
            get(leads::list).post(leads::create),
        )
        .route("/tenants/{tenant}/leads/bulk", post(leads::bulk))
        .route(
            "/tenants/{tenant}/leads/import-sample",
            post(import::import_sample),
        )
        .route("/tenants/{tenant}/leads/import", post(import::import_csv))
        .route(
            "/tenants/{tenant}/leads/export.csv",
            get(import::export_csv),
        )
        .route(
            "/tenants/{tenant}/leads/{id}",
            get(leads::get).patch(leads::update).delete(leads::delete),
        )
        .route("/tenants/{tenant}/leads/{id}/notes", post(leads::add_note))
        .route(
            "/tenants/{tenant}/leads/{id}/timeline",
            get(leads::timeline),
        )
        .route("/tenants/{tenant}/events", get(events::stream))
        .route(
            "/tenants/{tenant}/agents",
            get(agents::list).post(agents::create),
        )
        .route(
            "/tenants/{tenant}/agents/{id}",
            get(agents::get)
                .patch(agents::update)
                .delete(agents::delete),
        )
        .route(
            "/tenants/{tenant}/agents/{id}/versions",
            get(agents::versions),
        )
        .route(
            "/tenants/{tenant}/agents/{id}/versions/{n}",
            get(agents::version),
        )
        .route(
            "/tenants/{tenant}/agents/{id}/versions/{n}/restore",
            post(agents::restore),
        )
        .route("/tenants/{tenant}/agents/{id}/copy", post(agents::copy))
        .route(
            "/tenants/{tenant}/agents/{id}/sharing",
            put(agents::set_sharing),
        )
        .route(
            "/tenants/{tenant}/agents/{id}/knowledge",
            get(knowledge::agent_get).put(knowledge::agent_set),
        )
        .route(
            "/tenants/{tenant}/knowledge",
            get(knowledge::list).post(knowledge::create),
        )
        .route("/tenants/{tenant}/knowledge/search", get(knowledge::search))
        .route(
            "/tenants/{tenant}/knowledge/{id}",
            get(knowledge::get)
                .patch(knowledge::update)
                .delete(knowledge::delete),
        )
        .route(
            "/tenants/{tenant}/evals",
            get(evals::list_sets).post(evals::create_set),
        )
        .route(
            "/tenants/{tenant}/evals/{id}",
            get(evals::get_set)
                .patch(evals::update_set)
                .delete(evals::delete_set),
        )
        .route("/tenants/{tenant}/evals/{id}/cases", post(evals::add_case))
        .route(
            "/tenants/{tenant}/evals/{id}/cases/{case}",
            patch(evals::update_case).delete(evals::delete_case),
        )
        .route("/tenants/{tenant}/evals/{id}/import", post(evals::import))
        .route(
            "/tenants/{tenant}/evals/{id}/runs",
            get(evals::list_runs).post(evals::start_run),
        )
        .route(
            "/tenants/{tenant}/evals/{id}/runs/{run}",
            get(evals::get_run).delete(evals::delete_run),
        )
        .route(
            "/tenants/{tenant}/evals/{id}/runs/{run}/cancel",
            post(evals::cancel_run),
        )
        .route(
            "/tenants/{tenant}/evals/{id}/runs/{run}/compare/{other}",
            get(evals::compare),
        )
        .route(
            "/tenants/{tenant}/workspaces",
            get(workspaces::list).post(workspaces::create),
        )
        .route(
            "/tenants/{tenant}/workspaces/{id}",
            get(workspaces::get)
                .patch(workspaces::update)
                .delete(workspaces::delete),
        )
        .route(
            "/tenants/{tenant}/playground/sessions",
            get(playground::list).post(playground::create),
        )
        .route(
            "/tenants/{tenant}/playground/sessions/{id}",
            get(playground::get).delete(playground::delete),
        )
        .route(
            "/tenants/{tenant}/playground/sessions/{id}/messages",
            post(playground::send),
        )
        .route(
            "/tenants/{tenant}/playground/sessions/{id}/regenerate",
            post(playground::regenerate),
        )
        .route(
            "/tenants/{tenant}/playground/sessions/{id}/cancel",
            post(playground::cancel),
        )
        .route(
            "/tenants/{tenant}/playground/sessions/{id}/messages/{message}/lead",
            post(playground::save_as_lead),
        )
        .route(
            "/tenants/{tenant}/leads/{id}/workflow",
            post(workflows::start),
        )
        .route("/tenants/{tenant}/workflows", get(workflows::list))
        .route("/tenants/{tenant}/workflows/{id}", get(workflows::get))
        .route(
            "/tenants/{tenant}/workflows/{id}/approve",
            post(workflows::approve),
        )
        .route(
            "/tenants/{tenant}/workflows/{id}/reject",
            post(workflows::reject),
        )
        .route(
            "/tenants/{tenant}/workflows/{id}/cancel",
            post(workflows::cancel),
        )
        .route(
            "/tenants/{tenant}/workflows/{id}/retry",
            post(workflows::retry),
        )
        .route("/analytics", get(analytics::platform))
        .route("/analytics/overview", get(analytics::overview))
        .route("/tenants/{tenant}/analytics", get(analytics::tenant))
        .route(
            "/tenants/{tenant}/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/tenants/{tenant}/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/tenants/{tenant}/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route(
            "/tenants/{tenant}/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/tenants/{tenant}/webhooks/{id}/test",
            post(webhooks::send_test),
        )
        .route(
            "/tenants/{tenant}/webhooks/{id}/deliveries/{delivery}",
            get(webhooks::delivery),
        )
        .route(
            "/tenants/{tenant}/webhooks/{id}/deliveries/{delivery}/replay",
            post(webhooks::replay),
        )
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found);
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ingest_context::forget_on_change,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::map_response(
            error::problem_for_bare_errors,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> error::ApiError {
    error::ApiError::NotFound
}

/// Serves `app` on an already-bound listener until `shutdown` resolves,
/// finishing in-flight requests.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Subscribe before serving: events other processes write from now on
    // wake this process's live streams too.
    let wakeups = state
        .store
        .event_wakeups()
        .await
        .map_err(|e| anyhow::anyhow!(e).context("cannot listen for events from other servers"))?
        .map(|stream| tokio::spawn(events::forward_wakeups(stream, state.events.clone())));
    let watcher = tokio::spawn(events::sla_watcher(
        state.clone(),
        state.settings.sla_interval,
    ));
    let workers = tokio::spawn(workflow_runner::worker_pool(
        state.clone(),
        state.settings.workflow_workers,
    ));
    let dispatcher = tokio::spawn(dispatch::webhook_dispatcher(state.clone()));
    let eval_recovery = tokio::spawn(eval_runner::recovery(state.clone()));
    let usage_flusher = tokio::spawn(usage::usage_flusher(
        state.clone(),
        state.settings.usage_flush_interval,
    ));
    let last_flush = state.clone();
    let mail = state
        .settings
        .smtp
        .clone()
        .map(|smtp| tokio::spawn(mailer::mailer(state.clone(), smtp)));
    // Streams (live events, playground tokens) write small frames: without
    // TCP_NODELAY, Nagle's algorithm holds each back for the peer's ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let result = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    watcher.abort();
    workers.abort();
    dispatcher.abort();
    eval_recovery.abort();
    usage_flusher.abort();
    if let Err(e) = last_flush.usage.flush(&last_flush.store).await {
        tracing::warn!(error = %e, "cannot record the last tenant usage before stopping");
    }
    if let Some(task) = mail {
        task.abort();
    }
    if let Some(task) = wakeups {
        task.abort();
    }
    result?;
    Ok(())
}

/// Registers SIGINT and SIGTERM handlers now (so a signal sent right after
/// start-up is not lost) and returns a future that resolves on either.
pub fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            tracing::info!("shutting down");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        })
    }
}
