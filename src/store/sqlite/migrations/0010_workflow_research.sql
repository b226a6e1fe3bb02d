-- The research step and the draft policy: a workflow keeps the sources its
-- research gathered and the draft policy its lead was judged by, and may
-- end `qualified` (no draft, by the tenant's policy). SQLite cannot change
-- a CHECK constraint, so both workflow tables are rebuilt: the new ones are
-- made and filled, the old ones dropped (steps first, so no cascade runs),
-- and the new ones renamed into place (which repoints the steps' foreign
-- key). Every row is kept.

CREATE TABLE workflows_new (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    lead_id       TEXT NOT NULL,
    workspace_id  TEXT,
    agent_id      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'awaiting_approval',
                      'approved', 'rejected', 'failed', 'cancelled', 'qualified')),
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
    sources       TEXT,
    draft_policy  TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads(tenant_id, id) ON DELETE CASCADE
);
INSERT INTO workflows_new (tenant_id, id, lead_id, workspace_id, agent_id, status,
    qual_category, qual_reason, draft, reply, error, attempts, lease_until, decided_by,
    decision_note, created_at, updated_at)
SELECT tenant_id, id, lead_id, workspace_id, agent_id, status, qual_category, qual_reason,
    draft, reply, error, attempts, lease_until, decided_by, decision_note, created_at,
    updated_at
FROM workflows;

CREATE TABLE workflow_steps_new (
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
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows_new(tenant_id, id) ON DELETE CASCADE
);
INSERT INTO workflow_steps_new SELECT tenant_id, workflow_id, seq, kind, outcome, output, error,
    model, prompt_version, prompt_tokens, completion_tokens, duration_ms, created_at
FROM workflow_steps;

DROP TABLE workflow_steps;
DROP TABLE workflows;
ALTER TABLE workflows_new RENAME TO workflows;
ALTER TABLE workflow_steps_new RENAME TO workflow_steps;

-- One active workflow per lead.
CREATE UNIQUE INDEX workflows_active_lead ON workflows(tenant_id, lead_id)
    WHERE status IN ('queued', 'running', 'awaiting_approval');
CREATE INDEX workflows_tenant_status ON workflows(tenant_id, status, created_at);
CREATE INDEX workflows_queue ON workflows(status, created_at)
    WHERE status IN ('queued', 'running');
