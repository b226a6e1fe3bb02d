//! What the state machine asks the runtime to do, and the API calls it can make.

pub use super::notifications::history::SavedHistory;
pub use super::request::Request;

/// Tags a request so its reply can be matched, or dropped when superseded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

// Effects live for one turn of the loop, a handful at a time: boxing the
// requests would cost more churn than the bytes it saves.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq)]
pub enum Effect {
    Api(RequestId, Request),
    /// Copied through OSC 52, so it works over SSH without a clipboard tool.
    CopyToClipboard(String),
    /// Feed `action` back into the loop after `after`: a debounce timer.
    After(std::time::Duration, super::action::Action),
    /// Send a playground message and stream its reply into the loop as
    /// [`ReplyMsg`](super::playground::ReplyMsg)s tagged with the id.
    StreamReply(RequestId, ReplyRequest),
    /// Drop the reply stream with this id (the server then cancels it).
    DropReply(RequestId),
    /// Read this user's saved notification history and hand it to
    /// [`App::on_history`](super::app::App::on_history); an unreadable file
    /// reads as empty.
    LoadNotifications {
        user: uuid::Uuid,
    },
    /// Write the notification history (atomically, off the loop).
    SaveNotifications {
        user: uuid::Uuid,
        history: SavedHistory,
    },
    /// Leave the terminal as it was, stop the process (SIGTSTP) and take
    /// the terminal again when the shell resumes it.
    Suspend,
    /// `:ctx NAME`: sign in to that context and start over there; the old
    /// session's streams and calls end.
    SwitchContext(String),
    /// Download and install the embedded model's weights at this path in
    /// the background, reporting as
    /// [`ModelFetchMsg`](super::model_fetch::ModelFetchMsg)s.
    FetchModel(std::path::PathBuf),
    Quit,
}

/// A playground message to send, or the last one to answer again.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyRequest {
    pub tenant: String,
    pub session: uuid::Uuid,
    /// The message sent, or the one answered again.
    pub content: String,
    /// The session's overrides of its agents' temperature and reply length.
    pub overrides: crate::domain::ReplyOverrides,
    /// Answer the last message again instead of sending `content`.
    pub regenerate: Option<Regenerate>,
}

/// Which lane answers again (every one without it), and with which version
/// of its agent (the session's without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regenerate {
    pub lane: Option<u8>,
    pub version: Option<u32>,
}

// The clipboard text is a secret (an API key or an invitation token): keep it
// out of any debug output or log.
impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Effect::Api(id, req) => f.debug_tuple("Api").field(id).field(req).finish(),
            Effect::CopyToClipboard(_) => f.write_str("CopyToClipboard(<redacted>)"),
            Effect::After(d, a) => f.debug_tuple("After").field(d).field(a).finish(),
            Effect::StreamReply(id, r) => f.debug_tuple("StreamReply").field(id).field(r).finish(),
            Effect::DropReply(id) => f.debug_tuple("DropReply").field(id).finish(),
            Effect::LoadNotifications { user } => f
                .debug_struct("LoadNotifications")
                .field("user", user)
                .finish(),
            // Lead names are personal data: the count is enough in a log.
            Effect::SaveNotifications { user, history } => f
                .debug_struct("SaveNotifications")
                .field("user", user)
                .field("items", &history.items.len())
                .field("unread", &history.unread)
                .finish(),
            Effect::Suspend => f.write_str("Suspend"),
            Effect::SwitchContext(c) => f.debug_tuple("SwitchContext").field(c).finish(),
            Effect::FetchModel(p) => f.debug_tuple("FetchModel").field(p).finish(),
            Effect::Quit => f.write_str("Quit"),
        }
    }
}
