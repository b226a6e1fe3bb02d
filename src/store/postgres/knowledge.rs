//! Knowledge documents and their chunks (a generated `tsvector` under a GIN
//! index), agents' knowledge links, and the lead history the research step
//! reads; every statement in a tenant-scoped transaction under RLS.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{db_error, ms, write_audit, PgStore, Tx};
use crate::domain::knowledge::{
    AgentKnowledge, KnowledgeDocument, KnowledgeFormat, KnowledgeInput, KnowledgeMode,
    KnowledgeSnippet, KnowledgeSummary,
};
use crate::domain::research::RelatedLead;
use crate::store::{
    bad_value, knowledge_audit, Actor, AuditEntry, KnowledgeStore, StoreError, StoreResult,
    RESEARCH_LEADS, RESEARCH_NOTES,
};

#[derive(sqlx::FromRow)]
struct DocumentRow {
    tenant_id: Uuid,
    id: Uuid,
    title: String,
    body: String,
    format: String,
    chunks: i32,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl DocumentRow {
    fn into_document(self) -> StoreResult<KnowledgeDocument> {
        Ok(KnowledgeDocument {
            id: self.id,
            tenant_id: self.tenant_id,
            title: self.title,
            body: self.body,
            format: KnowledgeFormat::parse(&self.format)
                .ok_or_else(|| bad_value("knowledge format", &self.format))?,
            chunks: self.chunks as u32,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    title: String,
    format: String,
    chars: i32,
    chunks: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SnippetRow {
    document_id: Uuid,
    title: String,
    seq: i32,
    body: String,
    rank: f32,
}

#[derive(sqlx::FromRow)]
struct LeadRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    company: Option<String>,
    message: String,
    stage: String,
    qual_category: Option<String>,
    created_at: DateTime<Utc>,
}

const LEAD_COLUMNS: &str = "id, name, email, company, message, stage, qual_category, created_at";

async fn document_in(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<KnowledgeDocument>> {
    sqlx::query_as::<_, DocumentRow>(
        "SELECT tenant_id, id, title, body, format, chunks, created_by, created_at, updated_at \
         FROM knowledge_documents WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read a knowledge document"))?
    .map(DocumentRow::into_document)
    .transpose()
}

async fn index_chunks(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    input: &KnowledgeInput,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM knowledge_chunks WHERE tenant_id = $1 AND document_id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "unindex a knowledge document"))?;
    let seqs: Vec<i32> = (1..=input.chunks.len() as i32).collect();
    sqlx::query(
        "INSERT INTO knowledge_chunks (tenant_id, document_id, seq, title, body) \
         SELECT $1, $2, s, $3, b FROM unnest($4::int[], $5::text[]) AS c(s, b)",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(&input.title)
    .bind(&seqs)
    .bind(&input.chunks)
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "index a knowledge document"))?;
    Ok(())
}

async fn notes_of(tx: &mut Tx, tenant_id: Uuid, lead_id: Uuid) -> StoreResult<Vec<String>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT coalesce(data->>'body', '') FROM lead_events \
         WHERE tenant_id = $1 AND lead_id = $2 AND kind = 'note' \
         ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(tenant_id)
    .bind(lead_id)
    .bind(i64::from(RESEARCH_NOTES))
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read a lead's notes"))?;
    Ok(rows
        .into_iter()
        .map(|n| n.chars().take(300).collect::<String>())
        .filter(|n| !n.trim().is_empty())
        .collect())
}

fn related(row: LeadRow, this_lead: bool, notes: Vec<String>) -> RelatedLead {
    RelatedLead {
        lead_id: row.id,
        this_lead,
        name: row.name,
        company: row.company,
        message: row.message.chars().take(300).collect(),
        stage: row.stage,
        category: row.qual_category,
        notes,
        created_at: row.created_at,
    }
}

#[async_trait]
impl KnowledgeStore for PgStore {
    async fn list_knowledge(&self, tenant_id: Uuid) -> StoreResult<Vec<KnowledgeSummary>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, SummaryRow>(
            "SELECT id, title, format, char_length(body) AS chars, chunks, created_at, updated_at \
             FROM knowledge_documents WHERE tenant_id = $1 ORDER BY lower(title) COLLATE \"C\", id",
        )
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "list knowledge documents"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        rows.into_iter()
            .map(|r| {
                Ok(KnowledgeSummary {
                    id: r.id,
                    title: r.title,
                    format: KnowledgeFormat::parse(&r.format)
                        .ok_or_else(|| bad_value("knowledge format", &r.format))?,
                    chars: r.chars as u32,
                    chunks: r.chunks as u32,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                })
            })
            .collect()
    }

    async fn knowledge_count(&self, tenant_id: Uuid) -> StoreResult<u32> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM knowledge_documents WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| db_error(e, "count knowledge documents"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(n as u32)
    }

    async fn knowledge_document(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<KnowledgeDocument>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let doc = document_in(&mut tx, tenant_id, id).await?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(doc)
    }

    async fn create_knowledge(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        input: KnowledgeInput,
        now: DateTime<Utc>,
    ) -> StoreResult<KnowledgeDocument> {
        let id = Uuid::now_v7();
        let now = ms(now);
        let mut tx = self.tenant_tx(tenant_id).await?;
        sqlx::query(
            "INSERT INTO knowledge_documents (tenant_id, id, title, body, format, chunks, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(&input.title)
        .bind(&input.body)
        .bind(input.format.as_str())
        .bind(input.chunks.len() as i32)
        .bind(actor.email.as_deref())
        .bind(now)
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query(
            "UPDATE knowledge_documents SET title = $1, body = $2, format = $3, chunks = $4, \
             updated_at = $5 WHERE tenant_id = $6 AND id = $7",
        )
        .bind(&input.title)
        .bind(&input.body)
        .bind(input.format.as_str())
        .bind(input.chunks.len() as i32)
        .bind(ms(now))
        .bind(tenant_id)
        .bind(id)
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let done = sqlx::query("DELETE FROM knowledge_documents WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
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
        // Terms are letters and digits only (see `search_terms`); each is
        // made a tsquery on its own and they are OR-ed, so none reads as
        // query syntax and a stop word drops out instead of failing.
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, SnippetRow>(
            "WITH q AS (SELECT coalesce(( \
                 SELECT string_agg(nullif(plainto_tsquery('english', t)::text, ''), ' | ') \
                 FROM unnest($2::text[]) AS t), '')::tsquery AS q) \
             SELECT c.document_id, c.title, c.seq, c.body, ts_rank_cd(c.tsv, q.q) AS rank \
             FROM knowledge_chunks c, q \
             WHERE c.tenant_id = $1 AND c.tsv @@ q.q \
               AND ($3::uuid[] IS NULL OR c.document_id = ANY ($3)) \
             ORDER BY rank DESC, c.document_id, c.seq LIMIT $4",
        )
        .bind(tenant_id)
        .bind(terms)
        .bind(documents.map(|d| d.to_vec()))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "search the knowledge base"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(rows
            .into_iter()
            .map(|r| KnowledgeSnippet {
                document_id: r.document_id,
                title: r.title,
                chunk: r.seq as u32,
                text: r.body,
                score: f64::from(r.rank),
            })
            .collect())
    }

    async fn agent_knowledge(&self, owner: Uuid, agent_id: Uuid) -> StoreResult<AgentKnowledge> {
        let mut tx = self.tenant_tx(owner).await?;
        let row: Option<(String, Vec<Uuid>)> = sqlx::query_as(
            "SELECT mode, documents FROM agent_knowledge WHERE tenant_id = $1 AND agent_id = $2",
        )
        .bind(owner)
        .bind(agent_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read an agent's knowledge"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        let Some((mode, documents)) = row else {
            return Ok(AgentKnowledge::default());
        };
        Ok(AgentKnowledge {
            mode: KnowledgeMode::parse(&mode).ok_or_else(|| bad_value("knowledge mode", &mode))?,
            documents,
        })
    }

    async fn set_agent_knowledge(
        &self,
        actor: &Actor,
        owner: Uuid,
        agent_id: Uuid,
        knowledge: &AgentKnowledge,
    ) -> StoreResult<AgentKnowledge> {
        let mut tx = self.tenant_tx(owner).await?;
        sqlx::query(
            "INSERT INTO agent_knowledge (tenant_id, agent_id, mode, documents) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, agent_id) \
             DO UPDATE SET mode = excluded.mode, documents = excluded.documents",
        )
        .bind(owner)
        .bind(agent_id)
        .bind(knowledge.mode.as_str())
        .bind(&knowledge.documents)
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let lead = sqlx::query_as::<_, LeadRow>(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(lead_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read a lead"))?
        .ok_or(StoreError::NotFound)?;
        let own_notes = notes_of(&mut tx, tenant_id, lead.id).await?;
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
            "SELECT {LEAD_COLUMNS} FROM leads WHERE tenant_id = $1 AND id <> $2 AND \
             (($3::text IS NOT NULL AND lower(btrim(email)) = $3) OR \
              ($4::text IS NOT NULL AND lower(btrim(company)) = $4)) \
             ORDER BY created_at DESC, id DESC LIMIT $5"
        ))
        .bind(tenant_id)
        .bind(lead_id)
        .bind(email.as_deref())
        .bind(company.as_deref())
        .bind(i64::from(RESEARCH_LEADS))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "find a lead's earlier leads"))?;
        let mut out = Vec::new();
        if !own_notes.is_empty() {
            out.push(related(lead, true, own_notes));
        }
        for row in rows {
            let notes = notes_of(&mut tx, tenant_id, row.id).await?;
            out.push(related(row, false, notes));
        }
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(out)
    }
}
