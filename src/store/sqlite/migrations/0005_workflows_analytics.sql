-- Lead workflows (qualify, draft, human approval) and their steps.

CREATE TABLE workflows (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    lead_id       TEXT NOT NULL,
    workspace_id  TEXT,
    agent_id      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'awaiting_approval',
                      'approved', 'rejected', 'failed', 'cancelled')),
    qual_category TEXT,
    qual_reason   TEXT,
    draft         TEXT,
    reply         TEXT,
    error         TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_until   INTEGER,
    decided_by    TEXT,
    decision_note TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads(tenant_id, id) ON DELETE CASCADE
);
-- One active workflow per lead.
CREATE UNIQUE INDEX workflows_active_lead ON workflows(tenant_id, lead_id)
    WHERE status IN ('queued', 'running', 'awaiting_approval');
CREATE INDEX workflows_tenant_status ON workflows(tenant_id, status, created_at);
CREATE INDEX workflows_queue ON workflows(status, created_at)
    WHERE status IN ('queued', 'running');

CREATE TABLE workflow_steps (
    tenant_id         TEXT NOT NULL,
    workflow_id       TEXT NOT NULL,
    seq               INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('qualify', 'draft')),
    outcome           TEXT NOT NULL CHECK (outcome IN ('ok', 'unparseable', 'failed')),
    output            TEXT NOT NULL,
    error             TEXT,
    model             TEXT NOT NULL,
    prompt_version    INTEGER NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id, seq),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows(tenant_id, id) ON DELETE CASCADE
);

-- Analytics read a tenant's leads by arrival time.
CREATE INDEX leads_created ON leads(tenant_id, created_at);
