"""summarize.py RESULTS.jsonl: the median over rounds of each figure, per
database and variant, and the 1M/10k ratios against the bench's 10k (t_*)
and against the control (c_*: 1,000 leads per tenant, 9 MB)."""
import json, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line); runs[(r["db"], r["variant"])].append(r)
keys = ("overdue_p50", "overdue_p90", "overdue_p99", "stage_p50", "stage_p90", "stage_p99",
        "cpu_overdue_p50", "cpu_overdue_p99", "cpu_stage_p50", "cpu_stage_p99")
med = {k: {f: statistics.median(x[f] for x in v) for f in keys + ("rows_overdue", "rows_stage")}
       for k, v in runs.items()}
print(f"{'db':8} {'variant':10} " + " ".join(f"{k.replace('cpu_overdue', 'cpuO').replace('cpu_stage', 'cpuS'):>11}" for k in keys) + "  rows o/s  (ms, median of %d rounds)" % len(next(iter(runs.values()))))
for (db, v), m in med.items():
    print(f"{db:8} {v:10} " + " ".join(f"{m[k]:11.3f}" for k in keys) + f"  {m['rows_overdue']:.1f}/{m['rows_stage']:.1f}")
print("\nratios 1M / 10k (p50 and p99):")
for s in "abc":
    m = med.get((f"m_{s}.db", "store"))
    for base in ("t", "c"):
        b = med.get((f"{base}_{s}.db", "store"))
        if m and b:
            print(f"  m_{s} / {base}_{s}: overdue p50 {m['overdue_p50']/b['overdue_p50']:.2f} p99 {m['overdue_p99']/b['overdue_p99']:.2f}; "
                  f"stage p50 {m['stage_p50']/b['stage_p50']:.2f} p99 {m['stage_p99']/b['stage_p99']:.2f}; "
                  f"CPU-time p99: overdue {m['cpu_overdue_p99']/b['cpu_overdue_p99']:.2f} stage {m['cpu_stage_p99']/b['cpu_stage_p99']:.2f}")
print("\nplans:")
seen = set()
for (db, v), rs in runs.items():
    p = json.dumps(rs[0]["plans"])
    if (db[2], v, p) not in seen and db.startswith("m_"):
        seen.add((db[2], v, p)); print(f"  {db} {v}: {rs[0]['plans']}")
