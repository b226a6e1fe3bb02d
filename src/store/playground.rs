//! Row types for playground sessions and transcripts, shared by every store.

use super::{Actor, StoreResult};
use crate::domain::{
    Channel, PlaygroundLane, PlaygroundMessage, PlaygroundSession, ReplyStats, ReplyStatus,
};
use async_trait::async_trait;
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

/// Playground sessions and their transcripts.
#[async_trait]
pub trait PlaygroundStore: Send + Sync {
    async fn create_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: PlaygroundSessionRow,
    ) -> StoreResult<PlaygroundSession>;
    /// The tenant's most recently used sessions, newest first.
    async fn list_playground_sessions(
        &self,
        tenant_id: Uuid,
    ) -> StoreResult<Vec<PlaygroundSession>>;
    async fn playground_session(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<PlaygroundSession>>;
    async fn delete_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()>;
    /// The transcript, in order.
    async fn playground_messages(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
    ) -> StoreResult<Vec<PlaygroundMessage>>;
    /// Appends a message (numbered after the last) and touches the session.
    async fn add_playground_message(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
        row: PlaygroundMessageRow,
    ) -> StoreResult<PlaygroundMessage>;
    /// Records the lead a user message was saved as.
    async fn link_playground_lead(
        &self,
        tenant_id: Uuid,
        message_id: Uuid,
        lead_id: Uuid,
    ) -> StoreResult<()>;
}
