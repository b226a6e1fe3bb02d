//! The Playground feature: the tenant's earlier sessions, the open session
//! with its transcript, the reply streaming in and the message input, its
//! forms and replies, and its pane. The "Initialize tenant" onboarding that
//! lands here lives in `super::onboarding`, which hands it the session.

mod flows;
mod forms;
pub(crate) mod keys;
mod pane;
mod replies;
mod rerun;
mod stream;

use std::collections::HashMap;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui_textarea::TextArea;
use uuid::Uuid;

pub(crate) use flows::perform;
pub(crate) use forms::{form_fields, is_playground_form, refresh_form};
pub use pane::stats_text;
pub(crate) use replies::answers;

use super::action::Action;
use super::component::{Component, Cx, Shared};
use super::effect::{Effect, RequestId};
use super::keymap::Context;
use super::panes::{screen_contexts, ListState};
use super::request::Response;
use super::state::{FormPurpose, InFlight, Load, OpenForm};
use super::theme::Theme;
use crate::api::ApiError;
use crate::domain::playground::{replaced, ReplyOverrides};
use crate::domain::{
    Agent, PlaygroundEvent, PlaygroundLane, PlaygroundMessage, PlaygroundRole, PlaygroundSession,
};

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
struct LiveReply {
    id: RequestId,
    /// The message as sent, shown until the server's stored copy arrives.
    sent: String,
    user_stored: bool,
    /// Per lane: the text so far, or `None` once its stored reply arrived.
    lanes: Vec<Option<String>>,
    /// Esc was pressed; the server is stopping it.
    stopping: bool,
    /// The last message answered again: nothing new was sent.
    regenerating: bool,
    /// The agent's version a rerun answers with (after a prompt edit).
    version: Option<u32>,
}

/// The open session.
#[derive(Debug, Clone)]
pub struct Chat {
    session: PlaygroundSession,
    messages: Load<Vec<PlaygroundMessage>>,
    input: TextArea<'static>,
    input_focused: bool,
    /// The server's refusal of the last send, shown above the input.
    error: Option<String>,
    /// The first transcript row on screen once the user scrolled up;
    /// `None` keeps the view pinned to the bottom.
    scroll: Option<usize>,
    reply: Option<LiveReply>,
}

impl Chat {
    fn new(session: PlaygroundSession, theme: &Theme) -> Self {
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

    pub fn session(&self) -> &PlaygroundSession {
        &self.session
    }

    /// The message input has the focus.
    pub fn input_focused(&self) -> bool {
        self.input_focused
    }

    /// The first row on screen once scrolled up; `None` follows the bottom.
    pub fn scroll(&self) -> Option<usize> {
        self.scroll
    }

    /// What is shown above the input: the last refusal or hint.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Shows the cursor only while the input has the focus.
    fn restyle(&mut self, theme: &Theme) {
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
    fn set_draft(&mut self, text: &str, theme: &Theme) {
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

    /// The stream the reply comes in on, while it does.
    pub fn streaming(&self) -> Option<RequestId> {
        self.reply.as_ref().map(|r| r.id)
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
        // A regenerated reply replaced the one before it.
        let gone = replaced(items);
        let mut out: Vec<&PlaygroundMessage> = items[start..=last]
            .iter()
            .zip(&gone[start..=last])
            .filter(|(m, gone)| m.role == PlaygroundRole::Assistant && !**gone)
            .map(|(m, _)| m)
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
    tenant: Option<Uuid>,
    sessions: ListState<PlaygroundSession>,
    chat: Option<Chat>,
    /// Each session's overrides of temperature and reply length.
    overrides: HashMap<Uuid, ReplyOverrides>,
    /// Rows under the pane the chat does not get (the local model's
    /// offer), so scrolling pages by what is on screen.
    rows_below: u16,
}

impl PlaygroundView {
    /// A new tenant's one session, open and ready to chat: where
    /// "Initialize tenant" lands.
    pub(crate) fn landed(tenant: Option<Uuid>, session: PlaygroundSession, theme: &Theme) -> Self {
        let mut chat = Chat::new(session.clone(), theme);
        chat.messages = Load::Loaded(Vec::new());
        Self {
            tenant,
            sessions: ListState {
                items: Load::Loaded(vec![session]),
                selected: 0,
            },
            chat: Some(chat),
            overrides: HashMap::new(),
            rows_below: 0,
        }
    }

    /// The rows the App draws under the pane, as of the next key.
    pub(crate) fn set_rows_below(&mut self, rows: u16) {
        self.rows_below = rows;
    }

    /// The tenant whose sessions these are.
    pub fn tenant(&self) -> Option<Uuid> {
        self.tenant
    }

    pub fn items(&self) -> &[PlaygroundSession] {
        self.sessions.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn selected_session(&self) -> Option<&PlaygroundSession> {
        self.sessions.selected_item()
    }

    /// The open session, if one is.
    pub fn chat(&self) -> Option<&Chat> {
        self.chat.as_ref()
    }

    /// Saves one of the playground's forms; `offered` are the agents the
    /// session form chose from. The bool says whether it stays open.
    pub(crate) fn submit(
        &mut self,
        open: &mut OpenForm,
        offered: &[Agent],
        cx: &mut Cx<'_>,
    ) -> (Vec<Effect>, bool) {
        match open.purpose {
            FormPurpose::PlaygroundPrompt { .. } | FormPurpose::PlaygroundSettings { .. } => {
                self.submit_rerun_form(open, cx)
            }
            _ => forms::submit(open, offered, cx),
        }
    }

    /// Esc would leave the open session for the list (the input does not
    /// have the focus): an error toast is dismissed first.
    pub fn backs_out_of_chat(&self) -> bool {
        self.chat.as_ref().is_some_and(|c| !c.input_focused)
    }
}

impl Component for PlaygroundView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        let Some(chat) = &self.chat else {
            return screen_contexts(self.sessions.is_failed(), [Context::PlaygroundList]);
        };
        let mut out = Vec::new();
        if chat.reply.as_ref().is_some_and(|r| !r.stopping) {
            out.push(Context::PlaygroundStreaming);
        }
        if chat.input_focused {
            out.push(Context::PlaygroundInput);
            return (out, true);
        }
        if chat.messages.is_failed() {
            out.push(Context::LoadError);
        }
        out.push(Context::PlaygroundChat);
        out.push(Context::Global);
        (out, false)
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        if self.chat.is_some() {
            return self.update_chat(tenant, action, cx);
        }
        self.update_list(tenant, action, cx)
    }

    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        self.apply(id, flight, response, cx)
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        match &self.chat {
            Some(chat) => pane::render_chat(chat, &self.overrides(), shared, area, buf),
            None => pane::render_sessions(self, shared, area, buf),
        }
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
