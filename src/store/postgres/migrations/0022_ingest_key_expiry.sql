-- A rotated key past its overlap is refused inside the ingest write too
-- (issue 14), as a revoked one already was: sb_ingest_leads (0011) is the
-- same but for the key check, which now also requires that the key has not
-- expired at the group's time (p_now, the server's clock that stamps the
-- leads). The read before the write checked it already; this closes the
-- window in which a key expires (or is rotated with no overlap) between
-- that read and the commit.
CREATE OR REPLACE FUNCTION public.sb_ingest_leads(p_tenant uuid, p_month pg_catalog.text, p_now timestamptz,
                                       p_items jsonb)
RETURNS TABLE (ord integer, outcome pg_catalog.text, lead_id uuid)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public AS $$
DECLARE
    v_status pg_catalog.text;
    v_count integer;
    v_near integer;
    v_hash pg_catalog.text;
    v_seen uuid;
    it record;
BEGIN
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

    FOR it IN
        SELECT * FROM pg_catalog.jsonb_to_recordset(p_items) AS i(
            ord integer, id pg_catalog.uuid, key_id pg_catalog.uuid,
            idem_key pg_catalog.text, body_hash pg_catalog.text, name pg_catalog.text,
            email pg_catalog.text, phone pg_catalog.text, company pg_catalog.text,
            message pg_catalog.text, source pg_catalog.text, source_page pg_catalog.text,
            utm pg_catalog.jsonb, fields pg_catalog.jsonb, stage pg_catalog.text, spam boolean,
            spam_reason pg_catalog.text, created_at pg_catalog.timestamptz,
            updated_at pg_catalog.timestamptz, sla_due_at pg_catalog.timestamptz,
            at_risk_at pg_catalog.timestamptz, workspace_id pg_catalog.uuid,
            workflow_id pg_catalog.uuid, timeline_id pg_catalog.uuid, audit_id pg_catalog.uuid,
            actor_email pg_catalog.text, counts boolean, lead_limit integer,
            timeline pg_catalog.jsonb, audit pg_catalog.jsonb, event pg_catalog.jsonb)
        ORDER BY 1
    LOOP
        ord := it.ord;
        lead_id := NULL;
        IF NOT EXISTS (SELECT 1 FROM public.api_keys k WHERE k.tenant_id = p_tenant
                          AND k.id = it.key_id AND k.revoked_at IS NULL
                          AND (k.expires_at IS NULL OR k.expires_at > p_now)) THEN
            outcome := 'key';
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- A key seen before (committed, or earlier in this group) replays.
        IF it.idem_key IS NOT NULL THEN
            SELECT k.body_hash, k.lead_id INTO v_hash, v_seen FROM public.idempotency_keys k
             WHERE k.tenant_id = p_tenant AND k.key = it.idem_key;
            IF FOUND THEN
                outcome := CASE WHEN v_hash = it.body_hash THEN 'replayed' ELSE 'mismatch' END;
                lead_id := v_seen;
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        IF it.counts AND it.lead_limit IS NOT NULL AND v_count >= it.lead_limit THEN
            outcome := 'limit';
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- Waits on another process's transaction holding the same key: its
        -- commit makes this a replay, its rollback lets this claim it.
        IF it.idem_key IS NOT NULL THEN
            INSERT INTO public.idempotency_keys (tenant_id, key, body_hash, lead_id, created_at)
                VALUES (p_tenant, it.idem_key, it.body_hash, it.id, it.updated_at)
                ON CONFLICT (tenant_id, key) DO NOTHING;
            IF NOT FOUND THEN
                SELECT k.body_hash, k.lead_id INTO v_hash, v_seen FROM public.idempotency_keys k
                 WHERE k.tenant_id = p_tenant AND k.key = it.idem_key;
                outcome := CASE WHEN v_hash = it.body_hash THEN 'replayed' ELSE 'mismatch' END;
                lead_id := v_seen;
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        INSERT INTO public.leads (tenant_id, id, name, email, phone, company, message, source,
                                  source_page, utm, fields, stage, assignee_id, spam,
                                  spam_reason, qual_category, qual_reason, created_at,
                                  updated_at, sla_due_at, at_risk_at, first_response_at,
                                  responded, workspace_id, import_key)
            VALUES (p_tenant, it.id, it.name, it.email, it.phone, it.company, it.message,
                    it.source, it.source_page, it.utm, it.fields, it.stage, NULL, it.spam,
                    it.spam_reason, NULL, NULL, it.created_at, it.updated_at, it.sla_due_at,
                    it.at_risk_at, NULL, false, it.workspace_id, NULL);
        INSERT INTO public.lead_events (tenant_id, id, lead_id, kind, actor_id, actor_email,
                                        data, created_at)
            VALUES (p_tenant, it.timeline_id, it.id, 'created', NULL, it.actor_email, it.timeline,
                    it.updated_at);
        INSERT INTO public.audit_events (tenant_id, id, actor_id, actor_email, action,
                                         resource, resource_id, changes, created_at)
            VALUES (p_tenant, it.audit_id, NULL, it.actor_email, 'lead.create', 'lead', it.id::pg_catalog.text,
                    it.audit, it.updated_at);
        IF it.counts THEN
            v_count := v_count + 1;
            -- Warn once when the month's usage crosses 80 %, and once at the limit.
            IF it.lead_limit IS NOT NULL THEN
                v_near := (it.lead_limit * 4 + 4) / 5;
                IF v_count = v_near OR v_count = it.lead_limit THEN
                    PERFORM public.sb_append_event(p_tenant, 'usage.near_limit',
                        pg_catalog.jsonb_build_object('leads_this_month', v_count,
                            'lead_limit', it.lead_limit, 'month', p_month),
                        it.updated_at);
                END IF;
            END IF;
        END IF;
        PERFORM public.sb_append_event(p_tenant, 'lead.created', it.event, it.updated_at);
        IF it.workspace_id IS NOT NULL AND NOT it.spam THEN
            INSERT INTO public.workflows (tenant_id, id, lead_id, workspace_id, agent_id, status,
                                          created_at, updated_at)
            SELECT w.tenant_id, it.workflow_id, it.id, w.id, w.agent_id, 'queued',
                   it.updated_at, it.updated_at
              FROM public.workspaces w
             WHERE w.tenant_id = p_tenant AND w.id = it.workspace_id AND w.strategy_active
               AND w.agent_id IS NOT NULL;
        END IF;
        outcome := 'created';
        lead_id := it.id;
        RETURN NEXT;
    END LOOP;

    UPDATE public.lead_usage u SET count = v_count
     WHERE u.tenant_id = p_tenant AND u.month = p_month AND u.count <> v_count;
    -- Once a minute is enough for "last used".
    UPDATE public.api_keys k SET last_used_at = p_now
     WHERE k.tenant_id = p_tenant AND k.revoked_at IS NULL
       AND k.id IN (SELECT i.key_id FROM pg_catalog.jsonb_to_recordset(p_items)
                                        AS i(key_id pg_catalog.uuid))
       AND (k.last_used_at IS NULL OR k.last_used_at < p_now - interval '60 seconds');
END
$$;
