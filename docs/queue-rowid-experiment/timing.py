"""timing.py DB [VARIANT...]: the single-tenant overdue queue and stage
filter, with the SQL the store sends (src/store/sqlite/leads.rs list_leads:
LEAD_COLUMNS, binds tenant, spam=0, [stage], now, limit 51), on a connection
with the store's settings (src/store/sqlite/mod.rs: WAL, synchronous=FULL,
busy_timeout 10 s, foreign_keys=ON; no cache_size, no mmap_size, so SQLite's
defaults: a 2 MB page cache, no mmap). One warm-up pass, then the timed pass:
500 queries each, tenants[q % tenants] as the bench picks them, p50/p99 in ms.

Variants (same file):
  store     the SQL as sent, the store's settings
  mmap      the same, plus PRAGMA mmap_size = 1 GiB
  cache64   the same, plus PRAGMA cache_size = -65536 (64 MiB)
  onetenant the SQL as sent, but every query for Tenant 1: its pages stay in
            SQLite's own cache, so this is the floor for a page of this size
  twostep   rowids from the index first, then the rows in rowid order:
            WHERE rowid IN (SELECT rowid ... LIMIT 51) ORDER BY ... (rowid tables only)
"""
import json, sqlite3, sys, time

COLS = ("tenant_id, id, name, email, phone, company, message, source, source_page, utm, "
        "fields, stage, assignee_id, spam, spam_reason, qual_category, qual_reason, created_at, "
        "updated_at, sla_due_at, at_risk_at, first_response_at, responded, workspace_id")
ORDER = " ORDER BY responded, sla_due_at, id"
OVERDUE_WHERE = "tenant_id = ? AND spam = ? AND responded = 0 AND sla_due_at <= ?"
STAGE_WHERE = "tenant_id = ? AND spam = ? AND stage = ?"

def sqls(variant):
    if variant == "twostep":
        def two(where):
            return (f"SELECT {COLS} FROM leads WHERE rowid IN (SELECT rowid FROM leads WHERE "
                    f"{where}{ORDER} LIMIT ?){ORDER}")
        return two(OVERDUE_WHERE), two(STAGE_WHERE)
    return (f"SELECT {COLS} FROM leads WHERE {OVERDUE_WHERE}{ORDER} LIMIT ?",
            f"SELECT {COLS} FROM leads WHERE {STAGE_WHERE}{ORDER} LIMIT ?")

def connect(db, variant):
    con = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA busy_timeout=10000")
    con.execute("PRAGMA foreign_keys=ON")
    if variant == "mmap":
        con.execute("PRAGMA mmap_size=1073741824")
    if variant == "cache64":
        con.execute("PRAGMA cache_size=-65536")
    return con

def pct(xs, p):
    xs = sorted(xs)
    # nearest rank, as src/bench's percentile: the fifth-slowest of 500 for p99
    k = max(0, min(len(xs) - 1, int(round(p * len(xs) + 0.5)) - 1))
    return xs[k]

def run(db, variant, queries=500):
    con = connect(db, variant)
    now = con.execute("SELECT v FROM bench_meta WHERE k = 'now'").fetchone()[0]
    tenants = [r[0] for r in con.execute("SELECT id FROM tenants WHERE is_platform = 0 ORDER BY rowid")]
    overdue, stage = sqls(variant)
    plans = {name: "; ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, args))
             for name, sql, args in (("overdue", overdue, (tenants[1], 0, now, 51)),
                                     ("stage", stage, (tenants[1], 0, "contacted", 51)))}
    o, f, rows_o, rows_f = [], [], 0, 0
    co, cf = [], []  # the same, in this thread's CPU time: no preemption in it
    for timed in (False, True):
        for q in range(queries):
            t = tenants[1] if variant == "onetenant" else tenants[q % len(tenants)]
            cs, s = time.thread_time(), time.perf_counter()
            r1 = con.execute(overdue, (t, 0, now, 51)).fetchall()
            cm, m = time.thread_time(), time.perf_counter()
            r2 = con.execute(stage, (t, 0, "contacted", 51)).fetchall()
            ce, e = time.thread_time(), time.perf_counter()
            if timed:
                o.append((m - s) * 1000); f.append((e - m) * 1000)
                co.append((cm - cs) * 1000); cf.append((ce - cm) * 1000)
                rows_o += len(r1); rows_f += len(r2)
    con.close()
    return {"db": db, "variant": variant,
            "overdue_p50": pct(o, .5), "overdue_p90": pct(o, .9), "overdue_p99": pct(o, .99),
            "stage_p50": pct(f, .5), "stage_p90": pct(f, .9), "stage_p99": pct(f, .99),
            "cpu_overdue_p50": pct(co, .5), "cpu_overdue_p99": pct(co, .99),
            "cpu_stage_p50": pct(cf, .5), "cpu_stage_p99": pct(cf, .99),
            "rows_overdue": rows_o / queries, "rows_stage": rows_f / queries, "plans": plans}

if __name__ == "__main__":
    db = sys.argv[1]
    for v in sys.argv[2:] or ["store"]:
        print(json.dumps(run(db, v)), flush=True)
