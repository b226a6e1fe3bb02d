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
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT i.id, i.tenant_id, t.slug, t.name, i.role, u.email, i.created_at, i.expires_at
      FROM public.invitations i
      JOIN public.tenants t ON t.id = i.tenant_id
      LEFT JOIN public.users u ON u.id = i.invited_by
     WHERE i.email = p_email AND i.accepted_at IS NULL AND i.revoked_at IS NULL
       AND i.expires_at > now()
     ORDER BY i.created_at, i.id
$$;
REVOKE ALL ON FUNCTION sb_pending_invitations(text) FROM PUBLIC;
