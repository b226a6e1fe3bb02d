-- What a migration to a WITHOUT ROWID leads table does to the data (only
-- the leads part: a real migration must also rebuild lead_events, workflows
-- and workflow_steps, as 0010 rebuilt workflows, because DROP TABLE leads
-- with foreign keys on cascades into every child row, and every migration
-- runs in a transaction, where PRAGMA foreign_keys cannot be turned off).
-- Run on a scratch copy of the 1M rowid database: the copy comes out in
-- (tenant_id, id) order, packed, as a migration would leave it.
.timer on
PRAGMA cache_size = -2000;
BEGIN;
CREATE TABLE leads_new (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    company     TEXT,
    message     TEXT NOT NULL,
    source      TEXT NOT NULL,
    source_page TEXT,
    utm         TEXT NOT NULL DEFAULT '{}',
    fields      TEXT NOT NULL DEFAULT '{}',
    stage       TEXT NOT NULL,
    assignee_id TEXT,
    spam        INTEGER NOT NULL DEFAULT 0,
    spam_reason TEXT,
    qual_category TEXT,
    qual_reason   TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    sla_due_at  INTEGER NOT NULL,
    at_risk_at  INTEGER NOT NULL,
    first_response_at INTEGER,
    responded   INTEGER NOT NULL DEFAULT 0,
    sla_at_risk_alerted_at INTEGER,
    sla_breached_alerted_at INTEGER,
    import_key  TEXT,
    workspace_id TEXT,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO leads_new SELECT tenant_id, id, name, email, phone, company, message, source,
    source_page, utm, fields, stage, assignee_id, spam, spam_reason, qual_category,
    qual_reason, created_at, updated_at, sla_due_at, at_risk_at, first_response_at,
    responded, sla_at_risk_alerted_at, sla_breached_alerted_at, import_key, workspace_id
  FROM leads ORDER BY tenant_id, id;
-- Here the scratch copy has no children rows; in a real database this DROP
-- would delete every lead_events / workflows / workflow_steps row.
DROP TABLE leads;
ALTER TABLE leads_new RENAME TO leads;
CREATE INDEX leads_queue ON leads(tenant_id, spam, responded, sla_due_at, id);
CREATE INDEX leads_assignee ON leads(tenant_id, assignee_id, responded, sla_due_at, id);
CREATE INDEX leads_stage ON leads(tenant_id, stage, responded, sla_due_at, id);
CREATE UNIQUE INDEX leads_import ON leads(tenant_id, import_key) WHERE import_key IS NOT NULL;
CREATE INDEX leads_risk_pending ON leads(at_risk_at)
    WHERE responded = 0 AND spam = 0 AND sla_at_risk_alerted_at IS NULL;
CREATE INDEX leads_breach_pending ON leads(sla_due_at)
    WHERE responded = 0 AND spam = 0 AND sla_breached_alerted_at IS NULL;
CREATE INDEX leads_created ON leads(tenant_id, created_at);
CREATE INDEX leads_due ON leads(spam, responded, sla_due_at, id);
CREATE INDEX leads_recent ON leads(spam, id);
COMMIT;
ANALYZE;
VACUUM;
