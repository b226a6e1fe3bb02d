#!/bin/sh
# pages.sh DB: pages one cold query reads (the CLI's `.stats`: page cache
# misses on a fresh connection, schema pages included) for the overdue queue
# and the stage filter of Tenant 1 (the tenant the bench's plan shows).
set -eu
db=$1
t=$(sqlite3 "$db" "SELECT id FROM tenants WHERE is_platform = 0 ORDER BY rowid LIMIT 1 OFFSET 1")
now=$(sqlite3 "$db" "SELECT v FROM bench_meta WHERE k = 'now'")
cols="tenant_id, id, name, email, phone, company, message, source, source_page, utm, fields, stage, assignee_id, spam, spam_reason, qual_category, qual_reason, created_at, updated_at, sla_due_at, at_risk_at, first_response_at, responded, workspace_id"
for q in "responded = 0 AND sla_due_at <= $now" "stage = 'contacted'"; do
  printf '.stats on\nSELECT count(*) FROM (SELECT %s FROM leads WHERE tenant_id = '\''%s'\'' AND spam = 0 AND %s ORDER BY responded, sla_due_at, id LIMIT 51);\n' "$cols" "$t" "$q" \
    | sqlite3 "$db" 2>&1 | awk -v q="$q" '/^[0-9]+$/{rows=$1} /Page cache misses/{m=$4} END{printf "%s: %s rows, %s pages read\n", (q ~ /stage/ ? "stage" : "overdue"), rows, m}'
done
