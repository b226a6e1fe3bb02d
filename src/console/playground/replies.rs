//! What the Playground pane does with API replies: sessions, transcripts,
//! deletions, stops and saved leads.

use crate::api::ApiError;
use crate::console::app::{App, InFlight, Load, Slot};
use crate::console::effect::{Effect, RequestId};
use crate::console::request::Response;
use crate::console::widgets::toast::Toast;

impl App {
    pub(crate) fn on_playground_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
    ) -> Vec<Effect> {
        if let Some(err) = response.error().cloned() {
            return self.on_playground_failure(id, flight, err, &response);
        }
        let here = flight.tenant.is_some() && flight.tenant == self.playground.tenant;
        match response {
            Response::PlaygroundSessions(Ok(list)) if here => {
                let n = list.len();
                self.playground.sessions = Load::Loaded(list);
                self.playground.selected = self.playground.selected.min(n.saturating_sub(1));
            }
            Response::PlaygroundSessionCreated(Ok(s)) => {
                self.finish_form(id);
                self.toast(Toast::success(flight.ok.clone()));
                if here {
                    if let Some(list) = self.playground.sessions.loaded_mut() {
                        list.insert(0, s.clone());
                    }
                    self.playground.selected = 0;
                    return self.open_session(s);
                }
            }
            Response::PlaygroundTranscript(Ok(t)) if here => {
                if let Some(chat) = self
                    .playground
                    .chat
                    .as_mut()
                    .filter(|c| c.session.id == t.session.id)
                {
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
                self.toast(Toast::success(flight.ok.clone()));
                if let (Some(gone), true) = (flight.target, here) {
                    if let Some(list) = self.playground.sessions.loaded_mut() {
                        list.retain(|s| s.id != gone);
                    }
                    let n = self.playground.items().len();
                    self.playground.selected = self.playground.selected.min(n.saturating_sub(1));
                    if self
                        .playground
                        .chat
                        .as_ref()
                        .is_some_and(|c| c.session.id == gone)
                    {
                        self.playground.chat = None;
                    }
                }
            }
            // Nothing was running on the server: the stream is over or
            // stuck; drop it so the screen does not wait for it.
            Response::PlaygroundCancelled(Ok(false)) => return self.abandon_reply(flight),
            Response::PlaygroundLeadSaved(Ok(lead)) => {
                self.finish_form(id);
                self.toast(Toast::success(format!("Saved {} as a lead", lead.name)));
                if let Some(chat) = self.playground.chat.as_mut() {
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
    fn abandon_reply(&mut self, flight: &InFlight) -> Vec<Effect> {
        let Some(chat) = self
            .playground
            .chat
            .as_mut()
            .filter(|c| Some(c.session.id) == flight.target)
        else {
            return Vec::new();
        };
        let Some(id) = chat.reply.as_ref().map(|r| r.id) else {
            return Vec::new();
        };
        let mut out = self.on_reply(id, super::ReplyMsg::Ended);
        out.push(Effect::DropReply(id));
        out
    }

    /// A failed playground request, shown where it belongs: a list or
    /// transcript inline, a form's problem in the form.
    fn on_playground_failure(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        err: ApiError,
        response: &Response,
    ) -> Vec<Effect> {
        let here = flight.tenant.is_some() && flight.tenant == self.playground.tenant;
        match (flight.slot, response) {
            (Some(Slot::PlaygroundSessions), _) => {
                if here {
                    self.playground.sessions = Load::Failed(err.message());
                }
                Vec::new()
            }
            (Some(Slot::PlaygroundTranscript), _) => {
                if let Some(chat) = self.playground.chat.as_mut().filter(|_| here) {
                    chat.messages = Load::Failed(err.message());
                }
                Vec::new()
            }
            // The stop did not reach the server: dropping the stream stops
            // the reply as well.
            (_, Response::PlaygroundCancelled(_)) => {
                self.toast(Toast::error(format!("{}: {}", flight.fail, err.message())));
                self.abandon_reply(flight)
            }
            _ => self.on_failure(id, flight, err, response),
        }
    }
}
