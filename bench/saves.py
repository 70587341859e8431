"""Benchmark: saves (issue 16). RUNIT_BENCH_SAVERS (default 100) clients,
each with a project of its own open (ten clients a user: a sign-up hashes a
password, seconds each on a busy machine), save a 10 KB file
as fast as the answers come (file/save on the version the last answer
gave); the baseline is one such client alone. Figures: saves per second of
the many against the one (goal >= 2) and the latency of one save under the
many (goal: p99 < 100 ms). Every answer is checked (a version one higher).

The one and the many take turns, RUNIT_BENCH_SAVE_ROUNDS times (default 3),
each RUNIT_BENCH_SAVE_S seconds in all (default 8) split over the rounds:
this machine's speed moves by a third within minutes, and a baseline
measured minutes apart from its figure would carry that into the ratio.
The figures are the medians of the rounds' rates.

The clients run in RUNIT_BENCH_SAVE_PROCS processes (default 2), so that
Python's own work is not what the figure measures; each reports its CPU
time. Also the room events the server could not relay to other instances
meanwhile (runit_room_relay_dropped_total: its relay fell behind 100
clients saving until 5 December; goal: none). Needs RUNIT_BENCH_WS (bench/run
sets it)."""
import asyncio
import multiprocessing
import os
import resource
import re
import time
import urllib.request
import uuid

import websockets

from benchlib import against, call, record, summary

WS = os.environ["RUNIT_BENCH_WS"]
SAVERS = int(os.environ.get("RUNIT_BENCH_SAVERS", "100"))
SECONDS = float(os.environ.get("RUNIT_BENCH_SAVE_S", "8"))
PROCS = int(os.environ.get("RUNIT_BENCH_SAVE_PROCS", "2"))
ROUNDS = int(os.environ.get("RUNIT_BENCH_SAVE_ROUNDS", "3"))
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


async def save_loop(ws, st, pid, until, lat):
    """Saves until the time until; each one's latency (ms) into lat."""
    while time.monotonic() < until:
        st["saves"] = st.get("saves", 0) + 1
        version = st.get("version", 1)
        t = time.perf_counter()
        res = await call(ws, st, "file/save", {"project": pid, "path": "notes.txt",
                                               "content": f"{st['saves']}\n{BODY}",
                                               "base_version": version})
        lat.append((time.perf_counter() - t) * 1000)
        assert res["version"] == version + 1, res
        st["version"] = res["version"]


async def clients(n, solo, turn, seconds):
    """n clients (and, when solo, the one client alone) set up, then the
    rounds: the one alone, then the many, each when every process is ready
    (the barrier turn) and for seconds. Per round and kind: the latencies
    (ms) of its saves; and this process's CPU seconds while saving."""
    tokens = await asyncio.gather(*(signup() for _ in range((n + 9) // 10 + solo)))
    conns = await asyncio.gather(*(saver(tokens[i // 10]) for i in range(n)))
    alone = [await saver(tokens[-1])] if solo else []
    rounds, cpu = [], 0.0
    for _ in range(ROUNDS):
        got = {}
        for kind, these in (("one", alone), ("many", conns)):
            turn.wait()  # nothing else to do on this loop meanwhile
            cpu0 = time.process_time()
            until = time.monotonic() + seconds
            got[kind] = []
            await asyncio.gather(*(save_loop(ws, st, pid, until, got[kind]) for ws, st, pid in these))
            cpu += time.process_time() - cpu0
        rounds.append(got)
    await asyncio.gather(*(ws.close() for ws, _, _ in conns + alone))
    return rounds, cpu


def worker(n, solo, turn, seconds, q):
    try:
        q.put(asyncio.run(clients(n, solo, turn, seconds)))
    except BaseException as e:  # the others stop waiting; main() says what went wrong
        turn.abort()
        q.put(e if isinstance(e, Exception) else RuntimeError(repr(e)))


def relay_dropped():
    """The server's runit_room_relay_dropped_total."""
    url = WS.replace("ws://", "http://", 1).rsplit("/ws", 1)[0] + "/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        m = re.search(r"^runit_room_relay_dropped_total (\d+)$", r.read().decode(), re.M)
    return int(m.group(1))


def main():
    dropped0 = relay_dropped()
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1:] * 2)
    seconds = SECONDS / ROUNDS
    turn = multiprocessing.Barrier(PROCS, timeout=300)
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker, args=(SAVERS // PROCS + (k < SAVERS % PROCS),
                                                       k == 0, turn, seconds, q))
          for k in range(PROCS)]
    for p in ps:
        p.start()
    got = [q.get(timeout=900) for _ in ps]
    for p in ps:
        p.join()
    for g in got:
        if isinstance(g, Exception):
            raise SystemExit(f"saves: a client failed: {g!r}")
    lat = {kind: [x for g in got for r in g[0] for x in r[kind]] for kind in ("one", "many")}
    rates = {kind: [sum(len(g[0][i][kind]) for g in got) / seconds for i in range(ROUNDS)]
             for kind in ("one", "many")}
    base = dict(summary(rates["one"]), unit="/s")
    many = against(dict(summary(rates["many"]), unit="/s"), base, ">= 2")
    figs = {
        "saves/s, 1 client": base,
        f"saves/s, {SAVERS} clients": many,
        "file/save latency, 1 client": summary(lat["one"]),
        f"file/save latency, {SAVERS} clients": dict(summary(lat["many"]), goal="< 100", goal_of="p99"),
        "room events not relayed during the saves": dict(summary([relay_dropped() - dropped0]),
                                                         unit="", goal="<= 0"),
    }
    rounds = ", ".join(f"{m / o:.2f}" for o, m in zip(rates["one"], rates["many"]))
    print(f"saves: 1 client {base['median']:.0f}/s (median {figs['file/save latency, 1 client']['median']:.1f} ms), "
          f"{SAVERS} clients {many['median']:.0f}/s = {many['ratio']:.2f}x (rounds {rounds}), p99 "
          f"{figs[f'file/save latency, {SAVERS} clients']['p99']:.1f} ms, "
          f"{figs['room events not relayed during the saves']['median']} room events not relayed; clients' CPU "
          f"{', '.join(f'{g[1]:.1f}' for g in got)} s of {2 * SECONDS:.0f} s")
    record(figs)


if __name__ == "__main__":
    main()
