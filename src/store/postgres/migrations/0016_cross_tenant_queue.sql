-- The cross-tenant queue (GET /api/v1/leads) and the all-tenant event
-- stream (GET /api/v1/events), read under row-level security for each
-- visible tenant: no bypass, no SECURITY DEFINER function.
--
-- A transaction names the tenants it reads in app.tenant_ids (their ids,
-- comma-separated, transaction-local; the server sets it to the tenants the
-- caller may see). The SELECT-only policy below admits those tenants' rows.
-- Writes still need app.tenant_id (tenant_isolation is the only policy for
-- INSERT, UPDATE and DELETE), so a cross-tenant transaction can read and
-- never change anything.
--
-- The set is read through an uncorrelated `IN (SELECT unnest(...))`, which
-- PostgreSQL runs once per statement into a hash table ("hashed SubPlan"):
-- a constant-time probe per row, and never an index condition. An
-- `= ANY (array)` form was tried first: the planner then used the policy's
-- array as an index condition on leads_queue and sorted every visible
-- overdue lead (5.8 s at 1M leads for a generic plan), where walking an
-- index in the list's order reads 51 rows. With the policy opaque, the
-- query's own shape picks the index (see store/queue.rs).
CREATE FUNCTION public.sb_tenant_set() RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT pg_catalog.string_to_array(
        NULLIF(pg_catalog.current_setting('app.tenant_ids', true), ''), ',')::uuid[]
$$;

CREATE POLICY tenant_set_read ON leads FOR SELECT
    USING (tenant_id IN (SELECT pg_catalog.unnest(public.sb_tenant_set())));
CREATE POLICY tenant_set_read ON events FOR SELECT
    USING (tenant_id IN (SELECT pg_catalog.unnest(public.sb_tenant_set())));

-- Over many tenants the queue walks these in the list's order (the tenant-led
-- indexes serve one tenant, and the merge over a few).
CREATE INDEX leads_due ON leads(spam, responded, sla_due_at, id);
CREATE INDEX leads_recent ON leads(spam, id);
-- The all-tenant stream reads the log in id order across tenants.
CREATE INDEX events_id ON events(id);

-- An event's transaction has its transaction id before it draws the event's
-- id. The all-tenant stream waits for the transactions in progress when it
-- reads the sequence (pg_current_snapshot) before reading up to it, so no
-- smaller id can commit after a larger one was read; a transaction whose
-- first write is this insert would draw the id before it had a transaction
-- id, and could slip past that wait.
CREATE OR REPLACE FUNCTION public.sb_append_event(p_tenant uuid, p_kind text, p_data jsonb,
                                                  p_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_tenant::text, 0));
    PERFORM pg_catalog.pg_current_xact_id();
    INSERT INTO public.events (tenant_id, kind, data, created_at)
        VALUES (p_tenant, p_kind, p_data, p_at) RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
