-- Variant (c): the rowid table as shipped, with leads_queue and leads_stage
-- replaced by indexes that carry every column list_leads reads (SQLite has
-- no INCLUDE: the listed columns are appended to the key), so both queries
-- are answered from the index alone.
DROP INDEX leads_queue;
DROP INDEX leads_stage;
CREATE INDEX leads_queue ON leads(tenant_id, spam, responded, sla_due_at, id,
    name, email, phone, company, message, source, source_page, utm, fields, stage,
    assignee_id, spam_reason, qual_category, qual_reason, created_at, updated_at,
    at_risk_at, first_response_at, workspace_id);
CREATE INDEX leads_stage ON leads(tenant_id, stage, responded, sla_due_at, id,
    spam, name, email, phone, company, message, source, source_page, utm, fields,
    assignee_id, spam_reason, qual_category, qual_reason, created_at, updated_at,
    at_risk_at, first_response_at, workspace_id);
ANALYZE;
