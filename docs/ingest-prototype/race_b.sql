BEGIN;
SELECT r.ord, r.outcome, r.lead_id FROM public.sb_ingest_leads_v2('00000000-0000-4000-8000-000000000005', to_char(now() AT TIME ZONE 'UTC','YYYY-MM'), now(),
  (SELECT jsonb_agg(j || CASE WHEN ord = 8 THEN jsonb_build_object('idem_key', :'k', 'body_hash', 'RH') WHEN ord = 7 THEN '{"idem_key":"other","body_hash":"Z"}'::jsonb ELSE '{}' END ORDER BY ord) FROM h5_case WHERE ord BETWEEN 4 AND 8 AND ord <> 4 OR ord IN (1,2)) ) r ORDER BY 1;
SELECT 'usage', count FROM lead_usage WHERE tenant_id = '00000000-0000-4000-8000-000000000005' AND month = to_char(now() AT TIME ZONE 'UTC','YYYY-MM');
SELECT 'idem', key, body_hash FROM idempotency_keys WHERE tenant_id = '00000000-0000-4000-8000-000000000005' AND key IN (:'k', 'other');
ROLLBACK;
