-- Form ingest at the database's speed (issue 17).
--
-- 1. The event log's two row triggers (0002's NOTIFY, 0006's webhook
--    fan-out) become one statement trigger over the inserted rows: a
--    statement that appends many events pays for one trigger call, and the
--    notifications and deliveries are the same (one per event, in id order).
-- 2. sb_ingest_batch replaces sb_ingest_leads (0011, 0022; kept for servers
--    of the previous version during an upgrade, no longer called): the form
--    ingests a server has waiting, of any number of tenants, decided and
--    written in one call, set-based. See the function's own comment.

CREATE FUNCTION public.sb_events_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    -- Live streams in other processes learn of new events at commit.
    -- Payload "<tenant id>:<event id>", in id order.
    PERFORM pg_catalog.pg_notify('switchboard_events',
                                 n.tenant_id::pg_catalog.text || ':' || n.id::pg_catalog.text)
       FROM (SELECT e.tenant_id, e.id FROM new_events e ORDER BY e.id OFFSET 0) n;
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
DROP TRIGGER events_notify ON public.events;
DROP TRIGGER events_webhook_fanout ON public.events;
CREATE TRIGGER events_inserted AFTER INSERT ON public.events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION public.sb_events_inserted();
REVOKE EXECUTE ON FUNCTION public.sb_events_inserted() FROM PUBLIC;

-- The ingests a server has waiting, of one or many tenants, in one call and
-- one transaction. p_items holds one object per lead: its place in the call
-- (ord, unique), its tenant and month, the API key it came with, its
-- idempotency key and body hash, the lead's columns, the ids of its rows,
-- and its tier's limit. One row comes back per item:
--   created    the lead and its timeline entry, audit entry, event and
--              (when its workspace runs an agent) workflow were written;
--   replayed   the idempotency key was seen, with this body: lead_id is the
--              first lead (committed, or earlier in this call);
--   mismatch   the idempotency key was seen with another body;
--   limit      the tenant's leads this month reached its tier's limit;
--   key        the API key is revoked, expired or not the tenant's;
--   suspended  the tenant is suspended;
--   deleted    the tenant is being deleted, or is gone.
--
-- SECURITY DEFINER, because one statement writes the rows of several
-- tenants, which tenant_isolation (one app.tenant_id a transaction) cannot
-- admit. It is narrow: it writes only into the tenant each item names, and
-- only with an API key of that tenant that is valid at p_now, read here;
-- every row it writes carries that tenant's id. (The application role could
-- write into any tenant before, by setting app.tenant_id; it gains nothing.)
--
-- Locks, always in tenant order, so two calls never wait on each other in a
-- cycle: the counter rows of the (tenant, month) groups that have a lead
-- limit, read and locked at the start (each decision depends on the count);
-- then each writing tenant's event-log lock (what sb_append_event takes);
-- the counters of tenants without a limit are only incremented at the end,
-- so their lock is held from there to the commit.
--
-- Decisions are made in one pass with no SQL inside it, against one read of
-- the keys and one of the idempotency keys. If another transaction commits
-- one of the call's idempotency keys between that read and the claim (the
-- claim waits for it, then inserts nothing), the call's claims are undone
-- and the decisions made again on a fresh read, which now sees that key.
CREATE FUNCTION public.sb_ingest_batch(p_now pg_catalog.timestamptz, p_items pg_catalog.jsonb)
RETURNS TABLE (ord integer, outcome pg_catalog.text, lead_id pg_catalog.uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_tenants pg_catalog.uuid[];
    v_state pg_catalog.jsonb;             -- tenant -> its status, 'deleted' when it is being deleted
    v_counts pg_catalog.jsonb;            -- 'tenant/month' -> count, for the groups with a limit
    v_ok_keys pg_catalog.text[];  -- 'tenant/key' of the valid keys
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
    SELECT pg_catalog.array_agg(DISTINCT i.tenant_id ORDER BY i.tenant_id) INTO v_tenants
      FROM pg_catalog.jsonb_to_recordset(p_items) AS i(tenant_id pg_catalog.uuid);
    v_tenants := coalesce(v_tenants, '{}');
    SELECT coalesce(pg_catalog.jsonb_object_agg(t.id::pg_catalog.text,
                        CASE WHEN t.deleting_at IS NOT NULL THEN 'deleted' ELSE t.status END),
                    '{}')
      INTO v_state FROM public.tenants t WHERE t.id = ANY (v_tenants);

    -- The counter rows of the groups with a limit: made if missing, then
    -- read and locked in (tenant, month) order.
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

    -- Each distinct key checked once, against the tenant the item names.
    SELECT coalesce(pg_catalog.array_agg(k.tenant_id::pg_catalog.text || '/' || k.id::pg_catalog.text),
                    '{}')
      INTO v_ok_keys FROM public.api_keys k
     WHERE k.tenant_id = ANY (v_tenants)
       AND k.id = ANY (ARRAY(SELECT DISTINCT i.key_id
                               FROM pg_catalog.jsonb_to_recordset(p_items) AS i(key_id pg_catalog.uuid)))
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
        -- Each writing tenant's event-log lock, in tenant order, held to the
        -- commit (so a tenant's event ids commit in order), and the
        -- transaction id before any event id is drawn (see 0016).
        FOR v_tenant IN
            SELECT DISTINCT i.tenant_id
              FROM pg_catalog.jsonb_to_recordset(p_items) AS i(ord integer, tenant_id pg_catalog.uuid)
             WHERE i.ord = ANY (v_new)
             ORDER BY 1
        LOOP
            PERFORM pg_catalog.pg_advisory_xact_lock(
                pg_catalog.hashtextextended(v_tenant::pg_catalog.text, 0));
        END LOOP;
        PERFORM pg_catalog.pg_current_xact_id();
        -- Every row of the new leads in one statement: the leads, their
        -- timeline and audit entries, workflows, and the events in arrival
        -- order (a usage.near_limit warning just before its lead's
        -- lead.created). Foreign keys are checked at the statement's end.
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
        ), wf AS (
            INSERT INTO public.workflows (tenant_id, id, lead_id, workspace_id, agent_id, status,
                                          created_at, updated_at)
            SELECT w.tenant_id, i.workflow_id, i.id, w.id, w.agent_id, 'queued',
                   i.updated_at, i.updated_at
              FROM i JOIN public.workspaces w ON w.tenant_id = i.tenant_id AND w.id = i.workspace_id
             WHERE NOT i.spam AND w.strategy_active AND w.agent_id IS NOT NULL
        )
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
        ORDER BY e.ord, e.sub;
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
    -- Once a minute is enough for "last used".
    UPDATE public.api_keys k SET last_used_at = p_now
     WHERE k.tenant_id = ANY (v_tenants) AND k.revoked_at IS NULL
       AND v_state ->> k.tenant_id::pg_catalog.text = 'active'
       AND k.tenant_id::pg_catalog.text || '/' || k.id::pg_catalog.text = ANY (v_ok_keys)
       AND k.id = ANY (ARRAY(SELECT DISTINCT i.key_id
                               FROM pg_catalog.jsonb_to_recordset(p_items) AS i(key_id pg_catalog.uuid)))
       AND (k.last_used_at IS NULL OR k.last_used_at < p_now - interval '60 seconds');

    RETURN QUERY SELECT o.ord, o.outcome, o.lead_id
                   FROM ROWS FROM (pg_catalog.unnest(v_ords), pg_catalog.unnest(v_outs),
                                  pg_catalog.unnest(v_ids)) AS o(ord, outcome, lead_id);
END
$$;
REVOKE EXECUTE ON FUNCTION public.sb_ingest_batch(pg_catalog.timestamptz, pg_catalog.jsonb) FROM PUBLIC;
