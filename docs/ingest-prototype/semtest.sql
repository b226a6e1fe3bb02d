\set t '''00000000-0000-4000-8000-000000000005'''
BEGIN;
SELECT r.ord, r.outcome, (SELECT c.ord FROM h5_case c WHERE (c.j->>'id')::uuid = r.lead_id) AS lead_ord, r.lead_id IS NOT NULL AS has_id
  FROM public.:fn(:t, to_char(now() AT TIME ZONE 'UTC','YYYY-MM'), now(), (SELECT jsonb_agg(j ORDER BY ord) FROM h5_case)) r ORDER BY 1;
SELECT 'usage', count FROM lead_usage WHERE tenant_id = :t AND month = to_char(now() AT TIME ZONE 'UTC','YYYY-MM');
SELECT 'ev', row_number() OVER (ORDER BY id), kind, CASE WHEN kind = 'lead.created' THEN (SELECT c.ord::text FROM h5_case c WHERE (c.j->>'id') = data->'lead'->>'id') ELSE data::text END
  FROM events WHERE tenant_id = :t AND xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text ORDER BY id;
SELECT 'leads', count(*) FROM leads WHERE tenant_id = :t AND id IN (SELECT (j->>'id')::uuid FROM h5_case);
SELECT 'timeline', count(*) FROM lead_events WHERE tenant_id = :t AND lead_id IN (SELECT (j->>'id')::uuid FROM h5_case);
SELECT 'audit', count(*) FROM audit_events WHERE tenant_id = :t AND resource_id IN (SELECT j->>'id' FROM h5_case);
SELECT 'wf', c.ord FROM workflows w JOIN h5_case c ON (c.j->>'id')::uuid = w.lead_id WHERE w.tenant_id = :t ORDER BY 2;
SELECT 'idem', key, body_hash, (SELECT c.ord FROM h5_case c WHERE (c.j->>'id')::uuid = k.lead_id) FROM idempotency_keys k WHERE tenant_id = :t AND key LIKE 'g-%' ORDER BY 2;
SELECT 'keyused', id, last_used_at IS NOT NULL FROM api_keys WHERE tenant_id = :t ORDER BY 2;
ROLLBACK;
