//! What the Playground does with API replies: sessions, transcripts,
//! deletions, stops and saved leads.

use super::PlaygroundView;
use crate::api::ApiError;
use crate::console::component::Cx;
use crate::console::effect::{Effect, RequestId};
use crate::console::request::Response;
use crate::console::state::{InFlight, Load, Modal, Slot};
use crate::console::widgets::toast::Toast;

/// The replies this feature applies, failures included.
pub(crate) fn answers(response: &Response) -> bool {
    matches!(
        response,
        Response::PlaygroundSessions(_)
            | Response::PlaygroundSessionCreated(_)
            | Response::PlaygroundTranscript(_)
            | Response::PlaygroundSessionDeleted(_)
            | Response::PlaygroundCancelled(_)
            | Response::PlaygroundLeadSaved(_)
    )
}

impl PlaygroundView {
    /// Whether a reply is about the tenant shown.
    fn here(&self, flight: &InFlight) -> bool {
        flight.tenant.is_some() && flight.tenant == self.tenant
    }

    pub(super) fn apply(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        if let Some(err) = response.error().cloned() {
            return self.on_failure(id, flight, err, &response, cx);
        }
        let here = self.here(flight);
        match response {
            Response::PlaygroundSessions(Ok(list)) if here => self.sessions.arrived(Ok(list)),
            Response::PlaygroundSessionCreated(Ok(s)) => {
                cx.finish_form(id);
                cx.toast(Toast::success(flight.ok.clone()));
                if here {
                    if let Some(list) = self.sessions.loaded_mut() {
                        list.insert(0, s.clone());
                    }
                    self.sessions.selected = 0;
                    return self.open_session(s, cx);
                }
            }
            Response::PlaygroundTranscript(Ok(t)) if here => {
                if let Some(chat) = self.chat.as_mut().filter(|c| c.session.id == t.session.id) {
                    // Messages that streamed in meanwhile are in the transcript too.
                    let mut messages = t.messages;
                    for m in chat.items() {
                        if !messages.iter().any(|x| x.id == m.id) {
                            messages.push(m.clone());
                        }
                    }
                    chat.session = t.session;
                    chat.messages = Load::Loaded(messages);
                }
            }
            Response::PlaygroundSessionDeleted(Ok(())) => {
                cx.toast(Toast::success(flight.ok.clone()));
                if let (Some(gone), true) = (flight.target, here) {
                    self.sessions.retain(|s| s.id != gone);
                    if self.chat.as_ref().is_some_and(|c| c.session.id == gone) {
                        self.chat = None;
                    }
                }
            }
            // Nothing was running on the server: the stream is over or
            // stuck; drop it so the screen does not wait for it.
            Response::PlaygroundCancelled(Ok(false)) => return self.abandon_reply(flight, cx),
            Response::PlaygroundLeadSaved(Ok(lead)) => {
                cx.finish_form(id);
                cx.toast(Toast::success(format!("Saved {} as a lead", lead.name)));
                if let Some(chat) = self.chat.as_mut() {
                    if let Some(list) = chat.messages.loaded_mut() {
                        if let Some(m) = list.iter_mut().find(|m| Some(m.id) == flight.target) {
                            m.lead_id = Some(lead.id);
                        }
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Drops the open session's reply stream; what streamed so far stays,
    /// marked cancelled.
    fn abandon_reply(&mut self, flight: &InFlight, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(chat) = self
            .chat
            .as_mut()
            .filter(|c| Some(c.session.id) == flight.target)
        else {
            return Vec::new();
        };
        let Some(id) = chat.reply.as_ref().map(|r| r.id) else {
            return Vec::new();
        };
        let (mut out, _) = self.on_reply(id, super::ReplyMsg::Ended, cx);
        out.push(Effect::DropReply(id));
        out
    }

    /// A failed playground request, shown where it belongs: a list or
    /// transcript inline, a form's problem in the form and a toast.
    fn on_failure(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        err: ApiError,
        response: &Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let here = self.here(flight);
        match (flight.slot, response) {
            (Some(Slot::PlaygroundSessions), _) => {
                if here {
                    self.sessions.arrived(Err(err));
                }
                Vec::new()
            }
            (Some(Slot::PlaygroundTranscript), _) => {
                if let Some(chat) = self.chat.as_mut().filter(|_| here) {
                    chat.messages = Load::Failed(err.message());
                }
                Vec::new()
            }
            // The stop did not reach the server: dropping the stream stops
            // the reply as well.
            (_, Response::PlaygroundCancelled(_)) => {
                cx.toast(Toast::error(format!("{}: {}", flight.fail, err.message())));
                self.abandon_reply(flight, cx)
            }
            _ => {
                // A form keeps its draft and shows the errors where they belong.
                if let Some(Modal::Form(open)) = cx.modal.as_mut() {
                    open.refused(id, &err, false);
                }
                cx.toast(Toast::error(format!("{}: {}", flight.fail, err.message())));
                Vec::new()
            }
        }
    }
}
