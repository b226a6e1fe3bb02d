//! `switchboard` without a subcommand: the console, against the embedded
//! platform or a remote one.

use std::io::IsTerminal;

use anyhow::Context;

use super::exit::{self, Code};
use crate::api::Client;
use crate::config::Config;
use crate::console::account::SignedOut;
use crate::console::notifications::history::HistoryStore;
use crate::console::{self, ConsoleOptions, Exit};
use crate::credentials;
use crate::embedded;

/// Refuses to start the console without a terminal on stdin and stdout
/// (a pipe, a file, `ssh` without `-t`): it could neither read keys nor draw.
pub fn require_terminal(stdin: bool, stdout: bool) -> anyhow::Result<()> {
    let which = match (stdin, stdout) {
        (true, true) => return Ok(()),
        (false, false) => "stdin and stdout are",
        (false, true) => "stdin is",
        (true, false) => "stdout is",
    };
    Err(exit::with(
        Code::Usage,
        anyhow::anyhow!(
            "the console needs a terminal, but {which} not one (a pipe or a file). Run \
             `switchboard` in a terminal (over ssh: `ssh -t`); for scripts use the commands \
             in `switchboard --help`"
        ),
    ))
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    require_terminal(
        std::io::stdin().is_terminal(),
        std::io::stdout().is_terminal(),
    )?;
    let _guard = super::logging::to_file(config)?;
    // The history is per server and user (the user is known once signed
    // in); the embedded platform's port changes every run, so it is named.
    let options = |label: String, profile: &str, local_session: bool| ConsoleOptions {
        server_label: label,
        key_overrides: config.keys.clone(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        history: Some(HistoryStore::new(&config.dirs.data, profile)),
        local_session,
    };
    match &config.server {
        Some(server) => {
            let path = credentials::remote_path(&config.dirs.config);
            let saved = credentials::load(&path)?
                .filter(|s| s.server.trim_end_matches('/') == server.trim_end_matches('/'))
                .with_context(|| {
                    format!("not signed in to {server}: run `switchboard login --server {server}` first")
                })
                .map_err(|e| exit::with(Code::Auth, e))?;
            let client =
                Client::new_trusting(server, config.ca_file.as_deref())?.with_token(saved.token);
            match console::run(client, options(server.clone(), server, false)).await? {
                Exit::Quit => Ok(()),
                Exit::SignedOut(how) => {
                    // The token is of no use any more.
                    credentials::remove(&path)?;
                    signed_out_remote(how, server)
                }
            }
        }
        None => {
            // A bad [llm] section is the configuration's fault (exit 3).
            embedded::providers(config).map_err(|e| exit::with(Code::Config, e))?;
            let platform = embedded::start(config).await?;
            let client = Client::new(&platform.url())?.with_token(platform.token.clone());
            let label = format!("embedded {}", platform.url());
            let result = console::run(client, options(label, "embedded", true)).await;
            platform.stop().await?;
            match result? {
                Exit::Quit => Ok(()),
                Exit::SignedOut(SignedOut::Everywhere) => {
                    println!(
                        "Signed out everywhere: every session of the local admin ended. \
                         The next `switchboard` signs you in again."
                    );
                    Ok(())
                }
                Exit::SignedOut(SignedOut::SessionEnded) => Err(exit::with(
                    Code::Auth,
                    anyhow::anyhow!(
                        "the local session ended; run `switchboard` again to start a new one"
                    ),
                )),
            }
        }
    }
}

/// What to do after the console closed on an ended remote session.
fn signed_out_remote(how: SignedOut, server: &str) -> anyhow::Result<()> {
    match how {
        SignedOut::Everywhere => {
            println!(
                "Signed out everywhere: every session of your account ended.\n\
                 Sign in again with `switchboard login --server {server}`."
            );
            Ok(())
        }
        SignedOut::SessionEnded => Err(exit::with(
            Code::Auth,
            anyhow::anyhow!(
                "your session with {server} ended (signed out elsewhere, the password changed, \
                 or idle too long); sign in again with `switchboard login --server {server}`"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_refuses_to_start_without_a_terminal() {
        assert!(require_terminal(true, true).is_ok());
        for (stdin, stdout, which) in [
            (false, true, "stdin is not"),
            (true, false, "stdout is not"),
            (false, false, "stdin and stdout are not"),
        ] {
            let e = require_terminal(stdin, stdout).unwrap_err();
            assert_eq!(exit::code_of(&e), Code::Usage);
            assert!(e.to_string().contains(which), "{e}");
        }
    }
}
