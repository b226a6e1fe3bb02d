//! The terminal console: a ratatui front end that speaks to the server only
//! through the typed [`Client`](crate::api::Client) and the shared domain types.

pub mod account;
pub mod action;
pub mod agents;
pub mod analytics;
pub mod app;
pub mod approvals;
pub mod audit;
mod bindings;
mod command;
pub mod component;
pub mod contexts;
pub mod effect;
pub mod evals;
mod forms;
pub mod inflight;
pub mod keymap;
pub mod knowledge;
pub mod leads;
pub mod model_fetch;
pub mod notifications;
pub mod onboarding;
pub mod overview;
pub mod paging;
pub mod panes;
pub mod platform;
pub mod playground;
pub mod request;
mod responses;
mod routes;
pub mod runtime;
pub mod sanitize;
pub mod session;
pub mod state;
pub mod tenants;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod ui;
pub mod webhooks;
pub mod widgets;

use std::collections::BTreeMap;

pub use app::App;
pub use runtime::run;

/// What `main` passes to [`run`].
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// Shown in the header, e.g. the server's URL or profile name.
    pub server_label: String,
    /// `[keys]` from `config.toml`: binding name → key, e.g. `new = "ctrl-n"`.
    pub key_overrides: BTreeMap<String, String>,
    /// Set when `NO_COLOR` is set and not empty: styles use only bold, reverse, underline.
    pub no_color: bool,
    /// Where the notification history is kept; `None` keeps it in memory.
    pub history: Option<notifications::history::HistoryStore>,
    /// Signed in as the embedded platform's local admin, through the local
    /// session file: there is no password to change.
    pub local_session: bool,
    /// Where the embedded platform reads the local model's weights: the
    /// console offers to download them there while they are missing.
    pub local_model_path: Option<std::path::PathBuf>,
    /// What downloads it there (the binary's `model fetch`).
    pub model_installer: Option<std::sync::Arc<dyn model_fetch::ModelInstaller>>,
    /// The context connected to, shown in the header (`None`: no contexts,
    /// as in benchmarks).
    pub context: Option<String>,
    /// What was remembered of this context: the tenant last worked on
    /// (current once the tenants load, if it is among them), the recently
    /// used tenants and the Leads list's scope and search.
    pub memory: contexts::ContextMemory,
    /// Switches contexts for `:ctx`.
    pub contexts: Option<contexts::Switcher>,
}

/// How the console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The user quit.
    Quit,
    /// The session ended (`:logout-all`, or the server stopped accepting
    /// it): the caller tells the user how to sign in again.
    SignedOut(account::SignedOut),
}
