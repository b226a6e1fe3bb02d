-- The research step and the draft policy: a workflow keeps the sources its
-- research gathered and the draft policy its lead was judged by, and may
-- end `qualified` (no draft, by the tenant's policy). The same data as the
-- SQLite store's 0010_workflow_research.sql; adding nullable columns and
-- swapping a CHECK constraint rewrite nothing.

ALTER TABLE workflows ADD COLUMN sources jsonb, ADD COLUMN draft_policy jsonb;
ALTER TABLE workflows DROP CONSTRAINT workflows_status_check;
ALTER TABLE workflows ADD CONSTRAINT workflows_status_check CHECK (status IN ('queued', 'running',
    'awaiting_approval', 'approved', 'rejected', 'failed', 'cancelled', 'qualified')) NOT VALID;
ALTER TABLE workflows VALIDATE CONSTRAINT workflows_status_check;
