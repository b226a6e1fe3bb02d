#!/bin/sh
# schema.sh DB VARIANT: a fresh SQLite file with every migration of
# src/store/sqlite/migrations applied in order by the sqlite3 CLI.
# VARIANT: rowid (as shipped) | worowid (0002's leads declared WITHOUT ROWID,
# nothing else changed: same PRIMARY KEY (tenant_id, id), same indexes).
set -eu
db=$1; variant=$2
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
rm -f "$db" "$db-wal" "$db-shm"
for f in "$repo"/src/store/sqlite/migrations/*.sql; do
  if [ "$variant" = worowid ] && [ "$(basename "$f")" = 0002_leads.sql ]; then
    # The leads table's closing ");" (the first one after CREATE TABLE leads).
    awk '/^CREATE TABLE leads \(/{inl=1} inl && /^\);$/{print ") WITHOUT ROWID;"; inl=0; next} {print}' "$f" | sqlite3 "$db"
  else
    sqlite3 "$db" < "$f"
  fi
done
sqlite3 "$db" "PRAGMA journal_mode=WAL;" >/dev/null
