//! Playground sessions and transcripts.

use async_trait::async_trait;
use uuid::Uuid;

use super::{db_error, now_ms, write_audit, SqliteStore};
use crate::domain::{PlaygroundMessage, PlaygroundSession};
use crate::store::playground::{
    insert_message_sql, insert_session_sql, recent_sessions_sql, session_create_audit,
    session_delete_audit, session_sql, transcript_sql, PlaygroundMessageRecord,
    PlaygroundSessionRecord, DELETE_SESSION_SQL, LINK_LEAD_SQL, NUMBER_MESSAGE_SQL,
};
use crate::store::sql::Dialect;
use crate::store::{
    Actor, PlaygroundMessageRow, PlaygroundSessionRow, PlaygroundStore, StoreError, StoreResult,
    RECENT_SESSIONS,
};

const SQL: Dialect = Dialect::Sqlite;

#[async_trait]
impl PlaygroundStore for SqliteStore {
    async fn create_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: PlaygroundSessionRow,
    ) -> StoreResult<PlaygroundSession> {
        let id = Uuid::now_v7();
        let lane = |i: usize| row.lanes.get(i);
        let (_writer, mut tx) = self.write().await?;
        let stored =
            sqlx::query_as::<_, PlaygroundSessionRecord>(&SQL.write(&insert_session_sql()))
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
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| db_error(e, "create a playground session"))?;
        write_audit(&mut tx, tenant_id, actor, &session_create_audit(id, &row)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a playground session"))?;
        Ok(stored.into())
    }

    async fn list_playground_sessions(
        &self,
        tenant_id: Uuid,
    ) -> StoreResult<Vec<PlaygroundSession>> {
        let rows = sqlx::query_as::<_, PlaygroundSessionRecord>(&SQL.write(&recent_sessions_sql()))
            .bind(tenant_id.to_string())
            .bind(i64::from(RECENT_SESSIONS))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list playground sessions"))?;
        Ok(rows.into_iter().map(PlaygroundSession::from).collect())
    }

    async fn playground_session(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<PlaygroundSession>> {
        let row = sqlx::query_as::<_, PlaygroundSessionRecord>(&SQL.write(&session_sql()))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(e, "read a playground session"))?;
        Ok(row.map(PlaygroundSession::from))
    }

    async fn delete_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(&SQL.write(DELETE_SESSION_SQL))
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a playground session"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        write_audit(&mut tx, tenant_id, actor, &session_delete_audit(id)).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a playground session deletion"))
    }

    async fn playground_messages(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
    ) -> StoreResult<Vec<PlaygroundMessage>> {
        let rows = sqlx::query_as::<_, PlaygroundMessageRecord>(&SQL.write(&transcript_sql()))
            .bind(tenant_id.to_string())
            .bind(session_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "read a playground transcript"))?;
        rows.into_iter().map(PlaygroundMessage::try_from).collect()
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
        let seq: Option<i64> = sqlx::query_scalar(&SQL.write(NUMBER_MESSAGE_SQL))
            .bind(now)
            .bind(tenant_id.to_string())
            .bind(session_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error(e, "number a playground message"))?;
        let seq = seq.ok_or(StoreError::NotFound)?;
        let m = row.columns();
        let stats = m.stats;
        let stored =
            sqlx::query_as::<_, PlaygroundMessageRecord>(&SQL.write(&insert_message_sql()))
                .bind(tenant_id.to_string())
                .bind(session_id.to_string())
                .bind(id.to_string())
                .bind(seq)
                .bind(m.lane.map(i64::from))
                .bind(m.role.as_str())
                .bind(m.content)
                .bind(m.status)
                .bind(m.error)
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
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| db_error(e, "store a playground message"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a playground message"))?;
        stored.try_into()
    }

    async fn link_playground_lead(
        &self,
        tenant_id: Uuid,
        message_id: Uuid,
        lead_id: Uuid,
    ) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(&SQL.write(LINK_LEAD_SQL))
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
