\set ON_ERROR_STOP 1
CREATE OR REPLACE FUNCTION public.h5_uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch from clock_timestamp())*1000)::bigint),12,'0') || '7'
          || substr(md5(random()::text),1,3) || '8' || substr(md5(random()::text),1,15))::uuid $$;
-- p_items like item() in src/store/postgres/ingest.rs
CREATE OR REPLACE FUNCTION public.h5_items(p_tenant uuid, n int, p_idem text DEFAULT NULL,
                                           p_limit int DEFAULT NULL, p_spam_every int DEFAULT 0)
RETURNS jsonb LANGUAGE sql VOLATILE AS $$
  SELECT jsonb_agg(x.item ORDER BY x.ord) FROM (
    SELECT g - 1 AS ord, jsonb_build_object(
      'ord', g - 1, 'id', l.id, 'key_id', k.id,
      'idem_key', CASE WHEN p_idem IS NULL THEN NULL ELSE p_idem || '-' || g END,
      'body_hash', CASE WHEN p_idem IS NULL THEN NULL ELSE md5(p_idem || g) END,
      'name', 'Jane Doe ' || g, 'email', 'jane' || g || '@example.com', 'phone', '+15550100' || g,
      'company', 'Acme ' || g, 'message', 'Hi, we would like a quote for 40 seats, please call me back.',
      'source', 'form', 'source_page', 'https://example.com/contact',
      'utm', '{"source":"google","medium":"cpc","campaign":"spring"}'::jsonb,
      'fields', '{"budget":"10k"}'::jsonb, 'stage', 'new', 'spam', l.spam,
      'spam_reason', CASE WHEN l.spam THEN 'keyword' END,
      'created_at', now(), 'updated_at', now(),
      'sla_due_at', now() + interval '1 hour', 'at_risk_at', now() + interval '45 minutes',
      'workspace_id', k.workspace_id, 'workflow_id', h5_uuid7(), 'timeline_id', h5_uuid7(),
      'audit_id', h5_uuid7(), 'actor_email', 'api-key:' || k.id, 'counts', true,
      'lead_limit', p_limit,
      'timeline', jsonb_build_object('source', 'form', 'spam_reason', CASE WHEN l.spam THEN 'keyword' END),
      'audit', jsonb_build_object('source', 'form', 'spam', l.spam),
      'event', jsonb_build_object('lead', jsonb_build_object(
          'id', l.id, 'tenant_id', p_tenant, 'name', 'Jane Doe ' || g, 'email', 'jane' || g || '@example.com',
          'phone', '+15550100' || g, 'company', 'Acme ' || g,
          'message', 'Hi, we would like a quote for 40 seats, please call me back.', 'source', 'form',
          'source_page', 'https://example.com/contact', 'utm', '{"source":"google","medium":"cpc","campaign":"spring"}'::jsonb,
          'fields', '{"budget":"10k"}'::jsonb, 'stage', 'new', 'workspace_id', k.workspace_id, 'assignee_id', NULL,
          'spam', l.spam, 'spam_reason', NULL, 'qualification', NULL, 'created_at', now(), 'updated_at', now(),
          'sla_due_at', now() + interval '1 hour', 'sla_at_risk_at', now() + interval '45 minutes',
          'first_response_at', NULL, 'sla', jsonb_build_object('state', 'on_track', 'due_in_seconds', 3600)))
    ) AS item
    FROM generate_series(1, n) g
    CROSS JOIN LATERAL (SELECT h5_uuid7() AS id, (p_spam_every > 0 AND g % p_spam_every = 0) AS spam) l
    CROSS JOIN LATERAL (SELECT a.id, a.workspace_id FROM public.api_keys a WHERE a.tenant_id = p_tenant LIMIT 1) k
  ) x $$;
GRANT EXECUTE ON FUNCTION public.h5_uuid7(), public.h5_items(uuid,int,text,int,int) TO switchboard_app;
