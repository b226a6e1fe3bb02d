-- Recomputing a tenant's SLA deadlines survives a restart (issue 15): the
-- settings change that moves the clock sets reclock_pending in its own
-- transaction, each batch advances reclock_after (the last lead it read) in
-- the batch's transaction, and the last batch clears both. A server that
-- starts, or an SLA sweep, resumes every pending tenant where it stopped.
ALTER TABLE tenants ADD COLUMN reclock_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN reclock_after TEXT;
