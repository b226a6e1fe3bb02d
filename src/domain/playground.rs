//! The playground: conversations with an agent (or two, side by side) where
//! the user's text plays an inbound lead's message, and every reply keeps the
//! model, prompt version, token counts and latency it was made with.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::agent::Channel;
use super::knowledge::SnippetRef;
use super::problem::{FieldError, Problem};

/// Longest message a user may send, in characters.
pub const MAX_PLAYGROUND_MESSAGE: usize = 8_000;

/// Which agent (and which of its versions) a session talks to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaygroundTarget {
    pub agent_id: Uuid,
    /// Pin a version; without it, each reply uses the agent's current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewPlaygroundSession {
    /// The agent to talk to. Either this or `workspace_id` (its agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Messages arrive as if through this workspace's channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<Uuid>,
    /// Compare mode: every message also goes to this agent/version, and the
    /// two answers stream side by side (lane 1).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::domain::validate::optional_object"
    )]
    pub compare: Option<PlaygroundTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// One side of a session: lane 0 always, lane 1 in compare mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaygroundLane {
    pub agent_id: Uuid,
    pub agent_name: String,
    /// The pinned version, or `None` to follow the agent's current one.
    pub version: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaygroundSession {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub title: String,
    pub workspace_id: Option<Uuid>,
    pub workspace_name: Option<String>,
    pub channel: Channel,
    /// One lane, or two in compare mode.
    pub lanes: Vec<PlaygroundLane>,
    pub created_by: Option<String>,
    pub message_count: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PlaygroundSession {
    pub fn is_compare(&self) -> bool {
        self.lanes.len() > 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaygroundRole {
    /// The inbound lead's message, typed by the user.
    User,
    /// The agent's reply.
    Assistant,
}

impl PlaygroundRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaygroundRole::User => "user",
            PlaygroundRole::Assistant => "assistant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [PlaygroundRole::User, PlaygroundRole::Assistant]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// How a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplyStatus {
    Complete,
    /// Stopped by the user (or the client went away); the text so far is kept.
    Cancelled,
    /// The provider failed; `error` says why.
    Failed,
}

impl ReplyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyStatus::Complete => "complete",
            ReplyStatus::Cancelled => "cancelled",
            ReplyStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ReplyStatus::Complete,
            ReplyStatus::Cancelled,
            ReplyStatus::Failed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// What a reply was made with, and how fast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReplyStats {
    pub agent_id: Uuid,
    /// `provider/model`.
    pub model: String,
    pub prompt_version: u32,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// From the request to the first token, in milliseconds.
    pub time_to_first_token_ms: u64,
    /// Decode speed after the first token.
    pub tokens_per_second: f64,
    /// The whole reply, in milliseconds.
    pub duration_ms: u64,
    /// The knowledge snippets the prompt carried (retrieved for the
    /// message, when the agent may use knowledge), best first.
    #[serde(default)]
    pub snippets: Vec<SnippetRef>,
    /// The session's temperature override the reply was generated with;
    /// absent: the agent version's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// The session's reply-length override (tokens); absent: the version's
    /// own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaygroundMessage {
    pub id: Uuid,
    pub session_id: Uuid,
    /// Order within the session, from 1.
    pub seq: u32,
    /// `None` for the user's messages; the lane of a reply.
    pub lane: Option<u8>,
    pub role: PlaygroundRole,
    pub content: String,
    /// Replies only.
    pub status: Option<ReplyStatus>,
    pub error: Option<String>,
    pub stats: Option<ReplyStats>,
    /// Set once the message was saved as a lead.
    pub lead_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A session with its transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaygroundTranscript {
    pub session: PlaygroundSession,
    pub messages: Vec<PlaygroundMessage>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewPlaygroundMessage {
    #[schema(max_length = 8000, pattern = r"\S")]
    pub content: String,
    /// Overrides the agent's temperature for this message's replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f32>,
    /// Overrides the agent's most tokens per reply for this message's replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 4096)]
    pub max_tokens: Option<u32>,
}

impl NewPlaygroundMessage {
    /// The trimmed text, or the field errors (the overrides' too).
    pub fn validated(&self) -> Result<String, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = self.content.trim();
        if text.is_empty() {
            errors.push(FieldError::new("content", "write a message first"));
        } else if text.chars().count() > MAX_PLAYGROUND_MESSAGE {
            errors.push(FieldError::new(
                "content",
                format!("must be at most {MAX_PLAYGROUND_MESSAGE} characters"),
            ));
        }
        self.overrides().validate(&mut errors);
        if errors.is_empty() {
            Ok(text.to_string())
        } else {
            Err(errors)
        }
    }

    pub fn overrides(&self) -> ReplyOverrides {
        ReplyOverrides {
            temperature: self.temperature,
            max_tokens: self.max_tokens,
        }
    }
}

/// A session's overrides of its agents' temperature and reply length,
/// sent with each message (the console keeps them for the session).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplyOverrides {
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
}

impl ReplyOverrides {
    /// The agent's own limits: 0 to 2, and 1 to 4096 tokens.
    pub fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(t) = self.temperature {
            if !(0.0..=2.0).contains(&t) || t.is_nan() {
                errors.push(FieldError::new("temperature", "must be between 0 and 2"));
            }
        }
        if let Some(n) = self.max_tokens {
            if n == 0 || n > 4096 {
                errors.push(FieldError::new("max_tokens", "must be between 1 and 4096"));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.temperature.is_none() && self.max_tokens.is_none()
    }
}

/// `POST …/regenerate`: answer the session's last message again. Each
/// regenerated reply is stored after the one it replaces, which stays in the
/// transcript; the conversation goes on from the newest reply of each lane.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegenerateReply {
    /// Regenerate this lane only (0, or 1 in compare mode); every lane
    /// without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub lane: Option<u8>,
    /// Answer with this version of the lane's agent (e.g. the one an edit
    /// just made) instead of the session's; needs `lane` in compare mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 4096)]
    pub max_tokens: Option<u32>,
}

impl RegenerateReply {
    pub fn overrides(&self) -> ReplyOverrides {
        ReplyOverrides {
            temperature: self.temperature,
            max_tokens: self.max_tokens,
        }
    }

    /// The lanes to answer again, of a session with `lanes` lanes, or the
    /// field errors.
    pub fn validated(&self, lanes: usize) -> Result<Vec<u8>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let all: Vec<u8> = (0..lanes.max(1) as u8).collect();
        let chosen = match self.lane {
            Some(l) if usize::from(l) < lanes.max(1) => vec![l],
            Some(_) if lanes > 1 => {
                errors.push(FieldError::new("lane", "must be 0 or 1"));
                Vec::new()
            }
            Some(_) => {
                errors.push(FieldError::new(
                    "lane",
                    "must be 0: this session talks to one agent",
                ));
                Vec::new()
            }
            None => all,
        };
        if self.version == Some(0) {
            errors.push(FieldError::new("version", "versions count from 1"));
        } else if self.version.is_some() && self.lane.is_none() && lanes > 1 {
            errors.push(FieldError::new(
                "version",
                "say which lane the version is for: this session compares two agents",
            ));
        }
        self.overrides().validate(&mut errors);
        if errors.is_empty() {
            Ok(chosen)
        } else {
            Err(errors)
        }
    }
}

/// Which replies a later one replaced: a reply is replaced when a newer
/// reply of the same lane answers the same message (a regenerate). The
/// conversation goes on from the newest.
pub fn replaced(messages: &[PlaygroundMessage]) -> Vec<bool> {
    let mut out = vec![false; messages.len()];
    let mut newest: Vec<(u8, usize)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match m.role {
            PlaygroundRole::User => newest.clear(),
            PlaygroundRole::Assistant => {
                let lane = m.lane.unwrap_or(0);
                match newest.iter_mut().find(|(l, _)| *l == lane) {
                    Some((_, at)) => {
                        out[*at] = true;
                        *at = i;
                    }
                    None => newest.push((lane, i)),
                }
            }
        }
    }
    out
}

/// Contact details for "save as lead"; all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SaveAsLead {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(format = IdnEmail)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The events of a streamed reply (`POST …/messages`), in order:
/// `message` (the stored user message), `token`s per lane, one `reply` per
/// lane (the stored reply, whatever its status), then `done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum PlaygroundEvent {
    Message(PlaygroundMessage),
    Token {
        lane: u8,
        text: String,
    },
    Reply(PlaygroundMessage),
    /// The stream could not go on (e.g. the store failed); the console shows it.
    Error(Problem),
    Done,
}

impl PlaygroundEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            PlaygroundEvent::Message(_) => "message",
            PlaygroundEvent::Token { .. } => "token",
            PlaygroundEvent::Reply(_) => "reply",
            PlaygroundEvent::Error(_) => "error",
            PlaygroundEvent::Done => "done",
        }
    }

    /// The SSE data as JSON.
    pub fn data(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("data").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        }
    }

    /// Rebuilds an event from its SSE name and data.
    pub fn from_parts(name: &str, data: serde_json::Value) -> Result<Self, serde_json::Error> {
        let mut m = serde_json::Map::new();
        m.insert("event".into(), serde_json::Value::String(name.into()));
        if !data.is_null() {
            m.insert("data".into(), data);
        }
        serde_json::from_value(serde_json::Value::Object(m))
    }
}

/// What the agent is told about the message it answers: the user's text is an
/// inbound lead's message, as if it came through `channel`.
pub fn lead_context(channel: Channel, workspace: Option<&str>) -> String {
    let via = match channel {
        Channel::WebForm => "the website contact form",
        Channel::Email => "email",
        Channel::Chat => "the website chat",
        Channel::Phone => "a phone call transcript",
    };
    let place = workspace
        .map(|w| format!(" (workspace \"{w}\")"))
        .unwrap_or_default();
    format!(
        "The user messages below are from a prospective customer (an inbound lead) who \
         reached us through {via}{place}. Answer them as described above."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_name_and_data() {
        let events = [
            PlaygroundEvent::Token {
                lane: 1,
                text: "Hé".into(),
            },
            PlaygroundEvent::Done,
        ];
        for ev in events {
            let back = PlaygroundEvent::from_parts(ev.name(), ev.data()).unwrap();
            assert_eq!(back, ev);
        }
        assert_eq!(
            PlaygroundEvent::Token {
                lane: 0,
                text: "x".into()
            }
            .data(),
            serde_json::json!({"lane": 0, "text": "x"})
        );
    }

    #[test]
    fn messages_are_trimmed_and_bounded() {
        let ok = NewPlaygroundMessage {
            content: "  hello \n".into(),
            ..Default::default()
        };
        assert_eq!(ok.validated().unwrap(), "hello");
        let empty = NewPlaygroundMessage {
            content: " \n ".into(),
            ..Default::default()
        };
        assert_eq!(empty.validated().unwrap_err()[0].field, "content");
        let long = NewPlaygroundMessage {
            content: "x".repeat(MAX_PLAYGROUND_MESSAGE + 1),
            ..Default::default()
        };
        assert!(long.validated().is_err());
    }
}
