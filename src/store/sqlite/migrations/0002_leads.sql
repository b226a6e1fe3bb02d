-- Leads, their timeline, the per-tenant event log (for live updates and
-- resume), the outbox, monthly usage counters and idempotency keys.

CREATE TABLE leads (
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
    -- When the lead turns at risk: stored so SLA filters are plain range scans.
    at_risk_at  INTEGER NOT NULL,
    first_response_at INTEGER,
    responded   INTEGER NOT NULL DEFAULT 0,
    sla_at_risk_alerted_at INTEGER,
    sla_breached_alerted_at INTEGER,
    -- Set for imported rows, so importing the same data twice adds nothing.
    import_key  TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX leads_queue ON leads(tenant_id, spam, responded, sla_due_at, id);
CREATE INDEX leads_assignee ON leads(tenant_id, assignee_id, responded, sla_due_at, id);
CREATE INDEX leads_stage ON leads(tenant_id, stage, responded, sla_due_at, id);
CREATE UNIQUE INDEX leads_import ON leads(tenant_id, import_key) WHERE import_key IS NOT NULL;
CREATE INDEX leads_risk_pending ON leads(at_risk_at)
    WHERE responded = 0 AND spam = 0 AND sla_at_risk_alerted_at IS NULL;
CREATE INDEX leads_breach_pending ON leads(sla_due_at)
    WHERE responded = 0 AND spam = 0 AND sla_breached_alerted_at IS NULL;

CREATE TABLE lead_events (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    lead_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    TEXT,
    actor_email TEXT,
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX lead_events_lead ON lead_events(tenant_id, lead_id, id);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_tenant ON events(tenant_id, id);

CREATE TABLE outbox (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    recipient  TEXT,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    sent_at    INTEGER,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_pending ON outbox(created_at) WHERE sent_at IS NULL;

CREATE TABLE lead_usage (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    month     TEXT NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, month)
);

CREATE TABLE idempotency_keys (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    lead_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_age ON idempotency_keys(created_at);
