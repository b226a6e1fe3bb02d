-- The cross-tenant queue (GET /api/v1/leads) and the all-tenant event
-- stream (GET /api/v1/events). Over many visible tenants the queue walks
-- one index in the list's order and keeps the rows of the caller's tenants
-- (over a few it merges each tenant's own index instead: see
-- store/queue.rs), so these lead with the order, not with the tenant.
-- Events need none: their rowid is already the global order.
CREATE INDEX leads_due ON leads(spam, responded, sla_due_at, id);
CREATE INDEX leads_recent ON leads(spam, id);
