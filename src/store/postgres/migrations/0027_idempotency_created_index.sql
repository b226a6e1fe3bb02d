-- The idempotency keys' age index led by created_at (issue 17).
--
-- The expiry sweep (sb_expire_idempotency_keys) deletes by created_at across
-- tenants, which an index led by tenant_id cannot range-scan. And for a
-- tenant the planner has no statistics on yet (a new tenant, the first
-- custom plans of a connection), (tenant_id, created_at) tied in cost with
-- the primary key (tenant_id, key) for the ingest's lookup
-- `tenant_id = $1 AND key = $2`, so the planner could read every key the
-- tenant has: 2.4-7.8 ms per lookup at 33k keys, measured against a scratch
-- database. Led by created_at, the index serves the sweep and can never be
-- chosen for that probe.
DROP INDEX public.idempotency_age;
CREATE INDEX idempotency_created ON public.idempotency_keys (created_at);
