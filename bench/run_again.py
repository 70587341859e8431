"""Benchmark: "run again" while the run before is still printing (issue 16).
The new run's run/start -> first byte, against a single run's (the same
project run again after its run ended and a person read the output),
measured in the same run, on the same server. The old run is told to die
(reason replaced); the new one must not wait for its container's end.

Both runs save a change of code, as a press of Run after an edit does:
the single run's main.sh differs from the one stored before it (by a
comment), as the run again's differs from the printing program's. A save
that changes nothing writes nothing and waits for no commit, so a single
run of unchanged code is faster by that commit; it is measured too (the
same code run again once the run again has ended) and printed beside.

The client reads its websocket all the time, as the IDE's console does: a
message is timed when it arrives, and what the old run printed before
Run was pressed is read then, not inside the new run's time.

Needs RUNIT_BENCH_WS (bench/run sets it up); RUNIT_BENCH_AGAIN_RUNS
(default 20). Prints figures and records them (benchlib.record)."""
import asyncio
import json
import os
import time
import uuid

import websockets

from benchlib import against, record, summary

N = int(os.environ.get("RUNIT_BENCH_AGAIN_RUNS", "20"))
WS = os.environ["RUNIT_BENCH_WS"]
THINK_S = int(os.environ.get("RUNIT_BENCH_THINK_MS", "500")) / 1000
HELLO = {"main.sh": "echo 'Hello, world!'\n"}  # the single run
HELLO_AGAIN = {"main.sh": "# again\necho 'Hello, world!'\n"}  # run again
BUSY = {"main.sh": "while :; do echo tick; sleep 0.01; done\n"}


class Console:
    """One websocket read by one task: answers by id, and for each run the
    arrival time of its first run/log and its run/exit."""

    def __init__(self, ws):
        self.ws, self.next_id, self.answers = ws, 0, {}
        self.first, self.exits = {}, {}  # run id -> future
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        async for raw in self.ws:
            now = time.perf_counter()
            m = json.loads(raw)
            if "id" in m and m["id"] in self.answers:
                self.answers.pop(m["id"]).set_result(m)
                continue
            p, k = m.get("params", {}), m.get("method")
            rid = p.get("run")
            if k == "run/log" and not self.future(self.first, rid).done():
                self.first[rid].set_result(now)
            elif k == "run/exit" and not self.future(self.exits, rid).done():
                self.exits[rid].set_result(p)

    async def call(self, method, params):
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.answers[self.next_id] = fut
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": self.next_id,
                                       "method": method, "params": params}))
        m = await fut
        if "error" in m:
            raise RuntimeError(f"{method}: {m['error']}")
        return m["result"]

    @staticmethod
    def future(table, rid):
        if rid not in table:
            table[rid] = asyncio.get_running_loop().create_future()
        return table[rid]

    def exit_of(self, rid):
        return self.future(self.exits, rid)

    async def first_byte(self, pid, files):
        """run/start -> first byte (ms) and the run's id."""
        t0 = time.perf_counter()
        rid = (await self.call("run/start", {"project": pid, "files": files}))["run"]
        first, ex = self.future(self.first, rid), self.exit_of(rid)
        await asyncio.wait([first, ex], return_when=asyncio.FIRST_COMPLETED)
        if not first.done():
            raise RuntimeError(f"run ended without output: {ex.result()}")
        return (first.result() - t0) * 1000, rid


async def bench():
    ws = await websockets.connect(WS, max_size=1 << 26, close_timeout=1)
    con = Console(ws)
    await con.call("auth/signup", {"username": "bench" + uuid.uuid4().hex[:8],
                                   "password": "benchmark-pass"})
    res = await con.call("project/create", {"name": "bench again", "runtime": "bench-sh"})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    single, again, same = [], [], []
    for i in range(N + 2):  # two warm-up rounds
        await asyncio.sleep(THINK_S)
        fb, rid = await con.first_byte(pid, HELLO)  # saves a change
        await con.exit_of(rid)
        await asyncio.sleep(THINK_S)
        _, old = await con.first_byte(pid, BUSY)
        await asyncio.sleep(0.3)  # it prints; the person presses Run again
        fb2, new = await con.first_byte(pid, HELLO_AGAIN)  # saves a change
        ex = await con.exit_of(new)
        assert ex["reason"] == "exited", ex
        assert (await con.exit_of(old))["reason"] == "replaced"
        await asyncio.sleep(THINK_S)
        fb3, rid = await con.first_byte(pid, HELLO_AGAIN)  # saves nothing
        await con.exit_of(rid)
        if i >= 2:
            single.append(fb)
            again.append(fb2)
            same.append(fb3)
    con.reader.cancel()
    await ws.close()
    return single, again, same


def main():
    single, again, same = asyncio.run(bench())
    s, a, u = summary(single), summary(again), summary(same)
    a = against(a, s, "<= 1.3")
    print(f"run again while the run before prints: {N} rounds (after 2 warm-up), ms")
    print(f"  a single run, code changed -> first byte (baseline) {s['median']:8.1f} p90 {s['p90']:8.1f}")
    print(f"  a single run, code unchanged -> first byte          {u['median']:8.1f} p90 {u['p90']:8.1f}")
    print(f"  run again, code changed, the old one printing       {a['median']:8.1f} p90 {a['p90']:8.1f}"
          f"  ratio {a['ratio']:.2f} (goal {a['goal']}); "
          f"{a['median'] / u['median']:.2f} x the unchanged single run")
    record({"bench-sh: first byte, single run (code changed)": s,
            "bench-sh: first byte, single run (code unchanged)": u,
            "bench-sh: first byte, run again while printing": a})


if __name__ == "__main__":
    main()
