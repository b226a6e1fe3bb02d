//! A reply streaming in: each event from the runtime lands here, as any
//! other message into the state machine.

use super::{PlaygroundView, ReplyMsg};
use crate::console::component::Cx;
use crate::console::effect::{Effect, RequestId};
use crate::console::state::Load;
use crate::domain::{PlaygroundEvent, PlaygroundMessage, PlaygroundRole, ReplyStatus};

impl PlaygroundView {
    /// Applies one message about the reply stream `id`; a stream the user
    /// left (another session, another tenant) is dropped. The bool says
    /// whether the screen changed.
    pub(crate) fn on_reply(
        &mut self,
        id: RequestId,
        msg: ReplyMsg,
        cx: &mut Cx<'_>,
    ) -> (Vec<Effect>, bool) {
        let theme = cx.theme;
        let now = cx.now;
        let Some(chat) = self
            .chat
            .as_mut()
            .filter(|c| c.reply.as_ref().is_some_and(|r| r.id == id))
        else {
            return match msg {
                ReplyMsg::Ended | ReplyMsg::Refused(_) => (Vec::new(), false),
                _ => (vec![Effect::DropReply(id)], false),
            };
        };
        let Some(reply) = chat.reply.as_mut() else {
            return (Vec::new(), true);
        };
        match msg {
            ReplyMsg::Event(PlaygroundEvent::Message(m)) => {
                reply.user_stored = true;
                push(&mut chat.messages, m);
            }
            ReplyMsg::Event(PlaygroundEvent::Token { lane, text }) => {
                if let Some(Some(so_far)) = reply.lanes.get_mut(usize::from(lane)) {
                    so_far.push_str(&text);
                }
            }
            ReplyMsg::Event(PlaygroundEvent::Reply(m)) => {
                if let Some(slot) = reply.lanes.get_mut(usize::from(m.lane.unwrap_or(0))) {
                    *slot = None;
                }
                push(&mut chat.messages, m);
            }
            ReplyMsg::Event(PlaygroundEvent::Error(p)) => {
                chat.error = Some(p.summary());
            }
            ReplyMsg::Event(PlaygroundEvent::Done) => {}
            ReplyMsg::Refused(err) if reply.regenerating => {
                // Nothing was sent: the input stays as it is.
                chat.reply = None;
                chat.error = Some(err.message());
            }
            ReplyMsg::Refused(err) => {
                // Nothing was stored: the text goes back, with the reason.
                let sent = reply.sent.clone();
                chat.reply = None;
                let draft = chat.draft();
                let text = if draft.trim().is_empty() {
                    sent
                } else {
                    format!("{sent}\n{draft}")
                };
                chat.set_draft(&text, theme);
                chat.input_focused = true;
                chat.restyle(theme);
                chat.error = Some(err.message());
            }
            ReplyMsg::Broken(err) => {
                chat.error = Some(format!("The reply stream broke: {}", err.message()));
                finish(chat, now);
            }
            ReplyMsg::Ended => finish(chat, now),
        }
        (Vec::new(), true)
    }
}

fn push(messages: &mut Load<Vec<PlaygroundMessage>>, m: PlaygroundMessage) {
    match messages {
        Load::Loaded(list) => {
            if !list.iter().any(|x| x.id == m.id) {
                list.push(m);
            }
        }
        // The transcript had not arrived; it will hold this message too.
        other => *other = Load::Loaded(vec![m]),
    }
}

/// The stream is over: a lane that never got its stored reply keeps its
/// text, marked as what happened to it.
fn finish(chat: &mut super::Chat, now: chrono::DateTime<chrono::Utc>) {
    let Some(reply) = chat.reply.take() else {
        return;
    };
    let session = chat.session.id;
    for (lane, text) in reply.lanes.into_iter().enumerate() {
        let Some(text) = text else { continue };
        let (status, error) = if reply.stopping {
            (ReplyStatus::Cancelled, None)
        } else {
            (
                ReplyStatus::Failed,
                Some("the stream ended before the reply was stored".to_string()),
            )
        };
        let seq = chat.items().last().map_or(1, |m| m.seq + 1);
        push(
            &mut chat.messages,
            PlaygroundMessage {
                // A local stand-in: the server never stored this reply.
                id: uuid::Uuid::from_u128(u128::from(seq)),
                session_id: session,
                seq,
                lane: Some(lane as u8),
                role: PlaygroundRole::Assistant,
                content: text,
                status: Some(status),
                error,
                stats: None,
                lead_id: None,
                created_at: now,
            },
        );
    }
}
