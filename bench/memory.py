"""Benchmark: memory that comes back (issue 16). The server's RSS (from
/proc) before and after a run of 100 MB of output read by its user, and
before, during and after RUNIT_BENCH_SOCKETS (default 10,000) idle
authenticated websockets: what one costs, and session/hello's latency on
a few of them meanwhile. Goals: back to within 20 MB of the start; at most
8 KB a socket; session/hello p99 under 10 ms.

Needs RUNIT_BENCH_WS and the server's pid in RUNIT_BENCH_PID (bench/run
sets both; the server must allow that many sessions and file descriptors)."""
import asyncio
import json
import os
import resource
import time
import uuid

import websockets

from benchlib import call, record, summary
from output_throughput import Raw

WS = os.environ["RUNIT_BENCH_WS"]
PID = int(os.environ["RUNIT_BENCH_PID"])
SOCKETS = int(os.environ.get("RUNIT_BENCH_SOCKETS", "10000"))
OUT_MB = int(os.environ.get("RUNIT_BENCH_MEM_MB", "100"))


def rss_kb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def settle():
    await asyncio.sleep(3)  # closes and frees finish; the server trims at idle points


async def account():
    ws = await websockets.connect(WS, close_timeout=1)
    st = {"id": 0}
    res = await call(ws, st, "auth/signup", {"username": "bench" + uuid.uuid4().hex[:8],
                                             "password": "benchmark-pass"})
    return ws, st, res["token"]


async def big_run():
    ws, st, token = await account()
    res = await call(ws, st, "project/create", {"name": "bench mem", "runtime": "bench-sh-big"})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    await ws.close()
    await settle()
    before = rss_kb()
    own = await Raw.open(token)
    src = f"head -c {OUT_MB * 1000000} /dev/zero | tr '\\0' a\n"
    rid = (await own.call("run/start", {"project": pid, "files": {"main.sh": src}}))["run"]
    n, gaps, _, _ = await own.read_run([rid])
    peak = rss_kb()
    own.close()
    await settle()
    return before, peak, rss_kb(), n


async def sockets():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, SOCKETS + 1000), hard))
    ws, st, token = await account()
    await ws.close()
    await settle()
    before = rss_kb()
    hdr = {"Authorization": "Bearer " + token}
    conns = []
    for i in range(0, SOCKETS, 100):  # a busy machine: a generous open_timeout
        conns += await asyncio.gather(*(websockets.connect(WS, extra_headers=hdr, close_timeout=1,
                                                           ping_interval=None, open_timeout=120)
                                        for _ in range(min(100, SOCKETS - i))))
    # each authenticated (its token looked up) and idle: one hello each
    for i in range(0, len(conns), 500):
        await asyncio.gather(*(call(c, {"id": 0}, "session/hello", {}) for c in conns[i:i + 500]))
    await asyncio.sleep(1)
    during = rss_kb()
    lat = []
    for c in conns[:: max(1, len(conns) // 200)]:
        t = time.perf_counter()
        await call(c, {"id": 1}, "session/hello", {})
        lat.append((time.perf_counter() - t) * 1000)
    for i in range(0, len(conns), 500):
        await asyncio.gather(*(c.close() for c in conns[i:i + 500]))
    await settle()
    return before, during, rss_kb(), lat, len(conns)


def main():
    figs = {}
    if OUT_MB:
        b, peak, a, n = asyncio.run(big_run())
        print(f"memory: a {OUT_MB} MB run ({n} bytes read): RSS {b} -> peak {peak} -> {a} kB",
              flush=True)
        figs[f"RSS after a {OUT_MB} MB run, less before"] = {
            "median": (a - b) / 1024, "n": 1, "unit": "MB", "goal": "<= 20",
            "peak_mb": (peak - b) / 1024}
    sb, sd, sa, lat, nconn = asyncio.run(sockets())
    figs.update({
        f"RSS per idle websocket at {nconn}": {"median": (sd - sb) / nconn, "n": nconn,
                                               "unit": "KB", "goal": "<= 8"},
        f"RSS after {nconn} websockets closed, less before": {"median": (sa - sb) / 1024, "n": 1,
                                                               "unit": "MB", "goal": "<= 20"},
        f"session/hello at {nconn} websockets": dict(summary(lat), goal="< 10", goal_of="p99"),
    })
    print(f"memory: {nconn} websockets: {sb} -> {sd} -> {sa} kB "
          f"({(sd - sb) / nconn:.2f} KB each); session/hello p99 "
          f"{figs[f'session/hello at {nconn} websockets']['p99']:.1f} ms")
    record(figs)


if __name__ == "__main__":
    main()
