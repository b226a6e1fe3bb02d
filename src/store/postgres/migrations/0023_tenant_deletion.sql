-- Deleting a tenant (issue 16), as in the SQLite store's
-- 0019_tenant_deletion.sql: the request marks the tenant (deleting_at,
-- deleted_by) in the transaction that removes its memberships and
-- invitations and writes the audit record on the platform tenant; from then
-- on every lookup treats it as gone and its ingest keys answer 410. Its data
-- is purged in batches afterwards; the mark is what a restarted server
-- resumes from, and the last step deletes the tenant's row (what is left of
-- its tables follows through their ON DELETE CASCADE keys). The partial
-- index keeps finding the tenants being deleted a scan of those only.
ALTER TABLE tenants
    ADD COLUMN deleting_at timestamptz,
    ADD COLUMN deleted_by text;
CREATE INDEX tenants_deleting ON tenants (id) WHERE deleting_at IS NOT NULL;
