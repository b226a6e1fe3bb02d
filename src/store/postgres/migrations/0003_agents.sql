-- Agents with immutable versions and sharing; workspaces (channels) that
-- link an agent; API keys and leads bound to a workspace. The same data as
-- the SQLite store's 0003_agents.sql.
--
-- Row-level security, as in 0001: every new table is tenant-owned, led by
-- tenant_id, ENABLE + FORCE RLS, the `tenant_isolation` policy (reads and
-- writes of the transaction's tenant only) and `owner_functions` for the
-- owner's SECURITY DEFINER functions.
--
-- Agents are the one place a tenant may read another tenant's rows: global
-- agents of the platform tenant, and selective ones shared with it. That is
-- the `shared_read` policy below, FOR SELECT only: permissive policies are
-- OR'ed per command, so UPDATE and DELETE still see only `tenant_isolation`
-- and a shared agent stays read-only to everyone but its owner. The store's
-- queries state the same visibility rule in their WHERE clauses; the policy
-- is what lets those rows through RLS at all, and nothing more.

CREATE TABLE agents (
    tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    current_version integer NOT NULL,
    sharing         text NOT NULL CHECK (sharing IN ('private', 'global', 'selective')),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- Listing what a tenant may see looks across owners for shared agents: led
-- by sharing on purpose, and small because private agents are left out.
CREATE INDEX agents_shared ON agents(sharing, tenant_id, id) WHERE sharing <> 'private';

-- Versions are never updated: a change or a restore adds one.
CREATE TABLE agent_versions (
    tenant_id     uuid NOT NULL,
    agent_id      uuid NOT NULL,
    version       integer NOT NULL,
    system_prompt text NOT NULL,
    model         text NOT NULL,
    temperature   double precision NOT NULL,
    max_tokens    integer NOT NULL,
    created_by    text,
    created_at    timestamptz NOT NULL,
    restored_from integer,
    PRIMARY KEY (tenant_id, agent_id, version),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE agent_shares (
    tenant_id        uuid NOT NULL,
    agent_id         uuid NOT NULL,
    shared_tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, agent_id, shared_tenant_id),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents(tenant_id, id) ON DELETE CASCADE
);
-- The shared_read policies look shares up by the tenant they name.
CREATE INDEX agent_shares_target ON agent_shares(shared_tenant_id, tenant_id, agent_id);

-- The agent may belong to another tenant (shared); no foreign key, so a
-- deleted or unshared agent leaves the workspace able to say so.
CREATE TABLE workspaces (
    tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    name            text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('web_form', 'email', 'chat', 'phone')),
    agent_tenant_id uuid,
    agent_id        uuid,
    strategy_active boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- No foreign keys, as in SQLite: deleting a workspace unbinds its keys but
-- leaves its leads saying where they arrived.
ALTER TABLE api_keys ADD COLUMN workspace_id uuid;
ALTER TABLE leads ADD COLUMN workspace_id uuid;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['agents', 'agent_versions', 'agent_shares', 'workspaces']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t);
        EXECUTE format('CREATE POLICY owner_functions ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;

-- A tenant sees the shares that name it (and only those): the agents policy
-- below needs them to find agents shared with it. Other tenants' share
-- lists stay invisible.
CREATE POLICY shared_read ON agent_shares FOR SELECT
    USING (shared_tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Global agents of the platform tenant, and selective ones shared with the
-- transaction's tenant. `tenants` has no RLS; `agent_shares` is read under
-- its own policies (the one above).
CREATE POLICY shared_read ON agents FOR SELECT
    USING ((sharing = 'global'
            AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = agents.tenant_id AND t.is_platform))
        OR (sharing = 'selective'
            AND EXISTS (SELECT 1 FROM agent_shares s
                         WHERE s.tenant_id = agents.tenant_id AND s.agent_id = agents.id
                           AND s.shared_tenant_id
                               = NULLIF(current_setting('app.tenant_id', true), '')::uuid)));

-- The versions of any agent the tenant may read: the subquery runs under
-- the agents policies, so this follows them instead of restating the rule.
CREATE POLICY shared_read ON agent_versions FOR SELECT
    USING (EXISTS (SELECT 1 FROM agents a
                    WHERE a.tenant_id = agent_versions.tenant_id
                      AND a.id = agent_versions.agent_id));

-- Ingest learns the key's workspace along with its tenant. The result type
-- changes, so the function is replaced rather than altered.
DROP FUNCTION sb_api_key_owner(text);
CREATE FUNCTION sb_api_key_owner(p_key_hash text)
RETURNS TABLE (tenant_id uuid, id uuid, revoked boolean, workspace_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT k.tenant_id, k.id, k.revoked_at IS NOT NULL, k.workspace_id FROM api_keys k
     WHERE k.key_hash = p_key_hash AND k.scope = 'leads:ingest'
$$;

-- A workspace reports whether its linked agent still works: 'ok', 'deleted'
-- or 'unshared'. Telling the last two apart needs to know whether an agent
-- the tenant can no longer read still exists, which RLS hides; so this
-- narrow function answers it. It only covers workspaces of the caller's own
-- tenant (app.tenant_id), i.e. agents the tenant could read when it linked
-- them, and returns a name and a state, never the agent's configuration.
-- p_workspace NULL: every workspace of the tenant.
CREATE FUNCTION sb_workspace_agent_links(p_workspace uuid)
RETURNS TABLE (workspace_id uuid, agent_name text, link text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT w.id, a.name,
           CASE WHEN w.agent_id IS NULL THEN 'none'
                WHEN a.id IS NULL THEN 'deleted'
                WHEN a.tenant_id = w.tenant_id
                  OR (a.sharing = 'global' AND t.is_platform)
                  OR (a.sharing = 'selective' AND EXISTS (SELECT 1 FROM agent_shares s
                        WHERE s.tenant_id = a.tenant_id AND s.agent_id = a.id
                          AND s.shared_tenant_id = w.tenant_id)) THEN 'ok'
                ELSE 'unshared' END
      FROM workspaces w
      LEFT JOIN agents a ON a.tenant_id = w.agent_tenant_id AND a.id = w.agent_id
      LEFT JOIN tenants t ON t.id = a.tenant_id
     WHERE w.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
       AND (p_workspace IS NULL OR w.id = p_workspace)
$$;

REVOKE ALL ON FUNCTION sb_api_key_owner(text), sb_workspace_agent_links(uuid) FROM PUBLIC;
