-- Prototype: the two per-row AFTER INSERT triggers on events (0002 notify,
-- 0006 webhook fan-out) as one statement-level trigger over the transition
-- table. Same notifications (one per event, in id order) and same deliveries.
CREATE OR REPLACE FUNCTION public.sb_events_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('switchboard_events',
                                 n.tenant_id::pg_catalog.text || ':' || n.id::pg_catalog.text)
       FROM (SELECT e.tenant_id, e.id FROM new_events e ORDER BY e.id OFFSET 0) n;
    INSERT INTO public.webhook_deliveries (tenant_id, id, webhook_id, event_id, event_kind,
                                           next_attempt_at, created_at)
    SELECT n.tenant_id, pg_catalog.gen_random_uuid(), w.id, n.id, n.kind, n.created_at, n.created_at
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
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION public.sb_events_inserted();
