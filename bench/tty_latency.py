"""Benchmark: what a terminal costs a run. The same hello world through pipes
(run/start without tty) and through a terminal (tty: true, as the IDE starts
runs), on the same server with warm containers, one project per mode (a warm
container serves only the mode it was made for): run/start -> first byte and
run/start -> run/exit. A terminal run sets the console's size before the
program starts (one more engine request) and its first byte comes after the
wrapper's marker line. Prints figures; asserts nothing.

Needs RUNIT_BENCH_WS (bench/run sets it up)."""
import asyncio
import json
import os
import statistics
import sys
import time
import uuid

import websockets

from benchlib import pct, call

N = int(os.environ.get("RUNIT_BENCH_RUNS", "50"))
WS = os.environ["RUNIT_BENCH_WS"]
THINK_S = int(os.environ.get("RUNIT_BENCH_THINK_MS", "500")) / 1000

CASES = [
    ("bench-sh", "main.sh", "echo 'Hello, world!'\n"),
    ("python-3.11", "main.py", "print('Hello, world!')\n"),
]


async def bench(code, fname, src, tty):
    ws = await websockets.connect(WS, max_size=1 << 26, close_timeout=1)
    st = {"id": 0}
    await call(ws, st, "auth/signup", {"username": "tty" + uuid.uuid4().hex[:8],
                                       "password": "benchmark-pass"})
    res = await call(ws, st, "project/create", {"name": f"tty bench {code}", "runtime": code})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    want = "Hello, world!\r\n" if tty else "Hello, world!\n"
    params = {"project": pid, "files": {fname: src}}
    if tty:
        params.update(tty=True, cols=120, rows=40)
    first, total = [], []
    for i in range(N + 2):  # two warm-up runs
        await asyncio.sleep(THINK_S)
        t0 = time.perf_counter()
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 10_000 + i, "method": "run/start",
                                  "params": params}))
        t_first, out = None, ""
        while True:
            m = json.loads(await ws.recv())
            if m.get("method") == "run/log":
                t_first = t_first or time.perf_counter()
                out += m["params"]["data"]
            if m.get("method") == "run/exit":
                t_end = time.perf_counter()
                break
        assert out == want, out
        if i >= 2:
            first.append((t_first - t0) * 1000)
            total.append((t_end - t0) * 1000)
    await ws.close()
    return first, total


def row(code, what, xs):
    print(f"{code:<14} {what:<36} {statistics.median(xs):8.1f} {pct(xs, 90):8.1f}")


def main():
    print(f"terminal vs pipes: {N} runs per case and mode (after 2 warm-up runs), "
          f"{THINK_S * 1000:.0f} ms between runs, warm containers, times in ms")
    print(f"{'case':<14} {'what':<36} {'median':>8} {'p90':>8}")
    for code, fname, src in CASES:
        pf, pt = asyncio.run(bench(code, fname, src, False))
        tf, tt = asyncio.run(bench(code, fname, src, True))
        row(code, "pipes: run/start -> first byte", pf)
        row(code, "terminal: run/start -> first byte", tf)
        row(code, "pipes: run/start -> run/exit", pt)
        row(code, "terminal: run/start -> run/exit", tt)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
