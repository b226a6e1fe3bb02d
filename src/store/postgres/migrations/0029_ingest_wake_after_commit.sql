-- Form ingest, cheaper per call and free of the NOTIFY lock (issue 17).
--
-- 1. A transaction that sends NOTIFY takes one database-wide lock at its
--    commit and holds it through the WAL flush: it was the ingest calls'
--    most common wait, since the statement trigger announced their events,
--    and it puts the commits of every server's ingests in one line.
--    sb_ingest_batch(p_now, p_items, p_wake_later) with p_wake_later set
--    writes its events unannounced (app.events_wake = 'later', transaction-
--    local) and answers each created lead's event id: the server announces
--    them after the commit, in a short transaction of its own. Any other
--    writer of events, and the two-argument function kept for servers of
--    the previous version, still announce at commit.
-- 2. The function's statements use generic plans (the items come as one
--    jsonb value, so a custom plan sees nothing a generic one does not;
--    planning them again on every call was a tenth of the database's time
--    under ingest load).
-- 3. The counter statements run only when some item has a lead limit, the
--    idempotency read only when some item has a key, and "last used" only
--    when a key's mark is over a minute old (known from the key read).
-- 4. The leads, timeline and audit entries and workflows are written before
--    the tenants' event-log locks are taken, so those locks cover only the
--    events, the counters and the commit; they are taken in one statement.
-- What the function decides, and the rows it writes, are unchanged.

CREATE OR REPLACE FUNCTION public.sb_events_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    -- Live streams in other processes learn of new events at commit.
    -- Payload "<tenant id>:<event id>", in id order. Unless the writer
    -- announces them itself after its commit (sb_ingest_batch).
    IF pg_catalog.current_setting('app.events_wake', true) IS DISTINCT FROM 'later' THEN
        PERFORM pg_catalog.pg_notify('switchboard_events',
                                     n.tenant_id::pg_catalog.text || ':' || n.id::pg_catalog.text)
           FROM (SELECT e.tenant_id, e.id FROM new_events e ORDER BY e.id OFFSET 0) n;
    END IF;
    -- Fan-out to the event's own tenant's endpoints (under RLS when the
    -- writer is the application: it sees that tenant's endpoints only).
    INSERT INTO public.webhook_deliveries (tenant_id, id, webhook_id, event_id, event_kind,
                                           next_attempt_at, created_at)
    SELECT n.tenant_id, pg_catalog.gen_random_uuid(), w.id, n.id, n.kind, n.created_at,
           n.created_at
      FROM new_events n
      JOIN public.webhook_endpoints w ON w.tenant_id = n.tenant_id AND w.enabled
     WHERE EXISTS (SELECT 1 FROM pg_catalog.unnest(w.events) f
                    WHERE f = '*' OR f = n.kind
                       OR (pg_catalog.right(f, 2) = '.*'
                           AND pg_catalog.starts_with(n.kind, pg_catalog.left(f, -1))))
     ORDER BY n.id;
    RETURN NULL;
END
$$;

-- As 0028's, with the changes above: p_wake_later, and event_id, the id of
-- a created lead's lead.created event.
CREATE FUNCTION public.sb_ingest_batch(p_now pg_catalog.timestamptz, p_items pg_catalog.jsonb,
                                       p_wake_later boolean)
RETURNS TABLE (ord integer, outcome pg_catalog.text, lead_id pg_catalog.uuid, event_id bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_tenants pg_catalog.uuid[];
    v_state pg_catalog.jsonb;             -- tenant -> its status, 'deleted' when it is being deleted
    v_counts pg_catalog.jsonb;            -- 'tenant/month' -> count, for the groups with a limit
    v_ok_keys pg_catalog.text[];  -- 'tenant/key' of the valid keys
    v_key_ids pg_catalog.uuid[];          -- the keys the items came with
    v_touch pg_catalog.text[];    -- 'tenant/key' of the valid keys last used over a minute ago
    v_ev_lead pg_catalog.uuid[] := '{}'; -- the leads of the lead.created events written
    v_ev_id bigint[] := '{}';            -- and those events' ids
    v_limited boolean;                    -- some item's tier has a lead limit
    v_keyed boolean;                      -- some item has an idempotency key
    v_seen pg_catalog.jsonb;              -- 'tenant/idempotency key' -> {"h": body hash, "l": lead}
    v_attempt integer := 0;
    v_group pg_catalog.text;
    v_count integer;
    v_delta integer;
    v_state_of pg_catalog.text;
    v_idem pg_catalog.text;
    v_near integer;
    v_ords integer[];
    v_outs pg_catalog.text[];
    v_ids pg_catalog.uuid[];
    v_new integer[];           -- ords of the leads to create
    v_claim integer[];         -- ords whose idempotency key this call claims
    v_warn_ord integer[];      -- a usage.near_limit event just before this ord's lead
    v_warn_cnt integer[];
    v_warn_lim integer[];
    v_dt pg_catalog.uuid[];               -- counter increments: tenant, month, leads
    v_dm pg_catalog.text[];
    v_dn integer[];
    v_claimed integer;
    v_tenant pg_catalog.uuid;
    it record;
BEGIN
    SELECT pg_catalog.array_agg(DISTINCT i.tenant_id ORDER BY i.tenant_id),
           pg_catalog.array_agg(DISTINCT i.key_id),
           coalesce(pg_catalog.bool_or(i.lead_limit IS NOT NULL), false),
           coalesce(pg_catalog.bool_or(i.idem_key IS NOT NULL), false)
      INTO v_tenants, v_key_ids, v_limited, v_keyed
      FROM pg_catalog.jsonb_to_recordset(p_items)
           AS i(tenant_id pg_catalog.uuid, key_id pg_catalog.uuid, lead_limit integer,
                idem_key pg_catalog.text);
    v_tenants := coalesce(v_tenants, '{}');
    v_key_ids := coalesce(v_key_ids, '{}');
    SELECT coalesce(pg_catalog.jsonb_object_agg(t.id::pg_catalog.text,
                        CASE WHEN t.deleting_at IS NOT NULL THEN 'deleted' ELSE t.status END),
                    '{}')
      INTO v_state FROM public.tenants t WHERE t.id = ANY (v_tenants);

    -- The counter rows of the groups with a limit: made if missing, then
    -- read and locked in (tenant, month) order.
    v_counts := '{}';
    IF v_limited THEN
        INSERT INTO public.lead_usage (tenant_id, month, count)
        SELECT DISTINCT i.tenant_id, i.month, 0
          FROM pg_catalog.jsonb_to_recordset(p_items) AS i(tenant_id pg_catalog.uuid, month pg_catalog.text,
                                                           lead_limit integer)
         WHERE i.lead_limit IS NOT NULL AND v_state ->> i.tenant_id::pg_catalog.text = 'active'
         ORDER BY 1, 2
            ON CONFLICT (tenant_id, month) DO NOTHING;
        SELECT coalesce(pg_catalog.jsonb_object_agg(u.tenant_id::pg_catalog.text || '/' || u.month,
                                                    u.count), '{}')
          INTO v_counts
          FROM (SELECT u.tenant_id, u.month, u.count FROM public.lead_usage u
                 WHERE u.tenant_id = ANY (v_tenants)
                   AND (u.tenant_id, u.month) IN (
                       SELECT i.tenant_id, i.month
                         FROM pg_catalog.jsonb_to_recordset(p_items)
                              AS i(tenant_id pg_catalog.uuid, month pg_catalog.text, lead_limit integer)
                        WHERE i.lead_limit IS NOT NULL)
                 ORDER BY u.tenant_id, u.month
                   FOR UPDATE) u;
    END IF;

    -- Each distinct key checked once, against the tenant the item names;
    -- and which of them to mark used (once a minute is enough).
    SELECT coalesce(pg_catalog.array_agg(k.tenant_id::pg_catalog.text || '/' || k.id::pg_catalog.text),
                    '{}'),
           coalesce(pg_catalog.array_agg(k.tenant_id::pg_catalog.text || '/' || k.id::pg_catalog.text)
                        FILTER (WHERE k.last_used_at IS NULL
                                   OR k.last_used_at < p_now - interval '60 seconds'),
                    '{}')
      INTO v_ok_keys, v_touch FROM public.api_keys k
     WHERE k.tenant_id = ANY (v_tenants) AND k.id = ANY (v_key_ids)
       AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > p_now);

    <<decide>>
    LOOP
        v_attempt := v_attempt + 1;
        v_ords := '{}'; v_outs := '{}'; v_ids := '{}'; v_new := '{}'; v_claim := '{}';
        v_warn_ord := '{}'; v_warn_cnt := '{}'; v_warn_lim := '{}';
        v_dt := '{}'; v_dm := '{}'; v_dn := '{}';
        v_group := NULL;
        v_delta := 0;

        -- Every committed idempotency key the call names: a primary-key
        -- probe per key (a correlated subquery), whatever the statistics say.
        v_seen := '{}';
        IF v_keyed THEN
            SELECT coalesce(pg_catalog.jsonb_object_agg(x.k, x.v), '{}') INTO v_seen
              FROM (SELECT i.tenant_id::pg_catalog.text || '/' || i.idem_key AS k,
                           (SELECT pg_catalog.jsonb_build_object('h', k.body_hash, 'l', k.lead_id)
                              FROM public.idempotency_keys k
                             WHERE k.tenant_id = i.tenant_id AND k.key = i.idem_key) AS v
                      FROM (SELECT DISTINCT i.tenant_id, i.idem_key
                              FROM pg_catalog.jsonb_to_recordset(p_items)
                                   AS i(tenant_id pg_catalog.uuid, idem_key pg_catalog.text)
                             WHERE i.idem_key IS NOT NULL) i
                    OFFSET 0) x
             WHERE x.v IS NOT NULL;
        END IF;

        -- The decisions, by (tenant, month) group and in arrival order in it.
        FOR it IN
            SELECT * FROM pg_catalog.jsonb_to_recordset(p_items) AS i(
                ord integer, tenant_id pg_catalog.uuid, month pg_catalog.text, id pg_catalog.uuid, key_id pg_catalog.uuid,
                idem_key pg_catalog.text, body_hash pg_catalog.text, counts boolean,
                lead_limit integer)
            ORDER BY i.tenant_id, i.month, i.ord
        LOOP
            IF v_group IS DISTINCT FROM it.tenant_id::pg_catalog.text || '/' || it.month THEN
                IF v_delta > 0 THEN
                    v_dt := v_dt || pg_catalog.split_part(v_group, '/', 1)::pg_catalog.uuid;
                    v_dm := v_dm || pg_catalog.split_part(v_group, '/', 2);
                    v_dn := v_dn || v_delta;
                END IF;
                v_group := it.tenant_id::pg_catalog.text || '/' || it.month;
                v_count := coalesce((v_counts ->> v_group)::integer, 0);
                v_delta := 0;
            END IF;
            v_ords := v_ords || it.ord;
            v_state_of := v_state ->> it.tenant_id::pg_catalog.text;
            IF v_state_of IS DISTINCT FROM 'active' THEN
                v_outs := v_outs || CASE WHEN v_state_of = 'suspended' THEN 'suspended'
                                         ELSE 'deleted' END;
                v_ids := v_ids || NULL::pg_catalog.uuid;
                CONTINUE;
            END IF;
            IF (it.tenant_id::pg_catalog.text || '/' || it.key_id::pg_catalog.text = ANY (v_ok_keys))
                IS NOT TRUE THEN
                v_outs := v_outs || 'key'::pg_catalog.text;
                v_ids := v_ids || NULL::pg_catalog.uuid;
                CONTINUE;
            END IF;
            v_idem := it.tenant_id::pg_catalog.text || '/' || it.idem_key;
            IF it.idem_key IS NOT NULL AND v_seen ? v_idem THEN
                v_outs := v_outs || CASE WHEN v_seen -> v_idem ->> 'h' = it.body_hash
                                         THEN 'replayed' ELSE 'mismatch' END;
                v_ids := v_ids || (v_seen -> v_idem ->> 'l')::pg_catalog.uuid;
                CONTINUE;
            END IF;
            IF it.counts AND it.lead_limit IS NOT NULL AND v_count >= it.lead_limit THEN
                v_outs := v_outs || 'limit'::pg_catalog.text;
                v_ids := v_ids || NULL::pg_catalog.uuid;
                CONTINUE;
            END IF;
            IF it.idem_key IS NOT NULL THEN
                v_seen := v_seen || pg_catalog.jsonb_build_object(v_idem,
                              pg_catalog.jsonb_build_object('h', it.body_hash, 'l', it.id));
                v_claim := v_claim || it.ord;
            END IF;
            IF it.counts THEN
                v_count := v_count + 1;
                v_delta := v_delta + 1;
                -- Warn once when the month's usage crosses 80 %, and once at the limit.
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
        IF v_delta > 0 THEN
            v_dt := v_dt || pg_catalog.split_part(v_group, '/', 1)::pg_catalog.uuid;
            v_dm := v_dm || pg_catalog.split_part(v_group, '/', 2);
            v_dn := v_dn || v_delta;
        END IF;

        EXIT decide WHEN pg_catalog.cardinality(v_claim) = 0;
        -- The claims, in key order (two calls claiming overlapping keys wait
        -- on each other in one order). A claim waits on a transaction that
        -- holds the same key; if that one commits, the claim inserts nothing.
        WITH c AS (
            INSERT INTO public.idempotency_keys (tenant_id, key, body_hash, lead_id, created_at)
            SELECT i.tenant_id, i.idem_key, i.body_hash, i.id, i.updated_at
              FROM pg_catalog.jsonb_to_recordset(p_items) AS i(ord integer, tenant_id pg_catalog.uuid,
                       id pg_catalog.uuid, idem_key pg_catalog.text, body_hash pg_catalog.text,
                       updated_at pg_catalog.timestamptz)
             WHERE i.ord = ANY (v_claim)
             ORDER BY i.tenant_id, i.idem_key
                ON CONFLICT (tenant_id, key) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) INTO v_claimed FROM c;
        EXIT decide WHEN v_claimed = pg_catalog.cardinality(v_claim);
        IF v_attempt >= 3 THEN
            RAISE EXCEPTION 'idempotency keys of this ingest kept being claimed elsewhere';
        END IF;
        -- Undo this call's claims (nothing else is written yet) and decide
        -- again: the next read sees the key that was committed meanwhile.
        DELETE FROM public.idempotency_keys k
         USING pg_catalog.jsonb_to_recordset(p_items) AS i(ord integer, tenant_id pg_catalog.uuid, id pg_catalog.uuid,
                                                            idem_key pg_catalog.text)
         WHERE i.ord = ANY (v_claim)
           AND k.tenant_id = i.tenant_id AND k.key = i.idem_key AND k.lead_id = i.id;
    END LOOP;

    IF pg_catalog.cardinality(v_new) > 0 THEN
        -- The new leads, their timeline and audit entries and workflows, in
        -- one statement, before any lock: calls of one tenant write these
        -- side by side. Foreign keys are checked at the statement's end.
        WITH i AS MATERIALIZED (
            SELECT * FROM pg_catalog.jsonb_to_recordset(p_items) AS i(
                ord integer, tenant_id pg_catalog.uuid, month pg_catalog.text, id pg_catalog.uuid,
                name pg_catalog.text, email pg_catalog.text, phone pg_catalog.text,
                company pg_catalog.text, message pg_catalog.text, source pg_catalog.text,
                source_page pg_catalog.text, utm pg_catalog.jsonb, fields pg_catalog.jsonb, stage pg_catalog.text,
                spam boolean, spam_reason pg_catalog.text, created_at pg_catalog.timestamptz,
                updated_at pg_catalog.timestamptz, sla_due_at pg_catalog.timestamptz, at_risk_at pg_catalog.timestamptz,
                workspace_id pg_catalog.uuid, workflow_id pg_catalog.uuid, timeline_id pg_catalog.uuid, audit_id pg_catalog.uuid,
                actor_email pg_catalog.text, timeline pg_catalog.jsonb, audit pg_catalog.jsonb, event pg_catalog.jsonb)
             WHERE i.ord = ANY (v_new)
        ), l AS (
            INSERT INTO public.leads (tenant_id, id, name, email, phone, company, message, source,
                                      source_page, utm, fields, stage, assignee_id, spam,
                                      spam_reason, qual_category, qual_reason, created_at,
                                      updated_at, sla_due_at, at_risk_at, first_response_at,
                                      responded, workspace_id, import_key)
            SELECT i.tenant_id, i.id, i.name, i.email, i.phone, i.company, i.message, i.source,
                   i.source_page, i.utm, i.fields, i.stage, NULL, i.spam, i.spam_reason, NULL,
                   NULL, i.created_at, i.updated_at, i.sla_due_at, i.at_risk_at, NULL, false,
                   i.workspace_id, NULL
              FROM i
        ), le AS (
            INSERT INTO public.lead_events (tenant_id, id, lead_id, kind, actor_id, actor_email,
                                            data, created_at)
            SELECT i.tenant_id, i.timeline_id, i.id, 'created', NULL, i.actor_email, i.timeline,
                   i.updated_at
              FROM i
        ), a AS (
            INSERT INTO public.audit_events (tenant_id, id, actor_id, actor_email, action,
                                             resource, resource_id, changes, created_at)
            SELECT i.tenant_id, i.audit_id, NULL, i.actor_email, 'lead.create', 'lead',
                   i.id::pg_catalog.text, i.audit, i.updated_at
              FROM i
        )
        INSERT INTO public.workflows (tenant_id, id, lead_id, workspace_id, agent_id, status,
                                      created_at, updated_at)
        SELECT w.tenant_id, i.workflow_id, i.id, w.id, w.agent_id, 'queued',
               i.updated_at, i.updated_at
          FROM i JOIN public.workspaces w ON w.tenant_id = i.tenant_id AND w.id = i.workspace_id
         WHERE NOT i.spam AND w.strategy_active AND w.agent_id IS NOT NULL;
        -- Then each writing tenant's event-log lock, in tenant order, held to
        -- the commit, so a tenant's event ids commit in order (the inserts
        -- above gave the transaction its id before any event id is drawn,
        -- see 0016); and the events in arrival order, a usage.near_limit
        -- warning just before its lead's lead.created.
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(t.id::pg_catalog.text, 0))
           FROM (SELECT DISTINCT i.tenant_id AS id
                   FROM pg_catalog.jsonb_to_recordset(p_items) AS i(ord integer, tenant_id pg_catalog.uuid)
                  WHERE i.ord = ANY (v_new)
                  ORDER BY 1 OFFSET 0) t;
        IF p_wake_later THEN
            PERFORM pg_catalog.set_config('app.events_wake', 'later', true);
        END IF;
        WITH i AS MATERIALIZED (
            SELECT * FROM pg_catalog.jsonb_to_recordset(p_items) AS i(
                ord integer, tenant_id pg_catalog.uuid, month pg_catalog.text,
                updated_at pg_catalog.timestamptz, event pg_catalog.jsonb)
             WHERE i.ord = ANY (v_new)
        ), ins AS (
        INSERT INTO public.events (tenant_id, kind, data, created_at)
        SELECT e.tenant_id, e.kind, e.data, e.at FROM (
            SELECT i.ord, 1 AS sub, i.tenant_id, 'lead.created'::pg_catalog.text AS kind,
                   i.event AS data, i.updated_at AS at
              FROM i
            UNION ALL
            SELECT w.ord, 0, i.tenant_id, 'usage.near_limit',
                   pg_catalog.jsonb_build_object('leads_this_month', w.cnt, 'lead_limit', w.lim,
                                                 'month', i.month),
                   i.updated_at
              FROM ROWS FROM (pg_catalog.unnest(v_warn_ord), pg_catalog.unnest(v_warn_cnt),
                              pg_catalog.unnest(v_warn_lim)) AS w(ord, cnt, lim)
              JOIN i ON i.ord = w.ord
        ) e
        ORDER BY e.ord, e.sub
        RETURNING events.id, events.kind, events.data
        )
        SELECT coalesce(pg_catalog.array_agg((x.data -> 'lead' ->> 'id')::pg_catalog.uuid), '{}'),
               coalesce(pg_catalog.array_agg(x.id), '{}')
          INTO v_ev_lead, v_ev_id
          FROM ins x WHERE x.kind = 'lead.created';
        PERFORM pg_catalog.set_config('app.events_wake', '', true);
    END IF;

    -- The counters: a group with a limit was locked above, so adding is
    -- exact; one without is made or bumped here, in (tenant, month) order.
    IF pg_catalog.cardinality(v_dt) > 0 THEN
        INSERT INTO public.lead_usage AS u (tenant_id, month, count)
        SELECT d.t, d.m, d.n
          FROM ROWS FROM (pg_catalog.unnest(v_dt), pg_catalog.unnest(v_dm),
                          pg_catalog.unnest(v_dn)) AS d(t, m, n)
         ORDER BY 1, 2
            ON CONFLICT (tenant_id, month) DO UPDATE SET count = u.count + EXCLUDED.count;
    END IF;
    IF pg_catalog.cardinality(v_touch) > 0 THEN
        UPDATE public.api_keys k SET last_used_at = p_now
         WHERE k.tenant_id = ANY (v_tenants) AND k.id = ANY (v_key_ids)
           AND k.tenant_id::pg_catalog.text || '/' || k.id::pg_catalog.text = ANY (v_touch)
           AND v_state ->> k.tenant_id::pg_catalog.text = 'active'
           AND (k.last_used_at IS NULL OR k.last_used_at < p_now - interval '60 seconds');
    END IF;

    RETURN QUERY SELECT o.ord, o.outcome, o.lead_id, e.id
                   FROM ROWS FROM (pg_catalog.unnest(v_ords), pg_catalog.unnest(v_outs),
                                  pg_catalog.unnest(v_ids)) AS o(ord, outcome, lead_id)
                   LEFT JOIN ROWS FROM (pg_catalog.unnest(v_ev_lead), pg_catalog.unnest(v_ev_id))
                             AS e(lead, id) ON o.outcome = 'created' AND e.lead = o.lead_id;
END
$$;
REVOKE EXECUTE ON FUNCTION public.sb_ingest_batch(pg_catalog.timestamptz, pg_catalog.jsonb, boolean)
    FROM PUBLIC;

-- 0028's signature, for servers of the previous version during an upgrade:
-- the same work, announced at commit.
CREATE OR REPLACE FUNCTION public.sb_ingest_batch(p_now pg_catalog.timestamptz, p_items pg_catalog.jsonb)
RETURNS TABLE (ord integer, outcome pg_catalog.text, lead_id pg_catalog.uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT b.ord, b.outcome, b.lead_id FROM public.sb_ingest_batch(p_now, p_items, false) b
$$;
REVOKE EXECUTE ON FUNCTION public.sb_ingest_batch(pg_catalog.timestamptz, pg_catalog.jsonb) FROM PUBLIC;
