-- The agent library (issue 19): tags and a category on every agent, and
-- how often and when it last answered; and the record of which starter
-- agents the platform tenant was seeded with, so that each is seeded once
-- for the life of the database (a deleted one stays deleted).
--
-- Tags are a JSON array of short lowercase words (checked by the server).
-- use_count and last_used_at count every tenant's uses of the agent
-- (playground replies, workflow steps); last_used_at is in milliseconds
-- like every time here.

ALTER TABLE agents ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN category TEXT;
ALTER TABLE agents ADD COLUMN use_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN last_used_at INTEGER;

CREATE TABLE agent_library_seeds (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    seeded_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
