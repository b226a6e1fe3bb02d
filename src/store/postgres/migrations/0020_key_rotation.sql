-- API key rotation (issue 14): a rotated key keeps working beside the key
-- that replaced it until `expires_at` (the overlap chosen), then ingest
-- refuses it as it refuses a revoked key. `replaced_by` names the new key,
-- so the console can show "rotating, valid until …". Both are empty for a
-- key never rotated. The table's row-level security covers the new columns.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz,
                     ADD COLUMN replaced_by uuid;

-- Ingest learns when a rotated key expires, and compares it with the
-- server's clock. The result type changes, so the function is replaced
-- rather than altered (as in 0003), with 0009's pinned search_path.
DROP FUNCTION public.sb_api_key_owner(text);
CREATE FUNCTION public.sb_api_key_owner(p_key_hash pg_catalog.text)
RETURNS TABLE (tenant_id uuid, id uuid, revoked boolean, workspace_id uuid,
               expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.tenant_id, k.id, k.revoked_at IS NOT NULL, k.workspace_id, k.expires_at
      FROM public.api_keys k
     WHERE k.key_hash = p_key_hash AND k.scope = 'leads:ingest'
$$;

REVOKE ALL ON FUNCTION public.sb_api_key_owner(pg_catalog.text) FROM PUBLIC;
