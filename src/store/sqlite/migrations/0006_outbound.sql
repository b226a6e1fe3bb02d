-- Outbound: webhook endpoints, their deliveries and attempts; the outbox's
-- retry state. Deliveries are made by a trigger on the event log, so every
-- event (whichever code path writes it) reaches the endpoints enabled when
-- it was written, in the same transaction.

CREATE TABLE webhook_endpoints (
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id                   TEXT NOT NULL,
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL,   -- JSON array of kinds, "prefix.*" or "*"
    secret               TEXT NOT NULL,   -- needed in clear to sign; never returned
    enabled              INTEGER NOT NULL DEFAULT 1,
    disabled_reason      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since        INTEGER,
    created_by           TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    event_id        INTEGER NOT NULL,
    event_kind      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, webhook_id, event_id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhook_endpoints(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    delivery_id      TEXT NOT NULL,
    attempted_at     INTEGER NOT NULL,
    status_code      INTEGER,
    error            TEXT,
    latency_ms       INTEGER NOT NULL,
    response_excerpt TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(tenant_id, delivery_id, attempted_at);

CREATE TRIGGER events_webhook_fanout AFTER INSERT ON events
BEGIN
    INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_kind,
                                    next_attempt_at, created_at)
    SELECT NEW.tenant_id,
           lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||
                 substr(hex(randomblob(2)), 2) || '-' ||
                 substr('89ab', 1 + (abs(random()) % 4), 1) ||
                 substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
           w.id, NEW.id, NEW.kind, NEW.created_at, NEW.created_at
      FROM webhook_endpoints w
     WHERE w.tenant_id = NEW.tenant_id AND w.enabled = 1
       AND EXISTS (SELECT 1 FROM json_each(w.events) f
                    WHERE f.value = '*' OR f.value = NEW.kind
                       OR (f.value LIKE '%.*'
                           AND substr(NEW.kind, 1, length(f.value) - 1)
                               = substr(f.value, 1, length(f.value) - 1)));
END;

-- The mailer's retry state: due again at next_attempt_at (NULL: now).
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
