-- Deleting a tenant (issue 16): the request marks the tenant (deleting_at,
-- deleted_by) in the transaction that removes its memberships and
-- invitations and writes the audit record on the platform tenant; from then
-- on every lookup treats it as gone and its ingest keys answer 410. Its data
-- is purged in batches afterwards; the mark is what a restarted server
-- resumes from, and the last step deletes the tenant's row.
ALTER TABLE tenants ADD COLUMN deleting_at INTEGER;
ALTER TABLE tenants ADD COLUMN deleted_by TEXT;
