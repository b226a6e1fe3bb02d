//! Playground calls: sessions, transcripts, streamed replies, cancel and
//! "save as lead".

use uuid::Uuid;

use super::events::SseReader;
use super::{ApiError, ApiResult, Client};
use crate::domain::{
    Lead, NewPlaygroundMessage, NewPlaygroundSession, PlaygroundEvent, PlaygroundSession,
    PlaygroundTranscript, RegenerateReply, SaveAsLead,
};

/// A reply streaming in: `message`, `token`s, one `reply` per lane, `done`.
pub struct ReplyStream {
    reader: SseReader,
    done: bool,
}

impl ReplyStream {
    /// The next event; `None` after `done` or when the server closed the stream.
    pub async fn next(&mut self) -> Option<ApiResult<PlaygroundEvent>> {
        if self.done {
            return None;
        }
        let event = match self.reader.next().await? {
            Ok(e) => e,
            Err(e) => return Some(Err(e)),
        };
        let name = event.event;
        let data = if event.data.is_empty() {
            serde_json::Value::Null
        } else {
            match serde_json::from_str(&event.data) {
                Ok(v) => v,
                Err(e) => return Some(Err(ApiError::Decode(format!("bad reply event: {e}")))),
            }
        };
        let event = PlaygroundEvent::from_parts(&name, data)
            .map_err(|e| ApiError::Decode(format!("unknown reply event {name:?}: {e}")));
        if matches!(event, Ok(PlaygroundEvent::Done)) {
            self.done = true;
        }
        Some(event)
    }
}

fn sessions(tenant: &str) -> String {
    format!("/api/v1/tenants/{tenant}/playground/sessions")
}

impl Client {
    pub async fn playground_sessions(&self, tenant: &str) -> ApiResult<Vec<PlaygroundSession>> {
        self.get(&sessions(tenant)).await
    }

    pub async fn create_playground_session(
        &self,
        tenant: &str,
        new: &NewPlaygroundSession,
    ) -> ApiResult<PlaygroundSession> {
        self.post(&sessions(tenant), new).await
    }

    /// The session with its transcript.
    pub async fn playground_session(
        &self,
        tenant: &str,
        id: Uuid,
    ) -> ApiResult<PlaygroundTranscript> {
        self.get(&format!("{}/{id}", sessions(tenant))).await
    }

    pub async fn delete_playground_session(&self, tenant: &str, id: Uuid) -> ApiResult<()> {
        self.delete(&format!("{}/{id}", sessions(tenant))).await
    }

    /// Sends a message; the replies stream in. Refusals (unknown agent, model
    /// not installed, a reply already running) come back as the error here,
    /// before anything is stored. Dropping the stream cancels the reply.
    pub async fn send_playground_message(
        &self,
        tenant: &str,
        session: Uuid,
        content: &str,
    ) -> ApiResult<ReplyStream> {
        let body = NewPlaygroundMessage {
            content: content.to_string(),
            ..NewPlaygroundMessage::default()
        };
        self.send_playground_message_with(tenant, session, &body)
            .await
    }

    /// [`send_playground_message`](Self::send_playground_message) with the
    /// session's overrides of temperature and reply length.
    pub async fn send_playground_message_with(
        &self,
        tenant: &str,
        session: Uuid,
        body: &NewPlaygroundMessage,
    ) -> ApiResult<ReplyStream> {
        self.reply_stream(&format!("{}/{session}/messages", sessions(tenant)), body)
            .await
    }

    /// Answers the session's last message again (every lane, or the one
    /// named; with another version of its agent when one is named). The
    /// stream is a send's: `message` names the message answered again.
    pub async fn regenerate_playground_reply(
        &self,
        tenant: &str,
        session: Uuid,
        body: &RegenerateReply,
    ) -> ApiResult<ReplyStream> {
        self.reply_stream(&format!("{}/{session}/regenerate", sessions(tenant)), body)
            .await
    }

    async fn reply_stream(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> ApiResult<ReplyStream> {
        let rb = self
            .stream_request(reqwest::Method::POST, path)
            .header("accept", "text/event-stream")
            .json(body);
        let resp = self.send(rb).await?;
        Ok(ReplyStream {
            reader: SseReader::new(resp),
            done: false,
        })
    }

    /// Stops the session's running reply (kept as cancelled). False when
    /// none was running.
    pub async fn cancel_playground_reply(&self, tenant: &str, session: Uuid) -> ApiResult<bool> {
        let rb = self.request(
            reqwest::Method::POST,
            &format!("{}/{session}/cancel", sessions(tenant)),
        );
        let resp = self.send(rb).await?;
        Ok(resp.status() == reqwest::StatusCode::ACCEPTED)
    }

    /// Turns one of the lead's (user) messages into a lead with source
    /// `playground`; saving again returns the same lead.
    pub async fn save_playground_lead(
        &self,
        tenant: &str,
        session: Uuid,
        message: Uuid,
        contact: &SaveAsLead,
    ) -> ApiResult<Lead> {
        self.post(
            &format!("{}/{session}/messages/{message}/lead", sessions(tenant)),
            contact,
        )
        .await
    }
}
