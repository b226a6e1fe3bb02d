//! `switchboard serve`: the platform API for a team.

use std::io::Write;

use anyhow::Context;
use tokio::net::TcpListener;

use super::exit::{self, Code};
use crate::config::Config;
use crate::embedded;
use crate::server::{self, AppState};
use crate::store;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    super::logging::to_stderr(config);
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.dirs.data).ok();
    }
    let store = store::open(&config.database_url).await?;
    // Everything that can refuse to start does so before the address is announced.
    let providers = embedded::providers(config).map_err(|e| exit::with(Code::Config, e))?;
    let state = AppState::new(store, embedded::settings(config)).with_providers(providers);
    let listener = TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let addr = listener.local_addr()?;
    let shutdown = server::shutdown_signal().context("cannot install signal handlers")?;
    // Scripts read this first line to learn the port when binding port 0.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    drop(out);
    tracing::info!(%addr, database = %redact(&config.database_url), "serving");
    server::serve_on(listener, state, shutdown).await
}

/// A database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://app:hunter2@db/x"),
            "postgres://app:***@db/x"
        );
        assert_eq!(super::redact("sqlite:///a/b.db"), "sqlite:///a/b.db");
    }
}
