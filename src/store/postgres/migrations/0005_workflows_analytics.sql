-- Lead workflows (qualify, draft, human approval) and their steps; the same
-- data as the SQLite store's 0005_workflows.sql, with RLS as in 0001.
--
-- Workers serve every tenant: claiming the next workflow looks across
-- tenants, which RLS hides, so it goes through the owner's narrow
-- `sb_claim_workflow` (one row, locked with SKIP LOCKED so several servers
-- never claim the same one) and `sb_recover_workflows` (expired leases).
-- Both return ids only; the work itself runs in tenant-scoped transactions.

CREATE TABLE workflows (
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    lead_id       uuid NOT NULL,
    workspace_id  uuid,
    agent_id      uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('queued', 'running', 'awaiting_approval',
                      'approved', 'rejected', 'failed', 'cancelled')),
    qual_category text,
    qual_reason   text,
    draft         text,
    reply         text,
    error         text,
    attempts      integer NOT NULL DEFAULT 0,
    lease_until   timestamptz,
    decided_by    text,
    decision_note text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads(tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX workflows_active_lead ON workflows(tenant_id, lead_id)
    WHERE status IN ('queued', 'running', 'awaiting_approval');
CREATE INDEX workflows_tenant_status ON workflows(tenant_id, status, created_at);
CREATE INDEX workflows_queue ON workflows(status, created_at)
    WHERE status IN ('queued', 'running');

CREATE TABLE workflow_steps (
    tenant_id         uuid NOT NULL,
    workflow_id       uuid NOT NULL,
    seq               integer NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('qualify', 'draft')),
    outcome           text NOT NULL CHECK (outcome IN ('ok', 'unparseable', 'failed')),
    output            text NOT NULL,
    error             text,
    model             text NOT NULL,
    prompt_version    integer NOT NULL,
    prompt_tokens     integer NOT NULL,
    completion_tokens integer NOT NULL,
    duration_ms       bigint NOT NULL,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id, seq),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows(tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['workflows', 'workflow_steps']
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

-- The next queued workflow of an active tenant below its tier's running
-- cap, the tenant with the fewest running first, then the oldest; marked
-- running with a lease.
CREATE FUNCTION sb_claim_workflow(p_now timestamptz, p_lease_until timestamptz)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_tenant uuid;
    v_id uuid;
BEGIN
    SELECT w.tenant_id, w.id INTO v_tenant, v_id
      FROM workflows w
      JOIN tenants t ON t.id = w.tenant_id
     WHERE w.status = 'queued' AND t.status = 'active'
       AND (SELECT count(*) FROM workflows r
             WHERE r.tenant_id = w.tenant_id AND r.status = 'running')
           < CASE t.tier WHEN 'starter' THEN 1 WHEN 'pro' THEN 2 ELSE 4 END
     ORDER BY (SELECT count(*) FROM workflows r
                WHERE r.tenant_id = w.tenant_id AND r.status = 'running'), w.created_at
     LIMIT 1
       FOR UPDATE OF w SKIP LOCKED;
    IF v_id IS NULL THEN
        RETURN;
    END IF;
    UPDATE workflows w SET status = 'running', attempts = w.attempts + 1,
           lease_until = p_lease_until, updated_at = p_now
     WHERE w.tenant_id = v_tenant AND w.id = v_id;
    tenant_id := v_tenant;
    id := v_id;
    RETURN NEXT;
END
$$;

-- Running workflows whose lease ran out: queued again, or failed after
-- p_max_attempts runs. Returns the tenants touched.
CREATE FUNCTION sb_recover_workflows(p_now timestamptz, p_max_attempts integer)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE workflows w
       SET status = CASE WHEN w.attempts >= p_max_attempts THEN 'failed' ELSE 'queued' END,
           error = CASE WHEN w.attempts >= p_max_attempts
                        THEN 'interrupted ' || w.attempts || ' times (the server stopped mid-run); retry it'
                        ELSE w.error END,
           lease_until = NULL, updated_at = p_now
     WHERE w.status = 'running' AND w.lease_until < p_now
    RETURNING w.tenant_id
$$;

REVOKE ALL ON FUNCTION sb_claim_workflow(timestamptz, timestamptz),
    sb_recover_workflows(timestamptz, integer) FROM PUBLIC;

-- Analytics read a tenant's leads by arrival time.
CREATE INDEX leads_created ON leads(tenant_id, created_at);

-- Analytics over one tenant's leads in [p_from, p_to), or every tenant's
-- (p_tenant NULL, platform admins only: the server checks). One statement of
-- aggregates; the JSON has the shape of the domain's `Analytics` minus the
-- period and the zero-filled days, which the server adds. Percentiles are
-- nearest-rank (percentile_disc), like the SQLite store's.
CREATE FUNCTION sb_analytics(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                             p_now timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH l AS (
        SELECT source, stage, spam, qual_category, created_at, first_response_at, sla_due_at
          FROM leads
         WHERE (p_tenant IS NULL OR tenant_id = p_tenant)
           AND created_at >= p_from AND created_at < p_to
    ), ham AS (SELECT * FROM l WHERE NOT spam)
    SELECT jsonb_build_object(
        'leads', (SELECT count(*) FROM l),
        'spam', (SELECT count(*) FROM l WHERE spam),
        'by_day', coalesce((SELECT jsonb_agg(jsonb_build_object('day', d, 'leads', n, 'spam', s)
                                             ORDER BY d)
                              FROM (SELECT (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n,
                                           count(*) FILTER (WHERE spam) AS s
                                      FROM l GROUP BY 1) x), '[]'::jsonb),
        'by_source', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                                ORDER BY n DESC, name COLLATE "C")
                                 FROM (SELECT source AS name, count(*) AS n FROM l GROUP BY 1) x),
                              '[]'::jsonb),
        'by_stage', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                               ORDER BY n DESC, name COLLATE "C")
                                FROM (SELECT stage AS name, count(*) AS n FROM ham GROUP BY 1) x),
                             '[]'::jsonb),
        'qualification', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                                    ORDER BY n DESC, name COLLATE "C")
                                     FROM (SELECT coalesce(qual_category, 'unqualified') AS name,
                                                  count(*) AS n FROM ham GROUP BY 1) x),
                                  '[]'::jsonb),
        'met', (SELECT count(*) FROM ham
                 WHERE first_response_at IS NOT NULL AND first_response_at <= sla_due_at),
        'missed', (SELECT count(*) FROM ham
                    WHERE first_response_at > sla_due_at
                       OR (first_response_at IS NULL AND sla_due_at < p_now)),
        'open', (SELECT count(*) FROM ham WHERE first_response_at IS NULL AND sla_due_at >= p_now),
        'responded', (SELECT count(*) FROM ham WHERE first_response_at IS NOT NULL),
        'median_ms', (SELECT percentile_disc(0.5) WITHIN GROUP
                              (ORDER BY extract(epoch FROM first_response_at - created_at) * 1000)
                        FROM ham WHERE first_response_at IS NOT NULL),
        'p90_ms', (SELECT percentile_disc(0.9) WITHIN GROUP
                           (ORDER BY extract(epoch FROM first_response_at - created_at) * 1000)
                     FROM ham WHERE first_response_at IS NOT NULL)
    )
$$;

-- The platform overview: one row per client tenant.
CREATE FUNCTION sb_tenant_overview(p_month text, p_now timestamptz, p_since timestamptz)
RETURNS TABLE (id uuid, name text, slug text, tier text, status text, month_leads bigint,
               overdue bigint, met bigint, missed bigint, awaiting bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT t.id, t.name, t.slug, t.tier, t.status,
           coalesce((SELECT u.count::bigint FROM lead_usage u
                      WHERE u.tenant_id = t.id AND u.month = p_month), 0),
           (SELECT count(*) FROM leads l WHERE l.tenant_id = t.id AND NOT l.spam
               AND NOT l.responded AND l.sla_due_at < p_now),
           (SELECT count(*) FROM leads l WHERE l.tenant_id = t.id AND NOT l.spam
               AND l.created_at >= p_since
               AND l.first_response_at IS NOT NULL AND l.first_response_at <= l.sla_due_at),
           (SELECT count(*) FROM leads l WHERE l.tenant_id = t.id AND NOT l.spam
               AND l.created_at >= p_since
               AND (l.first_response_at > l.sla_due_at
                    OR (l.first_response_at IS NULL AND l.sla_due_at < p_now))),
           (SELECT count(*) FROM workflows w WHERE w.tenant_id = t.id
               AND w.status = 'awaiting_approval')
      FROM tenants t
     WHERE NOT t.is_platform
     ORDER BY t.name COLLATE "C"
$$;

REVOKE ALL ON FUNCTION sb_analytics(uuid, timestamptz, timestamptz, timestamptz),
    sb_tenant_overview(text, timestamptz, timestamptz) FROM PUBLIC;
