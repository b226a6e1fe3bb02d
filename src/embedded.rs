//! The embedded platform: the API served in-process on a loopback port over
//! the local SQLite file, with the local user signed in as platform admin.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::Config;
use crate::credentials::{self, SavedSession};
use crate::domain::secret;
use crate::server::{self, AppState, ServerSettings};
use crate::store::{self, DynStore};

pub const LOCAL_ADMIN_EMAIL: &str = "admin@local";

/// A running embedded platform; dropping it stops the server.
pub struct Embedded {
    pub addr: SocketAddr,
    pub token: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Embedded {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for in-flight requests.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.context("embedded server task failed")??;
        }
        Ok(())
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The model providers `config` names; a bad section stops start-up.
pub fn providers(config: &Config) -> anyhow::Result<crate::llm::Providers> {
    crate::llm::Providers::from_config(&config.llm, &config.dirs.data)
        .map_err(|e| anyhow::anyhow!("invalid [llm] configuration: {e}"))
}

pub fn settings(config: &Config) -> ServerSettings {
    ServerSettings {
        session_ttl: chrono::Duration::days(config.session_days as i64),
        session_idle: chrono::Duration::days(i64::from(config.session_idle_days)),
        event_retention: chrono::Duration::days(i64::from(config.event_retention_days)),
        ingest_per_minute: config.ingest_rate_per_minute,
        ingest_burst: config.ingest_burst,
        tenant_rate_limits: config.tenant_rate_limits,
        sla_interval: std::time::Duration::from_secs(u64::from(config.sla_check_seconds)),
        workflow_workers: config.workflow_workers as usize,
        webhook_private_targets: config.webhook_private_targets,
        trusted_proxy_header: config.trusted_proxy_header.clone(),
        outbound_retention: chrono::Duration::days(i64::from(config.outbound_retention_days)),
        smtp: config.smtp.clone(),
        email_daily_quota_per_tenant: config.email_daily_quota_per_tenant,
        ..ServerSettings::default()
    }
}

/// Opens the store, makes sure the local admin exists and has a valid
/// session token (saved with mode 0600), and serves on 127.0.0.1:0.
pub async fn start(config: &Config) -> anyhow::Result<Embedded> {
    std::fs::create_dir_all(&config.dirs.data)
        .with_context(|| format!("cannot create the data dir {}", config.dirs.data.display()))?;
    let store = store::open(&config.database_url).await?;
    // One user on their own machine: webhooks to a local receiver are
    // how they try them, and there is no one else's network to protect.
    let settings = ServerSettings {
        webhook_private_targets: true,
        ..settings(config)
    };
    let state = AppState::new(store.clone(), settings).with_providers(providers(config)?);
    let token = local_token(&state, &store, config).await?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind a loopback port for the embedded platform")?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(server::serve_on(listener, state, async {
        let _ = rx.await;
    }));
    tracing::info!(%addr, "embedded platform listening");
    Ok(Embedded {
        addr,
        token,
        stop: Some(tx),
        task: Some(task),
    })
}

async fn local_token(
    state: &AppState,
    store: &DynStore,
    config: &Config,
) -> anyhow::Result<String> {
    let path = credentials::local_path(&config.dirs.data);
    if let Some(saved) = credentials::load(&path)? {
        if store
            .session_user(&secret::hash(&saved.token), state.session_clock())
            .await?
            .is_some()
        {
            return Ok(saved.token);
        }
    }
    let user = match store.user_by_email(LOCAL_ADMIN_EMAIL).await? {
        Some((user, _)) => user,
        None => {
            // No password: the local admin signs in through this file only.
            match store
                .create_user(LOCAL_ADMIN_EMAIL, "Local admin", None, true)
                .await
            {
                Ok(user) => user,
                // Another switchboard on the same data dir created it first.
                Err(store::StoreError::Conflict { .. }) => store
                    .user_by_email(LOCAL_ADMIN_EMAIL)
                    .await?
                    .map(|(u, _)| u)
                    .context("the local admin vanished while starting")?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    let login = state
        .issue_session(user)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the local session: {e}"))?;
    credentials::save(
        &path,
        &SavedSession {
            server: "embedded".into(),
            token: login.token.clone(),
        },
    )?;
    Ok(login.token)
}
