#!/bin/sh
# run.sh OUT ROUNDS: timing.py on every database and variant, ROUNDS times
# interleaved (so a burst of load from other builds hits all variants), one
# JSON line per run. Databases (in /tmp/h3db): t_* the bench's 10k (1,000
# tenants, 10 leads each), m_* the bench's 1M (1,000 tenants, 1,000 each),
# c_* a control: 10k leads over 10 tenants with the 1M spread (1,000 leads
# per tenant like 1M, but a 9 MB file); _a rowid (as shipped), _b WITHOUT
# ROWID (loaded round-robin as the bench does), _bp WITHOUT ROWID as a
# migration would leave it (rebuild.sql: copied in key order, packed),
# _c covering indexes.
set -eu
out=$1; rounds=${2:-3}
S=$(dirname "$(readlink -f "$0")")
cd /tmp/h3db
: > "$out"
for r in $(seq "$rounds"); do
  for spec in "t_a.db store twostep" "t_b.db store" "t_c.db store" \
              "c_a.db store" "c_b.db store" "c_c.db store" \
              "m_a.db store mmap cache64 twostep onetenant" "m_b.db store mmap onetenant" "m_c.db store mmap" "m_bp.db store onetenant"; do
    nice -n 15 python3 "$S/timing.py" $spec | sed "s/^{/{\"round\": $r, /" >> "$out"
  done
done
