-- Accounts: which tenant's invitation created an account, and when a
-- session was last used (sessions end after an idle timeout; NULL, for
-- sessions made before this migration, counts as used now).
ALTER TABLE users ADD COLUMN invited_by_tenant TEXT REFERENCES tenants(id) ON DELETE SET NULL;
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
CREATE INDEX invitations_email ON invitations(email) WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- Event log retention: an event may go once no webhook delivery refers to it.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(tenant_id, event_id);
CREATE INDEX events_created ON events(created_at);
