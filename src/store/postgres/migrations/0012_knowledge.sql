-- A tenant's knowledge base: documents and their chunks, each chunk with a
-- generated tsvector (title weighted above body) under a GIN index; the same
-- data as the SQLite store's 0009_knowledge.sql, with RLS as in 0001.

CREATE TABLE knowledge_documents (
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    format     text NOT NULL CHECK (format IN ('markdown', 'text')),
    chunks     integer NOT NULL,
    created_by text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE knowledge_chunks (
    tenant_id   uuid NOT NULL,
    document_id uuid NOT NULL,
    seq         integer NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    tsv         tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('english', title), 'A') ||
                    setweight(to_tsvector('english', body), 'B')) STORED,
    PRIMARY KEY (tenant_id, document_id, seq),
    FOREIGN KEY (tenant_id, document_id) REFERENCES knowledge_documents(tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);

-- Which knowledge an agent may use; no row is the default (all).
CREATE TABLE agent_knowledge (
    tenant_id uuid NOT NULL,
    agent_id  uuid NOT NULL,
    mode      text NOT NULL CHECK (mode IN ('all', 'none', 'documents')),
    documents uuid[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, agent_id),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents(tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['knowledge_documents', 'knowledge_chunks', 'agent_knowledge']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t);
        EXECUTE format('CREATE POLICY owner_functions ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;
