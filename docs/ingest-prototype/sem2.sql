\set t '''00000000-0000-4000-8000-000000000005'''
-- A: suspended tenant
BEGIN;
UPDATE tenants SET status = 'suspended' WHERE id = :t;
SELECT 'susp', r.* FROM public.:fn(:t, 'M', now(), (SELECT jsonb_agg(j ORDER BY ord) FROM h5_case WHERE ord < 3)) r ORDER BY 2;
SELECT 'susp-usage', count(*) FROM lead_usage WHERE tenant_id = :t AND month = 'M';
ROLLBACK;
-- B: single items one after another, crossing near (8) and limit (10) from 6, limit 10
BEGIN;
SELECT 's1', (SELECT r.outcome FROM public.:fn(:t, to_char(now() AT TIME ZONE 'UTC','YYYY-MM'), now(), jsonb_build_array(j || '{"ord":0}')) r) FROM h5_case WHERE ord >= 7 ORDER BY ord;
SELECT 's1-usage', count FROM lead_usage WHERE tenant_id = :t AND month = to_char(now() AT TIME ZONE 'UTC','YYYY-MM');
SELECT 's1-ev', kind, data - 'month' FROM events WHERE tenant_id = :t AND kind = 'usage.near_limit' AND xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text ORDER BY id;
ROLLBACK;
-- C: counter already at limit-1 with a group of 3 counting leads (limit 10, near 8): start 9
BEGIN;
SELECT set_config('app.tenant_id', '00000000-0000-4000-8000-000000000005', true);
UPDATE lead_usage SET count = 9 WHERE tenant_id = :t;
SELECT 'c', r.ord, r.outcome FROM public.:fn(:t, to_char(now() AT TIME ZONE 'UTC','YYYY-MM'), now(), (SELECT jsonb_agg(j ORDER BY ord) FROM h5_case WHERE ord IN (7,8,9,10))) r ORDER BY 2;
SELECT 'c-usage', count FROM lead_usage WHERE tenant_id = :t AND month = to_char(now() AT TIME ZONE 'UTC','YYYY-MM');
SELECT 'c-ev', kind, data - 'month' FROM events WHERE tenant_id = :t AND xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text ORDER BY id;
ROLLBACK;
-- D: new month row created
BEGIN;
SELECT 'd', r.ord, r.outcome FROM public.:fn(:t, '2099-01', now(), (SELECT jsonb_agg(j ORDER BY ord) FROM h5_case WHERE ord IN (8,9))) r ORDER BY 2;
SELECT 'd-usage', count FROM lead_usage WHERE tenant_id = :t AND month = '2099-01';
ROLLBACK;
