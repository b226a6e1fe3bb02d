-- Per-member grants and withdrawals on top of the role: space-separated
-- permission names (`leads:approve audit:view`); empty for none. The
-- effective set is computed in one place (domain::access::effective).
ALTER TABLE memberships ADD COLUMN grants TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN withdrawals TEXT NOT NULL DEFAULT '';
