//! The Playground pane's state: the tenant's earlier sessions, the open
//! session with its transcript, the reply streaming in, the message input,
//! and the "Initialize tenant" onboarding that lands here.

mod flows;
mod forms;
pub(crate) use forms::is_playground_form;
pub mod init;
pub(crate) mod keys;
mod replies;
mod stream;

use ratatui::style::Style;
use ratatui_textarea::TextArea;
use uuid::Uuid;

use super::effect::RequestId;
use super::state::Load;
use super::theme::Theme;
use crate::api::ApiError;
use crate::domain::{
    PlaygroundEvent, PlaygroundLane, PlaygroundMessage, PlaygroundRole, PlaygroundSession,
};

pub use init::{InitProgress, InitStep};

/// What the runtime reports about a streaming reply, in order: events,
/// then `Ended`; or `Refused` when the server would not take the message.
#[derive(Debug, Clone)]
pub enum ReplyMsg {
    Event(PlaygroundEvent),
    /// Refused before anything was stored (model not installed, a reply
    /// already running…): the draft goes back into the input.
    Refused(ApiError),
    /// The stream broke after it started.
    Broken(ApiError),
    /// The stream is over (after `done`, or the server closed it).
    Ended,
}

/// A reply streaming in: the text sent, then each lane's tokens so far.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveReply {
    pub id: RequestId,
    /// The message as sent, shown until the server's stored copy arrives.
    pub sent: String,
    pub user_stored: bool,
    /// Per lane: the text so far, or `None` once its stored reply arrived.
    pub lanes: Vec<Option<String>>,
    /// Esc was pressed; the server is stopping it.
    pub stopping: bool,
}

/// The open session.
#[derive(Debug, Clone)]
pub struct Chat {
    pub session: PlaygroundSession,
    pub messages: Load<Vec<PlaygroundMessage>>,
    pub input: TextArea<'static>,
    pub input_focused: bool,
    /// The server's refusal of the last send, shown above the input.
    pub error: Option<String>,
    /// The first transcript row on screen once the user scrolled up;
    /// `None` keeps the view pinned to the bottom.
    pub scroll: Option<usize>,
    pub reply: Option<LiveReply>,
}

impl Chat {
    pub fn new(session: PlaygroundSession, theme: &Theme) -> Self {
        let mut chat = Self {
            session,
            messages: Load::Loading,
            input: TextArea::default(),
            input_focused: true,
            error: None,
            scroll: None,
            reply: None,
        };
        chat.restyle(theme);
        chat
    }

    /// Shows the cursor only while the input has the focus.
    pub fn restyle(&mut self, theme: &Theme) {
        let ta = &mut self.input;
        ta.set_cursor_line_style(Style::default());
        ta.set_placeholder_style(theme.dim);
        ta.set_placeholder_text(
            "Write as a lead would, e.g. “Hi, do you have openings next week?”",
        );
        if self.input_focused {
            ta.set_cursor_style(theme.field_cursor);
            ta.set_style(theme.field_focused);
        } else {
            ta.set_cursor_style(Style::default());
            ta.set_style(Style::default());
        }
    }

    pub fn draft(&self) -> String {
        self.input.lines().join("\n")
    }

    /// Replaces the input's text, the cursor at its end.
    pub fn set_draft(&mut self, text: &str, theme: &Theme) {
        let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        self.input = TextArea::new(lines);
        self.input.move_cursor(ratatui_textarea::CursorMove::Bottom);
        self.input.move_cursor(ratatui_textarea::CursorMove::End);
        self.restyle(theme);
    }

    pub fn items(&self) -> &[PlaygroundMessage] {
        self.messages.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn is_streaming(&self) -> bool {
        self.reply.is_some()
    }

    /// The lead's messages, newest first: what "save as lead" offers.
    pub fn user_messages(&self) -> Vec<&PlaygroundMessage> {
        self.items()
            .iter()
            .rev()
            .filter(|m| m.role == PlaygroundRole::User)
            .collect()
    }

    /// The replies to the newest message that has any, lane order.
    pub fn last_replies(&self) -> Vec<&PlaygroundMessage> {
        let items = self.items();
        let Some(last) = items
            .iter()
            .rposition(|m| m.role == PlaygroundRole::Assistant)
        else {
            return Vec::new();
        };
        let start = items[..last]
            .iter()
            .rposition(|m| m.role == PlaygroundRole::User)
            .map_or(0, |i| i + 1);
        let mut out: Vec<&PlaygroundMessage> = items[start..=last]
            .iter()
            .filter(|m| m.role == PlaygroundRole::Assistant)
            .collect();
        out.sort_by_key(|m| m.lane);
        out
    }

    /// The agent answering in `lane`, with its version when pinned.
    pub fn lane_name(&self, lane: u8) -> String {
        self.session
            .lanes
            .get(usize::from(lane))
            .map_or_else(|| "agent".to_string(), lane_label)
    }
}

/// The pane's data for one tenant.
#[derive(Debug, Clone, Default)]
pub struct PlaygroundView {
    pub tenant: Option<Uuid>,
    pub sessions: Load<Vec<PlaygroundSession>>,
    pub selected: usize,
    pub chat: Option<Chat>,
}

impl PlaygroundView {
    pub fn items(&self) -> &[PlaygroundSession] {
        self.sessions.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn selected_session(&self) -> Option<&PlaygroundSession> {
        self.items().get(self.selected)
    }
}

fn lane_label(l: &PlaygroundLane) -> String {
    match l.version {
        Some(v) => format!("{} v{v}", l.agent_name),
        None => l.agent_name.clone(),
    }
}

/// Who a session talks to, as one label: "Receptionist v2 vs Triage".
pub fn session_agents(s: &PlaygroundSession) -> String {
    s.lanes
        .iter()
        .map(lane_label)
        .collect::<Vec<_>>()
        .join(" vs ")
}
