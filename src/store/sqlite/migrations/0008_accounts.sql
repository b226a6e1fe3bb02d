-- Accounts: which tenant's invitation created an account, and when a
-- session was last used (sessions end after an idle timeout; NULL, for
-- sessions made before this migration, counts as used now).
ALTER TABLE users ADD COLUMN invited_by_tenant TEXT REFERENCES tenants(id) ON DELETE SET NULL;
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
CREATE INDEX invitations_email ON invitations(email) WHERE accepted_at IS NULL AND revoked_at IS NULL;
