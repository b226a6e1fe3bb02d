-- Switchboard on PostgreSQL: the same data as the SQLite schema, with native
-- types (uuid, timestamptz, jsonb, boolean) and row-level security.
--
-- Times are timestamptz written at millisecond precision (the Rust side
-- truncates), so a keyset cursor that carries milliseconds — the encoding the
-- SQLite store uses and the API already hands out — addresses a row exactly.
-- Ids are UUIDv7: uuid order is creation order.
--
-- Tenant isolation: every table with a tenant_id column has tenant_id
-- leading its keys, ENABLE + FORCE ROW LEVEL SECURITY, and the policy
-- `tenant_isolation` comparing tenant_id with the transaction-local setting
-- app.tenant_id. The application role (switchboard_app) owns nothing and has
-- no BYPASSRLS; the role that runs these migrations owns the tables and the
-- SECURITY DEFINER functions in 0002 that serve the few cross-tenant reads.
--
-- users, sessions and tenants carry no tenant_id and have no RLS: a user may
-- belong to several tenants, a session belongs to a user, and the tenant row
-- is the thing being isolated (the server needs it to resolve a slug before
-- it knows which tenant to set). Nothing tenant-private lives in them except
-- tenant settings, which the server only returns after its access check.

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL UNIQUE,
    name           text NOT NULL,
    password_hash  text,
    platform_admin boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL
);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    slug        text NOT NULL UNIQUE,
    tier        text NOT NULL CHECK (tier IN ('starter', 'pro', 'enterprise')),
    status      text NOT NULL CHECK (status IN ('active', 'suspended')),
    is_platform boolean NOT NULL DEFAULT false,
    settings    jsonb NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE memberships (
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('admin', 'manager', 'agent', 'viewer')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
-- A user's tenants (sb_member_tenants): the one index not led by tenant_id,
-- because that lookup is by user across tenants.
CREATE INDEX memberships_user ON memberships(user_id, tenant_id);

CREATE TABLE invitations (
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('admin', 'manager', 'agent', 'viewer')),
    -- Globally unique: a token is looked up before its tenant is known.
    token_hash  text NOT NULL UNIQUE,
    invited_by  uuid,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE api_keys (
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL,
    prefix       text NOT NULL,
    last_four    text NOT NULL,
    -- Globally unique: ingest finds the tenant from the key's hash.
    key_hash     text NOT NULL UNIQUE,
    scope        text NOT NULL,
    created_by   uuid,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE audit_events (
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    actor_id    uuid,
    actor_email text,
    action      text NOT NULL,
    resource    text NOT NULL,
    resource_id text NOT NULL,
    changes     jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE leads (
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    name        text NOT NULL,
    email       text,
    phone       text,
    company     text,
    message     text NOT NULL,
    source      text NOT NULL,
    source_page text,
    utm         jsonb NOT NULL DEFAULT '{}',
    fields      jsonb NOT NULL DEFAULT '{}',
    stage       text NOT NULL,
    assignee_id uuid,
    spam        boolean NOT NULL DEFAULT false,
    spam_reason text,
    qual_category text,
    qual_reason   text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    sla_due_at  timestamptz NOT NULL,
    -- When the lead turns at risk: stored so SLA filters are plain range scans.
    at_risk_at  timestamptz NOT NULL,
    first_response_at timestamptz,
    responded   boolean NOT NULL DEFAULT false,
    sla_at_risk_alerted_at  timestamptz,
    sla_breached_alerted_at timestamptz,
    -- Set for imported rows, so importing the same data twice adds nothing.
    import_key  text,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX leads_queue ON leads(tenant_id, spam, responded, sla_due_at, id);
CREATE INDEX leads_assignee ON leads(tenant_id, assignee_id, responded, sla_due_at, id);
CREATE INDEX leads_stage ON leads(tenant_id, stage, responded, sla_due_at, id);
CREATE UNIQUE INDEX leads_import ON leads(tenant_id, import_key) WHERE import_key IS NOT NULL;
-- The SLA sweep runs across tenants (sb_claim_sla_alerts): these partial
-- indexes are led by the due time on purpose, and stay small because they
-- only hold leads whose alert is still pending.
CREATE INDEX leads_risk_pending ON leads(at_risk_at)
    WHERE NOT responded AND NOT spam AND sla_at_risk_alerted_at IS NULL;
CREATE INDEX leads_breach_pending ON leads(sla_due_at)
    WHERE NOT responded AND NOT spam AND sla_breached_alerted_at IS NULL;

CREATE TABLE lead_events (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    lead_id     uuid NOT NULL,
    kind        text NOT NULL,
    actor_id    uuid,
    actor_email text,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX lead_events_lead ON lead_events(tenant_id, lead_id, id);

-- The per-tenant event log behind live streams. Ids come from one sequence;
-- writers take a per-tenant advisory lock before drawing one, so within a
-- tenant ids are handed out in commit order and a reader that resumes after
-- id N can never miss a later-committed smaller id.
CREATE TABLE events (
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    kind       text NOT NULL,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE outbox (
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    kind       text NOT NULL,
    recipient  text,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    sent_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_pending ON outbox(tenant_id, created_at) WHERE sent_at IS NULL;

CREATE TABLE lead_usage (
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    month     text NOT NULL,
    count     integer NOT NULL,
    PRIMARY KEY (tenant_id, month)
);

CREATE TABLE idempotency_keys (
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key        text NOT NULL,
    body_hash  text NOT NULL,
    lead_id    uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_age ON idempotency_keys(tenant_id, created_at);

-- Row-level security on every tenant-owned table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['memberships', 'invitations', 'api_keys', 'audit_events', 'leads',
                             'lead_events', 'events', 'outbox', 'lead_usage', 'idempotency_keys']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t);
        -- FORCE applies RLS to the owner too; the owner's SECURITY DEFINER
        -- functions (0002) are the explicit cross-tenant path, so the owner
        -- (the role running this migration, never the application role) may
        -- see every row. A superuser owner bypasses RLS anyway.
        EXECUTE format('CREATE POLICY owner_functions ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;

-- The platform tenant owns globally shared resources (agents, later).
INSERT INTO tenants (id, name, slug, tier, status, is_platform, settings, created_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'Platform', 'platform', 'enterprise', 'active', true,
        '{"pipeline_stages":["new","contacted","qualified","won","lost"],"sla_hours":24,"spam_keywords":[],"manager_email":null,"secrets":{}}',
        date_trunc('milliseconds', now()));
