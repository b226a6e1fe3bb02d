//! What the Playground pane's actions do: loading sessions, opening and
//! deleting them, sending a message, stopping the reply, scrolling, copying
//! the last reply and saving a message as a lead.

use ratatui::layout::Rect;
use uuid::Uuid;

use super::{Chat, LiveReply, PlaygroundView};
use crate::console::action::Action;
use crate::console::app::{App, Confirmable, FormPurpose, Load, Modal, Pane, Slot};
use crate::console::effect::{Effect, ReplyRequest, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::panes::playground::transcript_rows;
use crate::console::state::{PickPurpose, Picker};
use crate::console::widgets::toast::{Toast, ToastKind};
use crate::domain::PlaygroundSession;

impl App {
    /// Loads the sessions when the pane opens or the current tenant
    /// changes; another tenant's session is closed first.
    pub(crate) fn sync_playground(&mut self, opened: bool) -> Vec<Effect> {
        if self.pane != Pane::Playground {
            return Vec::new();
        }
        let Some(tenant) = self.session.current_tenant else {
            return Vec::new();
        };
        let changed = self.playground.tenant != Some(tenant);
        if changed {
            let mut out = self.drop_live_reply();
            self.playground = PlaygroundView {
                tenant: Some(tenant),
                ..PlaygroundView::default()
            };
            for slot in [Slot::PlaygroundSessions, Slot::PlaygroundTranscript] {
                self.requests.latest.remove(&slot);
            }
            out.extend(self.load_sessions());
            return out;
        }
        if opened && !self.requests.latest.contains_key(&Slot::PlaygroundSessions) {
            return self.load_sessions();
        }
        Vec::new()
    }

    /// Stops listening to a reply that is no longer on screen.
    fn drop_live_reply(&mut self) -> Vec<Effect> {
        self.playground
            .chat
            .as_mut()
            .and_then(|c| c.reply.take())
            .map(|r| vec![Effect::DropReply(r.id)])
            .unwrap_or_default()
    }

    pub(crate) fn load_sessions(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.playground.tenant else {
            return Vec::new();
        };
        if !matches!(self.playground.sessions, Load::Loaded(_)) {
            self.playground.sessions = Load::Loading;
        }
        let req = Request::ListPlaygroundSessions {
            tenant: tenant.to_string(),
        };
        self.send_about(
            req,
            Some(Slot::PlaygroundSessions),
            "",
            "Could not load the playground sessions",
            Some(tenant),
            None,
        )
    }

    /// Opens a session: its transcript loads, the input has the focus.
    pub(crate) fn open_session(&mut self, s: PlaygroundSession) -> Vec<Effect> {
        let Some(tenant) = self.playground.tenant else {
            return Vec::new();
        };
        let mut out = self.drop_live_reply();
        let id = s.id;
        self.playground.chat = Some(Chat::new(s, &self.theme));
        let req = Request::LoadPlaygroundSession {
            tenant: tenant.to_string(),
            id,
        };
        out.extend(self.send_about(
            req,
            Some(Slot::PlaygroundTranscript),
            "",
            "Could not load the transcript",
            Some(tenant),
            Some(id),
        ));
        out
    }

    /// Where keys go in the pane, most specific first.
    pub(crate) fn playground_contexts(&self) -> (Vec<Context>, bool) {
        let v = &self.playground;
        let mut out = Vec::new();
        let Some(chat) = &v.chat else {
            if v.sessions.is_failed() {
                out.push(Context::LoadError);
            }
            out.push(Context::PlaygroundList);
            out.push(Context::Global);
            return (out, false);
        };
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

    pub(crate) fn update_playground(&mut self, action: Action) -> Vec<Effect> {
        let Some(tenant) = self.playground.tenant else {
            return Vec::new();
        };
        match action {
            Action::New => return self.open_session_form(tenant, false),
            Action::NewCompare => return self.open_session_form(tenant, true),
            _ => {}
        }
        if self.playground.chat.is_some() {
            return self.update_chat(tenant, action);
        }
        let rows = self.playground.items().len();
        let v = &mut self.playground;
        match action {
            Action::Up => v.selected = v.selected.saturating_sub(1),
            Action::Down => v.selected = (v.selected + 1).min(rows.saturating_sub(1)),
            Action::Retry => return self.load_sessions(),
            Action::Open => {
                if let Some(s) = v.selected_session().cloned() {
                    return self.open_session(s);
                }
            }
            Action::Remove => {
                if let Some(s) = v.selected_session() {
                    self.modal = Some(Modal::Confirm {
                        question: format!("Delete the session “{}” and its transcript?", s.title),
                        action: Confirmable::DeletePlaygroundSession {
                            tenant,
                            id: s.id,
                            title: s.title.clone(),
                        },
                    });
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn update_chat(&mut self, tenant: Uuid, action: Action) -> Vec<Effect> {
        let (rows, height) = self.transcript_extent();
        let page = height.saturating_sub(1).max(1);
        let bottom = rows.saturating_sub(height);
        let theme = self.theme.clone();
        let Some(chat) = self.playground.chat.as_mut() else {
            return Vec::new();
        };
        let top = chat.scroll.unwrap_or(bottom).min(bottom);
        // Scrolling back to the bottom pins the view there again.
        let scroll_to = |to: usize| (to < bottom).then_some(to);
        match action {
            Action::Send => return self.send_message(tenant),
            Action::Stop => return self.stop_reply(tenant),
            Action::Newline => chat.input.insert_newline(),
            Action::Key(k) => {
                chat.input.input(k);
            }
            Action::Paste(s) => {
                chat.input
                    .insert_str(s.replace("\r\n", "\n").replace('\r', "\n"));
            }
            Action::FocusInput => {
                chat.input_focused = true;
                chat.restyle(&theme);
            }
            Action::Back if chat.input_focused => {
                chat.input_focused = false;
                chat.restyle(&theme);
            }
            Action::Back => {
                // The newest error toast is the top layer.
                if self.toasts.iter().any(|t| t.kind == ToastKind::Error) {
                    self.dismiss_toast();
                    return Vec::new();
                }
                let out = self.drop_live_reply();
                self.playground.chat = None;
                self.requests.latest.remove(&Slot::PlaygroundTranscript);
                return out;
            }
            Action::Up => chat.scroll = scroll_to(top.saturating_sub(1)),
            Action::Down => chat.scroll = scroll_to(top + 1),
            Action::PageUp => chat.scroll = scroll_to(top.saturating_sub(page)),
            Action::PageDown => chat.scroll = scroll_to(top + page),
            Action::Top => chat.scroll = scroll_to(0),
            Action::Bottom => chat.scroll = None,
            Action::Copy => return self.copy_last_reply(),
            Action::SaveAsLead => self.pick_message_to_save(tenant),
            Action::Retry => {
                let s = chat.session.clone();
                return self.open_session(s);
            }
            _ => {}
        }
        Vec::new()
    }

    /// Rows of the transcript at the terminal's width, and rows on screen.
    fn transcript_extent(&self) -> (usize, usize) {
        let (w, h) = self.viewport;
        let main = Rect::new(0, 2, w, h.saturating_sub(3));
        match &self.playground.chat {
            Some(chat) => transcript_rows(self, chat, main),
            None => (0, 0),
        }
    }

    /// Sends the input's text; it leaves the input and comes back if the
    /// server refuses it.
    fn send_message(&mut self, tenant: Uuid) -> Vec<Effect> {
        let theme = self.theme.clone();
        self.requests.next_id += 1;
        let id = RequestId(self.requests.next_id);
        let Some(chat) = self.playground.chat.as_mut() else {
            return Vec::new();
        };
        if chat.reply.is_some() {
            chat.error =
                Some("A reply is still streaming: wait for it, or press esc to stop it.".into());
            return Vec::new();
        }
        let text = chat.draft().trim().to_string();
        if text.is_empty() {
            chat.error = Some("Write a message first.".into());
            return Vec::new();
        }
        chat.error = None;
        chat.scroll = None;
        chat.set_draft("", &theme);
        chat.reply = Some(LiveReply {
            id,
            sent: text.clone(),
            user_stored: false,
            lanes: vec![Some(String::new()); chat.session.lanes.len().max(1)],
            stopping: false,
        });
        vec![Effect::StreamReply(
            id,
            ReplyRequest {
                tenant: tenant.to_string(),
                session: chat.session.id,
                content: text,
            },
        )]
    }

    /// Esc while a reply streams: the server stops it and stores it as
    /// cancelled; the stream then brings the cancelled reply.
    fn stop_reply(&mut self, tenant: Uuid) -> Vec<Effect> {
        let Some(chat) = self.playground.chat.as_mut() else {
            return Vec::new();
        };
        let Some(reply) = chat.reply.as_mut().filter(|r| !r.stopping) else {
            return Vec::new();
        };
        reply.stopping = true;
        let session = chat.session.id;
        let req = Request::CancelPlaygroundReply {
            tenant: tenant.to_string(),
            session,
        };
        self.send_about(
            req,
            None,
            "",
            "Could not stop the reply",
            Some(tenant),
            Some(session),
        )
    }

    /// Copies the newest reply (both in compare mode) through OSC 52.
    fn copy_last_reply(&mut self) -> Vec<Effect> {
        let Some(chat) = &self.playground.chat else {
            return Vec::new();
        };
        let replies = chat.last_replies();
        if replies.is_empty() {
            self.toast(Toast::info("No reply to copy yet"));
            return Vec::new();
        }
        let text = if replies.len() == 1 {
            replies[0].content.clone()
        } else {
            replies
                .iter()
                .map(|m| format!("{}:\n{}", chat.lane_name(m.lane.unwrap_or(0)), m.content))
                .collect::<Vec<_>>()
                .join("\n\n")
        };
        self.toast(Toast::info("Copied the last reply to the clipboard"));
        vec![Effect::CopyToClipboard(text)]
    }

    /// One of the lead's messages to save: straight to the contact form
    /// when there is one, else a picker, newest first.
    fn pick_message_to_save(&mut self, tenant: Uuid) {
        let Some(chat) = &self.playground.chat else {
            return;
        };
        let session = chat.session.id;
        let msgs: Vec<(Uuid, String)> = chat
            .user_messages()
            .iter()
            .map(|m| (m.id, m.content.clone()))
            .collect();
        match msgs.as_slice() {
            [] => self.toast(Toast::info("Nothing to save yet: send a message first")),
            [(message, _)] => self.open_form(FormPurpose::SaveAsLead {
                tenant,
                session,
                message: *message,
            }),
            many => {
                let options = many
                    .iter()
                    .map(|(_, text)| {
                        let one_line = text.replace('\n', " ");
                        match one_line.char_indices().nth(50) {
                            Some((i, _)) => format!("{}…", &one_line[..i]),
                            None => one_line,
                        }
                    })
                    .collect();
                self.modal = Some(Modal::Picker(Picker {
                    title: "Save which message as a lead?".into(),
                    options,
                    selected: 0,
                    purpose: PickPurpose::SaveAsLead {
                        tenant,
                        session,
                        ids: many.iter().map(|(id, _)| *id).collect(),
                    },
                    note: None,
                }));
            }
        }
    }

    /// Sends a confirmed deletion of a session.
    pub(crate) fn perform_playground(&mut self, what: Confirmable) -> Vec<Effect> {
        let Confirmable::DeletePlaygroundSession { tenant, id, title } = what else {
            return Vec::new();
        };
        self.send_about(
            Request::DeletePlaygroundSession {
                tenant: tenant.to_string(),
                id,
            },
            None,
            &format!("Deleted the session “{title}”"),
            &format!("Could not delete “{title}”"),
            Some(tenant),
            Some(id),
        )
    }
}
