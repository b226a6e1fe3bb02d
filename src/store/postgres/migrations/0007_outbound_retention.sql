-- Retention for outbound traffic: finished webhook deliveries (their
-- attempts go with them, ON DELETE CASCADE) and sent mail are deleted once
-- older than the server's `outbound_retention_days`. Deletion looks across
-- tenants, which RLS hides from the application role, so it goes through
-- the owner's narrow `sb_purge_outbound`, like the claims in 0006.

-- The rows a purge looks at: finished deliveries by age, sent mail by age.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(created_at)
    WHERE status IN ('delivered', 'failed');
CREATE INDEX outbox_sent ON outbox(sent_at) WHERE sent_at IS NOT NULL;

-- Deletes up to p_limit deliveries that finished before p_before (delivered
-- then, or given up with no attempt since) and up to p_limit messages sent
-- before p_before. Pending deliveries — due, leased, retrying, or waiting on
-- a disabled endpoint — and unsent mail never match. Rows another
-- transaction holds (a replay, another server's purge) are skipped, not
-- waited for. Returns how many of each went.
CREATE FUNCTION sb_purge_outbound(p_before timestamptz, p_limit integer)
RETURNS TABLE (deliveries bigint, mails bigint)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH old_deliveries AS (
        SELECT d.tenant_id, d.id FROM webhook_deliveries d
         WHERE d.status IN ('delivered', 'failed') AND d.created_at < p_before
           AND CASE WHEN d.status = 'delivered' THEN d.delivered_at < p_before
                    ELSE NOT EXISTS (SELECT 1 FROM webhook_attempts a
                                      WHERE a.tenant_id = d.tenant_id
                                        AND a.delivery_id = d.id
                                        AND a.attempted_at >= p_before)
               END
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), gone_deliveries AS (
        DELETE FROM webhook_deliveries d USING old_deliveries o
         WHERE d.tenant_id = o.tenant_id AND d.id = o.id
        RETURNING 1
    ), old_mail AS (
        SELECT o.tenant_id, o.id FROM outbox o
         WHERE o.sent_at IS NOT NULL AND o.sent_at < p_before
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), gone_mail AS (
        DELETE FROM outbox o USING old_mail m
         WHERE o.tenant_id = m.tenant_id AND o.id = m.id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone_deliveries), (SELECT count(*) FROM gone_mail)
$$;

REVOKE EXECUTE ON FUNCTION sb_purge_outbound(timestamptz, integer) FROM PUBLIC;
