-- API key rotation (issue 14): a rotated key keeps working beside the key
-- that replaced it until `expires_at` (the overlap chosen), then ingest
-- refuses it as it refuses a revoked key. `replaced_by` names the new key,
-- so the console can show "rotating, valid until …". Both are empty for a
-- key never rotated.
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;
