"""What the benchmarks in bench/ share: a percentile and a JSON-RPC call
over a websocket (the result, or RuntimeError on an error answer)."""
import json


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
