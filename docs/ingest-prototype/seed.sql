\set ON_ERROR_STOP 1
INSERT INTO tenants (id, name, slug, tier, status, settings, created_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g),12,'0'))::uuid, 'T'||g, 't'||g, 'pro', 'active', '{}', now()
FROM generate_series(1,100) g;
INSERT INTO api_keys (tenant_id, id, name, prefix, last_four, key_hash, scope, created_at, workspace_id)
SELECT t.id, ('00000000-0000-4000-9000-' || lpad(to_hex(g),12,'0'))::uuid, 'k', 'sbk_', 'abcd', 'hash'||g, 'leads:ingest', now(),
       ('00000000-0000-4000-a000-' || lpad(to_hex(g),12,'0'))::uuid
FROM generate_series(1,100) g JOIN tenants t ON t.slug = 't'||g;
INSERT INTO workspaces (tenant_id, id, name, channel, agent_id, strategy_active, created_at)
SELECT t.id, ('00000000-0000-4000-a000-' || lpad(to_hex(g),12,'0'))::uuid, 'w', 'web_form', gen_random_uuid(), true, now()
FROM generate_series(1,100) g JOIN tenants t ON t.slug = 't'||g;
-- 100k leads over 100 tenants, ids roughly v7-ordered (time prefix)
CREATE TEMP TABLE s AS
SELECT t.id AS tenant_id,
       (lpad(to_hex((extract(epoch from now())*1000)::bigint - 100000 + g), 12, '0') || '7000' || '8000' || lpad(to_hex(g),12,'0'))::uuid AS id,
       g, now() - (100000-g) * interval '10 seconds' AS at
FROM generate_series(1,100000) g JOIN tenants t ON t.slug = 't'||(g % 100 + 1);
INSERT INTO leads (tenant_id, id, name, email, phone, company, message, source, source_page, utm, fields, stage, spam,
                   created_at, updated_at, sla_due_at, at_risk_at, workspace_id)
SELECT tenant_id, id, 'Lead '||g, 'l'||g||'@example.com', '+1555'||g, 'Co '||g, 'Hello, I would like a quote for '||g, 'form', '/contact',
       '{"utm_source":"google"}', '{}', 'new', g % 20 = 0, at, at, at + interval '1 hour', at + interval '45 minutes', NULL
FROM s;
INSERT INTO lead_events (tenant_id, id, lead_id, kind, actor_email, data, created_at)
SELECT tenant_id, gen_random_uuid(), id, 'created', 'api-key:x', '{"source":"form"}', at FROM s;
INSERT INTO audit_events (tenant_id, id, actor_email, action, resource, resource_id, changes, created_at)
SELECT tenant_id, gen_random_uuid(), 'api-key:x', 'lead.create', 'lead', id::text, '{"source":"form","spam":false}', at FROM s;
INSERT INTO events (tenant_id, kind, data, created_at)
SELECT tenant_id, 'lead.created', jsonb_build_object('lead', jsonb_build_object('id', id, 'name', 'Lead '||g)), at FROM s;
INSERT INTO idempotency_keys (tenant_id, key, body_hash, lead_id, created_at)
SELECT tenant_id, 'idem-'||g, 'h'||g, id, at FROM s WHERE g % 2 = 0;
INSERT INTO lead_usage (tenant_id, month, count) SELECT id, to_char(now() AT TIME ZONE 'UTC','YYYY-MM'), 1000 FROM tenants;
VACUUM ANALYZE;
