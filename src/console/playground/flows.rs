//! What the Playground's actions do: loading sessions, opening and
//! deleting them, sending a message, stopping the reply, scrolling, copying
//! the last reply and saving a message as a lead.

use ratatui::layout::Rect;
use uuid::Uuid;

use super::pane::transcript_rows;
use super::{Chat, LiveReply, PlaygroundView};
use crate::console::action::Action;
use crate::console::component::Cx;
use crate::console::effect::{Effect, ReplyRequest, Request, RequestId};
use crate::console::state::{Confirmable, FormPurpose, Modal, PickPurpose, Picker, Slot};
use crate::console::widgets::toast::Toast;
use crate::domain::PlaygroundSession;

impl PlaygroundView {
    /// Loads the sessions when the pane opens or the current tenant
    /// changes; another tenant's session is closed first.
    pub(crate) fn follow_tenant(
        &mut self,
        shown: bool,
        opened: bool,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        if !shown {
            return Vec::new();
        }
        let Some(tenant) = cx.session.current_tenant else {
            return Vec::new();
        };
        if self.tenant != Some(tenant) {
            let mut out = self.drop_live_reply();
            *self = PlaygroundView {
                tenant: Some(tenant),
                ..PlaygroundView::default()
            };
            for slot in [Slot::PlaygroundSessions, Slot::PlaygroundTranscript] {
                cx.requests.forget(slot);
            }
            out.extend(self.load_sessions(cx));
            return out;
        }
        if opened && !cx.requests.awaits(Slot::PlaygroundSessions) {
            return self.load_sessions(cx);
        }
        Vec::new()
    }

    /// Stops listening to a reply that is no longer on screen.
    fn drop_live_reply(&mut self) -> Vec<Effect> {
        self.chat
            .as_mut()
            .and_then(|c| c.reply.take())
            .map(|r| vec![Effect::DropReply(r.id)])
            .unwrap_or_default()
    }

    pub(crate) fn load_sessions(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        self.sessions.loading();
        let req = Request::ListPlaygroundSessions {
            tenant: tenant.to_string(),
        };
        cx.send_about(
            req,
            Some(Slot::PlaygroundSessions),
            "",
            "Could not load the playground sessions",
            Some(tenant),
            None,
        )
    }

    /// Opens a session: its transcript loads, the input has the focus.
    pub(super) fn open_session(&mut self, s: PlaygroundSession, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        let mut out = self.drop_live_reply();
        let id = s.id;
        self.chat = Some(Chat::new(s, cx.theme));
        let req = Request::LoadPlaygroundSession {
            tenant: tenant.to_string(),
            id,
        };
        out.extend(cx.send_about(
            req,
            Some(Slot::PlaygroundTranscript),
            "",
            "Could not load the transcript",
            Some(tenant),
            Some(id),
        ));
        out
    }

    /// The list of sessions has the keys.
    pub(super) fn update_list(
        &mut self,
        tenant: Uuid,
        action: Action,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        if self.sessions.step(&action, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Retry => return self.load_sessions(cx),
            Action::Open => {
                if let Some(s) = self.selected_session().cloned() {
                    return self.open_session(s, cx);
                }
            }
            Action::Remove => {
                if let Some(s) = self.selected_session() {
                    cx.confirm(
                        format!("Delete the session “{}” and its transcript?", s.title),
                        Confirmable::DeletePlaygroundSession {
                            tenant,
                            id: s.id,
                            title: s.title.clone(),
                        },
                    );
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// The open session has the keys.
    pub(super) fn update_chat(
        &mut self,
        tenant: Uuid,
        action: Action,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let (rows, height) = self.transcript_extent(cx);
        let page = height.saturating_sub(1).max(1);
        let bottom = rows.saturating_sub(height);
        let theme = cx.theme;
        let Some(chat) = self.chat.as_mut() else {
            return Vec::new();
        };
        let top = chat.scroll.unwrap_or(bottom).min(bottom);
        // Scrolling back to the bottom pins the view there again.
        let scroll_to = |to: usize| (to < bottom).then_some(to);
        match action {
            Action::Send => return self.send_message(tenant, cx),
            Action::Stop => return self.stop_reply(tenant, cx),
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
                chat.restyle(theme);
            }
            Action::Back if chat.input_focused => {
                chat.input_focused = false;
                chat.restyle(theme);
            }
            Action::Back => {
                let out = self.drop_live_reply();
                self.chat = None;
                cx.requests.forget(Slot::PlaygroundTranscript);
                return out;
            }
            Action::Up => chat.scroll = scroll_to(top.saturating_sub(1)),
            Action::Down => chat.scroll = scroll_to(top + 1),
            Action::PageUp => chat.scroll = scroll_to(top.saturating_sub(page)),
            Action::PageDown => chat.scroll = scroll_to(top + page),
            Action::Top => chat.scroll = scroll_to(0),
            Action::Bottom => chat.scroll = None,
            Action::Copy => return self.copy_last_reply(cx),
            Action::SaveAsLead => self.pick_message_to_save(tenant, cx),
            Action::Regenerate => return self.regenerate(tenant, None, cx),
            Action::ReplySettings => self.open_settings(cx),
            Action::Retry => {
                let s = chat.session.clone();
                return self.open_session(s, cx);
            }
            _ => {}
        }
        Vec::new()
    }

    /// Rows of the transcript at the terminal's width, and rows on screen.
    fn transcript_extent(&self, cx: &Cx<'_>) -> (usize, usize) {
        let pane = crate::console::ui::pane_area(cx.viewport);
        let main = Rect {
            height: pane.height.saturating_sub(self.rows_below),
            ..pane
        };
        match &self.chat {
            Some(chat) => transcript_rows(cx.theme, chat, main),
            None => (0, 0),
        }
    }

    /// Sends the input's text; it leaves the input and comes back if the
    /// server refuses it.
    fn send_message(&mut self, tenant: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        let theme = cx.theme;
        let overrides = self.overrides();
        cx.requests.next_id += 1;
        let id = RequestId(cx.requests.next_id);
        let busy = self.busy_hint(cx);
        let Some(chat) = self.chat.as_mut() else {
            return Vec::new();
        };
        if busy.is_some() {
            chat.error = busy;
            return Vec::new();
        }
        let text = chat.draft().trim().to_string();
        if text.is_empty() {
            chat.error = Some("Write a message first.".into());
            return Vec::new();
        }
        chat.error = None;
        chat.scroll = None;
        chat.set_draft("", theme);
        chat.reply = Some(LiveReply {
            id,
            sent: text.clone(),
            user_stored: false,
            lanes: vec![Some(String::new()); chat.session.lanes.len().max(1)],
            stopping: false,
            regenerating: false,
            version: None,
        });
        vec![Effect::StreamReply(
            id,
            ReplyRequest {
                tenant: tenant.to_string(),
                session: chat.session.id,
                content: text,
                overrides,
                regenerate: None,
            },
        )]
    }

    /// Esc while a reply streams: the server stops it and stores it as
    /// cancelled; the stream then brings the cancelled reply.
    fn stop_reply(&mut self, tenant: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(chat) = self.chat.as_mut() else {
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
        cx.send_about(
            req,
            None,
            "",
            "Could not stop the reply",
            Some(tenant),
            Some(session),
        )
    }

    /// Copies the newest reply (both in compare mode) through OSC 52.
    fn copy_last_reply(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(chat) = &self.chat else {
            return Vec::new();
        };
        let replies = chat.last_replies();
        if replies.is_empty() {
            cx.toast(Toast::info("No reply to copy yet"));
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
        cx.toast(Toast::info("Copied the last reply to the clipboard"));
        vec![Effect::CopyToClipboard(text)]
    }

    /// One of the lead's messages to save: straight to the contact form
    /// when there is one, else a picker, newest first.
    fn pick_message_to_save(&mut self, tenant: Uuid, cx: &mut Cx<'_>) {
        let Some(chat) = &self.chat else {
            return;
        };
        let session = chat.session.id;
        let msgs: Vec<(Uuid, String)> = chat
            .user_messages()
            .iter()
            .map(|m| (m.id, m.content.clone()))
            .collect();
        match msgs.as_slice() {
            [] => cx.toast(Toast::info("Nothing to save yet: send a message first")),
            [(message, _)] => super::forms::open_form(
                FormPurpose::SaveAsLead {
                    tenant,
                    session,
                    message: *message,
                },
                cx,
            ),
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
                *cx.modal = Some(Modal::Picker(Picker {
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
}

/// Sends a confirmed deletion of a session.
pub(crate) fn perform(what: Confirmable, cx: &mut Cx<'_>) -> Vec<Effect> {
    let Confirmable::DeletePlaygroundSession { tenant, id, title } = what else {
        return Vec::new();
    };
    cx.send_about(
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
