-- Per-tenant rate limits and usage (issue 16), as in the PostgreSQL
-- store's 0025_tenant_usage.sql.
--
-- rate_windows: requests leased from each tenant's one-minute windows
-- (minutes since 1970-01-01), per kind ('api', 'ingest'). A claim is one
-- upsert that never takes `used` past the limit; `granted` is what the
-- latest claim got. Old windows are dropped by later claims.
CREATE TABLE rate_windows (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    used         INTEGER NOT NULL,
    granted      INTEGER NOT NULL,
    -- The limit the latest claim counted against.
    limit_per_minute INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, window_start)
) WITHOUT ROWID;

-- A tenant's own limits (requests per minute) instead of its tier's.
CREATE TABLE rate_overrides (
    tenant_id         TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    api_per_minute    INTEGER,
    ingest_per_minute INTEGER
);

-- What each tenant did per UTC day (days since 1970-01-01).
CREATE TABLE tenant_usage (
    tenant_id         TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day               INTEGER NOT NULL,
    api_calls         INTEGER NOT NULL DEFAULT 0,
    ingests           INTEGER NOT NULL DEFAULT 0,
    generations       INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;
CREATE INDEX tenant_usage_day ON tenant_usage (day);
