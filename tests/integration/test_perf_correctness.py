"""Issue 16, correctness of the fast paths (the figures are in bench/): a
prepared container gives each run exactly its saved files and its project's
environment, never what a run before left or another user's; "run again"
while the run before still prints replaces it at once and the old run still
ends with one run/exit; LeakSanitizer finds no leak in a server that went
through runs, large output, replaced runs and closed sessions."""
import asyncio
import time

import pytest

from harness import (RUN_DEADLINE_S, User, add_shell_runtime, async_wait_until, docker,
                     error_reason, psql, run, wait_until)

LIST = "echo \"X=$X\"; ls -a /workspace | tr '\\n' ' '; echo; echo leftover > /workspace/left.txt\n"


@pytest.fixture(scope="module")
def sh(db_url):
    return add_shell_runtime("t-sh-fast", output_bytes=64 << 20, wall_ms=60000)


def prepared_of(pid):
    r = docker("ps", "-q", "--filter", f"label=run-it.project={pid}", "--filter",
               "label=run-it.run=warm")
    return r.stdout.split()


def run_containers(pid):
    """The project's containers of runs (not the prepared one)."""
    r = docker("ps", "-a", "--filter", f"label=run-it.project={pid}", "--format",
               '{{.ID}} {{.Label "run-it.run"}}')
    return [w[0] for w in (line.split() for line in r.stdout.splitlines()) if w[1:] != ["warm"]]


def test_prepared_container_gives_each_run_exactly_its_files_and_env(make_server, sh):
    srv = make_server().start()

    async def go():
        a, b = await User.new(srv), await User.new(srv)
        pa = await a.project(sh, {"main.sh": LIST, "one.txt": "1"})
        pb = await b.project(sh, {"main.sh": LIST})
        assert "result" in await a.c.call("env/set", {"project": pa, "vars": {"X": "a-secret"}})
        first = await a.wait_exit(await a.start(pa))
        warm = await async_wait_until(lambda: prepared_of(pa), timeout=RUN_DEADLINE_S)
        # the next run: a file deleted, one added; the run before wrote left.txt
        await a.c.call("file/delete", {"project": pa, "path": "one.txt"})
        rid2 = await a.start(pa, files={"main.sh": LIST, "two.txt": "2"})
        second = await a.wait_exit(rid2)
        other = await b.wait_exit(await b.start(pb))
        return first, second, other, warm, rid2
    first, second, other, warm, rid2 = run(go())
    used = psql("SELECT container_id FROM runs WHERE id = :'v1'", rid2)[0][0]
    assert warm and used.startswith(warm[0]), "the second run must use the prepared container"
    assert first.text() == "X=a-secret\n. .. main.sh one.txt \n"
    assert second.text() == "X=a-secret\n. .. main.sh two.txt \n"  # nothing left over
    assert other.text() == "X=\n. .. main.sh \n"  # another user's: none of a's
    srv.stop()


def test_run_again_while_printing_replaces_at_once_and_both_end(make_server, sh):
    srv = make_server().start()

    async def go():
        u = await User.new(srv)
        pid = await u.project(sh, {"main.sh": "while :; do echo tick; sleep 0.01; done\n"})
        old = await u.start(pid)
        await u.wait_output(old, "tick\n")
        new = await u.start(pid, files={"main.sh": "echo new\n"})
        first = await u.wait_exit(old)
        # what came before the old run's run/exit waits in notes, in order
        early = [n for n in u.c.notes if n.get("params", {}).get("run") == new
                 and n.get("method") == "run/log"]
        second = await u.wait_exit(new)
        return pid, first, second, early
    pid, first, second, early = run(go())
    assert early == [], "the new run printed before the replaced run's run/exit"
    assert first.exit["reason"] == "replaced"
    assert second.exit["reason"] == "exited" and second.text() == "new\n"
    rows = psql("SELECT state, reason FROM runs WHERE project_id = :'v1' ORDER BY id", pid)
    assert rows == [["finished", "replaced"], ["finished", "exited"]], rows
    assert wait_until(lambda: run_containers(pid) == [], timeout=20), run_containers(pid)
    srv.stop()


def test_a_silent_run_gets_its_next_container_and_run_again_takes_it(make_server, sh):
    """The slot's next container is asked for soon after a run's first byte,
    or RUN_NEXT_AFTER_MS after "go" when the program prints nothing: run
    again of a silent program still finds one ready and takes it."""
    srv = make_server().start()

    async def go():
        u = await User.new(srv)
        pid = await u.project(sh, {"main.sh": "sleep 30\n"})
        old = await u.start(pid)
        warm = await async_wait_until(lambda: prepared_of(pid), timeout=RUN_DEADLINE_S)
        state = psql("SELECT state FROM runs WHERE id = :'v1'", old)[0][0]
        new = await u.start(pid, files={"main.sh": "echo new\n"})
        first, second = await u.wait_exit(old), await u.wait_exit(new)
        return warm, state, new, first, second
    warm, state, new, first, second = run(go())
    assert state == "running", "the next container must be made while the silent run runs"
    used = psql("SELECT container_id FROM runs WHERE id = :'v1'", new)[0][0]
    assert used.startswith(warm[0]), (used, warm)
    assert first.exit["reason"] == "replaced"
    assert second.exit["reason"] == "exited" and second.text() == "new\n"
    srv.stop()


def test_a_start_that_fails_after_replacing_still_finishes_the_replaced_row(make_server, sh):
    """Run again lets go of the old run while the new start's buffers are
    saved; a new start that fails there (its file is over max_file_bytes)
    still leaves the old row finished as replaced, and the next start runs."""
    srv = make_server().start()

    async def go():
        u = await User.new(srv)
        pid = await u.project(sh, {"main.sh": "sleep 30\n"})
        old = await u.start(pid)
        await u.wait_state(old, "running")
        res = await u.c.call("run/start", {"project": pid, "files": {"main.sh": "#" * 300_000}})
        first = await u.wait_exit(old)
        row = await async_wait_until(
            lambda: psql("SELECT state, reason FROM runs WHERE id = :'v1'", old) ==
            [["finished", "replaced"]], timeout=20)
        second = await u.wait_exit(await u.start(pid, files={"main.sh": "echo next\n"}))
        return pid, res, first, row, second
    pid, res, first, row, second = run(go())
    assert error_reason(res) == "TOO_LARGE", res
    assert first.exit["reason"] == "replaced" and row
    assert second.exit["reason"] == "exited" and second.text() == "next\n"
    rows = psql("SELECT state, reason FROM runs WHERE project_id = :'v1' ORDER BY id", pid)
    assert rows == [["finished", "replaced"], ["finished", "exited"]], rows
    srv.stop()


def test_a_flood_of_output_still_gets_its_next_container_and_run_again_uses_it(make_server, sh):
    """A run printing at full speed delays its slot's next container until its
    output is light, RUN_NEXT_MAX_MS after "go" at the latest (run_next.c;
    when, exactly, is a figure for bench/, not a test: it moves with the
    machine's load). What must hold: the next container is made while the
    flood's run still lives, "run again" uses it, and both runs end right."""
    flood = 60_000_000  # the runtime's output limit is 64 MiB

    srv = make_server().start()

    async def go():
        u = await User.new(srv)
        pid = await u.project(sh, {"main.sh": "echo warm\n"})
        await u.wait_exit(await u.start(pid))
        await async_wait_until(lambda: prepared_of(pid), timeout=RUN_DEADLINE_S)
        rid = await u.start(pid, files={"main.sh": f"head -c {flood} /dev/zero | tr '\\0' a; "
                                                   "sleep 30\n"})
        got, deadline = 0, time.monotonic() + RUN_DEADLINE_S
        while got < flood:  # counted, not kept (60 MB)
            msg = await u.c.receive(deadline - time.monotonic())
            p = msg.get("params", {})
            if p.get("run") == rid and msg.get("method") == "run/log":
                got += len(p["data"])
            elif p.get("run") == rid:
                assert msg.get("method") != "run/exit", msg
            else:
                u.c.notes.append(msg)
        own = psql("SELECT container_id FROM runs WHERE id = :'v1'", rid)[0][0]
        nxt = await async_wait_until(lambda: [c for c in prepared_of(pid) if not own.startswith(c)],
                                     timeout=RUN_DEADLINE_S)
        assert psql("SELECT state FROM runs WHERE id = :'v1'", rid)[0][0] == "running"
        new = await u.start(pid, files={"main.sh": "echo new\n"})
        first, second = await u.wait_exit(rid), await u.wait_exit(new)
        used = psql("SELECT container_id FROM runs WHERE id = :'v1'", new)[0][0]
        return got, nxt, used, first, second
    got, nxt, used, first, second = run(go())
    assert got == flood
    assert any(used.startswith(c) for c in nxt), "run again must use the container made during the flood"
    assert first.exit["reason"] == "replaced"
    assert second.exit["reason"] == "exited" and second.text() == "new\n"
    srv.stop()


def test_leak_sanitizer_finds_nothing_after_runs_output_and_closed_sessions(make_server, sh):
    srv = make_server(RUNIT_OUT_QUEUE_BYTES="256k").start()

    async def go():
        users = [await User.new(srv) for _ in range(3)]
        pid = await users[0].project(sh, {"main.sh": "head -c 5000000 /dev/zero | tr '\\0' a\n"})
        await users[0].wait_exit(await users[0].start(pid))  # large output, paced
        busy = await users[0].start(pid, files={"main.sh": "yes | head -c 3000000; sleep 30\n"})
        await users[0].start(pid, files={"main.sh": "echo again\n"})  # replaces it
        await users[0].wait_exit(busy)
        for u in users[1:]:
            p = await u.project(sh, {"main.sh": "echo hi\n"})
            await u.wait_exit(await u.start(p))
            await u.c.ws.close()
        await asyncio.sleep(1)
    run(go())
    srv.stop()
    log = srv.log_text()
    if "detect_leaks=0" in (srv.env.get("ASAN_OPTIONS") or ""):
        pytest.skip("LeakSanitizer is off in ASAN_OPTIONS")
    assert "ERROR: LeakSanitizer" not in log, log[-5000:]


def test_saved_texts_read_back_exactly_and_are_stored_with_lz4(make_server, sh):
    """sql/026_lz4.sql: what a save writes (the file, the replaced text, the
    collab update) is compressed with lz4, and every version reads back as
    it was saved, ASCII or not."""
    srv = make_server().start()
    texts = [("line é ünïcode 😀\n" * 700), ("plain ascii line\n" * 700), "short\n"]

    async def go():
        u = await User.new(srv)
        pid = await u.project(sh, {"main.sh": "echo hi\n"})
        assert "result" in await u.c.call("file/create", {"project": pid, "path": "big.txt",
                                                           "content": texts[0]})
        version, got = 1, []
        for t in texts[1:]:
            r = await u.c.call("file/save", {"project": pid, "path": "big.txt", "content": t,
                                             "base_version": version})
            version = r["result"]["version"]
            got.append((await u.c.call("file/read", {"project": pid,
                                                     "path": "big.txt"}))["result"]["content"])
        old = (await u.c.call("file/read", {"project": pid, "path": "big.txt",
                                            "version": 1}))["result"]["content"]
        return pid, got, old
    pid, got, old = run(go())
    assert got == texts[1:] and old == texts[0]
    rows = psql("SELECT (SELECT pg_column_compression(v.content) FROM file_versions v "
                "WHERE v.file_id = f.id AND v.version = 1), "
                "(SELECT string_agg(DISTINCT pg_column_compression(c.changes), ',') "
                "FROM collab_updates c WHERE c.file_id = f.id AND c.version = 2) "
                "FROM files f WHERE f.project_id = :'v1' AND f.path = 'big.txt'", pid)
    assert rows == [["lz4", "lz4"]], rows
    srv.stop()
