//! A tenant's knowledge base, full-text indexed by the store itself (SQLite
//! FTS5, PostgreSQL `tsvector` with a GIN index), which agents may use it,
//! and the history the workflow's research step reads. A supertrait of
//! [`super::Store`], so `DynStore` offers it too. One flow for both
//! backends: only the index (chunks mirrored into `knowledge_fts` by
//! triggers on SQLite, a generated `tsvector` on PostgreSQL) and the search
//! over it are written twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::conn::{write_audit, Arg, Backend, Conn, Stmt};
use super::row::{Id, IdArray, Int, Time};
use super::sql::Dialect;
use super::{bad_value, Actor, AuditEntry, StoreError, StoreResult};
use crate::domain::knowledge::{
    AgentKnowledge, KnowledgeDocument, KnowledgeFormat, KnowledgeInput, KnowledgeMode,
    KnowledgeSnippet, KnowledgeSummary,
};
use crate::domain::research::RelatedLead;

/// Earlier leads the research step reads at most.
pub const RESEARCH_LEADS: u32 = 5;
/// Notes per lead the research step reads at most.
pub const RESEARCH_NOTES: u32 = 5;

/// The audit entry of a knowledge change, the same on every backend.
pub fn knowledge_audit(
    action: &'static str,
    id: Uuid,
    input: Option<&KnowledgeInput>,
) -> AuditEntry {
    AuditEntry {
        action,
        resource: "knowledge_document",
        resource_id: id.to_string(),
        changes: match input {
            Some(i) => serde_json::json!({
                "title": i.title,
                "chars": i.body.chars().count(),
                "chunks": i.chunks.len(),
            }),
            None => serde_json::json!({}),
        },
    }
}

#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// The tenant's documents, by title.
    async fn list_knowledge(&self, tenant_id: Uuid) -> StoreResult<Vec<KnowledgeSummary>>;
    async fn knowledge_count(&self, tenant_id: Uuid) -> StoreResult<u32>;
    async fn knowledge_document(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<KnowledgeDocument>>;
    /// Stores the document and indexes its chunks, in one transaction.
    async fn create_knowledge(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        input: KnowledgeInput,
        now: DateTime<Utc>,
    ) -> StoreResult<KnowledgeDocument>;
    /// Replaces the document and its chunks, in one transaction.
    async fn update_knowledge(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        input: KnowledgeInput,
        now: DateTime<Utc>,
    ) -> StoreResult<KnowledgeDocument>;
    async fn delete_knowledge(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    /// The chunks best matching any of `terms`, best first; only the listed
    /// documents when `documents` is given. No terms find nothing.
    async fn search_knowledge(
        &self,
        tenant_id: Uuid,
        terms: &[String],
        documents: Option<&[Uuid]>,
        limit: u32,
    ) -> StoreResult<Vec<KnowledgeSnippet>>;
    /// Which knowledge an agent may use (the default when never set). The
    /// agent is `owner`'s.
    async fn agent_knowledge(&self, owner: Uuid, agent_id: Uuid) -> StoreResult<AgentKnowledge>;
    async fn set_agent_knowledge(
        &self,
        actor: &Actor,
        owner: Uuid,
        agent_id: Uuid,
        knowledge: &AgentKnowledge,
    ) -> StoreResult<AgentKnowledge>;
    /// The tenant's other leads with the same email or company as
    /// `lead_id` (newest first, at most [`RESEARCH_LEADS`]), each with its
    /// newest notes, and `lead_id`'s own notes as the first entry when it
    /// has any.
    async fn lead_history(&self, tenant_id: Uuid, lead_id: Uuid) -> StoreResult<Vec<RelatedLead>>;
}

fn format_of(format: &str) -> StoreResult<KnowledgeFormat> {
    KnowledgeFormat::parse(format).ok_or_else(|| bad_value("knowledge format", format))
}

#[derive(sqlx::FromRow)]
struct DocumentRecord {
    tenant_id: Id,
    id: Id,
    title: String,
    body: String,
    format: String,
    chunks: Int,
    created_by: Option<String>,
    created_at: Time,
    updated_at: Time,
}

impl DocumentRecord {
    fn into_document(self) -> StoreResult<KnowledgeDocument> {
        Ok(KnowledgeDocument {
            id: self.id.into(),
            tenant_id: self.tenant_id.into(),
            title: self.title,
            body: self.body,
            format: format_of(&self.format)?,
            chunks: self.chunks.0 as u32,
            created_by: self.created_by,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRecord {
    id: Id,
    title: String,
    format: String,
    chars: Int,
    chunks: Int,
    created_at: Time,
    updated_at: Time,
}

impl SummaryRecord {
    fn into_summary(self) -> StoreResult<KnowledgeSummary> {
        Ok(KnowledgeSummary {
            id: self.id.into(),
            title: self.title,
            format: format_of(&self.format)?,
            chars: self.chars.0 as u32,
            chunks: self.chunks.0 as u32,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

/// A matching chunk; `rank` as the engine ranks it (see [`search_sql`]).
#[derive(sqlx::FromRow)]
struct SnippetRecord {
    document_id: Id,
    title: String,
    seq: Int,
    body: String,
    rank: f64,
}

#[derive(sqlx::FromRow)]
struct LeadRecord {
    id: Id,
    name: String,
    email: Option<String>,
    company: Option<String>,
    message: String,
    stage: String,
    qual_category: Option<String>,
    created_at: Time,
}

const LEAD_COLUMNS: &str = "id, name, email, company, message, stage, qual_category, created_at";

async fn document_in<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<KnowledgeDocument>> {
    let stmt = Stmt::new(
        "SELECT tenant_id, id, title, body, format, chunks, created_by, created_at, updated_at \
         FROM knowledge_documents WHERE tenant_id = $1 AND id = $2",
        "read a knowledge document",
    )
    .id(tenant_id)
    .id(id);
    c.fetch_optional::<DocumentRecord>(stmt)
        .await?
        .map(DocumentRecord::into_document)
        .transpose()
}

/// Replaces a document's indexed chunks.
async fn index_chunks<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    id: Uuid,
    input: &KnowledgeInput,
) -> StoreResult<()> {
    let unindex = Stmt::new(
        "DELETE FROM knowledge_chunks WHERE tenant_id = $1 AND document_id = $2",
        "unindex a knowledge document",
    )
    .id(tenant_id)
    .id(id);
    c.execute(unindex).await?;
    match c.dialect() {
        // One statement for all of them.
        Dialect::Postgres => {
            let stmt = Stmt::new(
                "INSERT INTO knowledge_chunks (tenant_id, document_id, seq, title, body) \
                 SELECT $1, $2, s, $3, b FROM unnest($4::int[], $5::text[]) AS c(s, b)",
                "index a knowledge document",
            )
            .id(tenant_id)
            .id(id)
            .text(input.title.clone())
            .arg(Arg::I32s((1..=input.chunks.len() as i32).collect()))
            .arg(Arg::Texts(input.chunks.clone()));
            c.execute(stmt).await?;
        }
        Dialect::Sqlite => {
            for (i, text) in input.chunks.iter().enumerate() {
                let stmt = Stmt::new(
                    "INSERT INTO knowledge_chunks (tenant_id, document_id, seq, title, body) \
                     VALUES ($1, $2, $3, $4, $5)",
                    "index a knowledge document",
                )
                .id(tenant_id)
                .id(id)
                .arg(Arg::Int(i as i64 + 1))
                .text(input.title.clone())
                .text(text.clone());
                c.execute(stmt).await?;
            }
        }
    }
    Ok(())
}

/// The search over the index: chunks matching any of `terms`, as
/// `(document_id, title, seq, body, rank)`, best first; `score` turns the
/// rank into a score that is higher for better matches.
fn search_stmt(
    dialect: Dialect,
    tenant_id: Uuid,
    terms: &[String],
    documents: Option<&[Uuid]>,
    limit: u32,
) -> Stmt {
    let only = Arg::OptIds(documents.map(<[Uuid]>::to_vec));
    match dialect {
        // Terms are letters and digits only (see `search_terms`); each is
        // made a tsquery on its own and they are OR-ed, so none reads as
        // query syntax and a stop word drops out instead of failing.
        Dialect::Postgres => Stmt::new(
            "WITH q AS (SELECT coalesce(( \
                 SELECT string_agg(nullif(plainto_tsquery('english', t)::text, ''), ' | ') \
                 FROM unnest($2::text[]) AS t), '')::tsquery AS q) \
             SELECT c.document_id, c.title, c.seq, c.body, \
                    ts_rank_cd(c.tsv, q.q)::float8 AS rank \
             FROM knowledge_chunks c, q \
             WHERE c.tenant_id = $1 AND c.tsv @@ q.q \
               AND ($3::uuid[] IS NULL OR c.document_id = ANY ($3)) \
             ORDER BY rank DESC, c.document_id, c.seq LIMIT $4",
            "search the knowledge base",
        )
        .id(tenant_id)
        .arg(Arg::Texts(terms.to_vec()))
        .arg(only)
        .arg(Arg::Int(i64::from(limit))),
        // An FTS5 query matching any of the terms, each quoted so none
        // reads as an operator; bm25 is lower for better matches.
        Dialect::Sqlite => Stmt::new(
            "SELECT c.document_id, c.title, c.seq, c.body, bm25(knowledge_fts, 2.0, 1.0) AS rank \
             FROM knowledge_fts JOIN knowledge_chunks c ON c.rowid = knowledge_fts.rowid \
             WHERE knowledge_fts MATCH $1 AND c.tenant_id = $2 \
               AND ($3 IS NULL OR c.document_id IN (SELECT value FROM json_each($3))) \
             ORDER BY rank, c.document_id, c.seq LIMIT $4",
            "search the knowledge base",
        )
        .text(
            terms
                .iter()
                .map(|t| format!("\"{}\"", t.replace('"', "")))
                .collect::<Vec<_>>()
                .join(" OR "),
        )
        .id(tenant_id)
        .arg(only)
        .arg(Arg::Int(i64::from(limit))),
    }
}

fn score(dialect: Dialect, rank: f64) -> f64 {
    match dialect {
        Dialect::Postgres => rank,
        Dialect::Sqlite => -rank,
    }
}

async fn notes_of<C: Conn>(c: &mut C, tenant_id: Uuid, lead_id: Uuid) -> StoreResult<Vec<String>> {
    let stmt = Stmt::new(
        "SELECT coalesce(data->>'body', '') FROM lead_events \
         WHERE tenant_id = $1 AND lead_id = $2 AND kind = 'note' \
         ORDER BY created_at DESC, id DESC LIMIT $3",
        "read a lead's notes",
    )
    .id(tenant_id)
    .id(lead_id)
    .arg(Arg::Int(i64::from(RESEARCH_NOTES)));
    let rows = c.fetch_all::<(String,)>(stmt).await?;
    Ok(rows
        .into_iter()
        .map(|(n,)| n.chars().take(300).collect::<String>())
        .filter(|n| !n.trim().is_empty())
        .collect())
}

fn related(row: LeadRecord, this_lead: bool, notes: Vec<String>) -> RelatedLead {
    RelatedLead {
        lead_id: row.id.into(),
        this_lead,
        name: row.name,
        company: row.company,
        message: row.message.chars().take(300).collect(),
        stage: row.stage,
        category: row.qual_category,
        notes,
        created_at: row.created_at.into(),
    }
}

/// Text to compare by: trimmed and lower case; none when blank.
fn match_key(text: Option<&str>) -> Option<String> {
    text.map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
}

#[async_trait]
impl<B: Backend> KnowledgeStore for B {
    async fn list_knowledge(&self, tenant_id: Uuid) -> StoreResult<Vec<KnowledgeSummary>> {
        let mut tx = self.reading(tenant_id).await?;
        let stmt = Stmt::new(
            "SELECT id, title, format, length(body) AS chars, chunks, created_at, updated_at \
             FROM knowledge_documents WHERE tenant_id = $1 \
             ORDER BY lower(title) COLLATE \"C\", id",
            "list knowledge documents",
        )
        .id(tenant_id);
        let rows = tx.fetch_all::<SummaryRecord>(stmt).await?;
        tx.commit("end a read").await?;
        rows.into_iter().map(SummaryRecord::into_summary).collect()
    }

    async fn knowledge_count(&self, tenant_id: Uuid) -> StoreResult<u32> {
        let mut tx = self.reading(tenant_id).await?;
        let stmt = Stmt::new(
            "SELECT count(*) FROM knowledge_documents WHERE tenant_id = $1",
            "count knowledge documents",
        )
        .id(tenant_id);
        let (n,) = tx.fetch_one::<(i64,)>(stmt).await?;
        tx.commit("end a read").await?;
        Ok(n as u32)
    }

    async fn knowledge_document(
        &self,
        tenant_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<KnowledgeDocument>> {
        let mut tx = self.reading(tenant_id).await?;
        let doc = document_in(&mut tx, tenant_id, id).await?;
        tx.commit("end a read").await?;
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
        let mut tx = self.writing(tenant_id).await?;
        let insert = Stmt::new(
            "INSERT INTO knowledge_documents (tenant_id, id, title, body, format, chunks, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            "store a knowledge document",
        )
        .id(tenant_id)
        .id(id)
        .text(input.title.clone())
        .text(input.body.clone())
        .text(input.format.as_str())
        .arg(Arg::I32(input.chunks.len() as i32))
        .opt_text(actor.email.clone())
        .time(now);
        tx.execute(insert).await?;
        index_chunks(&mut tx, tenant_id, id, &input).await?;
        let audit = knowledge_audit("knowledge.create", id, Some(&input));
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let doc = document_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit a knowledge document").await?;
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
        let mut tx = self.writing(tenant_id).await?;
        let update = Stmt::new(
            "UPDATE knowledge_documents SET title = $1, body = $2, format = $3, chunks = $4, \
             updated_at = $5 WHERE tenant_id = $6 AND id = $7",
            "update a knowledge document",
        )
        .text(input.title.clone())
        .text(input.body.clone())
        .text(input.format.as_str())
        .arg(Arg::I32(input.chunks.len() as i32))
        .time(now)
        .id(tenant_id)
        .id(id);
        if tx.execute(update).await? == 0 {
            return Err(StoreError::NotFound);
        }
        index_chunks(&mut tx, tenant_id, id, &input).await?;
        let audit = knowledge_audit("knowledge.update", id, Some(&input));
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let doc = document_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit a knowledge document").await?;
        Ok(doc)
    }

    async fn delete_knowledge(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.writing(tenant_id).await?;
        // The chunks go by cascade (on SQLite their trigger takes them out
        // of FTS5).
        let delete = Stmt::new(
            "DELETE FROM knowledge_documents WHERE tenant_id = $1 AND id = $2",
            "delete a knowledge document",
        )
        .id(tenant_id)
        .id(id);
        if tx.execute(delete).await? == 0 {
            return Err(StoreError::NotFound);
        }
        let audit = knowledge_audit("knowledge.delete", id, None);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        tx.commit("commit a knowledge deletion").await
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
        let mut tx = self.reading(tenant_id).await?;
        let dialect = tx.dialect();
        let stmt = search_stmt(dialect, tenant_id, terms, documents, limit);
        let rows = tx.fetch_all::<SnippetRecord>(stmt).await?;
        tx.commit("end a read").await?;
        Ok(rows
            .into_iter()
            .map(|r| KnowledgeSnippet {
                document_id: r.document_id.into(),
                title: r.title,
                chunk: r.seq.0 as u32,
                text: r.body,
                score: score(dialect, r.rank),
            })
            .collect())
    }

    async fn agent_knowledge(&self, owner: Uuid, agent_id: Uuid) -> StoreResult<AgentKnowledge> {
        let mut tx = self.reading(owner).await?;
        let stmt = Stmt::new(
            "SELECT mode, documents FROM agent_knowledge WHERE tenant_id = $1 AND agent_id = $2",
            "read an agent's knowledge",
        )
        .id(owner)
        .id(agent_id);
        let row = tx.fetch_optional::<(String, IdArray)>(stmt).await?;
        tx.commit("end a read").await?;
        let Some((mode, IdArray(documents))) = row else {
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
        let mut tx = self.writing(owner).await?;
        let link = Stmt::new(
            "INSERT INTO agent_knowledge (tenant_id, agent_id, mode, documents) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, agent_id) \
             DO UPDATE SET mode = excluded.mode, documents = excluded.documents",
            "link an agent to knowledge",
        )
        .id(owner)
        .id(agent_id)
        .text(knowledge.mode.as_str())
        .arg(Arg::Ids(knowledge.documents.clone()));
        tx.execute(link).await.map_err(|e| match e {
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
        tx.commit("commit an agent's knowledge").await?;
        Ok(knowledge.clone())
    }

    async fn lead_history(&self, tenant_id: Uuid, lead_id: Uuid) -> StoreResult<Vec<RelatedLead>> {
        let mut tx = self.reading(tenant_id).await?;
        let lead = Stmt::new(
            format!("SELECT {LEAD_COLUMNS} FROM leads WHERE tenant_id = $1 AND id = $2"),
            "read a lead",
        )
        .id(tenant_id)
        .id(lead_id);
        let lead = tx
            .fetch_optional::<LeadRecord>(lead)
            .await?
            .ok_or(StoreError::NotFound)?;
        let own_notes = notes_of(&mut tx, tenant_id, lead.id.into()).await?;
        let earlier = Stmt::new(
            format!(
                "SELECT {LEAD_COLUMNS} FROM leads WHERE tenant_id = $1 AND id <> $2 AND \
                 (($3 IS NOT NULL AND lower(trim(email)) = $3) OR \
                  ($4 IS NOT NULL AND lower(trim(company)) = $4)) \
                 ORDER BY created_at DESC, id DESC LIMIT $5"
            ),
            "find a lead's earlier leads",
        )
        .id(tenant_id)
        .id(lead_id)
        .opt_text(match_key(lead.email.as_deref()))
        .opt_text(match_key(lead.company.as_deref()))
        .arg(Arg::Int(i64::from(RESEARCH_LEADS)));
        let rows = tx.fetch_all::<LeadRecord>(earlier).await?;
        let mut out = Vec::new();
        if !own_notes.is_empty() {
            out.push(related(lead, true, own_notes));
        }
        for row in rows {
            let notes = notes_of(&mut tx, tenant_id, row.id.into()).await?;
            out.push(related(row, false, notes));
        }
        tx.commit("end a read").await?;
        Ok(out)
    }
}
