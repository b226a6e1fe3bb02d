-- Prototype (issue 17): sb_ingest_leads with set-based writes. Same inputs,
-- outputs and outcomes as 0022's sb_ingest_leads (kept, and called for a
-- one-lead group and for the rare idempotency race below).
--
-- The per-lead decisions (key, replay, mismatch, limit, 80 %/limit warnings)
-- are made in one plpgsql pass over the items with no SQL inside the loop;
-- the key check is one read for the group's distinct keys, the replay check
-- one read for all its idempotency keys, the claims one INSERT ... ON
-- CONFLICT DO NOTHING, and every other write one statement (data-modifying
-- CTEs) under one advisory lock per group. If a concurrent transaction
-- committed one of the group's idempotency keys after the read (the claim
-- then waits for it and inserts fewer rows), this call's claims are deleted
-- and the group runs through the per-lead function, so that race keeps
-- exactly the old semantics.
CREATE OR REPLACE FUNCTION public.sb_ingest_leads_v2(p_tenant uuid, p_month pg_catalog.text,
                                                     p_now timestamptz, p_items jsonb)
RETURNS TABLE (ord integer, outcome pg_catalog.text, lead_id uuid)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public AS $$
DECLARE
    v_status pg_catalog.text;
    v_count integer;
    v_start integer;
    v_near integer;
    v_ok_keys uuid[];
    v_seen jsonb;          -- idem_key -> {"h": body_hash, "l": lead_id}
    v_ords integer[] := '{}';
    v_outs pg_catalog.text[] := '{}';
    v_ids uuid[] := '{}';
    v_new integer[] := '{}';        -- ords of the leads to create
    v_claim integer[] := '{}';      -- ords whose idempotency key is claimed
    v_warn_ord integer[] := '{}';   -- usage.near_limit before the lead at this ord
    v_warn_cnt integer[] := '{}';
    v_warn_lim integer[] := '{}';
    v_claimed integer;
    it record;
BEGIN
    -- A lone lead costs less through the per-lead function (0022's body,
    -- kept under another name): the set-based path has more fixed statements.
    IF pg_catalog.jsonb_array_length(p_items) = 1 THEN
        RETURN QUERY SELECT * FROM public.sb_ingest_leads(p_tenant, p_month, p_now, p_items);
        RETURN;
    END IF;
    PERFORM pg_catalog.set_config('app.tenant_id', p_tenant::pg_catalog.text, true);
    SELECT t.status INTO v_status FROM public.tenants t WHERE t.id = p_tenant;
    IF v_status IS DISTINCT FROM 'active' THEN
        RETURN QUERY SELECT i.ord, 'suspended'::pg_catalog.text, NULL::pg_catalog.uuid
                       FROM pg_catalog.jsonb_to_recordset(p_items) AS i(ord integer);
        RETURN;
    END IF;
    -- The counter row, read and locked once for the whole group.
    INSERT INTO public.lead_usage (tenant_id, month, count) VALUES (p_tenant, p_month, 0)
        ON CONFLICT (tenant_id, month) DO NOTHING;
    SELECT u.count INTO v_count FROM public.lead_usage u
     WHERE u.tenant_id = p_tenant AND u.month = p_month FOR UPDATE;
    v_start := v_count;

    -- Each distinct key checked once.
    SELECT pg_catalog.array_agg(k.id) INTO v_ok_keys FROM public.api_keys k
     WHERE k.tenant_id = p_tenant
       AND k.id = ANY (ARRAY(SELECT DISTINCT i.key_id
                               FROM pg_catalog.jsonb_to_recordset(p_items) AS i(key_id uuid)))
       AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > p_now);
    v_ok_keys := coalesce(v_ok_keys, '{}');

    -- Every committed idempotency key the group names, in one statement: a
    -- primary-key probe per distinct key (a correlated subquery, as the
    -- per-lead lookup was), whatever the statistics say. A join (IN, = ANY,
    -- LATERAL) let the planner read all of a tenant's keys when its row
    -- estimate was stale: 13-90 ms at 16-32k keys.
    SELECT coalesce(pg_catalog.jsonb_object_agg(x.idem_key, x.v), '{}') INTO v_seen
      FROM (SELECT i.idem_key,
                   (SELECT pg_catalog.jsonb_build_object('h', k.body_hash, 'l', k.lead_id)
                      FROM public.idempotency_keys k
                     WHERE k.tenant_id = p_tenant AND k.key = i.idem_key) AS v
              FROM (SELECT DISTINCT i.idem_key
                      FROM pg_catalog.jsonb_to_recordset(p_items) AS i(idem_key pg_catalog.text)
                     WHERE i.idem_key IS NOT NULL) i
            OFFSET 0) x
     WHERE x.v IS NOT NULL;

    -- The decisions, in arrival order, as the per-lead loop made them.
    FOR it IN
        SELECT * FROM pg_catalog.jsonb_to_recordset(p_items) AS i(
            ord integer, id uuid, key_id uuid, idem_key pg_catalog.text,
            body_hash pg_catalog.text, counts boolean, lead_limit integer)
        ORDER BY 1
    LOOP
        v_ords := v_ords || it.ord;
        IF (it.key_id = ANY (v_ok_keys)) IS NOT TRUE THEN
            v_outs := v_outs || 'key'::pg_catalog.text;
            v_ids := v_ids || NULL::uuid;
            CONTINUE;
        END IF;
        IF it.idem_key IS NOT NULL AND v_seen ? it.idem_key THEN
            v_outs := v_outs || CASE WHEN v_seen -> it.idem_key ->> 'h' = it.body_hash
                                     THEN 'replayed' ELSE 'mismatch' END;
            v_ids := v_ids || (v_seen -> it.idem_key ->> 'l')::uuid;
            CONTINUE;
        END IF;
        IF it.counts AND it.lead_limit IS NOT NULL AND v_count >= it.lead_limit THEN
            v_outs := v_outs || 'limit'::pg_catalog.text;
            v_ids := v_ids || NULL::uuid;
            CONTINUE;
        END IF;
        IF it.idem_key IS NOT NULL THEN
            v_seen := v_seen || pg_catalog.jsonb_build_object(it.idem_key,
                          pg_catalog.jsonb_build_object('h', it.body_hash, 'l', it.id));
            v_claim := v_claim || it.ord;
        END IF;
        IF it.counts THEN
            v_count := v_count + 1;
            IF it.lead_limit IS NOT NULL THEN
                v_near := (it.lead_limit * 4 + 4) / 5;
                IF v_count = v_near OR v_count = it.lead_limit THEN
                    v_warn_ord := v_warn_ord || it.ord;
                    v_warn_cnt := v_warn_cnt || v_count;
                    v_warn_lim := v_warn_lim || it.lead_limit;
                END IF;
            END IF;
        END IF;
        v_new := v_new || it.ord;
        v_outs := v_outs || 'created'::pg_catalog.text;
        v_ids := v_ids || it.id;
    END LOOP;

    -- The claims, in one statement. It waits on a transaction holding one of
    -- the keys; a conflict means one committed since the read above.
    IF pg_catalog.cardinality(v_claim) > 0 THEN
        INSERT INTO public.idempotency_keys (tenant_id, key, body_hash, lead_id, created_at)
        SELECT p_tenant, i.idem_key, i.body_hash, i.id, i.updated_at
          FROM pg_catalog.jsonb_to_recordset(p_items) AS i(ord integer, id uuid,
                   idem_key pg_catalog.text, body_hash pg_catalog.text, updated_at timestamptz)
         WHERE i.ord = ANY (v_claim)
         -- Key order, not arrival order: two groups claiming overlapping keys
         -- (other months' groups, other paths) wait on each other in one order.
         ORDER BY i.idem_key
            ON CONFLICT (tenant_id, key) DO NOTHING;
        GET DIAGNOSTICS v_claimed = ROW_COUNT;
        IF v_claimed < pg_catalog.cardinality(v_claim) THEN
            -- Rare: undo this call's claims (nothing else is written yet)
            -- and decide lead by lead, exactly as before.
            DELETE FROM public.idempotency_keys k
             WHERE k.tenant_id = p_tenant
               AND k.key = ANY (ARRAY(SELECT i.idem_key
                                        FROM pg_catalog.jsonb_to_recordset(p_items)
                                             AS i(ord integer, idem_key pg_catalog.text)
                                       WHERE i.ord = ANY (v_claim)))
               AND k.lead_id = ANY (ARRAY(SELECT i.id
                                            FROM pg_catalog.jsonb_to_recordset(p_items)
                                                 AS i(ord integer, id uuid)
                                           WHERE i.ord = ANY (v_claim)));
            RETURN QUERY SELECT * FROM public.sb_ingest_leads(p_tenant, p_month, p_now, p_items);
            RETURN;
        END IF;
    END IF;

    IF pg_catalog.cardinality(v_new) > 0 THEN
        -- The event log's lock for the group (what sb_append_event takes per
        -- event), then every row of the group in one statement: the leads,
        -- their timeline and audit entries, workflows, and the events in
        -- arrival order (each lead's usage.near_limit warning just before its
        -- lead.created). The foreign-key checks run at the statement's end.
        PERFORM pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended(p_tenant::pg_catalog.text, 0));
        PERFORM pg_catalog.pg_current_xact_id();
        WITH i AS MATERIALIZED (
            SELECT * FROM pg_catalog.jsonb_to_recordset(p_items) AS i(
                ord integer, id uuid, name pg_catalog.text, email pg_catalog.text,
                phone pg_catalog.text, company pg_catalog.text, message pg_catalog.text,
                source pg_catalog.text, source_page pg_catalog.text, utm jsonb, fields jsonb,
                stage pg_catalog.text, spam boolean, spam_reason pg_catalog.text,
                created_at timestamptz, updated_at timestamptz, sla_due_at timestamptz,
                at_risk_at timestamptz, workspace_id uuid, workflow_id uuid, timeline_id uuid,
                audit_id uuid, actor_email pg_catalog.text, timeline jsonb, audit jsonb,
                event jsonb)
             WHERE i.ord = ANY (v_new)
        ), l AS (
            INSERT INTO public.leads (tenant_id, id, name, email, phone, company, message, source,
                                      source_page, utm, fields, stage, assignee_id, spam,
                                      spam_reason, qual_category, qual_reason, created_at,
                                      updated_at, sla_due_at, at_risk_at, first_response_at,
                                      responded, workspace_id, import_key)
            SELECT p_tenant, i.id, i.name, i.email, i.phone, i.company, i.message, i.source,
                   i.source_page, i.utm, i.fields, i.stage, NULL, i.spam, i.spam_reason, NULL,
                   NULL, i.created_at, i.updated_at, i.sla_due_at, i.at_risk_at, NULL, false,
                   i.workspace_id, NULL
              FROM i
        ), le AS (
            INSERT INTO public.lead_events (tenant_id, id, lead_id, kind, actor_id, actor_email,
                                            data, created_at)
            SELECT p_tenant, i.timeline_id, i.id, 'created', NULL, i.actor_email, i.timeline,
                   i.updated_at
              FROM i
        ), a AS (
            INSERT INTO public.audit_events (tenant_id, id, actor_id, actor_email, action,
                                             resource, resource_id, changes, created_at)
            SELECT p_tenant, i.audit_id, NULL, i.actor_email, 'lead.create', 'lead',
                   i.id::pg_catalog.text, i.audit, i.updated_at
              FROM i
        ), wf AS (
            INSERT INTO public.workflows (tenant_id, id, lead_id, workspace_id, agent_id, status,
                                          created_at, updated_at)
            SELECT w.tenant_id, i.workflow_id, i.id, w.id, w.agent_id, 'queued',
                   i.updated_at, i.updated_at
              FROM i JOIN public.workspaces w ON w.tenant_id = p_tenant AND w.id = i.workspace_id
             WHERE NOT i.spam AND w.strategy_active AND w.agent_id IS NOT NULL
        )
        INSERT INTO public.events (tenant_id, kind, data, created_at)
        SELECT p_tenant, e.kind, e.data, e.at FROM (
            SELECT i.ord, 1 AS sub, 'lead.created'::pg_catalog.text AS kind, i.event AS data,
                   i.updated_at AS at
              FROM i
            UNION ALL
            SELECT w.ord, 0, 'usage.near_limit',
                   pg_catalog.jsonb_build_object('leads_this_month', w.cnt, 'lead_limit', w.lim,
                                                 'month', p_month),
                   i.updated_at
              FROM ROWS FROM (pg_catalog.unnest(v_warn_ord), pg_catalog.unnest(v_warn_cnt),
                              pg_catalog.unnest(v_warn_lim)) AS w(ord, cnt, lim)
              JOIN i ON i.ord = w.ord
        ) e
        ORDER BY e.ord, e.sub;
    END IF;

    IF v_count <> v_start THEN
        UPDATE public.lead_usage u SET count = v_count
         WHERE u.tenant_id = p_tenant AND u.month = p_month;
    END IF;
    -- Once a minute is enough for "last used".
    UPDATE public.api_keys k SET last_used_at = p_now
     WHERE k.tenant_id = p_tenant AND k.revoked_at IS NULL
       AND k.id = ANY (ARRAY(SELECT DISTINCT i.key_id
                               FROM pg_catalog.jsonb_to_recordset(p_items) AS i(key_id uuid)))
       AND (k.last_used_at IS NULL OR k.last_used_at < p_now - interval '60 seconds');

    RETURN QUERY SELECT o.ord, o.outcome, o.lead_id
                   FROM ROWS FROM (pg_catalog.unnest(v_ords), pg_catalog.unnest(v_outs),
                                  pg_catalog.unnest(v_ids)) AS o(ord, outcome, lead_id);
END
$$;
