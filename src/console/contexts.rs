//! Switching the server the console talks to (`:ctx NAME`) without leaving
//! it: what the runtime asks of whoever started the console.

use std::sync::Arc;

use async_trait::async_trait;

use super::notifications::history::HistoryStore;
use crate::api::Client;

/// A server the console is connected to, and how it is shown.
pub struct Connection {
    /// The context's name, in the header.
    pub context: String,
    pub client: Client,
    /// The server, in the header when there is room.
    pub label: String,
    /// Signed in through the embedded platform's local session file.
    pub local_session: bool,
    /// Where this server's notification history is kept.
    pub history: Option<HistoryStore>,
    /// The tenant (slug) last worked on in this context.
    pub last_tenant: Option<String>,
}

/// The contexts the console may switch between.
#[async_trait]
pub trait Contexts: Send + Sync {
    /// Every context's name, for Tab completion.
    fn names(&self) -> Vec<String>;
    /// Signs in to a context: its saved session, or the embedded platform
    /// (started on first use) for `local`.
    async fn connect(&self, name: &str) -> anyhow::Result<Connection>;
    /// Remembers the tenant last worked on in a context.
    fn remember_tenant(&self, context: &str, slug: &str);
}

/// The console's handle on [`Contexts`] (none in tests and benchmarks).
#[derive(Clone)]
pub struct Switcher(pub Arc<dyn Contexts>);

impl std::fmt::Debug for Switcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Switcher")
    }
}
