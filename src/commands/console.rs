//! `switchboard` without a subcommand: the console, against the embedded
//! platform or a remote one.

use anyhow::Context;

use crate::api::Client;
use crate::config::Config;
use crate::console::notifications::history::HistoryStore;
use crate::console::{self, ConsoleOptions};
use crate::credentials;
use crate::embedded;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let _guard = super::logging::to_file(config)?;
    // The history is per server and user (the user is known once signed
    // in); the embedded platform's port changes every run, so it is named.
    let options = |label: String, profile: &str| ConsoleOptions {
        server_label: label,
        key_overrides: config.keys.clone(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        history: Some(HistoryStore::new(&config.dirs.data, profile)),
    };
    match &config.server {
        Some(server) => {
            let saved = credentials::load(&credentials::remote_path(&config.dirs.config))?
                .filter(|s| s.server.trim_end_matches('/') == server.trim_end_matches('/'))
                .with_context(|| {
                    format!("not signed in to {server}: run `switchboard login --server {server}` first")
                })?;
            let client = Client::new(server)?.with_token(saved.token);
            console::run(client, options(server.clone(), server)).await
        }
        None => {
            let platform = embedded::start(config).await?;
            let client = Client::new(&platform.url())?.with_token(platform.token.clone());
            let label = format!("embedded {}", platform.url());
            let result = console::run(client, options(label, "embedded")).await;
            platform.stop().await?;
            result
        }
    }
}
