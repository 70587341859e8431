"""Issue 16: every byte to a client that reads. A client reading as fast as
it can gets all of a 50 MB output with no run/gap; a program whose reader
stops reading is paced (it blocks on its write, as in a terminal) rather
than having its output dropped, and the reader gets everything once it reads
again; a watcher that holds the program back too long gets run/gap instead,
never the run's own user; a program that exits while its output is still
on its way has the right exit code. Correctness, not time: the figures are
in bench/."""
import asyncio
import json
import time

import pytest

from harness import RUN_DEADLINE_S, User, add_shell_runtime, docker, psql, run

MB = 1_000_000


@pytest.fixture(scope="module")
def big(db_url):
    """A shell runtime with room for large output and a slow reader."""
    return add_shell_runtime("t-sh-pace", output_bytes=512 << 20, wall_ms=120000)


async def read_run(c, rid, on_log=None, timeout=RUN_DEADLINE_S):
    """Every notification of run rid on Client c until run/exit: (bytes of
    stdout, run/gap params, run/exit params). on_log(data) sees each chunk."""
    pending = [n for n in c.notes if n.get("params", {}).get("run") == rid]
    c.notes = [n for n in c.notes if n.get("params", {}).get("run") != rid]
    n, gaps, deadline = 0, [], time.monotonic() + timeout
    while True:
        m = pending.pop(0) if pending else await c.receive(deadline - time.monotonic())
        p = m.get("params", {})
        if p.get("run") != rid:
            continue
        if m.get("method") == "run/log" and p["stream"] == "stdout":
            n += len(p["data"].encode())
            if on_log:
                on_log(p["data"])
        elif m.get("method") == "run/gap":
            gaps.append(p)
        elif m.get("method") == "run/exit":
            return n, gaps, p


def raw_read_run(ws, rid, early=(), on_log=None):
    """As read_run, on a RawWS (tests/integration/rawws.py)."""
    early = list(early)
    n, gaps = 0, []
    while True:
        m = early.pop(0) if early else ws.recv_json()
        p = m.get("params", {})
        if p.get("run") != rid:
            continue
        if m.get("method") == "run/log" and p["stream"] == "stdout":
            n += len(p["data"].encode())
            if on_log:
                on_log(p["data"])
        elif m.get("method") == "run/gap":
            gaps.append(p)
        elif m.get("method") == "run/exit":
            return n, gaps, p


def raw_start(ws, pid):
    """run/start on a RawWS: (the run's id, notifications before the answer)."""
    ws.send_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "run/start",
                             "params": {"project": pid}}))
    early = []
    while True:
        m = ws.recv_json()
        if m.get("id") == 1:
            assert "result" in m, m
            return m["result"]["run"], early
        early.append(m)


async def project_and_token(server, runtime, src):
    u = await User.new(server)
    pid = await u.project(runtime, {"main.sh": src})
    await u.c.ws.close()
    return u, pid


def test_fast_reader_gets_every_byte_of_50mb_without_a_gap(server, big):
    total = 50 * MB

    async def go():
        u = await User.new(server)
        pid = await u.project(big, {"main.sh": f"head -c {total} /dev/zero | tr '\\0' a\n"})
        t0 = time.monotonic()
        rid = await u.start(pid)
        got = await read_run(u.c, rid)
        return got, time.monotonic() - t0
    (n, gaps, ex), took = run(go())
    print(f"50 MB to one reader: {took:.2f} s, {n / took / MB:.0f} MB/s")
    assert gaps == []
    assert n == total
    assert ex["reason"] == "exited" and ex["exit_code"] == 0


# 40 pieces of 500 kB, each followed by its number; the number also goes to
# /tmp/progress, which the test reads from outside while it reads no output
PACED_SRC = ("i=0; while [ $i -lt 40 ]; do head -c 500000 /dev/zero | tr '\\0' x; echo;"
             " echo \"P $i\"; echo $i > /tmp/progress; i=$((i+1)); done\n")


def progress(cid):
    r = docker("exec", cid, "cat", "/tmp/progress")
    return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else -1


def test_program_is_paced_while_its_user_does_not_read(make_server, big):
    from rawws import RawWS
    # a small queue (high-water mark 64 kB): the 20 MB cannot all be
    # buffered on the way (the sockets' buffers hold a few MB at most)
    srv = make_server(RUNIT_OUT_QUEUE_BYTES="256k").start()
    u, pid = run(project_and_token(srv, big, PACED_SRC))
    ws = RawWS("127.0.0.1", srv.port, headers={"Authorization": "Bearer " + u.c.token})
    rid, early = raw_start(ws, pid)
    text = []
    n0 = 0
    while n0 < MB:  # the output flows...
        m = early.pop(0) if early else ws.recv_json()
        if m.get("method") == "run/log" and m["params"]["run"] == rid:
            n0 += len(m["params"]["data"])
            text.append(m["params"]["data"])
        elif m.get("method") in ("run/gap", "run/exit"):
            pytest.fail(f"{m} before the reader paused")
    # ...then nobody reads: the program must come to a halt before its end
    # and stay there (its progress, read from inside its container)
    cid = psql("SELECT container_id FROM runs WHERE id = :'v1'", rid)[0][0]
    seen, still_since, deadline = -1, time.monotonic(), time.monotonic() + RUN_DEADLINE_S
    while time.monotonic() < deadline:
        now = progress(cid)
        if now != seen:
            seen, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= 3:
            break
        time.sleep(0.25)
    halted_at = seen
    state = psql("SELECT state FROM runs WHERE id = :'v1'", rid)
    _, gaps, ex = raw_read_run(ws, rid, early, on_log=text.append)
    ws.close()
    out = "".join(text)
    marks = [int(line[2:]) for line in out.splitlines() if line.startswith("P ")]
    print(f"paced: the program halted after piece {halted_at} of 40 while nobody read")
    assert 0 <= halted_at < 39, "the program must wait for its reader, not run to its end"
    assert state == [["running"]], "the program must still run while nobody reads"
    assert gaps == [], "the run's own user never gets run/gap"
    assert marks == list(range(40))
    assert out.count("x") == 40 * 500000
    assert ex["reason"] == "exited" and ex["exit_code"] == 0
    srv.stop()


def test_exit_code_is_right_when_the_program_exits_with_output_in_flight(make_server, big):
    from rawws import RawWS
    srv = make_server(RUNIT_OUT_QUEUE_BYTES="256k").start()
    total = 20 * MB
    u, pid = run(project_and_token(srv, big, f"head -c {total} /dev/zero | tr '\\0' y; exit 7\n"))
    ws = RawWS("127.0.0.1", srv.port, headers={"Authorization": "Bearer " + u.c.token})
    rid, early = raw_start(ws, pid)
    time.sleep(2)  # output piles up on its way; the program cannot finish
    n, gaps, ex = raw_read_run(ws, rid, early)
    ws.close()
    assert gaps == []
    assert n == total
    assert ex["reason"] == "exited" and ex["exit_code"] == 7
    srv.stop()


def test_slow_watcher_gets_a_gap_and_does_not_hold_the_program(make_server, big):
    """A second session of the user watches (run/attach) and stops reading:
    after the pacing limit it no longer holds the program; it gets run/gap
    for what it missed (readable with run/logs), while the run's own user,
    reading, gets every byte, and the server's memory stays bounded."""
    from rawws import RawWS
    # ASan keeps freed memory in its quarantine (256 MB by default): a small
    # one, so that RSS tells what the server holds
    srv = make_server(RUNIT_OUT_QUEUE_BYTES="256k",
                      ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:quarantine_size_mb=8").start()
    total = 30 * MB

    async def go():
        u = await User.new(srv)
        pid = await u.project(big, {"main.sh": "sleep 1; yes 0123456789abcdef | head -c "
                                               f"{total}; echo END\n"})
        rid = await u.start(pid)
        ws = RawWS("127.0.0.1", srv.port, headers={"Authorization": "Bearer " + u.c.token},
                   rcvbuf=8192)
        ws.send_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "run/attach",
                                 "params": {"run": rid, "from_seq": 1}}))
        while (att := ws.recv_json()).get("id") != 1:  # the replay comes first
            pass
        assert "result" in att, att
        rss0 = srv.rss_kb()
        t0 = time.monotonic()
        got = await read_run(u.c, rid)
        took = time.monotonic() - t0
        rss1 = srv.rss_kb()
        return ws, rid, got, took, rss0, rss1
    ws, rid, (n, gaps, ex), took, rss0, rss1 = run(go())
    wn, wgaps, wex = raw_read_run(ws, rid)
    ws.close()
    print(f"slow watcher: the user read {n} bytes in {took:.1f} s; the watcher got {wn} bytes "
          f"live and {len(wgaps)} gap(s); RSS {rss0} -> {rss1} kB")
    assert gaps == [] and n == total + 4
    assert ex["reason"] == "exited"
    assert wgaps, "the watcher that stopped reading must be told what it missed"
    assert wn < total
    assert wex["run"] == rid
    assert rss1 - rss0 < 128 * 1024
    srv.stop()
