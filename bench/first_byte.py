"""Benchmark: first byte of a project's FIRST run (a new project each time,
so no warm container of its own: a prepared container of the runtime, with
its files and variables sent down stdin) against `docker run --rm` of the
same image, command and limits, interleaved one for one so that both see
the same machine load. Issue 16's goal: the median ratio <= 0.3.

Needs a running server (RUNIT_BENCH_WS, ws://...) with the runtime
RUNIT_BENCH_RUNTIME (default bench-sh: sh main.sh in runit/shell, the
default limits); bench/run sets that up. Prints figures; asserts nothing
but the output."""
import asyncio
import json
import os
import statistics
import subprocess
import time
import uuid

import websockets

from benchlib import against, call, pct, record, summary

N = int(os.environ.get("RUNIT_BENCH_FIRST_RUNS", os.environ.get("RUNIT_BENCH_RUNS", "30")))
WS = os.environ["RUNIT_BENCH_WS"]
RUNTIME = os.environ.get("RUNIT_BENCH_RUNTIME", "bench-sh")
THINK_S = int(os.environ.get("RUNIT_BENCH_THINK_MS", "500")) / 1000
SRC = "echo \"Hello, $WHO!\"\n"
DOCKER = ["docker", "run", "--rm", "--network", "none", "--read-only", "--user", "1000:1000",
          "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--memory", "256m",
          "--memory-swap", "256m", "--cpus", "1", "--pids-limit", "128",
          "--tmpfs", "/tmp:rw,exec,size=64m", "--tmpfs", "/workspace:rw,exec,size=64m",
          "--log-driver", "none", "--init", "-e", "WHO=world", "runit/shell:latest",
          "sh", "-c", "echo \"Hello, $WHO!\""]


def docker_first_byte():
    t0 = time.perf_counter()
    p = subprocess.Popen(DOCKER, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    b = p.stdout.read(1)
    t1 = time.perf_counter()
    out = b + p.stdout.read()
    p.wait()
    assert out == b"Hello, world!\n", (out, p.stderr.read())
    return (t1 - t0) * 1000


async def first_run(ws, st, i):
    """A new project with a variable; its first run: ms to the first byte."""
    res = await call(ws, st, "project/create", {"name": f"first {i} {uuid.uuid4().hex[:6]}",
                                                "runtime": RUNTIME})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    await call(ws, st, "env/set", {"project": pid, "vars": {"WHO": "world"}})
    t0 = time.perf_counter()
    rid = (await call(ws, st, "run/start", {"project": pid, "files": {"main.sh": SRC}}))["run"]
    t_first, out = None, ""
    while True:
        m = json.loads(await ws.recv())
        if m.get("params", {}).get("run") != rid:
            continue
        if m.get("method") == "run/log":
            t_first = t_first or time.perf_counter()
            out += m["params"]["data"]
        if m.get("method") == "run/exit":
            break
    assert out == "Hello, world!\n", out
    return (t_first - t0) * 1000


async def main():
    ws = await websockets.connect(WS, max_size=1 << 26, close_timeout=1)
    st = {"id": 0}
    await call(ws, st, "auth/signup", {"username": "bench" + uuid.uuid4().hex[:8],
                                       "password": "benchmark-pass"})
    await first_run(ws, st, -1)  # the runtime's first run here fills its pool
    docker_first_byte()
    ours, theirs = [], []
    for i in range(N):
        await asyncio.sleep(THINK_S)  # a person creating a project; the pool refills
        ours.append(await first_run(ws, st, i))
        await asyncio.sleep(THINK_S)
        theirs.append(docker_first_byte())
    await ws.close()
    load = open("/proc/loadavg").read().split()[:3]
    print(f"first byte of a project's first run, {N} each, interleaved, ms (load {' '.join(load)})")
    print(f"{'':<40} {'median':>8} {'p90':>8} {'p99':>8}")
    for name, xs in (("run-it (prepared container)", ours), ("docker run --rm", theirs)):
        print(f"{name:<40} {statistics.median(xs):8.1f} {pct(xs, 90):8.1f} {pct(xs, 99):8.1f}")
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"{'ratio (medians), goal <= 0.3':<40} {ratio:8.2f}")
    base = summary(theirs)
    record({"first run: docker run --rm, first byte (interleaved)": base,
            "first byte, a project's first run (prepared, interleaved)":
                against(summary(ours), base, "<= 0.3")})


if __name__ == "__main__":
    asyncio.run(main())
