//! Playground sessions and transcripts.

use async_trait::async_trait;
use uuid::Uuid;

use super::{db_error, now, write_audit, PgStore};
use crate::domain::{PlaygroundMessage, PlaygroundSession};
use crate::store::playground::{
    insert_message_sql, insert_session_sql, recent_sessions_sql, session_create_audit,
    session_delete_audit, session_sql, transcript_sql, PlaygroundMessageRecord,
    PlaygroundSessionRecord, DELETE_SESSION_SQL, LINK_LEAD_SQL, NUMBER_MESSAGE_SQL,
};
use crate::store::{
    Actor, PlaygroundMessageRow, PlaygroundSessionRow, PlaygroundStore, StoreError, StoreResult,
    RECENT_SESSIONS,
};

#[async_trait]
impl PlaygroundStore for PgStore {
    async fn create_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: PlaygroundSessionRow,
    ) -> StoreResult<PlaygroundSession> {
        let id = Uuid::now_v7();
        let lane = |i: usize| row.lanes.get(i);
        let mut tx = self.tenant_tx(tenant_id).await?;
        let stored = sqlx::query_as::<_, PlaygroundSessionRecord>(&insert_session_sql())
            .bind(tenant_id)
            .bind(id)
            .bind(&row.title)
            .bind(row.workspace.as_ref().map(|(w, _)| *w))
            .bind(row.workspace.as_ref().map(|(_, n)| n.clone()))
            .bind(row.channel.as_str())
            .bind(lane(0).map(|l| l.agent_id))
            .bind(lane(0).map(|l| l.agent_name.clone()))
            .bind(lane(0).and_then(|l| l.version).map(|v| v as i32))
            .bind(lane(1).map(|l| l.agent_id))
            .bind(lane(1).map(|l| l.agent_name.clone()))
            .bind(lane(1).and_then(|l| l.version).map(|v| v as i32))
            .bind(actor.email.as_deref())
            .bind(now())
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, PlaygroundSessionRecord>(&recent_sessions_sql())
            .bind(tenant_id)
            .bind(i64::from(RECENT_SESSIONS))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "list playground sessions"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(rows.into_iter().map(PlaygroundSession::from).collect())
    }

    async fn playground_session(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<PlaygroundSession>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let row = sqlx::query_as::<_, PlaygroundSessionRecord>(&session_sql())
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error(e, "read a playground session"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(row.map(PlaygroundSession::from))
    }

    async fn delete_playground_session(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query(DELETE_SESSION_SQL)
            .bind(tenant_id)
            .bind(id)
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, PlaygroundMessageRecord>(&transcript_sql())
            .bind(tenant_id)
            .bind(session_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "read a playground transcript"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        rows.into_iter().map(PlaygroundMessage::try_from).collect()
    }

    async fn add_playground_message(
        &self,
        tenant_id: Uuid,
        session_id: Uuid,
        row: PlaygroundMessageRow,
    ) -> StoreResult<PlaygroundMessage> {
        let id = Uuid::now_v7();
        let now = now();
        let mut tx = self.tenant_tx(tenant_id).await?;
        // The session's counter numbers the message; its row lock orders
        // concurrent replies (compare mode) without gaps or clashes.
        let seq: Option<i32> = sqlx::query_scalar(NUMBER_MESSAGE_SQL)
            .bind(now)
            .bind(tenant_id)
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error(e, "number a playground message"))?;
        let seq = seq.ok_or(StoreError::NotFound)?;
        let m = row.columns();
        let stats = m.stats;
        let stored = sqlx::query_as::<_, PlaygroundMessageRecord>(&insert_message_sql())
            .bind(tenant_id)
            .bind(session_id)
            .bind(id)
            .bind(seq)
            .bind(m.lane.map(i16::from))
            .bind(m.role.as_str())
            .bind(m.content)
            .bind(m.status)
            .bind(m.error)
            .bind(stats.map(|s| s.agent_id))
            .bind(stats.map(|s| s.model.clone()))
            .bind(stats.map(|s| s.prompt_version as i32))
            .bind(stats.map(|s| s.prompt_tokens as i32))
            .bind(stats.map(|s| s.completion_tokens as i32))
            .bind(stats.map(|s| s.time_to_first_token_ms as i64))
            .bind(stats.map(|s| s.tokens_per_second))
            .bind(stats.map(|s| s.duration_ms as i64))
            .bind(now)
            .bind(
                stats
                    .filter(|s| !s.snippets.is_empty())
                    .map(|s| serde_json::to_value(&s.snippets))
                    .transpose()
                    .map_err(|e| StoreError::Other(e.into()))?,
            )
            .bind(stats.and_then(|s| s.temperature))
            .bind(
                stats
                    .and_then(|s| s.max_tokens)
                    .map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            )
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query(LINK_LEAD_SQL)
            .bind(lead_id)
            .bind(tenant_id)
            .bind(message_id)
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
