-- The SECURITY DEFINER functions of 0002–0007, redefined with the same
-- bodies, pinned to `search_path = pg_catalog, public` (as 0008's already
-- are) and with every table, type and collation they name schema-qualified.
--
-- Why both: a search_path that does not list pg_temp still searches the
-- caller's temporary schema FIRST for relations and types (PostgreSQL's
-- documented rule; functions and operators are never looked up there). So
-- with the path pinned, an unqualified `FROM memberships` or `::uuid` would
-- read a temporary table or type the calling role made. Qualified names
-- leave the path to resolve only functions and operators, which it finds in
-- pg_catalog before public (and `switchboard migrate` revokes CREATE on
-- public from PUBLIC, so nobody but the owner adds to it).
--
-- CREATE OR REPLACE keeps each function's owner and grants (EXECUTE for the
-- application role only; PUBLIC's was revoked where it was created).
-- Invoker functions (sb_notify_event, sb_append_event, sb_webhook_fanout)
-- run with the caller's own rights and are left as they are.

CREATE OR REPLACE FUNCTION public.sb_tenant_usage(p_tenant uuid, OUT users bigint,
                                                  OUT leads_this_month bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT (SELECT count(*) FROM public.memberships m WHERE m.tenant_id = p_tenant),
           (SELECT coalesce(max(u.count), 0) FROM public.lead_usage u
             WHERE u.tenant_id = p_tenant
               AND u.month = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'))
$$;

CREATE OR REPLACE FUNCTION public.sb_member_tenants(p_user uuid)
RETURNS TABLE (tenant_id uuid, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT m.tenant_id, m.role FROM public.memberships m WHERE m.user_id = p_user
$$;

CREATE OR REPLACE FUNCTION public.sb_api_key_owner(p_key_hash text)
RETURNS TABLE (tenant_id uuid, id uuid, revoked boolean, workspace_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.tenant_id, k.id, k.revoked_at IS NOT NULL, k.workspace_id FROM public.api_keys k
     WHERE k.key_hash = p_key_hash AND k.scope = 'leads:ingest'
$$;

CREATE OR REPLACE FUNCTION public.sb_invitation_by_token(p_token_hash text)
RETURNS TABLE (tenant_id uuid, id uuid, email text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT i.tenant_id, i.id, i.email FROM public.invitations i
     WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL
       AND i.revoked_at IS NULL AND i.expires_at > now()
$$;

CREATE OR REPLACE FUNCTION public.sb_expire_idempotency_keys(p_before timestamptz) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.idempotency_keys WHERE created_at < p_before RETURNING 1)
    SELECT count(*) FROM gone
$$;

CREATE OR REPLACE FUNCTION public.sb_claim_sla_breaches(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, name text, sla_due_at timestamptz,
               tenant_name text, settings jsonb)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH due AS (
        SELECT l.tenant_id, l.id FROM public.leads l
         WHERE NOT l.responded AND NOT l.spam AND l.sla_breached_alerted_at IS NULL
           AND l.sla_due_at <= p_now
         ORDER BY l.sla_due_at LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE public.leads l SET sla_breached_alerted_at = p_now,
               sla_at_risk_alerted_at = coalesce(l.sla_at_risk_alerted_at, p_now)
          FROM due WHERE l.tenant_id = due.tenant_id AND l.id = due.id
        RETURNING l.tenant_id, l.id, l.name, l.sla_due_at
    )
    SELECT c.tenant_id, c.id, c.name, c.sla_due_at, t.name, t.settings
      FROM claimed c JOIN public.tenants t ON t.id = c.tenant_id
     ORDER BY c.tenant_id, c.id
$$;

CREATE OR REPLACE FUNCTION public.sb_claim_sla_risks(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, name text, sla_due_at timestamptz,
               tenant_name text, settings jsonb)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH due AS (
        SELECT l.tenant_id, l.id FROM public.leads l
         WHERE NOT l.responded AND NOT l.spam AND l.sla_at_risk_alerted_at IS NULL
           AND l.at_risk_at <= p_now
         ORDER BY l.at_risk_at LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE public.leads l SET sla_at_risk_alerted_at = p_now
          FROM due WHERE l.tenant_id = due.tenant_id AND l.id = due.id
        RETURNING l.tenant_id, l.id, l.name, l.sla_due_at
    )
    SELECT c.tenant_id, c.id, c.name, c.sla_due_at, t.name, t.settings
      FROM claimed c JOIN public.tenants t ON t.id = c.tenant_id
     ORDER BY c.tenant_id, c.id
$$;

CREATE OR REPLACE FUNCTION public.sb_workspace_agent_links(p_workspace uuid)
RETURNS TABLE (workspace_id uuid, agent_name text, link text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT w.id, a.name,
           CASE WHEN w.agent_id IS NULL THEN 'none'
                WHEN a.id IS NULL THEN 'deleted'
                WHEN a.tenant_id = w.tenant_id
                  OR (a.sharing = 'global' AND t.is_platform)
                  OR (a.sharing = 'selective' AND EXISTS (SELECT 1 FROM public.agent_shares s
                        WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id
                          AND s.shared_tenant_id = w.tenant_id)) THEN 'ok'
                ELSE 'unshared' END
      FROM public.workspaces w
      LEFT JOIN public.agents a ON a.tenant_id = w.agent_tenant_id AND a.id = w.agent_id
      LEFT JOIN public.tenants t ON t.id = a.tenant_id
     WHERE w.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::pg_catalog.uuid
       AND (p_workspace IS NULL OR w.id = p_workspace)
$$;

CREATE OR REPLACE FUNCTION public.sb_claim_workflow(p_now timestamptz, p_lease_until timestamptz)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_tenant pg_catalog.uuid;
    v_id pg_catalog.uuid;
BEGIN
    SELECT w.tenant_id, w.id INTO v_tenant, v_id
      FROM public.workflows w
      JOIN public.tenants t ON t.id = w.tenant_id
     WHERE w.status = 'queued' AND t.status = 'active'
       AND (SELECT count(*) FROM public.workflows r
             WHERE r.tenant_id = w.tenant_id AND r.status = 'running')
           < CASE t.tier WHEN 'starter' THEN 1 WHEN 'pro' THEN 2 ELSE 4 END
     ORDER BY (SELECT count(*) FROM public.workflows r
                WHERE r.tenant_id = w.tenant_id AND r.status = 'running'), w.created_at
     LIMIT 1
       FOR UPDATE OF w SKIP LOCKED;
    IF v_id IS NULL THEN
        RETURN;
    END IF;
    UPDATE public.workflows w SET status = 'running', attempts = w.attempts + 1,
           lease_until = p_lease_until, updated_at = p_now
     WHERE w.tenant_id = v_tenant AND w.id = v_id;
    tenant_id := v_tenant;
    id := v_id;
    RETURN NEXT;
END
$$;

CREATE OR REPLACE FUNCTION public.sb_recover_workflows(p_now timestamptz, p_max_attempts integer)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.workflows w
       SET status = CASE WHEN w.attempts >= p_max_attempts THEN 'failed' ELSE 'queued' END,
           error = CASE WHEN w.attempts >= p_max_attempts
                        THEN 'interrupted ' || w.attempts || ' times (the server stopped mid-run); retry it'
                        ELSE w.error END,
           lease_until = NULL, updated_at = p_now
     WHERE w.status = 'running' AND w.lease_until < p_now
    RETURNING w.tenant_id
$$;

CREATE OR REPLACE FUNCTION public.sb_analytics(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                               p_now timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH l AS (
        SELECT source, stage, spam, qual_category, created_at, first_response_at, sla_due_at
          FROM public.leads
         WHERE (p_tenant IS NULL OR tenant_id = p_tenant)
           AND created_at >= p_from AND created_at < p_to
    ), ham AS (SELECT * FROM l WHERE NOT spam)
    SELECT jsonb_build_object(
        'leads', (SELECT count(*) FROM l),
        'spam', (SELECT count(*) FROM l WHERE spam),
        'by_day', coalesce((SELECT jsonb_agg(jsonb_build_object('day', d, 'leads', n, 'spam', s)
                                             ORDER BY d)
                              FROM (SELECT (created_at AT TIME ZONE 'UTC')::pg_catalog.date AS d,
                                           count(*) AS n, count(*) FILTER (WHERE spam) AS s
                                      FROM l GROUP BY 1) x), '[]'::pg_catalog.jsonb),
        'by_source', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                                ORDER BY n DESC, name COLLATE pg_catalog."C")
                                 FROM (SELECT source AS name, count(*) AS n FROM l GROUP BY 1) x),
                              '[]'::pg_catalog.jsonb),
        'by_stage', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                               ORDER BY n DESC, name COLLATE pg_catalog."C")
                                FROM (SELECT stage AS name, count(*) AS n FROM ham GROUP BY 1) x),
                             '[]'::pg_catalog.jsonb),
        'qualification', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'count', n)
                                                    ORDER BY n DESC, name COLLATE pg_catalog."C")
                                     FROM (SELECT coalesce(qual_category, 'unqualified') AS name,
                                                  count(*) AS n FROM ham GROUP BY 1) x),
                                  '[]'::pg_catalog.jsonb),
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

CREATE OR REPLACE FUNCTION public.sb_tenant_overview(p_month text, p_now timestamptz,
                                                     p_since timestamptz)
RETURNS TABLE (id uuid, name text, slug text, tier text, status text, month_leads bigint,
               overdue bigint, met bigint, missed bigint, awaiting bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT t.id, t.name, t.slug, t.tier, t.status,
           coalesce((SELECT u.count::pg_catalog.int8 FROM public.lead_usage u
                      WHERE u.tenant_id = t.id AND u.month = p_month), 0),
           (SELECT count(*) FROM public.leads l WHERE l.tenant_id = t.id AND NOT l.spam
               AND NOT l.responded AND l.sla_due_at < p_now),
           (SELECT count(*) FROM public.leads l WHERE l.tenant_id = t.id AND NOT l.spam
               AND l.created_at >= p_since
               AND l.first_response_at IS NOT NULL AND l.first_response_at <= l.sla_due_at),
           (SELECT count(*) FROM public.leads l WHERE l.tenant_id = t.id AND NOT l.spam
               AND l.created_at >= p_since
               AND (l.first_response_at > l.sla_due_at
                    OR (l.first_response_at IS NULL AND l.sla_due_at < p_now))),
           (SELECT count(*) FROM public.workflows w WHERE w.tenant_id = t.id
               AND w.status = 'awaiting_approval')
      FROM public.tenants t
     WHERE NOT t.is_platform
     ORDER BY t.name COLLATE pg_catalog."C"
$$;

CREATE OR REPLACE FUNCTION public.sb_claim_webhook_deliveries(p_now timestamptz, p_lease timestamptz,
                                                              p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, webhook_id uuid, attempts integer,
               created_at timestamptz, url text, secret text, event_id bigint,
               kind text, data jsonb, event_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH due AS (
        SELECT d.tenant_id, d.id FROM public.webhook_deliveries d
          JOIN public.webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= p_now AND w.enabled
         ORDER BY d.next_attempt_at LIMIT p_limit
           FOR UPDATE OF d SKIP LOCKED
    ), leased AS (
        UPDATE public.webhook_deliveries d SET next_attempt_at = p_lease
          FROM due WHERE d.tenant_id = due.tenant_id AND d.id = due.id
        RETURNING d.tenant_id, d.id, d.webhook_id, d.attempts, d.created_at, d.event_id
    )
    SELECT l.tenant_id, l.id, l.webhook_id, l.attempts, l.created_at, w.url, w.secret,
           e.id, e.kind, e.data, e.created_at
      FROM leased l
      JOIN public.webhook_endpoints w ON w.tenant_id = l.tenant_id AND w.id = l.webhook_id
      JOIN public.events e ON e.tenant_id = l.tenant_id AND e.id = l.event_id
$$;

CREATE OR REPLACE FUNCTION public.sb_claim_outbox(p_now timestamptz, p_lease timestamptz,
                                                  p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, recipient text, subject text, body text, attempts integer)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH due AS (
        SELECT o.tenant_id, o.id FROM public.outbox o
         WHERE o.sent_at IS NULL AND o.recipient IS NOT NULL
           AND coalesce(o.next_attempt_at, o.created_at) <= p_now
         ORDER BY o.created_at LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    )
    UPDATE public.outbox o SET next_attempt_at = p_lease
      FROM due WHERE o.tenant_id = due.tenant_id AND o.id = due.id
    RETURNING o.tenant_id, o.id, o.recipient, o.subject, o.body, o.attempts
$$;

CREATE OR REPLACE FUNCTION public.sb_purge_outbound(p_before timestamptz, p_limit integer)
RETURNS TABLE (deliveries bigint, mails bigint)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH old_deliveries AS (
        SELECT d.tenant_id, d.id FROM public.webhook_deliveries d
         WHERE d.status IN ('delivered', 'failed') AND d.created_at < p_before
           AND CASE WHEN d.status = 'delivered' THEN d.delivered_at < p_before
                    ELSE NOT EXISTS (SELECT 1 FROM public.webhook_attempts a
                                      WHERE a.tenant_id = d.tenant_id
                                        AND a.delivery_id = d.id
                                        AND a.attempted_at >= p_before)
               END
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), gone_deliveries AS (
        DELETE FROM public.webhook_deliveries d USING old_deliveries o
         WHERE d.tenant_id = o.tenant_id AND d.id = o.id
        RETURNING 1
    ), old_mail AS (
        SELECT o.tenant_id, o.id FROM public.outbox o
         WHERE o.sent_at IS NOT NULL AND o.sent_at < p_before
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), gone_mail AS (
        DELETE FROM public.outbox o USING old_mail m
         WHERE o.tenant_id = m.tenant_id AND o.id = m.id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone_deliveries), (SELECT count(*) FROM gone_mail)
$$;
