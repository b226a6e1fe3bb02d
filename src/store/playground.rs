//! Row types for playground sessions and transcripts, shared by every store.

use super::row::{Id, Int, Time};
use super::{bad_value, Actor, AuditEntry, StoreResult};
use crate::domain::{
    Channel, PlaygroundLane, PlaygroundMessage, PlaygroundRole, PlaygroundSession, ReplyStats,
    ReplyStatus, SnippetRef,
};
use async_trait::async_trait;
use sqlx::types::Json;
use uuid::Uuid;

/// The session columns, in [`PlaygroundSessionRecord`]'s order.
pub(crate) const SESSION_COLUMNS: &str = "tenant_id, id, title, workspace_id, workspace_name, \
     channel, agent_id, agent_name, agent_version, compare_agent_id, compare_agent_name, \
     compare_version, created_by, message_count, created_at, updated_at";

/// The message columns (all but the tenant), in [`PlaygroundMessageRecord`]'s order.
pub(crate) const MESSAGE_COLUMNS: &str = "session_id, id, seq, lane, role, content, status, \
     error, agent_id, model, prompt_version, prompt_tokens, completion_tokens, ttft_ms, \
     tokens_per_second, duration_ms, lead_id, created_at, snippets, temperature, max_tokens";

/// A session as stored: one lane's agent, and a second one's in compare mode.
#[derive(sqlx::FromRow)]
pub(crate) struct PlaygroundSessionRecord {
    tenant_id: Id,
    id: Id,
    title: String,
    workspace_id: Option<Id>,
    workspace_name: Option<String>,
    channel: Channel,
    agent_id: Id,
    agent_name: String,
    agent_version: Option<Int>,
    compare_agent_id: Option<Id>,
    compare_agent_name: Option<String>,
    compare_version: Option<Int>,
    created_by: Option<String>,
    message_count: Int,
    created_at: Time,
    updated_at: Time,
}

impl From<PlaygroundSessionRecord> for PlaygroundSession {
    fn from(r: PlaygroundSessionRecord) -> PlaygroundSession {
        let mut lanes = vec![PlaygroundLane {
            agent_id: r.agent_id.into(),
            agent_name: r.agent_name,
            version: r.agent_version.map(|v| v.0 as u32),
        }];
        if let Some(agent_id) = r.compare_agent_id {
            lanes.push(PlaygroundLane {
                agent_id: agent_id.into(),
                agent_name: r.compare_agent_name.unwrap_or_default(),
                version: r.compare_version.map(|v| v.0 as u32),
            });
        }
        PlaygroundSession {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            title: r.title,
            workspace_id: r.workspace_id.map(Into::into),
            workspace_name: r.workspace_name,
            channel: r.channel,
            lanes,
            created_by: r.created_by,
            message_count: r.message_count.0 as u32,
            created_at: r.created_at.into(),
            updated_at: r.updated_at.into(),
        }
    }
}

/// A transcript message as stored; a reply's figures are there when it
/// has a model and an agent.
#[derive(sqlx::FromRow)]
pub(crate) struct PlaygroundMessageRecord {
    session_id: Id,
    id: Id,
    seq: Int,
    lane: Option<Int>,
    role: PlaygroundRole,
    content: String,
    status: Option<ReplyStatus>,
    error: Option<String>,
    agent_id: Option<Id>,
    model: Option<String>,
    prompt_version: Option<Int>,
    prompt_tokens: Option<Int>,
    completion_tokens: Option<Int>,
    ttft_ms: Option<i64>,
    tokens_per_second: Option<f64>,
    duration_ms: Option<i64>,
    lead_id: Option<Id>,
    created_at: Time,
    snippets: Option<Json<Vec<SnippetRef>>>,
    temperature: Option<f32>,
    max_tokens: Option<Int>,
}

/// A reply's figure that must be there when the reply has stats.
fn stat<T>(value: Option<T>, what: &str) -> StoreResult<T> {
    value.ok_or_else(|| bad_value(what, "null"))
}

impl TryFrom<PlaygroundMessageRecord> for PlaygroundMessage {
    type Error = super::StoreError;

    fn try_from(r: PlaygroundMessageRecord) -> StoreResult<PlaygroundMessage> {
        let stats = match (r.model, r.agent_id) {
            (Some(model), Some(agent_id)) => Some(ReplyStats {
                agent_id: agent_id.into(),
                model,
                prompt_version: stat(r.prompt_version, "prompt_version")?.0 as u32,
                prompt_tokens: stat(r.prompt_tokens, "prompt_tokens")?.0 as u32,
                completion_tokens: stat(r.completion_tokens, "completion_tokens")?.0 as u32,
                time_to_first_token_ms: stat(r.ttft_ms, "ttft_ms")? as u64,
                tokens_per_second: stat(r.tokens_per_second, "tokens_per_second")?,
                duration_ms: stat(r.duration_ms, "duration_ms")? as u64,
                snippets: r.snippets.map(|s| s.0).unwrap_or_default(),
                temperature: r.temperature,
                max_tokens: r.max_tokens.and_then(|n| u32::try_from(n.0).ok()),
            }),
            _ => None,
        };
        Ok(PlaygroundMessage {
            id: r.id.into(),
            session_id: r.session_id.into(),
            seq: r.seq.0 as u32,
            lane: r.lane.map(|l| l.0 as u8),
            role: r.role,
            content: r.content,
            status: r.status,
            error: r.error,
            stats,
            lead_id: r.lead_id.map(Into::into),
            created_at: r.created_at.into(),
        })
    }
}

/// Tenant `$1`'s most recent sessions, at most `$2`.
pub(crate) fn recent_sessions_sql() -> String {
    format!(
        "SELECT {SESSION_COLUMNS} FROM playground_sessions WHERE tenant_id = $1 \
         ORDER BY updated_at DESC, id DESC LIMIT $2"
    )
}

/// Tenant `$1`'s session `$2`.
pub(crate) fn session_sql() -> String {
    format!("SELECT {SESSION_COLUMNS} FROM playground_sessions WHERE tenant_id = $1 AND id = $2")
}

/// Tenant `$1`'s session `$2`'s transcript, in order.
pub(crate) fn transcript_sql() -> String {
    format!(
        "SELECT {MESSAGE_COLUMNS} FROM playground_messages \
         WHERE tenant_id = $1 AND session_id = $2 ORDER BY seq"
    )
}

/// A new session: tenant, id, title, workspace id and name, channel, the
/// first lane's agent id, name and version, the second's, author, time;
/// returns it.
pub(crate) fn insert_session_sql() -> String {
    format!(
        "INSERT INTO playground_sessions ({SESSION_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $14) \
         RETURNING {SESSION_COLUMNS}"
    )
}

/// A new message: tenant, then [`MESSAGE_COLUMNS`] but the lead (session,
/// id, number, lane, role, content, status, error, agent, model, prompt
/// version, tokens in and out, time to first token, tokens a second,
/// duration, time, snippets, temperature, max tokens); returns it.
pub(crate) fn insert_message_sql() -> String {
    format!(
        "INSERT INTO playground_messages (tenant_id, {MESSAGE_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, NULL, $18, $19, $20, $21) \
         RETURNING {MESSAGE_COLUMNS}"
    )
}

pub(crate) const DELETE_SESSION_SQL: &str =
    "DELETE FROM playground_sessions WHERE tenant_id = $1 AND id = $2";

/// Numbers a message of tenant `$2`'s session `$3` at time `$1` (and proves
/// the session exists): returns the number.
pub(crate) const NUMBER_MESSAGE_SQL: &str = "UPDATE playground_sessions \
     SET message_count = message_count + 1, updated_at = $1 \
     WHERE tenant_id = $2 AND id = $3 RETURNING message_count";

/// Lead `$1` recorded on tenant `$2`'s message `$3`.
pub(crate) const LINK_LEAD_SQL: &str =
    "UPDATE playground_messages SET lead_id = $1 WHERE tenant_id = $2 AND id = $3";

/// What the audit log says of a new session.
pub fn session_create_audit(id: Uuid, row: &PlaygroundSessionRow) -> AuditEntry {
    AuditEntry {
        action: "playground.session.create",
        resource: "playground_session",
        resource_id: id.to_string(),
        changes: serde_json::json!({ "title": row.title, "lanes": row.lanes }),
    }
}

/// What the audit log says of a deleted session.
pub fn session_delete_audit(id: Uuid) -> AuditEntry {
    AuditEntry {
        action: "playground.session.delete",
        resource: "playground_session",
        resource_id: id.to_string(),
        changes: serde_json::json!({}),
    }
}

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

/// A message's columns as stored.
pub(crate) struct MessageColumns<'a> {
    pub role: PlaygroundRole,
    pub lane: Option<u8>,
    pub content: &'a str,
    pub status: Option<&'static str>,
    pub error: Option<&'a str>,
    pub stats: Option<&'a ReplyStats>,
}

impl PlaygroundMessageRow {
    pub(crate) fn columns(&self) -> MessageColumns<'_> {
        match self {
            PlaygroundMessageRow::User(text) => MessageColumns {
                role: PlaygroundRole::User,
                lane: None,
                content: text,
                status: None,
                error: None,
                stats: None,
            },
            PlaygroundMessageRow::Reply(r) => MessageColumns {
                role: PlaygroundRole::Assistant,
                lane: Some(r.lane),
                content: &r.content,
                status: Some(r.status.as_str()),
                error: r.error.as_deref(),
                stats: r.stats.as_ref(),
            },
        }
    }
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
