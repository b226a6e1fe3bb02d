-- Prompt evaluations: eval sets and their cases, runs of a set against an
-- agent's versions, and each case's result per version. A case's lead
-- fields and expectations, a run's lanes and a result's checks are JSON
-- of the domain's types; runs and results keep what they ran even after a
-- case is edited or deleted.

CREATE TABLE eval_sets (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- The name lower-cased (Unicode, by the server): unique per tenant.
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name_key)
) WITHOUT ROWID;

CREATE TABLE eval_cases (
    tenant_id  TEXT NOT NULL,
    set_id     TEXT NOT NULL,
    id         TEXT NOT NULL,
    position   INTEGER NOT NULL,
    message    TEXT NOT NULL,
    lead       TEXT NOT NULL,
    expect     TEXT NOT NULL,
    source     TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, set_id, position),
    FOREIGN KEY (tenant_id, set_id) REFERENCES eval_sets(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE eval_runs (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    set_id           TEXT NOT NULL,
    set_name         TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    agent_name       TEXT NOT NULL,
    lanes            TEXT NOT NULL,
    status           TEXT NOT NULL
                     CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    cases            INTEGER NOT NULL,
    draft_categories TEXT NOT NULL,
    error            TEXT,
    -- While running: until when the server running it holds it.
    lease_until      INTEGER,
    created_by       TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, set_id) REFERENCES eval_sets(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX eval_runs_set ON eval_runs(tenant_id, set_id, created_at);
CREATE INDEX eval_runs_running ON eval_runs(lease_until) WHERE status = 'running';

CREATE TABLE eval_results (
    tenant_id         TEXT NOT NULL,
    run_id            TEXT NOT NULL,
    case_id           TEXT NOT NULL,
    lane              INTEGER NOT NULL,
    version           INTEGER NOT NULL,
    position          INTEGER NOT NULL,
    case_snapshot     TEXT NOT NULL,
    reply             TEXT NOT NULL,
    drafted           INTEGER NOT NULL,
    category          TEXT,
    reason            TEXT,
    checks            TEXT NOT NULL,
    passed            INTEGER NOT NULL,
    error             TEXT,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_ms        INTEGER NOT NULL,
    finished_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, run_id, case_id, lane),
    FOREIGN KEY (tenant_id, run_id) REFERENCES eval_runs(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
