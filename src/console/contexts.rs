//! Switching the server the console talks to (`:ctx NAME`) without leaving
//! it: what the runtime asks of whoever started the console.

use super::leads::LeadsMemory;
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
    /// What the console remembers of this context from earlier runs.
    pub memory: ContextMemory,
}

/// What the console remembers of a context between runs: the tenant last
/// worked on, the tenants used most recently (most recent first) and the
/// Leads list's scope and search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextMemory {
    pub tenant: Option<String>,
    pub recent_tenants: Vec<String>,
    pub leads: LeadsMemory,
}

/// The contexts the console may switch between.
#[async_trait]
pub trait Contexts: Send + Sync {
    /// Every context's name, for Tab completion.
    fn names(&self) -> Vec<String>;
    /// Signs in to a context: its saved session, or the embedded platform
    /// (started on first use) for `local`.
    async fn connect(&self, name: &str) -> anyhow::Result<Connection>;
    /// Remembers what the console shows in a context, for its next run.
    fn remember(&self, context: &str, memory: &ContextMemory);
}

/// The console's handle on [`Contexts`] (none in tests and benchmarks).
#[derive(Clone)]
pub struct Switcher(pub Arc<dyn Contexts>);

impl std::fmt::Debug for Switcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Switcher")
    }
}
