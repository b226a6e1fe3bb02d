-- Sketch: one transaction for the groups of several tenants (the 10-tenant
-- case, where every per-tenant group holds one lead). Tenants are taken in
-- uuid order, so two such calls lock counter rows and event-log locks in the
-- same order and cannot deadlock; each tenant's part runs under its own
-- app.tenant_id (set by sb_ingest_leads_v2), so RLS still confines it.
-- p_groups: [{"tenant": uuid, "month": text, "items": [...]}, ...]
CREATE OR REPLACE FUNCTION public.sb_ingest_groups(p_now timestamptz, p_groups jsonb)
RETURNS TABLE (tenant_id uuid, ord integer, outcome pg_catalog.text, lead_id uuid)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public AS $$
DECLARE g record;
BEGIN
    FOR g IN SELECT * FROM pg_catalog.jsonb_to_recordset(p_groups)
                      AS x(tenant uuid, month pg_catalog.text, items jsonb)
             ORDER BY x.tenant, x.month
    LOOP
        RETURN QUERY SELECT g.tenant, r.ord, r.outcome, r.lead_id
                       FROM public.sb_ingest_leads_v2(g.tenant, g.month, p_now, g.items) r;
    END LOOP;
    -- Leaves app.tenant_id at the last tenant until the commit.
END
$$;
