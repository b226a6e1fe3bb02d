//! Playground sessions and transcripts.

use async_trait::async_trait;
use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::{db_error, now_ms, parse_uuid, to_dt, write_audit, SqliteStore};
use crate::domain::{
    Channel, PlaygroundLane, PlaygroundMessage, PlaygroundRole, PlaygroundSession, ReplyStats,
    ReplyStatus,
};
use crate::store::{
    Actor, AuditEntry, PlaygroundMessageRow, PlaygroundSessionRow, PlaygroundStore, StoreError,
    StoreResult, RECENT_SESSIONS,
};

const SESSION_COLUMNS: &str = "tenant_id, id, title, workspace_id, workspace_name, channel, \
     agent_id, agent_name, agent_version, compare_agent_id, compare_agent_name, compare_version, \
     created_by, message_count, created_at, updated_at";

const MESSAGE_COLUMNS: &str = "session_id, id, seq, lane, role, content, status, error, \
     agent_id, model, prompt_version, prompt_tokens, completion_tokens, ttft_ms, \
     tokens_per_second, duration_ms, lead_id, created_at, snippets, temperature, max_tokens";

use crate::store::bad_value as bad;

fn opt_uuid(row: &SqliteRow, column: &str) -> StoreResult<Option<Uuid>> {
    let v: Option<String> = row
        .try_get(column)
        .map_err(|e| db_error(e, "read a playground row"))?;
    v.as_deref().map(parse_uuid).transpose()
}

fn session_from_row(row: &SqliteRow) -> StoreResult<PlaygroundSession> {
    let err = |e| db_error(e, "read a playground session");
    let channel: String = row.try_get("channel").map_err(err)?;
    let mut lanes = vec![PlaygroundLane {
        agent_id: parse_uuid(&row.try_get::<String, _>("agent_id").map_err(err)?)?,
        agent_name: row.try_get("agent_name").map_err(err)?,
        version: row
            .try_get::<Option<i64>, _>("agent_version")
            .map_err(err)?
            .map(|v| v as u32),
    }];
    if let Some(agent_id) = opt_uuid(row, "compare_agent_id")? {
        lanes.push(PlaygroundLane {
            agent_id,
            agent_name: row
                .try_get::<Option<String>, _>("compare_agent_name")
                .map_err(err)?
                .unwrap_or_default(),
            version: row
                .try_get::<Option<i64>, _>("compare_version")
                .map_err(err)?
                .map(|v| v as u32),
        });
    }
    Ok(PlaygroundSession {
        id: parse_uuid(&row.try_get::<String, _>("id").map_err(err)?)?,
        tenant_id: parse_uuid(&row.try_get::<String, _>("tenant_id").map_err(err)?)?,
        title: row.try_get("title").map_err(err)?,
        workspace_id: opt_uuid(row, "workspace_id")?,
        workspace_name: row.try_get("workspace_name").map_err(err)?,
        channel: Channel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
        lanes,
        created_by: row.try_get("created_by").map_err(err)?,
        message_count: row.try_get::<i64, _>("message_count").map_err(err)? as u32,
        created_at: to_dt(row.try_get("created_at").map_err(err)?),
        updated_at: to_dt(row.try_get("updated_at").map_err(err)?),
    })
}

fn message_from_row(row: &SqliteRow) -> StoreResult<PlaygroundMessage> {
    let err = |e| db_error(e, "read a playground message");
    let role: String = row.try_get("role").map_err(err)?;
    let status: Option<String> = row.try_get("status").map_err(err)?;
    let status = status
        .map(|s| ReplyStatus::parse(&s).ok_or_else(|| bad("reply status", &s)))
        .transpose()?;
    let model: Option<String> = row.try_get("model").map_err(err)?;
    let stats = match (model, opt_uuid(row, "agent_id")?) {
        (Some(model), Some(agent_id)) => Some(ReplyStats {
            agent_id,
            model,
            prompt_version: row.try_get::<i64, _>("prompt_version").map_err(err)? as u32,
            prompt_tokens: row.try_get::<i64, _>("prompt_tokens").map_err(err)? as u32,
            completion_tokens: row.try_get::<i64, _>("completion_tokens").map_err(err)? as u32,
            time_to_first_token_ms: row.try_get::<i64, _>("ttft_ms").map_err(err)? as u64,
            tokens_per_second: row.try_get("tokens_per_second").map_err(err)?,
            duration_ms: row.try_get::<i64, _>("duration_ms").map_err(err)? as u64,
            snippets: {
                let text: Option<String> = row.try_get("snippets").map_err(err)?;
                match text {
                    Some(t) => serde_json::from_str(&t).map_err(|_| bad("snippets", &t))?,
                    None => Vec::new(),
                }
            },
            temperature: row
                .try_get::<Option<f64>, _>("temperature")
                .map_err(err)?
                .map(|t| t as f32),
            max_tokens: row
                .try_get::<Option<i64>, _>("max_tokens")
                .map_err(err)?
                .and_then(|n| u32::try_from(n).ok()),
        }),
        _ => None,
    };
    Ok(PlaygroundMessage {
        id: parse_uuid(&row.try_get::<String, _>("id").map_err(err)?)?,
        session_id: parse_uuid(&row.try_get::<String, _>("session_id").map_err(err)?)?,
        seq: row.try_get::<i64, _>("seq").map_err(err)? as u32,
        lane: row
            .try_get::<Option<i64>, _>("lane")
            .map_err(err)?
            .map(|l| l as u8),
        role: PlaygroundRole::parse(&role).ok_or_else(|| bad("role", &role))?,
        content: row.try_get("content").map_err(err)?,
        status,
        error: row.try_get("error").map_err(err)?,
        stats,
        lead_id: opt_uuid(row, "lead_id")?,
        created_at: to_dt(row.try_get("created_at").map_err(err)?),
    })
}

#[async_trait]
impl PlaygroundStore for SqliteStore {
    async fn create_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: PlaygroundSessionRow,
    ) -> StoreResult<PlaygroundSession> {
        let id = Uuid::now_v7();
        let now = now_ms();
        let lane = |i: usize| row.lanes.get(i);
        {
            let (_writer, mut tx) = self.write().await?;
            sqlx::query(&format!(
                "INSERT INTO playground_sessions ({SESSION_COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"
            ))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .bind(&row.title)
            .bind(row.workspace.as_ref().map(|(w, _)| w.to_string()))
            .bind(row.workspace.as_ref().map(|(_, n)| n.clone()))
            .bind(row.channel.as_str())
            .bind(lane(0).map(|l| l.agent_id.to_string()))
            .bind(lane(0).map(|l| l.agent_name.clone()))
            .bind(lane(0).and_then(|l| l.version).map(i64::from))
            .bind(lane(1).map(|l| l.agent_id.to_string()))
            .bind(lane(1).map(|l| l.agent_name.clone()))
            .bind(lane(1).and_then(|l| l.version).map(i64::from))
            .bind(actor.email.as_deref())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "create a playground session"))?;
            let entry = AuditEntry {
                action: "playground.session.create",
                resource: "playground_session",
                resource_id: id.to_string(),
                changes: json!({ "title": row.title, "lanes": row.lanes }),
            };
            write_audit(&mut tx, tenant_id, actor, &entry).await?;
            tx.commit()
                .await
                .map_err(|e| db_error(e, "commit a playground session"))?;
        }
        self.playground_session(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn list_playground_sessions(
        &self,
        tenant_id: Uuid,
    ) -> StoreResult<Vec<PlaygroundSession>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM playground_sessions WHERE tenant_id = ? \
             ORDER BY updated_at DESC, id DESC LIMIT ?"
        ))
        .bind(tenant_id.to_string())
        .bind(i64::from(RECENT_SESSIONS))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list playground sessions"))?;
        rows.iter().map(session_from_row).collect()
    }

    async fn playground_session(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<PlaygroundSession>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM playground_sessions WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "read a playground session"))?;
        row.map(|r| session_from_row(&r)).transpose()
    }

    async fn delete_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query("DELETE FROM playground_sessions WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a playground session"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry {
            action: "playground.session.delete",
            resource: "playground_session",
            resource_id: id.to_string(),
            changes: json!({}),
        };
        write_audit(&mut tx, tenant_id, actor, &entry).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a playground session deletion"))
    }

    async fn playground_messages(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
    ) -> StoreResult<Vec<PlaygroundMessage>> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM playground_messages \
             WHERE tenant_id = ? AND session_id = ? ORDER BY seq"
        ))
        .bind(tenant_id.to_string())
        .bind(session_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "read a playground transcript"))?;
        rows.iter().map(message_from_row).collect()
    }

    async fn add_playground_message(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
        row: PlaygroundMessageRow,
    ) -> StoreResult<PlaygroundMessage> {
        let id = Uuid::now_v7();
        let now = now_ms();
        let (_writer, mut tx) = self.write().await?;
        // The session's counter numbers the message (and proves it exists).
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE playground_sessions SET message_count = message_count + 1, updated_at = ? \
             WHERE tenant_id = ? AND id = ? RETURNING message_count",
        )
        .bind(now)
        .bind(tenant_id.to_string())
        .bind(session_id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "number a playground message"))?;
        let seq = seq.ok_or(StoreError::NotFound)?;
        let (role, lane, content, status, error, stats) = match &row {
            PlaygroundMessageRow::User(text) => {
                (PlaygroundRole::User, None, text, None, None, None)
            }
            PlaygroundMessageRow::Reply(r) => (
                PlaygroundRole::Assistant,
                Some(i64::from(r.lane)),
                &r.content,
                Some(r.status.as_str()),
                r.error.as_deref(),
                r.stats.as_ref(),
            ),
        };
        sqlx::query(&format!(
            "INSERT INTO playground_messages (tenant_id, {MESSAGE_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)"
        ))
        .bind(tenant_id.to_string())
        .bind(session_id.to_string())
        .bind(id.to_string())
        .bind(seq)
        .bind(lane)
        .bind(role.as_str())
        .bind(content)
        .bind(status)
        .bind(error)
        .bind(stats.map(|s| s.agent_id.to_string()))
        .bind(stats.map(|s| s.model.clone()))
        .bind(stats.map(|s| i64::from(s.prompt_version)))
        .bind(stats.map(|s| i64::from(s.prompt_tokens)))
        .bind(stats.map(|s| i64::from(s.completion_tokens)))
        .bind(stats.map(|s| s.time_to_first_token_ms as i64))
        .bind(stats.map(|s| s.tokens_per_second))
        .bind(stats.map(|s| s.duration_ms as i64))
        .bind(now)
        .bind(
            stats
                .filter(|s| !s.snippets.is_empty())
                .map(|s| serde_json::to_string(&s.snippets))
                .transpose()
                .map_err(|e| StoreError::Other(e.into()))?,
        )
        .bind(stats.and_then(|s| s.temperature).map(f64::from))
        .bind(stats.and_then(|s| s.max_tokens).map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "store a playground message"))?;
        let stored = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM playground_messages WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read a playground message"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a playground message"))?;
        message_from_row(&stored)
    }

    async fn link_playground_lead(
        &self,
        tenant_id: Uuid,
        message_id: Uuid,
        lead_id: Uuid,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(
            "UPDATE playground_messages SET lead_id = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(lead_id.to_string())
        .bind(tenant_id.to_string())
        .bind(message_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "link a playground message to its lead"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a playground lead link"))
    }
}
