//! The platform's HTTP API: `app(state)` builds the router (tests call it),
//! `serve` binds and runs it until shutdown.

mod access;
mod api_keys;
mod auth;
pub mod error;
mod extract;
mod members;
mod openapi;
pub mod password;
mod ratelimit;
mod tenants;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{delete, get, patch, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::store::DynStore;
pub use ratelimit::LoginLimiter;

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub session_ttl: chrono::Duration,
    pub login_window: Duration,
    pub login_failures_per_email: usize,
    pub login_failures_per_ip: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::days(30),
            login_window: Duration::from_secs(15 * 60),
            login_failures_per_email: 5,
            login_failures_per_ip: 50,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub settings: Arc<ServerSettings>,
    pub login_limiter: Arc<LoginLimiter>,
}

impl AppState {
    pub fn new(store: DynStore, settings: ServerSettings) -> Self {
        let login_limiter = Arc::new(LoginLimiter::new(
            settings.login_window,
            settings.login_failures_per_email,
            settings.login_failures_per_ip,
        ));
        Self {
            store,
            settings: Arc::new(settings),
            login_limiter,
        }
    }
}

/// Largest request body the API accepts.
const BODY_LIMIT: usize = 256 * 1024;

pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/tenants", get(tenants::list).post(tenants::create))
        .route(
            "/tenants/{tenant}",
            get(tenants::get).patch(tenants::update),
        )
        .route("/tenants/{tenant}/suspend", post(tenants::suspend))
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
        .route("/tenants/{tenant}/audit", get(api_keys::audit))
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found);
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api)
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
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
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
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
