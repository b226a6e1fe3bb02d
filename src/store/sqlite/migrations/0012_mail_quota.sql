-- The per-tenant daily email quota: how many emails the mailer took from
-- each tenant's quota on each UTC day (days since 1970-01-01). Counted in
-- the store, so every server sharing it counts against the same number.
CREATE TABLE mail_quota (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day       INTEGER NOT NULL,
    sent      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;
