-- The agent library (issue 19), the same data as the SQLite store's
-- 0016_agent_library.sql: tags and a category on every agent, how often and
-- when it last answered, and the record of which starter agents the
-- platform tenant was seeded with (each seeded once for the life of the
-- database; a deleted one stays deleted).

ALTER TABLE agents
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN category text,
    ADD COLUMN use_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_used_at timestamptz;

-- Tenant-owned like every table: RLS as in 0001 (`tenant_isolation`, and
-- `owner_functions` for the owner's SECURITY DEFINER functions).
CREATE TABLE agent_library_seeds (
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key       text NOT NULL,
    seeded_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
ALTER TABLE agent_library_seeds ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_library_seeds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON agent_library_seeds
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY owner_functions ON agent_library_seeds TO CURRENT_USER USING (true) WITH CHECK (true);

-- Counts one answer of an agent used by the transaction's tenant
-- (app.tenant_id). A tenant using a global or shared agent may read the
-- owner's row (the `shared_read` policies of 0003) but not write it: writes
-- stay under `tenant_isolation`, which is what keeps shared agents
-- read-only. So this narrow function does the one write a user of the
-- agent needs, as the owner. Why it is safe:
--   * it changes two columns only, use_count (by exactly one) and
--     last_used_at, never the agent's name, prompt, sharing or versions;
--   * only for an agent the calling tenant may use: its own, a global one
--     of the platform tenant, or a selective one shared with it (the same
--     rule as the store's queries and the shared_read policies), so it
--     cannot touch, or probe, another tenant's private agents;
--   * it returns only whether it counted, which the caller could learn by
--     reading the agent anyway.
-- p_at is the store's time (milliseconds), like every other time it writes.
CREATE FUNCTION public.sb_record_agent_use(p_owner uuid, p_agent uuid, p_at timestamptz)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH used AS (
        UPDATE public.agents a
           SET use_count = a.use_count + 1, last_used_at = p_at
         WHERE a.tenant_id = p_owner AND a.id = p_agent
           AND (a.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::pg_catalog.uuid
             OR (a.sharing = 'global'
                 AND EXISTS (SELECT 1 FROM public.tenants t
                              WHERE t.id = a.tenant_id AND t.is_platform))
             OR (a.sharing = 'selective'
                 AND EXISTS (SELECT 1 FROM public.agent_shares s
                              WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id
                                AND s.shared_tenant_id = NULLIF(
                                    current_setting('app.tenant_id', true), '')::pg_catalog.uuid)))
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM used)
$$;

REVOKE ALL ON FUNCTION public.sb_record_agent_use(uuid, uuid, timestamptz) FROM PUBLIC;
