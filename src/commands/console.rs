//! `switchboard` without a subcommand: the console, against the embedded
//! platform or a remote one.

use std::io::IsTerminal;

use anyhow::Context;

use super::exit::{self, Code};
use crate::api::Client;
use crate::config::Config;
use std::sync::Arc;

use super::context::{self, Target};
use crate::console::account::SignedOut;
use crate::console::contexts::{Connection, ContextMemory, Contexts, Switcher};
use crate::console::leads::LeadsMemory;
use crate::console::notifications::history::HistoryStore;
use crate::console::{self, ConsoleOptions, Exit};
use crate::credentials::{self, ContextView, Credentials};
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
    let creds = context::load(config)?;
    let target = context::resolve(config, &creds)?;
    if let Target::Local = target {
        // A bad [llm] section is the configuration's fault (exit 3).
        embedded::providers(config).map_err(|e| exit::with(Code::Config, e))?;
    }
    let contexts = Arc::new(CliContexts {
        config: config.clone(),
        embedded: tokio::sync::Mutex::new(None),
        current: std::sync::Mutex::new(target.clone()),
    });
    let first = contexts.open(&target).await?;
    let options = ConsoleOptions {
        server_label: first.label,
        key_overrides: config.keys.clone(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        history: first.history,
        local_session: first.local_session,
        // The path the embedded platform's local provider reads (see
        // `Providers::from_config`).
        local_model_path: config.llm.local.enabled.then(|| {
            config
                .llm
                .local
                .model_path
                .clone()
                .unwrap_or_else(|| crate::llm::fetch::model_path(&config.dirs.data))
        }),
        model_installer: Some(std::sync::Arc::new(FetchInstaller)),
        context: Some(first.context),
        memory: first.memory,
        contexts: Some(Switcher(contexts.clone())),
    };
    let result = console::run(first.client, options).await;
    // The console may have switched: the context it ended on is the one
    // whose session ended.
    let last = contexts.current();
    if let Some(platform) = contexts.embedded.lock().await.take() {
        platform.stop().await?;
    }
    match (result?, last) {
        (Exit::Quit, _) => Ok(()),
        (Exit::SignedOut(SignedOut::Everywhere), Target::Local) => {
            println!(
                "Signed out everywhere: every session of the local admin ended. \
                 The next `switchboard` signs you in again."
            );
            Ok(())
        }
        (Exit::SignedOut(SignedOut::SessionEnded), Target::Local) => Err(exit::with(
            Code::Auth,
            anyhow::anyhow!("the local session ended; run `switchboard` again to start a new one"),
        )),
        (
            Exit::SignedOut(how),
            Target::Remote {
                context, server, ..
            },
        ) => {
            // The token is of no use any more.
            if let Some(name) = &context {
                let path = credentials::remote_path(&config.dirs.config);
                Credentials::update(&path, |c| {
                    if let Some(entry) = c.contexts.get_mut(name) {
                        entry.token = None;
                    }
                    Ok(())
                })?;
            }
            signed_out_remote(how, &server)
        }
    }
}

/// The contexts of this installation, for the console's `:ctx`: remote
/// ones through the credentials file, `local` by starting the embedded
/// platform on first use (stopped when the console ends).
struct CliContexts {
    config: Config,
    embedded: tokio::sync::Mutex<Option<embedded::Embedded>>,
    /// The context connected to last.
    current: std::sync::Mutex<Target>,
}

impl CliContexts {
    fn current(&self) -> Target {
        self.current
            .lock()
            .map(|t| t.clone())
            .unwrap_or(Target::Local)
    }

    fn path(&self) -> std::path::PathBuf {
        credentials::remote_path(&self.config.dirs.config)
    }

    async fn open(&self, target: &Target) -> anyhow::Result<Connection> {
        let creds = Credentials::load(&self.path())?;
        let name = target.name();
        let view = creds.views.get(&name).cloned().unwrap_or_default();
        let memory = ContextMemory {
            tenant: creds.last_tenant.get(&name).cloned(),
            recent_tenants: view.recent_tenants,
            leads: LeadsMemory {
                scope: view.leads_scope,
                search: view.leads_search,
            },
        };
        let conn = match target {
            Target::Local => {
                let mut embedded = self.embedded.lock().await;
                if embedded.is_none() {
                    *embedded = Some(embedded::start(&self.config).await?);
                }
                let platform = embedded.as_ref().context("the embedded platform stopped")?;
                Connection {
                    context: name,
                    client: Client::new(&platform.url())?.with_token(platform.token.clone()),
                    label: format!("embedded {}", platform.url()),
                    local_session: true,
                    // The embedded platform's port changes every run, so
                    // its history is named.
                    history: Some(HistoryStore::new(&self.config.dirs.data, "embedded")),
                    memory,
                }
            }
            Target::Remote { token: None, .. } => return Err(context::not_signed_in(target)),
            Target::Remote {
                server,
                token: Some(token),
                ..
            } => Connection {
                context: name,
                client: Client::new_trusting(server, self.config.ca_file.as_deref())?
                    .with_token(token.clone()),
                label: server.clone(),
                local_session: false,
                history: Some(HistoryStore::new(&self.config.dirs.data, server)),
                memory,
            },
        };
        Ok(conn)
    }
}

#[async_trait::async_trait]
impl Contexts for CliContexts {
    fn names(&self) -> Vec<String> {
        Credentials::load(&self.path())
            .map(|c| c.names())
            .unwrap_or_else(|_| vec![credentials::LOCAL.to_string()])
    }

    async fn connect(&self, name: &str) -> anyhow::Result<Connection> {
        let creds = Credentials::load(&self.path())?;
        let target = context::named(&creds, name)?;
        let conn = self.open(&target).await?;
        // The saved session may have ended since: say so before switching.
        conn.client.me().await.map_err(|e| {
            anyhow::anyhow!(
                "{} ({})",
                crate::console::sanitize::clean(&e.message()),
                target.name()
            )
        })?;
        if let Ok(mut current) = self.current.lock() {
            *current = target;
        }
        Ok(conn)
    }

    fn remember(&self, context: &str, memory: &ContextMemory) {
        let done = Credentials::update(&self.path(), |c| {
            if let Some(slug) = &memory.tenant {
                c.last_tenant.insert(context.to_string(), slug.clone());
            }
            let view = ContextView {
                recent_tenants: memory.recent_tenants.clone(),
                leads_scope: memory.leads.scope.clone(),
                leads_search: memory.leads.search.clone(),
            };
            if view == ContextView::default() {
                c.views.remove(context);
            } else {
                c.views.insert(context.to_string(), view);
            }
            Ok(())
        });
        if let Err(e) = done {
            tracing::warn!(error = %e, "cannot remember the context's view");
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

/// The console's download of the embedded model: `model fetch`, reporting
/// through the channel only (no pip fallback: it writes to the terminal).
#[derive(Debug)]
struct FetchInstaller;

impl crate::console::model_fetch::ModelInstaller for FetchInstaller {
    fn install(
        &self,
        dest: std::path::PathBuf,
        progress: tokio::sync::watch::Sender<crate::domain::model_fetch::FetchProgress>,
    ) -> futures::future::BoxFuture<'static, Result<(), String>> {
        use crate::llm::progress::Sink;
        Box::pin(async move {
            crate::llm::fetch::install_to(&dest, None, Sink::Channel(progress))
                .await
                .map_err(|e| format!("{e:#}"))
        })
    }
}
