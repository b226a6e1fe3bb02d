#!/bin/sh
# fk_cascade_demo.sh SMALL_DB: why a WITHOUT ROWID leads table cannot be a
# plain create-copy-drop-rename migration here. On a copy of SMALL_DB (a
# 10k load), one lead_events row per lead, then rebuild.sql run as sqlx runs
# a migration: foreign_keys=ON (the pool's setting) and inside a transaction
# (schema.rs's test forbids `-- no-transaction`), where PRAGMA foreign_keys
# cannot be changed. DROP TABLE leads cascades: every lead_events row goes.
set -eu
S=$(dirname "$(readlink -f "$0")")
db=/tmp/h3db/fk_demo.db
cp "$1" "$db"; rm -f "$db-wal" "$db-shm"
sqlite3 "$db" "PRAGMA foreign_keys=ON; INSERT INTO lead_events (tenant_id, id, lead_id, kind, created_at) SELECT tenant_id, id, id, 'created', created_at FROM leads; SELECT 'lead_events before', count(*) FROM lead_events;"
sed -e 's/^\.timer on//' -e 's/^VACUUM;//' "$S/rebuild.sql" | sqlite3 -cmd "PRAGMA foreign_keys=ON" "$db"
sqlite3 "$db" "SELECT 'lead_events after', count(*) FROM lead_events;"
echo "BEGIN; PRAGMA foreign_keys=OFF; SELECT 'foreign_keys after PRAGMA foreign_keys=OFF inside a transaction', foreign_keys FROM pragma_foreign_keys; COMMIT;" | sqlite3 -cmd "PRAGMA foreign_keys=ON" "$db"
