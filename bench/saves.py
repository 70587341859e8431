"""Benchmark: saves (issue 16). RUNIT_BENCH_SAVERS (default 100) clients,
each with a project of its own open (ten clients a user: a sign-up hashes a
password, seconds each on a busy machine), save a 10 KB file
as fast as the answers come (file/save on the version the last answer
gave), for RUNIT_BENCH_SAVE_S seconds (default 8); the baseline is one such
client alone for as long, in the same run. Figures: saves per second of the
many against the one (goal >= 2) and the latency of one save under the
many (goal: p99 < 100 ms). Every answer is checked (a version one higher).

The clients run in RUNIT_BENCH_SAVE_PROCS processes (default 2), so that
Python's own work is not what the figure measures; each reports its CPU
time. Needs RUNIT_BENCH_WS (bench/run sets it)."""
import asyncio
import multiprocessing
import os
import resource
import time
import uuid

import websockets

from benchlib import against, call, record, summary

WS = os.environ["RUNIT_BENCH_WS"]
SAVERS = int(os.environ.get("RUNIT_BENCH_SAVERS", "100"))
SECONDS = float(os.environ.get("RUNIT_BENCH_SAVE_S", "8"))
PROCS = int(os.environ.get("RUNIT_BENCH_SAVE_PROCS", "2"))
BODY = ("0123456789abcdef" * 64 + "\n") * 10  # 10,250 bytes


async def signup():
    """A new user's token."""
    ws = await websockets.connect(WS, close_timeout=1, ping_interval=None)
    res = await call(ws, {"id": 0}, "auth/signup", {"username": "bench" + uuid.uuid4().hex[:10],
                                                    "password": "benchmark-pass"})
    await ws.close()
    return res["token"]


async def saver(token):
    """A signed-in client with its project open and a file: (ws, state, project)."""
    ws = await websockets.connect(WS, max_size=1 << 24, close_timeout=1, ping_interval=None,
                                  extra_headers={"Authorization": "Bearer " + token})
    st = {"id": 0}
    res = await call(ws, st, "project/create", {"name": "bench saves", "runtime": "bench-sh"})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    await call(ws, st, "project/open", {"id": pid})
    await call(ws, st, "file/create", {"project": pid, "path": "notes.txt", "content": ""})
    return ws, st, pid


async def save_loop(ws, st, pid, start, until, lat):
    version, i = 1, 0
    while time.monotonic() < until:
        i += 1
        t = time.perf_counter()
        res = await call(ws, st, "file/save", {"project": pid, "path": "notes.txt",
                                               "content": f"{i}\n{BODY}", "base_version": version})
        if time.monotonic() >= start:
            lat.append((time.perf_counter() - t) * 1000)
        assert res["version"] == version + 1, res
        version = res["version"]


async def clients(n, ready, seconds):
    """n clients set up, then (every process's clients set up: the barrier
    ready) saving for seconds; their latencies (ms) and this process's CPU
    seconds while saving."""
    tokens = await asyncio.gather(*(signup() for _ in range((n + 9) // 10)))
    conns = await asyncio.gather(*(saver(tokens[i // 10]) for i in range(n)))
    ready.wait()  # nothing else to do on this loop meanwhile
    cpu0 = time.process_time()
    start = time.monotonic()
    lat = []
    await asyncio.gather(*(save_loop(ws, st, pid, start, start + seconds, lat)
                           for ws, st, pid in conns))
    cpu = time.process_time() - cpu0
    await asyncio.gather(*(ws.close() for ws, _, _ in conns))
    return lat, cpu


def worker(n, ready, seconds, q):
    try:
        q.put(asyncio.run(clients(n, ready, seconds)))
    except BaseException as e:  # the others stop waiting; phase() says what went wrong
        ready.abort()
        q.put(e if isinstance(e, Exception) else RuntimeError(repr(e)))


def phase(n):
    """n savers over PROCS processes: (latencies, saves/s, CPU s of the clients)."""
    procs = min(PROCS, n)
    ready = multiprocessing.Barrier(procs, timeout=300)
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker, args=(n // procs + (k < n % procs),
                                                       ready, SECONDS, q))
          for k in range(procs)]
    for p in ps:
        p.start()
    got = [q.get(timeout=600) for _ in ps]
    for p in ps:
        p.join()
    for g in got:
        if isinstance(g, Exception):
            raise SystemExit(f"saves: a client failed: {g!r}")
    lat = [x for g in got for x in g[0]]
    return lat, len(lat) / SECONDS, sum(g[1] for g in got)


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1:] * 2)
    one, one_rate, one_cpu = phase(1)
    many, many_rate, many_cpu = phase(SAVERS)
    base = dict(summary([one_rate]), unit="/s")
    figs = {
        "saves/s, 1 client": base,
        f"saves/s, {SAVERS} clients": against(dict(summary([many_rate]), unit="/s"), base, ">= 2"),
        "file/save latency, 1 client": summary(one),
        f"file/save latency, {SAVERS} clients": dict(summary(many), goal="< 100", goal_of="p99"),
    }
    print(f"saves: 1 client {one_rate:.0f}/s (median {figs['file/save latency, 1 client']['median']:.1f} ms), "
          f"{SAVERS} clients {many_rate:.0f}/s = {many_rate / one_rate:.2f}x, p99 "
          f"{figs[f'file/save latency, {SAVERS} clients']['p99']:.1f} ms; clients' CPU "
          f"{one_cpu:.1f} s, {many_cpu:.1f} s of {SECONDS:.0f} s x {PROCS} processes")
    record(figs)


if __name__ == "__main__":
    main()
