"""Benchmark: how fast a run's output reaches the clients that read it, against
`docker run --rm`'s own throughput of the same output to /dev/null, measured
in the same run (issue 16, "every byte to a client that reads").

  one reader   the run's starter reads as fast as it can
  ten watchers the starter and nine more sessions of the project's room
               (project/open) read; the figure is the slowest one's

A rate is bytes / (last byte - first byte) at the client, over the
program's stdout only, for run-it's readers and for docker run's stdout
alike, so the container's start and teardown count for neither. Also counted: run/gap notifications (a client
that reads must get none) and whether every byte arrived.

Needs a running server (RUNIT_BENCH_WS) with the runtime bench-sh-big;
bench/run sets that up. RUNIT_BENCH_OUT_MB (default 100), RUNIT_BENCH_OUT_RUNS
(default 3). Prints figures and records them (benchlib.record)."""
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

import websockets

from benchlib import against, call, record, summary

WS = os.environ["RUNIT_BENCH_WS"]
MB = int(os.environ.get("RUNIT_BENCH_OUT_MB", "100"))
RUNS = int(os.environ.get("RUNIT_BENCH_OUT_RUNS", "3"))
TOTAL = MB * 1_000_000
SRC = f"head -c {TOTAL} /dev/zero | tr '\\0' a\n"
IMAGE = "runit/shell:latest"
DOCKER = ["docker", "run", "--rm", "--network", "none", "--read-only", "--user", "1000:1000",
          "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--memory", "256m",
          "--memory-swap", "256m", "--cpus", "1", "--pids-limit", "128",
          "--tmpfs", "/tmp:rw,exec,size=64m", "--log-driver", "none", "--init", IMAGE, "sh", "-c"]


class Raw:
    """A websocket read the cheap way (asyncio streams, frames walked in
    large reads, only small frames parsed): the client must not be what is
    measured. Answers pings."""

    def __init__(self, r, w):
        self.r, self.w, self.buf, self.pos, self.next_id = r, w, bytearray(), 0, 0

    @classmethod
    async def open(cls, token):
        host, port = WS.split("//")[1].split("/")[0].rsplit(":", 1)
        r, w = await asyncio.open_connection(host, int(port), limit=1 << 22)
        key = base64.b64encode(os.urandom(16)).decode()
        w.write((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                 f"Authorization: Bearer {token}\r\n\r\n").encode())
        head = await r.readuntil(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head
        return cls(r, w)

    def send(self, opcode, payload):
        n, mask = len(payload), os.urandom(4)
        head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else
                                          bytes([0x80 | 126]) + n.to_bytes(2, "big"))
        self.w.write(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def call(self, method, params):
        self.next_id += 1
        self.send(1, json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                 "params": params}).encode())
        async for op, n, head, body in self.frames():
            if body and b'"id":' + str(self.next_id).encode() in body:
                m = json.loads(body)
                if m.get("id") == self.next_id:
                    if "error" in m:
                        raise RuntimeError(f"{method}: {m['error']}")
                    return m["result"]

    async def frames(self):
        """(opcode, payload length, its first 160 bytes, whole payload if small).
        What was yielded is consumed, even if the caller stops early."""
        while True:
            while True:
                pos, have = self.pos, len(self.buf) - self.pos
                if have < 2:
                    break
                b1 = self.buf[pos + 1] & 0x7F
                hl, n = 2, b1
                if b1 == 126:
                    if have < 4:
                        break
                    hl, n = 4, int.from_bytes(self.buf[pos + 2:pos + 4], "big")
                elif b1 == 127:
                    if have < 10:
                        break
                    hl, n = 10, int.from_bytes(self.buf[pos + 2:pos + 10], "big")
                if have < hl + n:
                    break
                op = self.buf[pos] & 0x0F
                head = bytes(self.buf[pos + hl:pos + hl + min(n, 160)])
                body = bytes(self.buf[pos + hl:pos + hl + n]) if n <= 4096 else None
                self.pos = pos + hl + n
                if op == 0x9:
                    self.send(0xA, body or b"")
                    continue
                yield op, n, head, body
            del self.buf[:self.pos]
            self.pos = 0
            chunk = await self.r.read(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    async def read_run(self, rid_box):
        """Read until the run's run/exit: (stdout bytes, gaps, t first, t last).
        A run/log frame's data is all 'a': its length is the payload's less
        the envelope around it."""
        n, gaps, t0, t1 = 0, 0, None, None
        async for op, size, head, body in self.frames():
            if b'"run/log"' in head:
                i = head.find(b'"data":"')
                now = time.perf_counter()
                t0 = t0 or now
                t1 = now
                n += size - (i + 8) - 3  # "}} after the data
            elif b'"run/gap"' in head:
                gaps += 1
            elif b'"run/exit"' in head and body:
                p = json.loads(body)["params"]
                if p["run"] == rid_box[0]:
                    return n, gaps, t0, t1

    def close(self):
        self.w.close()


async def one_run(own, pid, watchers):
    """Start a run; the starter and each watcher read it all."""
    rid_box = [None]
    rid_box[0] = (await own.call("run/start", {"project": pid, "files": {"main.sh": SRC}}))["run"]
    got = await asyncio.gather(own.read_run(rid_box), *(w.read_run(rid_box) for w in watchers))
    return got


def rate(n, t0, t1):
    return n / (t1 - t0) / 1e6 if t0 and t1 and t1 > t0 else 0.0


async def reader_set(nwatch):
    """A user's project with nwatch more sessions in its room: (starter,
    watchers, project id)."""
    ws = await websockets.connect(WS, close_timeout=1)
    st = {"id": 0}
    name = "bench" + uuid.uuid4().hex[:8]
    res = await call(ws, st, "auth/signup", {"username": name, "password": "benchmark-pass"})
    tokens = [res["token"]]
    res = await call(ws, st, "project/create", {"name": "bench out", "runtime": "bench-sh-big"})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    for _ in range(nwatch):
        tokens.append((await call(ws, st, "auth/login", {"username": name,
                                                          "password": "benchmark-pass"}))["token"])
    await ws.close()
    own = await Raw.open(tokens[0])
    watchers = [await Raw.open(t) for t in tokens[1:]]
    for w in watchers:
        await w.call("project/open", {"id": pid})
    return own, watchers, pid


async def docker_once():
    """docker run's own rate: bytes / (last byte - first byte) read from its
    stdout (and thrown away), as a reader of run-it's is timed."""
    p = await asyncio.create_subprocess_exec(*DOCKER, SRC, stdout=subprocess.PIPE)
    n, t0, t1 = 0, None, None
    while chunk := await p.stdout.read(1 << 20):
        t1 = time.perf_counter()
        t0 = t0 or t1
        n += len(chunk)
    await p.wait()
    assert n == TOTAL, n
    return rate(n, t0, t1)


async def bench():
    """Round by round (after one warm-up): docker run, one reader, ten
    watchers, so that a change in the machine's load meets all three."""
    sets = [await reader_set(0), await reader_set(9)]
    rates = {"docker": [], 0: [], 9: []}
    gaps, complete = {0: 0, 9: 0}, {0: True, 9: True}
    for i in range(RUNS + 1):
        d = await docker_once()
        if i:
            rates["docker"].append(d)
        for own, watchers, pid in sets:
            got = await one_run(own, pid, watchers)
            if i:
                k = len(watchers)
                rates[k].append(min(rate(n, t0, t1) for n, _, t0, t1 in got))
                gaps[k] += sum(g for _, g, _, _ in got)
                complete[k] &= all(n == TOTAL for n, _, _, _ in got)
    for own, watchers, _ in sets:
        for w in [own] + watchers:
            w.close()
    return rates, gaps, complete


def main():
    rates, gaps, complete = asyncio.run(bench())
    d = summary(rates["docker"], "MB/s")
    figs = {
        f"output {MB} MB: docker run --rm, stdout read and dropped": d,
        f"output {MB} MB: one reader": dict(against(summary(rates[0], "MB/s"), d, ">= 0.9"),
                                           gaps=gaps[0], every_byte=complete[0]),
        f"output {MB} MB: ten watchers, the slowest": dict(
            against(summary(rates[9], "MB/s"), d, ">= 0.5"), gaps=gaps[9],
            every_byte=complete[9]),
    }
    print(f"output of {MB} MB, {RUNS} rounds (after 1 warm-up), each round docker run, one "
          "reader, ten watchers; MB/s at the slowest reader")
    for k, f in figs.items():
        extra = (f"  ratio {f['ratio']:.2f} (goal {f['goal']}), run/gap {f['gaps']}, "
                 f"every byte {f['every_byte']}") if "ratio" in f else "  (baseline)"
        print(f"  {k:<46} {f['median']:8.1f}{extra}")
    record(figs)


if __name__ == "__main__":
    main()
