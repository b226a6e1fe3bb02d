-- Webhook deliveries are claimed fairly across tenants: each tenant's
-- oldest due delivery first, then each one's second, and so on, so one
-- tenant's backlog cannot delay every other tenant's webhooks. The ranking
-- reads the due rows without locks; the rows taken are then locked, and any
-- another server holds are skipped, as before.
CREATE OR REPLACE FUNCTION public.sb_claim_webhook_deliveries(p_now timestamptz, p_lease timestamptz,
                                                              p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, webhook_id uuid, attempts integer,
               created_at timestamptz, url text, secret text, event_id bigint,
               kind text, data jsonb, event_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH ranked AS (
        SELECT d.tenant_id, d.id, d.next_attempt_at,
               pg_catalog.row_number() OVER (PARTITION BY d.tenant_id
                                             ORDER BY d.next_attempt_at, d.id) AS turn
          FROM public.webhook_deliveries d
          JOIN public.webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= p_now AND w.enabled
    ), due AS (
        SELECT d.tenant_id, d.id FROM public.webhook_deliveries d
          JOIN ranked r ON r.tenant_id = d.tenant_id AND r.id = d.id
         WHERE d.status = 'pending' AND d.next_attempt_at <= p_now
         ORDER BY r.turn, r.next_attempt_at LIMIT p_limit
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
