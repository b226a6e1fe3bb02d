-- Playground sessions (one agent, or two side by side) and their transcripts;
-- the same data as the SQLite store's 0004_playground.sql. Lane 1 columns are
-- set only in compare mode. Agent names are kept as they were when the
-- session started, so a transcript still reads after a rename or an unshare.
--
-- Row-level security as in 0001: tenant-owned, led by tenant_id, ENABLE +
-- FORCE RLS, `tenant_isolation` and `owner_functions`.

CREATE TABLE playground_sessions (
    tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id                 uuid NOT NULL,
    title              text NOT NULL,
    workspace_id       uuid,
    workspace_name     text,
    channel            text NOT NULL CHECK (channel IN ('web_form', 'email', 'chat', 'phone')),
    agent_id           uuid NOT NULL,
    agent_name         text NOT NULL,
    agent_version      integer,
    compare_agent_id   uuid,
    compare_agent_name text,
    compare_version    integer,
    created_by         text,
    message_count      integer NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX playground_sessions_recent ON playground_sessions(tenant_id, updated_at);

CREATE TABLE playground_messages (
    tenant_id         uuid NOT NULL,
    session_id        uuid NOT NULL,
    id                uuid NOT NULL,
    seq               integer NOT NULL,
    lane              smallint,
    role              text NOT NULL CHECK (role IN ('user', 'assistant')),
    content           text NOT NULL,
    status            text CHECK (status IN ('complete', 'cancelled', 'failed')),
    error             text,
    agent_id          uuid,
    model             text,
    prompt_version    integer,
    prompt_tokens     integer,
    completion_tokens integer,
    ttft_ms           bigint,
    tokens_per_second double precision,
    duration_ms       bigint,
    lead_id           uuid,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, session_id, seq),
    FOREIGN KEY (tenant_id, session_id) REFERENCES playground_sessions(tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['playground_sessions', 'playground_messages']
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
