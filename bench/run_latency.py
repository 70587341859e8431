"""Benchmark: run-to-first-byte and the full hello-world round trip through the
websocket (run/start -> run/exit), against `docker run --rm` of the same image,
command and limits, measured in the same run. Prints figures; asserts nothing.

Needs a running server (RUNIT_BENCH_URL, ws://...) and a user token or
credentials; bench/run sets all of that up."""
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

import websockets

from benchlib import against, call, pct, record, summary

N = int(os.environ.get("RUNIT_BENCH_RUNS", "50"))
WS = os.environ["RUNIT_BENCH_WS"]                # server with warm containers (the default)
WS_COLD = os.environ.get("RUNIT_BENCH_WS_COLD")  # server with RUNIT_WARM_CONTAINERS=0
THINK_S = int(os.environ.get("RUNIT_BENCH_THINK_MS", "500")) / 1000  # a person reads the output
NEW = int(os.environ.get("RUNIT_BENCH_FIRST_RUNS", "10"))  # projects run for the first time

CASES = [
    # runtime code, file name, code, image, docker command
    ("bench-sh", "main.sh", "echo 'Hello, world!'\n", "runit/shell:latest", ["sh", "-c", "echo 'Hello, world!'"]),
    ("python-3.11", "main.py", "print('Hello, world!')\n", "runit/python:latest", ["python3", "-u", "-c", "print('Hello, world!')"]),
]


async def bench_server(url, code, fname, src):
    ws = await websockets.connect(url, max_size=1 << 26, close_timeout=1)
    st = {"id": 0}
    name = "bench" + uuid.uuid4().hex[:8]
    await call(ws, st, "auth/signup", {"username": name, "password": "benchmark-pass"})
    res = await call(ws, st, "project/create", {"name": "bench " + code, "runtime": code})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    first, total = [], []
    for i in range(N + 2):  # two warm-up runs
        await asyncio.sleep(THINK_S)
        t0 = time.perf_counter()
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 10_000 + i, "method": "run/start",
                                  "params": {"project": pid, "files": {fname: src}}}))
        t_first = None
        out = ""
        while True:
            m = json.loads(await ws.recv())
            if m.get("method") == "run/log" and t_first is None:
                t_first = time.perf_counter()
            if m.get("method") == "run/log":
                out += m["params"]["data"]
            if m.get("method") == "run/exit":
                t_end = time.perf_counter()
                break
        assert out == "Hello, world!\n", out
        if i >= 2:
            first.append((t_first - t0) * 1000)
            total.append((t_end - t0) * 1000)
    await ws.close()
    return first, total


async def bench_first_runs(url, code, fname, src):
    """run/start -> first byte of a project's first run, NEW projects."""
    ws = await websockets.connect(url, max_size=1 << 26, close_timeout=1)
    st = {"id": 0}
    await call(ws, st, "auth/signup", {"username": "bench" + uuid.uuid4().hex[:8],
                                       "password": "benchmark-pass"})
    first = []
    for i in range(NEW):
        res = await call(ws, st, "project/create", {"name": f"bench new {i}", "runtime": code})
        pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
        await asyncio.sleep(THINK_S)
        t0 = time.perf_counter()
        rid = (await call(ws, st, "run/start", {"project": pid, "files": {fname: src}}))["run"]
        t_first = None
        while True:
            m = json.loads(await ws.recv())
            if m.get("params", {}).get("run") != rid:
                continue
            if m.get("method") == "run/log" and t_first is None:
                t_first = time.perf_counter()
            if m.get("method") == "run/exit":
                break
        first.append((t_first - t0) * 1000)
    await ws.close()
    return first


def bench_docker(image, cmd):
    base = ["docker", "run", "--rm", "--network", "none", "--read-only", "--user", "1000:1000",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--memory", "256m",
            "--memory-swap", "256m", "--cpus", "1", "--pids-limit", "128",
            "--tmpfs", "/tmp:rw,exec,size=64m", "--log-driver", "none", "--init", image] + cmd
    first, total = [], []
    for i in range(N + 2):
        t0 = time.perf_counter()
        p = subprocess.Popen(base, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        b = p.stdout.read(1)
        t1 = time.perf_counter()
        out = b + p.stdout.read()
        p.wait()
        dt = (time.perf_counter() - t0) * 1000
        assert out == b"Hello, world!\n", (out, p.stderr.read())
        if i >= 2:
            first.append((t1 - t0) * 1000)
            total.append(dt)
    return first, total


def row(code, what, xs):
    print(f"{code:<14} {what:<44} {statistics.median(xs):8.1f} {pct(xs, 90):8.1f}")


def main():
    print(f"run-it benchmark: {N} runs per case (after 2 warm-up runs), {THINK_S * 1000:.0f} ms "
          "between runs (a person reading the output), times in ms")
    print(f"{'case':<14} {'what':<44} {'median':>8} {'p90':>8}")
    figs = {}
    for code, fname, src, image, cmd in CASES:
        first, total = asyncio.run(bench_server(WS, code, fname, src))
        new = asyncio.run(bench_first_runs(WS, code, fname, src))
        if WS_COLD:
            cfirst, ctotal = asyncio.run(bench_server(WS_COLD, code, fname, src))
        dfirst, dock = bench_docker(image, cmd)
        row(code, "run-it: run/start -> first byte", first)
        row(code, "run-it: a project's first run -> first byte", new)
        row(code, "run-it: run/start -> run/exit", total)
        if WS_COLD:
            row(code, "run-it, no warm containers: -> first byte", cfirst)
            row(code, "run-it, no warm containers: -> run/exit", ctotal)
        row(code, "docker run --rm (same limits) -> first byte", dfirst)
        row(code, "docker run --rm (same limits)", dock)
        print(f"{code:<14} {'ratio run-it / docker run (median round trip)':<44} "
              f"{statistics.median(total) / statistics.median(dock):8.2f}")
        if WS_COLD:
            print(f"{code:<14} {'ratio, no warm containers':<44} "
                  f"{statistics.median(ctotal) / statistics.median(dock):8.2f}")
        dfb, dtot = summary(dfirst), summary(dock)
        figs[f"{code}: docker run --rm, first byte"] = dfb
        figs[f"{code}: docker run --rm, round trip"] = dtot
        figs[f"{code}: first byte, run again"] = against(summary(first), dfb, "<= 0.3")
        figs[f"{code}: first byte, a project's first run"] = against(summary(new), dfb, "<= 0.3")
        figs[f"{code}: run/start -> run/exit"] = against(summary(total), dtot, "<= 0.25")
        if WS_COLD:
            figs[f"{code}: first byte, no warm containers"] = against(summary(cfirst), dfb, "<= 0.3")
    record(figs)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
