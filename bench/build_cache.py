"""Benchmark: what the project's cache volume saves a Go project (go.mod,
main.go, util.go on the seeded go-1.19 runtime), three ways measured in the
same run, each run started through the websocket as the IDE does:

  no cache        the same runtime with cache_bytes 0 (no cache volume, as
                  before the volume existed): one project, util.go changed
                  before every run, so Go's cache in /tmp is empty each time
  cold cache      every run in a new project: an empty cache volume (and no
                  prepared container: a project's first run)
  warm cache      one project, util.go changed before every run: Go's build
                  cache (GOCACHE in the volume) is warm, the build is redone
  unchanged code  one project, the same files every run: the server's build
                  key matches, the wrapper restores the binary kept in the
                  volume and skips `go build`

Prints run/start -> end of the build (run/status "running") and run/start
-> run/exit, median and p90; asserts nothing but the program's output. The
projects are deleted at the end (their volumes go with them).

Needs a running server (RUNIT_BENCH_WS, ws://...) seeded with go-1.19, a
copy of it with cache_bytes 0 (RUNIT_BENCH_GO_NOCACHE, default
bench-go-nocache) and the runit/go image; bench/run sets all of that up. RUNIT_BENCH_BUILD_RUNS
(default 10) runs per case."""
import asyncio
import json
import os
import statistics
import sys
import time
import uuid

import websockets

from benchlib import pct

N = int(os.environ.get("RUNIT_BENCH_BUILD_RUNS", "10"))
WS = os.environ["RUNIT_BENCH_WS"]
THINK_S = int(os.environ.get("RUNIT_BENCH_THINK_MS", "500")) / 1000
RUNTIME = os.environ.get("RUNIT_BENCH_GO_RUNTIME", "go-1.19")
NOCACHE = os.environ.get("RUNIT_BENCH_GO_NOCACHE", "bench-go-nocache")

MAIN = ('package main\n\nimport "fmt"\n\nfunc main() {\n'
        '\tfmt.Println("Hello from", greeting())\n}\n')
UTIL = 'package main\n\nfunc greeting() string { return "%s" }\n'


def files(word):
    return {"go.mod": "module hello\n\ngo 1.19\n", "main.go": MAIN, "util.go": UTIL % word}


class Conn:
    def __init__(self, ws):
        self.ws, self.id = ws, 0

    async def call(self, method, params):
        self.id += 1
        rid = self.id
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                       "params": params}))
        while True:
            m = json.loads(await self.ws.recv())
            if m.get("id") == rid:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]

    async def project(self, runtime=RUNTIME):
        res = await self.call("project/create", {"name": "bench go " + uuid.uuid4().hex[:6],
                                                 "runtime": runtime})
        return res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]

    async def timed_run(self, pid, fs, word):
        """(ms to the end of the build, ms to run/exit) of one run."""
        await asyncio.sleep(THINK_S)
        t0 = time.perf_counter()
        res = await self.call("run/start", {"project": pid, "files": fs})
        run_id, t_built, out = res["run"], None, ""
        while True:
            m = json.loads(await self.ws.recv())
            p = m.get("params", {})
            if p.get("run") != run_id:
                continue
            if m.get("method") == "run/status" and p["state"] == "running" and t_built is None:
                t_built = time.perf_counter()
            elif m.get("method") == "run/log":
                out += p["data"]
            elif m.get("method") == "run/exit":
                t_end = time.perf_counter()
                break
        if out != f"Hello from {word}\n" or p["reason"] != "exited":
            raise RuntimeError(f"unexpected run: {p} {out!r}")
        return (t_built - t0) * 1000, (t_end - t0) * 1000


async def bench():
    ws = await websockets.connect(WS, max_size=1 << 26, close_timeout=1)
    c = Conn(ws)
    await c.call("auth/signup", {"username": "benchgo" + uuid.uuid4().hex[:8],
                                 "password": "benchmark-pass"})
    made = []
    res = {"no cache volume, util.go changed": [], "cold cache (new project each run)": [],
           "warm cache, util.go changed": [], "warm cache, unchanged code": []}
    warm, nocache = await c.project(), await c.project(NOCACHE)
    made += [warm, nocache]
    await c.timed_run(warm, files("first"), "first")  # fills the warm project's cache
    await c.timed_run(nocache, files("first"), "first")  # its next run has a prepared container
    for i in range(N):
        # the cases in turn, so that the machine's load hits them alike
        w = f"nocache{i}"
        res["no cache volume, util.go changed"].append(await c.timed_run(nocache, files(w), w))
        cold = await c.project()
        made.append(cold)
        w = f"cold{i}"
        res["cold cache (new project each run)"].append(await c.timed_run(cold, files(w), w))
        w = f"changed{i}"
        res["warm cache, util.go changed"].append(await c.timed_run(warm, files(w), w))
        res["warm cache, unchanged code"].append(await c.timed_run(warm, files(w), w))
    for pid in made:
        await c.call("project/delete", {"id": pid})
    await ws.close()
    return res


def main():
    res = asyncio.run(bench())
    print(f"\nGo build cache: {N} runs per case of a two-file Go project ({RUNTIME}), "
          f"{THINK_S * 1000:.0f} ms between runs, times in ms")
    print(f"{'case':<36} {'-> build done':>14} {'p90':>8} {'-> run/exit':>12} {'p90':>8}")
    for what, xs in res.items():
        built = [b for b, _ in xs]
        total = [t for _, t in xs]
        print(f"{what:<36} {statistics.median(built):14.1f} {pct(built, 90):8.1f} "
              f"{statistics.median(total):12.1f} {pct(total, 90):8.1f}")
    base = statistics.median([t for _, t in res["no cache volume, util.go changed"]])
    for what in ("warm cache, util.go changed", "warm cache, unchanged code"):
        print(f"{'ratio ' + what + ' / no cache (-> run/exit)':<64} "
              f"{statistics.median([t for _, t in res[what]]) / base:8.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
