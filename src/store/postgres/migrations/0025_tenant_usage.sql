-- Per-tenant rate limits and usage (issue 16), as in the SQLite store's
-- 0021_tenant_usage.sql. Every table is a tenant table under RLS.
--
-- rate_windows: requests leased from each tenant's one-minute windows
-- (minutes since 1970-01-01), per kind ('api', 'ingest'). A claim is one
-- upsert that never takes `used` past the limit: the row's lock orders
-- concurrent claims from every server; `granted` is what the latest claim
-- got. Old windows are dropped by later claims.
CREATE TABLE rate_windows (
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind         text NOT NULL,
    window_start bigint NOT NULL,
    used         integer NOT NULL,
    granted      integer NOT NULL,
    -- The limit the latest claim counted against.
    limit_per_minute integer NOT NULL,
    PRIMARY KEY (tenant_id, kind, window_start)
);

-- A tenant's own limits (requests per minute) instead of its tier's.
CREATE TABLE rate_overrides (
    tenant_id         uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    api_per_minute    integer,
    ingest_per_minute integer
);

-- What each tenant did per UTC day (days since 1970-01-01).
CREATE TABLE tenant_usage (
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day               integer NOT NULL,
    api_calls         bigint NOT NULL DEFAULT 0,
    ingests           bigint NOT NULL DEFAULT 0,
    generations       bigint NOT NULL DEFAULT 0,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['rate_windows', 'rate_overrides', 'tenant_usage'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
        EXECUTE format('CREATE POLICY owner_functions ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    END LOOP;
END $$;

-- The platform overview's usage column reads every tenant's day at once,
-- which RLS hides from the application role: a definer function returns
-- the day's rows of tenants that still exist (the caller checked it is a
-- platform admin).
CREATE FUNCTION sb_usage_on(p_day integer)
RETURNS TABLE (tenant_id uuid, day bigint, api_calls bigint, ingests bigint,
               generations bigint, prompt_tokens bigint, completion_tokens bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.tenant_id, u.day::bigint, u.api_calls, u.ingests, u.generations,
           u.prompt_tokens, u.completion_tokens
    FROM tenant_usage u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.day = p_day AND t.deleting_at IS NULL
$$;
