-- Retention for outbound traffic: finished webhook deliveries (their
-- attempts go with them, ON DELETE CASCADE) and sent mail are deleted once
-- older than the server's `outbound_retention_days`. These indexes find
-- them without scanning what is still pending.

CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(created_at)
    WHERE status IN ('delivered', 'failed');
CREATE INDEX outbox_sent ON outbox(sent_at) WHERE sent_at IS NOT NULL;
