"""insert_cost.py DB [N]: N (10,000) new leads round-robin over the bench's
tenants, with the store's settings (WAL, synchronous=FULL, default cache),
in transactions of 64 (the group-commit writer's MAX_BATCH), with the
loader's column values; prints the wall time and the per-lead cost. Then the
same again with synchronous=OFF, which leaves the b-tree work without the
fsyncs. The rows stay (run it last: it changes the file)."""
import os, random, sqlite3, sys, time
sys.argv, argv = sys.argv[:1], sys.argv
import importlib.util
spec = importlib.util.spec_from_file_location("load", os.path.join(os.path.dirname(__file__), "load.py"))
# load.py runs main() on import; borrow its pieces by exec without main.
src = open(spec.origin).read().replace("\nmain()\n", "\n")
ns = {}; exec(compile(src, spec.origin, "exec"), ns)
db = argv[1]; n = int(argv[2]) if len(argv) > 2 else 10_000
con = sqlite3.connect(db, isolation_level=None)
for p in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON"):
    con.execute("PRAGMA " + p)
ids = [r[0] for r in con.execute("SELECT id FROM tenants WHERE is_platform = 0 ORDER BY rowid")]
now = con.execute("SELECT v FROM bench_meta WHERE k = 'now'").fetchone()[0]
have = con.execute("SELECT count(*) FROM leads").fetchone()[0]
rnd = random.Random(99)
for sync in ("FULL", "OFF"):
    con.execute(f"PRAGMA synchronous={sync}")
    start = have
    rows = list(ns["lead_rows"](ids, start, start + n, now + 3_600_000, rnd))
    t0 = time.perf_counter()
    for k in range(0, n, 64):
        con.execute("BEGIN IMMEDIATE")
        for r in rows[k:k + 64]:
            con.execute(ns["INSERT"], r)
        con.execute("COMMIT")
    dt = time.perf_counter() - t0
    have += n
    print(f"{db} synchronous={sync}: {n} leads in {dt:.2f} s, {dt / n * 1e6:.0f} us/lead")
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
