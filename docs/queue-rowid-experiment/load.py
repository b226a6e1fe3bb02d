"""load.py DB LEADS [TENANTS]: the bench's fixture (src/bench/queue.rs,
load_sqlite) in Python: TENANTS tenants (default min(1000, LEADS)), then LEADS
leads round-robin over them in transactions of 20,000, in the bench's order
and with its column values (UUIDv7 ids in insertion order; created spread over
the last 72 h by i*7919; due = created + 24 h; every 5th responded; every 3rd
'contacted'; every 50th spam). Then ANALYZE. The load's `now` is kept in
table bench_meta so the queries use the same instant the bench would.
Load-time PRAGMAs (synchronous=OFF, a big cache) only speed the load up; they
are not stored in the file and the timing script sets the store's own."""
import os, random, sqlite3, sys, time, uuid

H = 3_600_000
# STRIDE=k (environment): lead n gets the values the bench gives lead n*k,
# and goes to tenant (n*k) % TENANTS. With k coprime to 2*3*5*7919 the
# residues (stage, spam, responded) keep their shares; with k = 101 a 10k
# load gets the 1M load's spread over 72 h (the bench's own 10k load puts
# every lead within the last 22 h: i*7919 < 72 h for i < 32,731, so none is
# overdue).
STRIDE = int(os.environ.get("STRIDE", "1"))

def uuid7(ms, seq, rnd):
    # 48-bit unix ms, version 7, 12-bit counter, variant, 62 random bits:
    # monotonic in (ms, seq) as uuid's now_v7 is within one process.
    v = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (seq & 0xFFF) << 64 | 0b10 << 62 | rnd.getrandbits(62)
    return str(uuid.UUID(int=v))

def tenants_rows(n, now, rnd):
    base = now - 10_000
    return [(uuid7(base, t, rnd), f"Tenant {t}", f"tenant-{t}", now) for t in range(n)]

def lead_rows(ids, start, end, now, rnd, stride=1):
    tenants = len(ids)
    for n in range(start, end):
        i = n * stride
        created = now - (i * 7919 % (72 * H))
        due = created + 24 * H
        responded = i % 5 == 0
        # ~20 leads per ms, as a fast bulk load hands out now_v7 ids.
        lid = uuid7(now + n // 20, n % 20, rnd)
        yield (ids[i % tenants], lid, f"Lead {i}", f"lead{i}@example.com",
               "contacted" if i % 3 == 0 else "new", int(i % 50 == 0),
               created, created, due, due - 6 * H,
               created + H if responded else None, int(responded))

INSERT = ("INSERT INTO leads (tenant_id, id, name, email, message, source, stage, spam, "
          "created_at, updated_at, sla_due_at, at_risk_at, first_response_at, responded) "
          "VALUES (?, ?, ?, ?, 'Quote please', 'form', ?, ?, ?, ?, ?, ?, ?, ?)")

def main():
    db, leads = sys.argv[1], int(sys.argv[2])
    tenants = int(sys.argv[3]) if len(sys.argv) > 3 else min(1000, leads)
    rnd = random.Random(17)
    now = int(os.environ.get("BENCH_NOW", int(time.time() * 1000)))
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    con.execute("CREATE TABLE IF NOT EXISTS bench_meta (k TEXT PRIMARY KEY, v)")
    con.execute("INSERT OR REPLACE INTO bench_meta VALUES ('now', ?)", (now,))
    con.execute("BEGIN")
    ids = []
    for row in tenants_rows(tenants, now, rnd):
        con.execute(
            "INSERT INTO tenants (id, name, slug, tier, status, is_platform, settings, created_at) "
            "VALUES (?, ?, ?, 'enterprise', 'active', 0, '{\"pipeline_stages\":[\"new\",\"contacted\",\"won\"],"
            "\"sla_hours\":24,\"spam_keywords\":[],\"manager_email\":null}', ?)", row)
        ids.append(row[0])
    con.execute("COMMIT")
    t0 = time.time()
    done = 0
    while done < leads:
        end = min(done + 20_000, leads)
        con.execute("BEGIN")
        con.executemany(INSERT, lead_rows(ids, done, end, now, rnd, STRIDE))
        con.execute("COMMIT")
        done = end
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"{db}: {leads} leads over {tenants} tenants in {time.time() - t0:.1f} s")

main()
