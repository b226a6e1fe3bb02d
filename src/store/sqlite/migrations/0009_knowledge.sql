-- A tenant's knowledge base: documents, their chunks, and the FTS5 index
-- over the chunks (external content: `knowledge_fts` reads title and body
-- from `knowledge_chunks`, and these triggers keep it in step). Searches
-- join back to the chunks to keep only the asking tenant's rows.

CREATE TABLE knowledge_documents (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    format     TEXT NOT NULL CHECK (format IN ('markdown', 'text')),
    chunks     INTEGER NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE knowledge_chunks (
    rowid       INTEGER PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    document_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (tenant_id, document_id, seq),
    FOREIGN KEY (tenant_id, document_id) REFERENCES knowledge_documents(tenant_id, id)
        ON DELETE CASCADE
);

-- Porter stemming, so "openings" finds "open"; diacritics folded.
CREATE VIRTUAL TABLE knowledge_fts USING fts5(
    title, body,
    content = 'knowledge_chunks', content_rowid = 'rowid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER knowledge_chunks_ai AFTER INSERT ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (rowid, title, body) VALUES (new.rowid, new.title, new.body);
END;
CREATE TRIGGER knowledge_chunks_ad AFTER DELETE ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, title, body)
        VALUES ('delete', old.rowid, old.title, old.body);
END;

-- Which knowledge an agent may use; no row is the default (all).
CREATE TABLE agent_knowledge (
    tenant_id TEXT NOT NULL,
    agent_id  TEXT NOT NULL,
    mode      TEXT NOT NULL CHECK (mode IN ('all', 'none', 'documents')),
    documents TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, agent_id),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents(tenant_id, id) ON DELETE CASCADE
);
