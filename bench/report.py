"""bench/report.py FIGURES.json OUT.json - the one table of bench/run: every
figure the benchmarks recorded (benchlib.record), its median, p90, p99 and
count, its baseline and ratio where it has one, and whether the ratio meets
the goal of issue 16; writes OUT.json with the same figures plus the
machine (CPUs, load averages before and after, the time taken)."""
import json
import os
import platform
import sys
import time


def meets(v):
    """A figure with a goal: its ratio to its baseline, or (no baseline) its
    median, against the goal ("<= 0.3", ">= 0.9", "<= 8")."""
    goal = v.get("goal")
    x = v.get("ratio", v.get("goal_of") and v[v["goal_of"]] or v["median"])
    if not goal or x is None:
        return ""
    op, limit = goal.split()
    ok = {"<=": x <= float(limit), "<": x < float(limit), ">=": x >= float(limit),
          ">": x > float(limit)}[op]
    return "yes" if ok else "NO"


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        figs = json.load(f)
    meta = {"cpus": os.cpu_count(), "load_after": os.getloadavg(), "host": platform.node(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for k in ("RUNIT_BENCH_LOAD_BEFORE", "RUNIT_BENCH_STARTED"):
        if os.environ.get(k):
            meta[k.lower().replace("runit_bench_", "")] = os.environ[k]
    if os.environ.get("RUNIT_BENCH_STARTED"):
        meta["took_s"] = round(time.time() - float(os.environ["RUNIT_BENCH_STARTED"]))
    with open(out, "w") as f:
        json.dump({"machine": meta, "figures": figs}, f, indent=1)
    w = max(len(k) for k in figs) + 2
    print(f"{'figure':<{w}}{'unit':>6}{'median':>10}{'p90':>10}{'p99':>10}{'n':>6}"
          f"{'ratio':>8}{'goal':>9}{'met':>5}")
    for k, v in figs.items():
        ratio = v.get("ratio")
        print(f"{k:<{w}}{v.get('unit', ''):>6}{v['median']:10.1f}{v.get('p90', v['median']):10.1f}"
              f"{v.get('p99', v['median']):10.1f}{v.get('n', 0):6d}"
              f"{(f'{ratio:.2f}' if ratio is not None else ''):>8}{v.get('goal') or '':>9}"
              f"{meets(v):>5}")
    print(f"machine: {meta['cpus']} CPUs, load {meta.get('load_before', '?')} before, "
          f"{' '.join(f'{x:.2f}' for x in meta['load_after'])} after"
          + (f", {meta['took_s']} s" if "took_s" in meta else "") + f"; written to {out}")


if __name__ == "__main__":
    main()
