-- Outbound: webhook endpoints, their deliveries and attempts; the outbox's
-- retry state. Deliveries are made by a trigger on the event log, in the
-- transaction that writes the event (under its tenant, RLS applying), so
-- every event reaches the endpoints enabled when it was written.

CREATE TABLE webhook_endpoints (
    tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id                   uuid NOT NULL,
    url                  text NOT NULL,
    events               text[] NOT NULL,  -- kinds, 'prefix.*' or '*'
    secret               text NOT NULL,    -- needed in clear to sign; never returned
    enabled              boolean NOT NULL DEFAULT true,
    disabled_reason      text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    failing_since        timestamptz,
    created_by           uuid,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    webhook_id      uuid NOT NULL,
    event_id        bigint NOT NULL,
    event_kind      text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, webhook_id, event_id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhook_endpoints(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    delivery_id      uuid NOT NULL,
    attempted_at     timestamptz NOT NULL,
    status_code      integer,
    error            text,
    latency_ms       bigint NOT NULL,
    response_excerpt text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(tenant_id, delivery_id, attempted_at);

ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE outbox ADD COLUMN last_error text;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_endpoints', 'webhook_deliveries', 'webhook_attempts']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t);
        EXECUTE format('CREATE POLICY owner_functions ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;

-- Fan-out: not SECURITY DEFINER, so it runs as the event's writer under
-- the writer's tenant (RLS shows it that tenant's endpoints only).
CREATE FUNCTION sb_webhook_fanout() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_kind,
                                    next_attempt_at, created_at)
    SELECT NEW.tenant_id, gen_random_uuid(), w.id, NEW.id, NEW.kind, NEW.created_at, NEW.created_at
      FROM webhook_endpoints w
     WHERE w.tenant_id = NEW.tenant_id AND w.enabled
       AND EXISTS (SELECT 1 FROM unnest(w.events) f
                    WHERE f = '*' OR f = NEW.kind
                       OR (right(f, 2) = '.*' AND starts_with(NEW.kind, left(f, -1))));
    RETURN NULL;
END
$$;
CREATE TRIGGER events_webhook_fanout AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION sb_webhook_fanout();

-- The dispatcher across tenants: leases up to p_limit due deliveries of
-- enabled endpoints until p_lease, skipping rows another server holds, so
-- with many processes each attempt is made by one. A process that dies
-- mid-attempt leaves the lease to expire; the delivery is then due again.
CREATE FUNCTION sb_claim_webhook_deliveries(p_now timestamptz, p_lease timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, webhook_id uuid, attempts integer,
               created_at timestamptz, url text, secret text, event_id bigint,
               kind text, data jsonb, event_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH due AS (
        SELECT d.tenant_id, d.id FROM webhook_deliveries d
          JOIN webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= p_now AND w.enabled
         ORDER BY d.next_attempt_at LIMIT p_limit
           FOR UPDATE OF d SKIP LOCKED
    ), leased AS (
        UPDATE webhook_deliveries d SET next_attempt_at = p_lease
          FROM due WHERE d.tenant_id = due.tenant_id AND d.id = due.id
        RETURNING d.tenant_id, d.id, d.webhook_id, d.attempts, d.created_at, d.event_id
    )
    SELECT l.tenant_id, l.id, l.webhook_id, l.attempts, l.created_at, w.url, w.secret,
           e.id, e.kind, e.data, e.created_at
      FROM leased l
      JOIN webhook_endpoints w ON w.tenant_id = l.tenant_id AND w.id = l.webhook_id
      JOIN events e ON e.tenant_id = l.tenant_id AND e.id = l.event_id
$$;

-- The mailer across tenants, leased the same way.
CREATE FUNCTION sb_claim_outbox(p_now timestamptz, p_lease timestamptz, p_limit integer)
RETURNS TABLE (tenant_id uuid, id uuid, recipient text, subject text, body text, attempts integer)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH due AS (
        SELECT o.tenant_id, o.id FROM outbox o
         WHERE o.sent_at IS NULL AND o.recipient IS NOT NULL
           AND coalesce(o.next_attempt_at, o.created_at) <= p_now
         ORDER BY o.created_at LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox o SET next_attempt_at = p_lease
      FROM due WHERE o.tenant_id = due.tenant_id AND o.id = due.id
    RETURNING o.tenant_id, o.id, o.recipient, o.subject, o.body, o.attempts
$$;

REVOKE EXECUTE ON FUNCTION sb_webhook_fanout() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION sb_claim_webhook_deliveries(timestamptz, timestamptz, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION sb_claim_outbox(timestamptz, timestamptz, integer) FROM PUBLIC;
