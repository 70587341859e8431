"""Benchmark: throughput (issue 16). Runs per second of a shell hello at 1,
5 and 20 concurrent users (RUNIT_BENCH_USERS, "1,5,20"), each user a loop
of run/start -> run/exit on a project of its own, for RUNIT_BENCH_RPS_S
seconds (default 8) a level and at least RUNIT_BENCH_RPS_MIN runs (3) a
user; the baseline is the raw Docker Engine API
loop at the same concurrency: create, attach, start, wait, remove over
/var/run/docker.sock (http.client on a unix socket), with the hardening
flags of run_latency.py's `docker run --rm`. Goal: run-it's runs/s at least
the raw loop's (ratio >= 1). Every run's output is checked.

Needs RUNIT_BENCH_WS (bench/run sets it)."""
import asyncio
import http.client
import itertools
import json
import os
import socket
import threading
import time
import uuid

import websockets

from benchlib import against, call, record, summary

WS = os.environ["RUNIT_BENCH_WS"]
LEVELS = [int(x) for x in os.environ.get("RUNIT_BENCH_USERS", "1,5,20").split(",")]
SECONDS = float(os.environ.get("RUNIT_BENCH_RPS_S", "8"))
MIN_RUNS = int(os.environ.get("RUNIT_BENCH_RPS_MIN", "3"))  # each user's, however long they take
DOCKER_SOCK = os.environ.get("RUNIT_BENCH_DOCKER_SOCK", "/var/run/docker.sock")
IMAGE = "runit/shell:latest"
HELLO = "Hello, world!\n"

# `docker run --rm --network none --read-only --user 1000:1000 --cap-drop ALL
#  --security-opt no-new-privileges --memory 256m --memory-swap 256m --cpus 1
#  --pids-limit 128 --tmpfs /tmp:rw,exec,size=64m --log-driver none --init`
CREATE = {
    "Image": IMAGE, "Cmd": ["sh", "-c", "echo 'Hello, world!'"], "User": "1000:1000",
    "AttachStdout": True, "AttachStderr": True, "NetworkDisabled": True,
    "Labels": {"runit.bench": "raw-engine-loop"},
    "HostConfig": {
        "NetworkMode": "none", "ReadonlyRootfs": True, "CapDrop": ["ALL"],
        "SecurityOpt": ["no-new-privileges"], "Memory": 256 << 20, "MemorySwap": 256 << 20,
        "NanoCpus": 1_000_000_000, "PidsLimit": 128, "Tmpfs": {"/tmp": "rw,exec,size=64m"},
        "LogConfig": {"Type": "none", "Config": {}}, "Init": True,
    },
}


class UnixHTTP(http.client.HTTPConnection):
    """http.client over the Docker engine's unix socket."""

    def __init__(self, path):
        super().__init__("localhost", timeout=120)
        self.sock_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.sock_path)


def api(method, path, body=None):
    c = UnixHTTP(DOCKER_SOCK)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"} if body is not None else {})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None


def demux(raw):
    """The payload of a multiplexed attach stream (8-byte frame headers)."""
    out, i = b"", 0
    while i + 8 <= len(raw):
        n = int.from_bytes(raw[i + 4:i + 8], "big")
        out += raw[i + 8:i + 8 + n]
        i += 8 + n
    return out


def raw_run():
    """One run the way a minimal engine client does it."""
    cid = api("POST", "/containers/create", CREATE)["Id"]
    try:
        att = UnixHTTP(DOCKER_SOCK)
        att.request("POST", f"/containers/{cid}/attach?stream=1&stdout=1&stderr=1")
        resp = att.getresponse()  # the engine answers, then streams until the exit
        api("POST", f"/containers/{cid}/start")
        out = demux(resp.read())
        att.close()
        code = api("POST", f"/containers/{cid}/wait")["StatusCode"]
        assert out == HELLO.encode() and code == 0, (out, code)
    finally:
        api("DELETE", f"/containers/{cid}?force=1")


def raw_level(users):
    """(runs per second, latencies in ms) of `users` threads looping raw_run."""
    lat, lock = [], threading.Lock()
    until = time.monotonic() + SECONDS
    errors = []

    def loop():
        try:
            for i in itertools.count():
                if i >= MIN_RUNS and time.monotonic() >= until:
                    break
                t = time.perf_counter()
                raw_run()
                with lock:
                    lat.append((time.perf_counter() - t) * 1000)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=loop) for _ in range(users)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return len(lat) / (time.monotonic() - t0), lat


async def user():
    ws = await websockets.connect(WS, max_size=1 << 24, close_timeout=1, ping_interval=None)
    st = {"id": 0}
    await call(ws, st, "auth/signup", {"username": "bench" + uuid.uuid4().hex[:10],
                                       "password": "benchmark-pass"})
    res = await call(ws, st, "project/create", {"name": "bench rps", "runtime": "bench-sh"})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    return ws, st, pid


async def run_once(ws, st, pid):
    rid = (await call(ws, st, "run/start", {"project": pid,
                                            "files": {"main.sh": "echo 'Hello, world!'\n"}}))["run"]
    out = ""
    while True:
        m = json.loads(await ws.recv())
        p = m.get("params") or {}
        if p.get("run") != rid:
            continue
        if m.get("method") == "run/log":
            out += p["data"]
        elif m.get("method") == "run/exit":
            assert out == HELLO and p.get("exit_code") == 0, (out, p)
            return


async def server_level(users):
    conns = await asyncio.gather(*(user() for _ in range(users)))
    for ws, st, pid in conns:  # each project's first run (and a prepared container) before
        await run_once(ws, st, pid)
    lat = []
    until = time.monotonic() + SECONDS

    async def loop(ws, st, pid):
        for i in itertools.count():
            if i >= MIN_RUNS and time.monotonic() >= until:
                break
            t = time.perf_counter()
            await run_once(ws, st, pid)
            lat.append((time.perf_counter() - t) * 1000)

    t0 = time.monotonic()
    await asyncio.gather(*(loop(*c) for c in conns))
    rate = len(lat) / (time.monotonic() - t0)
    await asyncio.gather(*(ws.close() for ws, _, _ in conns))
    return rate, lat


def main():
    raw_run()  # warm-up: the image's layers in the page cache
    figs = {}
    for n in LEVELS:
        s_rate, s_lat = asyncio.run(server_level(n))
        r_rate, r_lat = raw_level(n)
        base = dict(summary([r_rate]), unit="/s", n=len(r_lat))
        figs[f"runs/s, {n} users, raw Engine API loop"] = base
        figs[f"runs/s, {n} users"] = against(dict(summary([s_rate]), unit="/s", n=len(s_lat)),
                                             base, ">= 1")
        figs[f"run/start -> run/exit at {n} users"] = summary(s_lat)
        print(f"throughput: {n} users: run-it {s_rate:.2f} runs/s (median {summary(s_lat)['median']:.0f} ms), "
              f"raw Engine API {r_rate:.2f} runs/s (median {summary(r_lat)['median']:.0f} ms): "
              f"{s_rate / r_rate:.2f}x")
    record(figs)


if __name__ == "__main__":
    main()
