//! Row types for playground sessions and transcripts, shared by every store.

use crate::domain::{Channel, PlaygroundLane, ReplyStats, ReplyStatus};
use uuid::Uuid;

/// A session to create, its agents already checked visible to the tenant.
#[derive(Debug, Clone)]
pub struct PlaygroundSessionRow {
    pub title: String,
    /// The workspace whose channel messages arrive through, with its name.
    pub workspace: Option<(Uuid, String)>,
    pub channel: Channel,
    /// One lane, or two in compare mode.
    pub lanes: Vec<PlaygroundLane>,
}

/// A message to append to a session's transcript.
#[derive(Debug, Clone)]
pub enum PlaygroundMessageRow {
    /// The user's text (the inbound lead's message).
    User(String),
    Reply(PlaygroundReplyRow),
}

#[derive(Debug, Clone)]
pub struct PlaygroundReplyRow {
    pub lane: u8,
    pub content: String,
    pub status: ReplyStatus,
    pub error: Option<String>,
    /// Absent when the reply failed before the model ran.
    pub stats: Option<ReplyStats>,
}

/// How many sessions a listing returns, newest first.
pub const RECENT_SESSIONS: u32 = 100;
