-- Agents with immutable versions and sharing; workspaces (channels) that
-- link an agent; API keys and leads bound to a workspace.

CREATE TABLE agents (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    current_version INTEGER NOT NULL,
    sharing         TEXT NOT NULL CHECK (sharing IN ('private', 'global', 'selective')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX agents_shared ON agents(sharing) WHERE sharing <> 'private';

CREATE TABLE agent_versions (
    tenant_id     TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    version       INTEGER NOT NULL,
    system_prompt TEXT NOT NULL,
    model         TEXT NOT NULL,
    temperature   REAL NOT NULL,
    max_tokens    INTEGER NOT NULL,
    created_by    TEXT,
    created_at    INTEGER NOT NULL,
    restored_from INTEGER,
    PRIMARY KEY (tenant_id, agent_id, version),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE agent_shares (
    tenant_id        TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    shared_tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, agent_id, shared_tenant_id),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_shares_target ON agent_shares(shared_tenant_id);

-- The agent may belong to another tenant (shared); no foreign key, so a
-- deleted or unshared agent leaves the workspace able to say so.
CREATE TABLE workspaces (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('web_form', 'email', 'chat', 'phone')),
    agent_tenant_id TEXT,
    agent_id        TEXT,
    strategy_active INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE api_keys ADD COLUMN workspace_id TEXT;
ALTER TABLE leads ADD COLUMN workspace_id TEXT;
