//! The server in use: the embedded platform, or a remote one reached and
//! asked who the saved session belongs to.

use std::time::Instant;

use super::Check;
use crate::api::Client;
use crate::config::Config;
use crate::console::sanitize::clean;
use crate::credentials;

pub async fn checks(config: &Config) -> Vec<Check> {
    let Some(server) = &config.server else {
        return vec![Check::ok(
            "server",
            "the embedded platform (the console starts it on a loopback port over the \
             database below); `--server URL` or `server` in config.toml for a team server",
        )];
    };
    let client = match Client::new_trusting(server, config.ca_file.as_deref()) {
        Ok(client) => client,
        Err(e) => {
            return vec![Check::fail("server", format!("{server}: {e:#}"))
                .hint("check the URL (http:// or https://, host and port)")]
        }
    };
    let started = Instant::now();
    let reach =
        match client.healthz().await {
            Ok(()) => Check::ok(
                "server",
                format!(
                    "{server} answers in {} ms",
                    started.elapsed().as_millis().max(1)
                ),
            ),
            Err(e) => {
                return vec![Check::fail("server", clean(&e.message()).into_owned()).hint(
                "check the URL, that `switchboard serve` runs there, and the network between",
            )]
            }
        };
    let path = credentials::remote_path(&config.dirs.config);
    let session = match credentials::load(&path) {
        Ok(Some(saved)) if saved.server.trim_end_matches('/') == server.trim_end_matches('/') => {
            match client.with_token(saved.token).me().await {
                Ok(me) => Check::ok("session", format!("signed in as {}", clean(&me.user.email))),
                Err(e) if e.status() == Some(401) => Check::fail(
                    "session",
                    "the saved session has ended (signed out, password changed or idle)",
                )
                .hint(format!("run `switchboard login --server {server}`")),
                Err(e) => Check::fail("session", clean(&e.message()).into_owned()),
            }
        }
        Ok(Some(saved)) => Check::warn(
            "session",
            format!("the saved session is for {}, not this server", saved.server),
        )
        .hint(format!("run `switchboard login --server {server}`")),
        Ok(None) => Check::warn("session", "not signed in")
            .hint(format!("run `switchboard login --server {server}`")),
        Err(e) => Check::fail("session", format!("{e:#}"))
            .hint(format!("remove {} and sign in again", path.display())),
    };
    vec![reach, session]
}
