-- Recomputing a tenant's SLA deadlines survives a restart (issue 15), as in
-- the SQLite store's 0018_reclock_cursor.sql: the settings change that moves
-- the clock sets reclock_pending in its own transaction, each batch advances
-- reclock_after (the last lead it read) in the batch's transaction, and the
-- last batch clears both. A server that starts, or an SLA sweep, resumes every
-- pending tenant where it stopped. The partial index keeps that look-up a
-- scan of the pending tenants only.
ALTER TABLE tenants
    ADD COLUMN reclock_pending boolean NOT NULL DEFAULT false,
    ADD COLUMN reclock_after uuid;
CREATE INDEX tenants_reclock_pending ON tenants (id) WHERE reclock_pending;
