//! The server in use: the embedded platform, or a remote one reached and
//! asked who the saved session belongs to.

use std::time::Instant;

use super::Check;
use crate::api::Client;
use crate::commands::context::{self, Target};
use crate::config::Config;
use crate::console::sanitize::clean;
use crate::credentials::{self, Credentials};

pub async fn checks(config: &Config) -> Vec<Check> {
    let path = credentials::remote_path(&config.dirs.config);
    let creds = match Credentials::load(&path) {
        Ok(creds) => creds,
        Err(e) => {
            return vec![Check::fail("context", format!("{e:#}"))
                .hint(format!("remove {} and sign in again", path.display()))]
        }
    };
    let target = match context::resolve(config, &creds) {
        Ok(target) => target,
        Err(e) => {
            return vec![Check::fail("context", format!("{e:#}"))
                .hint("`switchboard context list` shows the contexts")]
        }
    };
    let (server, token) = match &target {
        Target::Local => {
            return vec![
                Check::ok(
                    "context",
                    format!("{} (of {})", credentials::LOCAL, creds.names().join(", ")),
                ),
                Check::ok(
                    "server",
                    "the embedded platform (the console starts it on a loopback port over the \
                     database below); `switchboard login --server URL` adds a team server as a \
                     context",
                ),
            ]
        }
        Target::Remote { server, token, .. } => (server.clone(), token.clone()),
    };
    let context = match &target {
        Target::Remote {
            context: Some(name),
            ..
        } => Check::ok(
            "context",
            format!("{} (of {})", clean(name), creds.names().join(", ")),
        ),
        _ => Check::warn("context", format!("none has {server}"))
            .hint(format!("run `switchboard login --server {server}`")),
    };
    let client = match Client::new_trusting(&server, config.ca_file.as_deref()) {
        Ok(client) => client,
        Err(e) => {
            return vec![
                context,
                Check::fail("server", format!("{server}: {e:#}"))
                    .hint("check the URL (http:// or https://, host and port)"),
            ]
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
                return vec![context, Check::fail("server", clean(&e.message()).into_owned()).hint(
                "check the URL, that `switchboard serve` runs there, and the network between",
            )]
            }
        };
    let login = match &target {
        Target::Remote {
            context: Some(name),
            ..
        } => format!("`switchboard login --server {server} --context {name}`"),
        _ => format!("`switchboard login --server {server}`"),
    };
    let session = match token {
        Some(token) => match client.with_token(token).me().await {
            Ok(me) => Check::ok("session", format!("signed in as {}", clean(&me.user.email))),
            Err(e) if e.status() == Some(401) => Check::fail(
                "session",
                "the saved session has ended (signed out, password changed or idle)",
            )
            .hint(format!("run {login}")),
            Err(e) => Check::fail("session", clean(&e.message()).into_owned()),
        },
        None => Check::warn("session", "not signed in").hint(format!("run {login}")),
    };
    vec![context, reach, session]
}
