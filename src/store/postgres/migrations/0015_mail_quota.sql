-- The per-tenant daily email quota: how many emails the mailer took from
-- each tenant's quota on each UTC day (days since 1970-01-01). Counted in
-- the database with an atomic upsert, so every server sharing it counts
-- against the same number. Written under the tenant, RLS applying.
CREATE TABLE mail_quota (
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day       integer NOT NULL,
    sent      integer NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

ALTER TABLE mail_quota ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_quota FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON mail_quota
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY owner_functions ON mail_quota TO CURRENT_USER USING (true) WITH CHECK (true);
