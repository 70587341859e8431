"""Benchmark: password hashing and the event loop, two figures measured in
the same run, each as a ratio to its own baseline:

- a failed login for an unknown user name against one with a wrong
  password (the server verifies a dummy hash for unknown names, so the two
  take as long: a ratio near 1);
- session/hello latency while 50 clients log in 1000 times against the
  same hellos with nothing else going on (hashing runs off the loop, so
  the hellos barely wait: a small ratio, where hashing on the loop would
  make it hundreds).

tests/integration checks the behaviour (identical answers; every login and
every hello answered); how long things take depends on the machine, so it is
printed here, not asserted. Needs a running server (RUNIT_BENCH_WS) that
allows many sign-ups and failed logins from one address; bench/run sets
that up. RUNIT_BENCH_LOGINS (default 1000) and RUNIT_BENCH_FAILED_LOGINS
(of each kind, default 20) change the load."""
import asyncio
import json
import multiprocessing
import os
import statistics
import time
import uuid

import websockets

from benchlib import pct

WS = os.environ["RUNIT_BENCH_WS"]
PASSWORD = "benchmark-pass"
FAILED = int(os.environ.get("RUNIT_BENCH_FAILED_LOGINS", "20"))  # of each kind
CLIENTS = 50
LOGINS_EACH = int(os.environ.get("RUNIT_BENCH_LOGINS", "1000")) // CLIENTS


def row(label, *values):
    print(f"{label:<46}" + "".join(v if isinstance(v, str) else f"{v:9.1f}" for v in values))


async def call(ws, state, method, params):
    state["id"] += 1
    rid = state["id"]
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
    while True:
        m = json.loads(await ws.recv())
        if m.get("id") == rid:
            return m


async def signup(ws, st):
    name = "bench" + uuid.uuid4().hex[:10]
    r = await call(ws, st, "auth/signup", {"username": name, "password": PASSWORD})
    assert "result" in r, r
    return name


async def failed_login_times():
    """Milliseconds per failed login: (wrong password, unknown user),
    alternating, each name failing at most 4 times (a lock comes at 5)."""
    ws = await websockets.connect(WS, close_timeout=1)
    st = {"id": 0}
    names = [await signup(ws, st) for _ in range((FAILED + 3) // 4)]
    wrong, unknown = [], []
    for i in range(FAILED):
        for kind, user in (("wrong", names[i // 4]), ("unknown", "nobody" + uuid.uuid4().hex[:10])):
            t0 = time.perf_counter()
            r = await call(ws, st, "auth/login", {"username": user, "password": "not the password"})
            dt = (time.perf_counter() - t0) * 1000
            assert r["error"]["data"]["reason"] == "UNAUTHENTICATED", r
            (wrong if kind == "wrong" else unknown).append(dt)
    await ws.close()
    return wrong, unknown


def hello_meter(url, ready, stop, out):
    """In a process of its own: session/hello every 10 ms until stop is set;
    puts the latencies (ms) in out."""
    async def go():
        ws = await websockets.connect(url, close_timeout=1)
        st = {"id": 0}
        lat = []
        while not stop.is_set():
            t0 = time.perf_counter()
            r = await call(ws, st, "session/hello", {})
            assert "result" in r, r
            lat.append((time.perf_counter() - t0) * 1000)
            ready.set()
            await asyncio.sleep(0.01)
        await ws.close()
        return lat
    out.put(asyncio.run(go()))


def hellos_during(work):
    """Hello latencies (ms) measured while work() runs; work's result."""
    ctx = multiprocessing.get_context("fork")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    meter = ctx.Process(target=hello_meter, args=(WS, ready, stop, out))
    meter.start()
    ready.wait(60)
    try:
        result = work()
    finally:
        stop.set()
    lat = out.get(timeout=120)
    meter.join(30)
    return lat, result


async def many_logins():
    # a user per client: at most RUNIT_LOGIN_LOCK_AFTER logins of one name
    # are checked at once, the rest are refused
    ws = await websockets.connect(WS, close_timeout=1)
    names = [await signup(ws, {"id": 0}) for _ in range(CLIENTS)]
    await ws.close()

    async def client(name):
        c = await websockets.connect(WS, close_timeout=1)
        st = {"id": 0}
        for _ in range(LOGINS_EACH):
            r = await call(c, st, "auth/login", {"username": name, "password": PASSWORD})
            assert "result" in r, r
        await c.close()
    t0 = time.perf_counter()
    await asyncio.gather(*(client(name) for name in names))
    return time.perf_counter() - t0


def main():
    wrong, unknown = asyncio.run(failed_login_times())
    row(f"failed logins ({FAILED} of each kind), ms", f"{'median':>9}", f"{'p90':>9}")
    row("  wrong password (baseline)", statistics.median(wrong), pct(wrong, 90))
    row("  unknown user name", statistics.median(unknown), pct(unknown, 90))
    row("  ratio unknown / wrong (median)", f"{statistics.median(unknown) / statistics.median(wrong):9.2f}")

    idle, _ = hellos_during(lambda: time.sleep(3))
    busy, took = hellos_during(lambda: asyncio.run(many_logins()))
    n = CLIENTS * LOGINS_EACH
    row("session/hello latency, ms", f"{'median':>9}", f"{'p99':>9}", f"{'max':>9}")
    row("  nothing else going on (baseline)", statistics.median(idle), pct(idle, 99), max(idle))
    row(f"  during {n} logins from {CLIENTS} clients", statistics.median(busy), pct(busy, 99), max(busy))
    row("  ratio during / baseline (median)", f"{statistics.median(busy) / statistics.median(idle):9.2f}")
    print(f"  ({n} logins in {took:.1f} s, {n / took:.1f}/s, {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
