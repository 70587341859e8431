"""Benchmark: "run again" while the run before is still printing (issue 16).
The new run's run/start -> first byte, against a single run's (the same
project run again after its run ended and a person read the output),
measured in the same run, on the same server. The old run is told to die
(reason replaced); the new one must not wait for its container's end.

Needs RUNIT_BENCH_WS (bench/run sets it up); RUNIT_BENCH_AGAIN_RUNS
(default 20). Prints figures and records them (benchlib.record)."""
import asyncio
import json
import os
import time
import uuid

import websockets

from benchlib import against, call, record, summary

N = int(os.environ.get("RUNIT_BENCH_AGAIN_RUNS", "20"))
WS = os.environ["RUNIT_BENCH_WS"]
THINK_S = int(os.environ.get("RUNIT_BENCH_THINK_MS", "500")) / 1000
HELLO = {"main.sh": "echo 'Hello, world!'\n"}
BUSY = {"main.sh": "while :; do echo tick; sleep 0.01; done\n"}


async def first_byte(ws, st, pid, files):
    """run/start -> first byte (ms) and the run's id; the rest is left unread."""
    t0 = time.perf_counter()
    rid = (await call(ws, st, "run/start", {"project": pid, "files": files}))["run"]
    while True:
        m = json.loads(await ws.recv())
        p = m.get("params", {})
        if p.get("run") == rid and m.get("method") == "run/log":
            return (time.perf_counter() - t0) * 1000, rid
        if p.get("run") == rid and m.get("method") == "run/exit":
            raise RuntimeError(f"run ended without output: {p}")


async def until_exit(ws, rid):
    while True:
        m = json.loads(await ws.recv())
        if m.get("method") == "run/exit" and m["params"]["run"] == rid:
            return m["params"]


async def bench():
    ws = await websockets.connect(WS, max_size=1 << 26, close_timeout=1)
    st = {"id": 0}
    await call(ws, st, "auth/signup", {"username": "bench" + uuid.uuid4().hex[:8],
                                       "password": "benchmark-pass"})
    res = await call(ws, st, "project/create", {"name": "bench again", "runtime": "bench-sh"})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    single, again = [], []
    for i in range(N + 2):  # two warm-up rounds
        await asyncio.sleep(THINK_S)
        fb, rid = await first_byte(ws, st, pid, HELLO)
        await until_exit(ws, rid)
        await asyncio.sleep(THINK_S)
        _, old = await first_byte(ws, st, pid, BUSY)
        await asyncio.sleep(0.3)  # it prints; the person presses Run again
        fb2, new = await first_byte(ws, st, pid, HELLO)
        ex = await until_exit(ws, new)
        assert ex["reason"] == "exited", ex
        if i >= 2:
            single.append(fb)
            again.append(fb2)
    await ws.close()
    return single, again


def main():
    single, again = asyncio.run(bench())
    s, a = summary(single), summary(again)
    a = against(a, s, "<= 1.3")
    print(f"run again while the run before prints: {N} rounds (after 2 warm-up), ms")
    print(f"  a single run -> first byte (baseline)        {s['median']:8.1f} p90 {s['p90']:8.1f}")
    print(f"  run again, the old one printing -> first byte {a['median']:8.1f} p90 {a['p90']:8.1f}"
          f"  ratio {a['ratio']:.2f} (goal {a['goal']})")
    record({"bench-sh: first byte, single run": s,
            "bench-sh: first byte, run again while printing": a})


if __name__ == "__main__":
    main()
