-- Prompt evaluations: eval sets and their cases, runs of a set against an
-- agent's versions, and each case's result per version; the same data as
-- the SQLite store's 0014_evals.sql, with RLS as in 0001. The one
-- cross-tenant path, sb_recover_eval_runs, fails runs whose server stopped.

CREATE TABLE eval_sets (
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    name        text NOT NULL,
    -- The name lower-cased by the server: unique per tenant.
    name_key    text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_by  text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name_key)
);

CREATE TABLE eval_cases (
    tenant_id  uuid NOT NULL,
    set_id     uuid NOT NULL,
    id         uuid NOT NULL,
    position   integer NOT NULL,
    message    text NOT NULL,
    lead       jsonb NOT NULL,
    expect     jsonb NOT NULL,
    source     jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, set_id, position),
    FOREIGN KEY (tenant_id, set_id) REFERENCES eval_sets(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE eval_runs (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    set_id           uuid NOT NULL,
    set_name         text NOT NULL,
    agent_id         uuid NOT NULL,
    agent_name       text NOT NULL,
    lanes            jsonb NOT NULL,
    status           text NOT NULL
                     CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    cases            integer NOT NULL,
    draft_categories jsonb NOT NULL,
    error            text,
    -- While running: until when the server running it holds it.
    lease_until      timestamptz,
    created_by       text,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, set_id) REFERENCES eval_sets(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX eval_runs_set ON eval_runs(tenant_id, set_id, created_at);
CREATE INDEX eval_runs_running ON eval_runs(lease_until) WHERE status = 'running';

CREATE TABLE eval_results (
    tenant_id         uuid NOT NULL,
    run_id            uuid NOT NULL,
    case_id           uuid NOT NULL,
    lane              smallint NOT NULL,
    version           integer NOT NULL,
    position          integer NOT NULL,
    case_snapshot     jsonb NOT NULL,
    reply             text NOT NULL,
    drafted           boolean NOT NULL,
    category          text,
    reason            text,
    checks            jsonb NOT NULL,
    passed            boolean NOT NULL,
    error             text,
    prompt_tokens     integer NOT NULL,
    completion_tokens integer NOT NULL,
    latency_ms        bigint NOT NULL,
    finished_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, run_id, case_id, lane),
    FOREIGN KEY (tenant_id, run_id) REFERENCES eval_runs(tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['eval_sets', 'eval_cases', 'eval_runs', 'eval_results']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t);
        EXECUTE format('CREATE POLICY owner_functions ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;

-- Runs whose server stopped mid-run (the lease it renews while running
-- ended): failed with p_error, in every tenant. Returns what it failed, so
-- the server logs each one's finished event under its tenant.
CREATE FUNCTION sb_recover_eval_runs(p_now timestamptz, p_error text)
RETURNS TABLE (tenant_id uuid, id uuid, set_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE eval_runs r
       SET status = 'failed', error = p_error, lease_until = NULL, finished_at = p_now
     WHERE r.status = 'running' AND r.lease_until < p_now
    RETURNING r.tenant_id, r.id, r.set_id
$$;
REVOKE ALL ON FUNCTION sb_recover_eval_runs(timestamptz, text) FROM PUBLIC;
