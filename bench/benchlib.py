"""What the benchmarks in bench/ share: a percentile and a JSON-RPC call
over a websocket (the result, or RuntimeError on an error answer)."""
import json
import os
import statistics


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def call(ws, state, method, params):
    state["id"] += 1
    rid = state["id"]
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
    while True:
        m = json.loads(await ws.recv())
        if m.get("id") == rid:
            if "error" in m:
                raise RuntimeError(f"{method}: {m['error']}")
            return m["result"]


def summary(xs, unit="ms"):
    """A figure's samples as bench/run's JSON records them."""
    return {"median": statistics.median(xs), "p90": pct(xs, 90), "p99": pct(xs, 99),
            "n": len(xs), "unit": unit}


def record(figures):
    """Add figures ({name: summary(...) plus, for a figure with a goal,
    "baseline": name, "ratio", "goal": "<= 0.3" or ">= 0.9"}) to the JSON
    file bench/run collects (RUNIT_BENCH_JSON); nothing without it."""
    path = os.environ.get("RUNIT_BENCH_JSON")
    if not path:
        return
    try:
        with open(path) as f:
            have = json.load(f)
    except (OSError, ValueError):
        have = {}
    have.update(figures)
    with open(path, "w") as f:
        json.dump(have, f, indent=1)


def against(fig, base, goal):
    """fig with its ratio to base (medians) and its goal, e.g. "<= 0.3"."""
    fig = dict(fig)
    fig["ratio"] = fig["median"] / base["median"] if base["median"] else None
    fig["goal"] = goal
    return fig
