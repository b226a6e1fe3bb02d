-- Accounts: which tenant's invitation created an account, and when a
-- session was last used (sessions end after an idle timeout; NULL, for
-- sessions made before this migration, counts as used now).
ALTER TABLE users ADD COLUMN invited_by_tenant uuid REFERENCES tenants(id) ON DELETE SET NULL;
ALTER TABLE sessions ADD COLUMN last_used_at timestamptz;
CREATE INDEX invitations_email ON invitations(email) WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- The invitations waiting for one email, across tenants, for the signed-in
-- user that email belongs to (the server passes the session's own email).
CREATE FUNCTION sb_pending_invitations(p_email text)
RETURNS TABLE (id uuid, tenant_id uuid, tenant_slug text, tenant_name text, role text,
               invited_by_email text, created_at timestamptz, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT i.id, i.tenant_id, t.slug, t.name, i.role, u.email, i.created_at, i.expires_at
      FROM public.invitations i
      JOIN public.tenants t ON t.id = i.tenant_id
      LEFT JOIN public.users u ON u.id = i.invited_by
     WHERE i.email = p_email AND i.accepted_at IS NULL AND i.revoked_at IS NULL
       AND i.expires_at > now()
     ORDER BY i.created_at, i.id
$$;
REVOKE ALL ON FUNCTION sb_pending_invitations(text) FROM PUBLIC;

-- Event log retention: deletes up to p_limit events older than p_before
-- that no webhook delivery refers to (a delivery's payload is its event),
-- across tenants (the owner's narrow path, like sb_purge_outbound).
CREATE INDEX webhook_deliveries_event ON public.webhook_deliveries(tenant_id, event_id);
CREATE INDEX events_created ON public.events(created_at);

CREATE FUNCTION sb_purge_events(p_before timestamptz, p_limit integer) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH old AS (
        SELECT e.tenant_id, e.id FROM public.events e
         WHERE e.created_at < p_before
           AND NOT EXISTS (SELECT 1 FROM public.webhook_deliveries d
                            WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id)
         ORDER BY e.created_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM public.events e USING old o
         WHERE e.tenant_id = o.tenant_id AND e.id = o.id
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION sb_purge_events(timestamptz, integer) FROM PUBLIC;
