//! Knowledge documents and their FTS5 index (`knowledge_chunks`, mirrored
//! into `knowledge_fts` by triggers), agents' knowledge links, and the lead
//! history the research step reads.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqliteConnection, Transaction};
use uuid::Uuid;

use super::{db_error, parse_uuid, to_dt, write_audit, SqliteStore};
use crate::domain::knowledge::{
    AgentKnowledge, KnowledgeDocument, KnowledgeFormat, KnowledgeInput, KnowledgeMode,
    KnowledgeSnippet, KnowledgeSummary,
};
use crate::domain::research::RelatedLead;
use crate::store::{
    bad_value, knowledge_audit, Actor, AuditEntry, KnowledgeStore, StoreError, StoreResult,
    RESEARCH_LEADS, RESEARCH_NOTES,
};

type Tx = Transaction<'static, Sqlite>;

#[derive(sqlx::FromRow)]
struct DocumentRow {
    tenant_id: String,
    id: String,
    title: String,
    body: String,
    format: String,
    chunks: i64,
    created_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl DocumentRow {
    fn into_document(self) -> StoreResult<KnowledgeDocument> {
        Ok(KnowledgeDocument {
            id: parse_uuid(&self.id)?,
            tenant_id: parse_uuid(&self.tenant_id)?,
            title: self.title,
            body: self.body,
            format: KnowledgeFormat::parse(&self.format)
                .ok_or_else(|| bad_value("knowledge format", &self.format))?,
            chunks: self.chunks as u32,
            created_by: self.created_by,
            created_at: to_dt(self.created_at),
            updated_at: to_dt(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    title: String,
    format: String,
    chars: i64,
    chunks: i64,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct SnippetRow {
    document_id: String,
    title: String,
    seq: i64,
    body: String,
    rank: f64,
}

#[derive(sqlx::FromRow)]
struct LeadRow {
    id: String,
    name: String,
    email: Option<String>,
    company: Option<String>,
    message: String,
    stage: String,
    qual_category: Option<String>,
    created_at: i64,
}

const DOCUMENT: &str = "SELECT tenant_id, id, title, body, format, chunks, created_by, \
     created_at, updated_at FROM knowledge_documents WHERE tenant_id = ? AND id = ?";

async fn document_in(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<KnowledgeDocument>> {
    sqlx::query_as::<_, DocumentRow>(DOCUMENT)
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error(e, "read a knowledge document"))?
        .map(DocumentRow::into_document)
        .transpose()
}

/// Replaces a document's indexed chunks (the triggers keep FTS5 in step).
async fn index_chunks(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    input: &KnowledgeInput,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM knowledge_chunks WHERE tenant_id = ? AND document_id = ?")
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "unindex a knowledge document"))?;
    for (i, text) in input.chunks.iter().enumerate() {
        sqlx::query(
            "INSERT INTO knowledge_chunks (tenant_id, document_id, seq, title, body) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(i as i64 + 1)
        .bind(&input.title)
        .bind(text)
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "index a knowledge document"))?;
    }
    Ok(())
}

/// An FTS5 query matching any of the terms. Each term is letters and
/// digits only (see `search_terms`), quoted so none reads as an operator.
fn fts_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" OR ")
}

async fn notes_of(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    lead_id: &str,
) -> StoreResult<Vec<String>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT coalesce(json_extract(data, '$.body'), '') FROM lead_events \
         WHERE tenant_id = ? AND lead_id = ? AND kind = 'note' \
         ORDER BY created_at DESC, id DESC LIMIT ?",
    )
    .bind(tenant_id.to_string())
    .bind(lead_id)
    .bind(i64::from(RESEARCH_NOTES))
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db_error(e, "read a lead's notes"))?;
    Ok(rows
        .into_iter()
        .map(|n| n.chars().take(300).collect::<String>())
        .filter(|n| !n.trim().is_empty())
        .collect())
}

fn related(row: LeadRow, this_lead: bool, notes: Vec<String>) -> StoreResult<RelatedLead> {
    Ok(RelatedLead {
        lead_id: parse_uuid(&row.id)?,
        this_lead,
        name: row.name,
        company: row.company,
        message: row.message.chars().take(300).collect(),
        stage: row.stage,
        category: row.qual_category,
        notes,
        created_at: to_dt(row.created_at),
    })
}

#[async_trait]
impl KnowledgeStore for SqliteStore {
    async fn list_knowledge(&self, tenant_id: Uuid) -> StoreResult<Vec<KnowledgeSummary>> {
        let rows = sqlx::query_as::<_, SummaryRow>(
            "SELECT id, title, format, length(body) AS chars, chunks, created_at, updated_at \
             FROM knowledge_documents WHERE tenant_id = ? ORDER BY lower(title), id",
        )
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "list knowledge documents"))?;
        rows.into_iter()
            .map(|r| {
                Ok(KnowledgeSummary {
                    id: parse_uuid(&r.id)?,
                    title: r.title,
                    format: KnowledgeFormat::parse(&r.format)
                        .ok_or_else(|| bad_value("knowledge format", &r.format))?,
                    chars: r.chars as u32,
                    chunks: r.chunks as u32,
                    created_at: to_dt(r.created_at),
                    updated_at: to_dt(r.updated_at),
                })
            })
            .collect()
    }

    async fn knowledge_count(&self, tenant_id: Uuid) -> StoreResult<u32> {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM knowledge_documents WHERE tenant_id = ?")
                .bind(tenant_id.to_string())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| db_error(e, "count knowledge documents"))?;
        Ok(n as u32)
    }

    async fn knowledge_document(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<KnowledgeDocument>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "read a knowledge document"))?;
        document_in(&mut conn, tenant_id, id).await
    }

    async fn create_knowledge(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        input: KnowledgeInput,
        now: DateTime<Utc>,
    ) -> StoreResult<KnowledgeDocument> {
        let id = Uuid::now_v7();
        let (_writer, mut tx) = self.write().await?;
        sqlx::query(
            "INSERT INTO knowledge_documents (tenant_id, id, title, body, format, chunks, \
             created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .bind(&input.title)
        .bind(&input.body)
        .bind(input.format.as_str())
        .bind(input.chunks.len() as i64)
        .bind(actor.email.as_deref())
        .bind(now.timestamp_millis())
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "store a knowledge document"))?;
        index_chunks(&mut tx, tenant_id, id, &input).await?;
        let audit = knowledge_audit("knowledge.create", id, Some(&input));
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let doc = document_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a knowledge document"))?;
        Ok(doc)
    }

    async fn update_knowledge(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        input: KnowledgeInput,
        now: DateTime<Utc>,
    ) -> StoreResult<KnowledgeDocument> {
        let (_writer, mut tx) = self.write().await?;
        let done = sqlx::query(
            "UPDATE knowledge_documents SET title = ?, body = ?, format = ?, chunks = ?, \
             updated_at = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(&input.title)
        .bind(&input.body)
        .bind(input.format.as_str())
        .bind(input.chunks.len() as i64)
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "update a knowledge document"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        index_chunks(&mut tx, tenant_id, id, &input).await?;
        let audit = knowledge_audit("knowledge.update", id, Some(&input));
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let doc = document_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a knowledge document"))?;
        Ok(doc)
    }

    async fn delete_knowledge(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let (_writer, mut tx) = self.write().await?;
        // The chunks go by cascade; their trigger takes them out of FTS5.
        let done = sqlx::query("DELETE FROM knowledge_documents WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete a knowledge document"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        write_audit(
            &mut tx,
            tenant_id,
            actor,
            &knowledge_audit("knowledge.delete", id, None),
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit a knowledge deletion"))
    }

    async fn search_knowledge(
        &self,
        tenant_id: Uuid,
        terms: &[String],
        documents: Option<&[Uuid]>,
        limit: u32,
    ) -> StoreResult<Vec<KnowledgeSnippet>> {
        if terms.is_empty() || documents.is_some_and(|d| d.is_empty()) {
            return Ok(Vec::new());
        }
        let only: Option<String> = documents.map(|ids| {
            serde_json::Value::from(ids.iter().map(|i| i.to_string()).collect::<Vec<_>>())
                .to_string()
        });
        let rows = sqlx::query_as::<_, SnippetRow>(
            "SELECT c.document_id, c.title, c.seq, c.body, bm25(knowledge_fts, 2.0, 1.0) AS rank \
             FROM knowledge_fts JOIN knowledge_chunks c ON c.rowid = knowledge_fts.rowid \
             WHERE knowledge_fts MATCH ? AND c.tenant_id = ? \
               AND (? IS NULL OR c.document_id IN (SELECT value FROM json_each(?))) \
             ORDER BY rank, c.document_id, c.seq LIMIT ?",
        )
        .bind(fts_query(terms))
        .bind(tenant_id.to_string())
        .bind(only.as_deref())
        .bind(only.as_deref())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error(e, "search the knowledge base"))?;
        rows.into_iter()
            .map(|r| {
                Ok(KnowledgeSnippet {
                    document_id: parse_uuid(&r.document_id)?,
                    title: r.title,
                    chunk: r.seq as u32,
                    text: r.body,
                    // bm25 is lower for better matches.
                    score: -r.rank,
                })
            })
            .collect()
    }

    async fn agent_knowledge(&self, owner: Uuid, agent_id: Uuid) -> StoreResult<AgentKnowledge> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT mode, documents FROM agent_knowledge WHERE tenant_id = ? AND agent_id = ?",
        )
        .bind(owner.to_string())
        .bind(agent_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_error(e, "read an agent's knowledge"))?;
        let Some((mode, documents)) = row else {
            return Ok(AgentKnowledge::default());
        };
        Ok(AgentKnowledge {
            mode: KnowledgeMode::parse(&mode).ok_or_else(|| bad_value("knowledge mode", &mode))?,
            documents: serde_json::from_str(&documents)
                .map_err(|_| bad_value("knowledge documents", &documents))?,
        })
    }

    async fn set_agent_knowledge(
        &self,
        actor: &Actor,
        owner: Uuid,
        agent_id: Uuid,
        knowledge: &AgentKnowledge,
    ) -> StoreResult<AgentKnowledge> {
        let (_writer, mut tx) = self.write().await?;
        let documents =
            serde_json::to_string(&knowledge.documents).map_err(|e| StoreError::Other(e.into()))?;
        sqlx::query(
            "INSERT INTO agent_knowledge (tenant_id, agent_id, mode, documents) \
             VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, agent_id) \
             DO UPDATE SET mode = excluded.mode, documents = excluded.documents",
        )
        .bind(owner.to_string())
        .bind(agent_id.to_string())
        .bind(knowledge.mode.as_str())
        .bind(&documents)
        .execute(&mut *tx)
        .await
        .map_err(|e| match db_error(e, "link an agent to knowledge") {
            // The foreign key: no such agent of this tenant.
            StoreError::Other(_) => StoreError::NotFound,
            other => other,
        })?;
        let audit = AuditEntry {
            action: "agent.knowledge",
            resource: "agent",
            resource_id: agent_id.to_string(),
            changes: serde_json::json!({
                "mode": knowledge.mode,
                "documents": knowledge.documents,
            }),
        };
        write_audit(&mut tx, owner, actor, &audit).await?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit an agent's knowledge"))?;
        Ok(knowledge.clone())
    }

    async fn lead_history(&self, tenant_id: Uuid, lead_id: Uuid) -> StoreResult<Vec<RelatedLead>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "read a lead's history"))?;
        const COLUMNS: &str = "id, name, email, company, message, stage, qual_category, created_at";
        let lead = sqlx::query_as::<_, LeadRow>(&format!(
            "SELECT {COLUMNS} FROM leads WHERE tenant_id = ? AND id = ?"
        ))
        .bind(tenant_id.to_string())
        .bind(lead_id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error(e, "read a lead"))?
        .ok_or(StoreError::NotFound)?;
        let mut out = Vec::new();
        let own_notes = notes_of(&mut conn, tenant_id, &lead.id).await?;
        let email = lead
            .email
            .as_deref()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty());
        let company = lead
            .company
            .as_deref()
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty());
        let rows = sqlx::query_as::<_, LeadRow>(&format!(
            "SELECT {COLUMNS} FROM leads WHERE tenant_id = ? AND id <> ? AND \
             ((? IS NOT NULL AND lower(trim(email)) = ?) OR \
              (? IS NOT NULL AND lower(trim(company)) = ?)) \
             ORDER BY created_at DESC, id DESC LIMIT ?"
        ))
        .bind(tenant_id.to_string())
        .bind(lead_id.to_string())
        .bind(email.as_deref())
        .bind(email.as_deref())
        .bind(company.as_deref())
        .bind(company.as_deref())
        .bind(i64::from(RESEARCH_LEADS))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error(e, "find a lead's earlier leads"))?;
        if !own_notes.is_empty() {
            out.push(related(lead, true, own_notes)?);
        }
        for row in rows {
            let notes = notes_of(&mut conn, tenant_id, &row.id).await?;
            out.push(related(row, false, notes)?);
        }
        Ok(out)
    }
}
