"""Benchmark: how many run/log frames 10,000 lines written one at a time
arrive in, against the same bytes written in a few large writes, measured in
the same run. The server coalesces what a program writes between two sends
into one frame; how much it can depends on the machine's speed, so this is
a figure here and not an assertion in tests/integration (which checks that
every byte arrives, in order). Prints figures; asserts only the output.

Needs a running server (RUNIT_BENCH_WS, ws://...) with the runtime bench-sh;
bench/run sets that up. RUNIT_BENCH_FRAME_RUNS (default 5) runs of each."""
import asyncio
import json
import os
import statistics
import uuid

import websockets

from benchlib import call

N = int(os.environ.get("RUNIT_BENCH_FRAME_RUNS", "5"))
WS = os.environ["RUNIT_BENCH_WS"]
LINES = 10000
EXPECT = "\n" * LINES + "end\n"
CASES = [
    ("one line a write", f"i=0; while [ $i -lt {LINES} ]; do echo; i=$((i+1)); done\necho end\n"),
    ("a few large writes (baseline)", f"head -c {LINES} /dev/zero | tr '\\0' '\\n'\necho end\n"),
]


async def frames_of(src):
    """Frames per run of src, N runs after one warm-up run."""
    ws = await websockets.connect(WS, max_size=1 << 26, close_timeout=1)
    st = {"id": 0}
    await call(ws, st, "auth/signup", {"username": "bench" + uuid.uuid4().hex[:8],
                                       "password": "benchmark-pass"})
    res = await call(ws, st, "project/create", {"name": "bench frames", "runtime": "bench-sh"})
    pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
    counts = []
    for i in range(N + 1):
        run = (await call(ws, st, "run/start", {"project": pid, "files": {"main.sh": src}}))["run"]
        frames, out = 0, ""
        while True:
            m = json.loads(await ws.recv())
            p = m.get("params", {})
            if p.get("run") != run:
                continue
            if m.get("method") == "run/log" and p["stream"] == "stdout":
                frames += 1
                out += p["data"]
            if m.get("method") == "run/exit":
                break
        assert out == EXPECT, (len(out), out[-20:])
        if i:
            counts.append(frames)
    await ws.close()
    return counts


def main():
    print(f"run/log frames for {LINES} blank lines and 'end', {N} runs each (after 1 warm-up run)")
    print(f"{'  how the program writes':<46}{'median':>9}{'min':>9}{'max':>9}")
    medians = []
    for what, src in CASES:
        counts = asyncio.run(frames_of(src))
        medians.append(statistics.median(counts))
        print(f"{'  ' + what:<46}{medians[-1]:9.1f}{min(counts):9d}{max(counts):9d}")
    print(f"{'  ratio line by line / baseline (median)':<46}{medians[0] / medians[1]:9.2f}")
    print(f"  (one frame a line would be {LINES + 1} frames)")


if __name__ == "__main__":
    main()
