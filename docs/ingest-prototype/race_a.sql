BEGIN;
SET client_min_messages = warning;
SELECT set_config('app.tenant_id', '00000000-0000-4000-8000-000000000005', true);
INSERT INTO idempotency_keys (tenant_id, key, body_hash, lead_id, created_at) VALUES ('00000000-0000-4000-8000-000000000005', :'k', 'RH', '00000000-0000-0000-0000-0000000000aa', now());
SELECT pg_sleep(2);
:fin;
