-- Playground sessions (one agent, or two side by side) and their transcripts.
-- Lane 1 columns are set only in compare mode. Agent names are kept as they
-- were when the session started, so a transcript still reads after a rename
-- or an unshare.

CREATE TABLE playground_sessions (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id                 TEXT NOT NULL,
    title              TEXT NOT NULL,
    workspace_id       TEXT,
    workspace_name     TEXT,
    channel            TEXT NOT NULL CHECK (channel IN ('web_form', 'email', 'chat', 'phone')),
    agent_id           TEXT NOT NULL,
    agent_name         TEXT NOT NULL,
    agent_version      INTEGER,
    compare_agent_id   TEXT,
    compare_agent_name TEXT,
    compare_version    INTEGER,
    created_by         TEXT,
    message_count      INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX playground_sessions_recent ON playground_sessions(tenant_id, updated_at);

CREATE TABLE playground_messages (
    tenant_id         TEXT NOT NULL,
    session_id        TEXT NOT NULL,
    id                TEXT NOT NULL,
    seq               INTEGER NOT NULL,
    lane              INTEGER,
    role              TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content           TEXT NOT NULL,
    status            TEXT CHECK (status IN ('complete', 'cancelled', 'failed')),
    error             TEXT,
    agent_id          TEXT,
    model             TEXT,
    prompt_version    INTEGER,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    ttft_ms           INTEGER,
    tokens_per_second REAL,
    duration_ms       INTEGER,
    lead_id           TEXT,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, session_id, seq),
    FOREIGN KEY (tenant_id, session_id) REFERENCES playground_sessions(tenant_id, id) ON DELETE CASCADE
);
