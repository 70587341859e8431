"""Issue 5: run, stop, run again on the real Docker engine, through the real
server and websocket. Runtimes for the tests are rows made here (on the
locally built images runit/shell and runit/python), so limits can be small."""
import asyncio
import json
import os
import subprocess
import time

import pytest

from harness import (DB_URL, DEADLINE_S, GENEROUS_AUTH_LIMITS, PYTHON_IMAGE, RUN_DEADLINE_S, SHELL_IMAGE,
                     User, add_runtime, add_shell_runtime, async_wait_until, docker, error_reason,
                     image_present, logged_in, psql, result_of, run, wait_until)

# The calling conventions of the helpers tests elsewhere (tests/attack)
# import from here; harness.py has the helpers themselves.
ROOMY = GENEROUS_AUTH_LIMITS


def sql(db_url, query, *args):
    """psql(query, *args) as one string, columns joined by "|" (db_url is
    the test database's, as ever)."""
    return "\n".join("|".join(row) for row in psql(query, *args))


def make_runtime(db_url, code, image, run_cmd, build_cmd=None, **kw):
    """add_runtime() with the database URL first."""
    return add_runtime(code, image, run_cmd, build_cmd, **kw)


@pytest.fixture(scope="module")
def runtimes(db_url):
    rt = {
        "sh": add_shell_runtime("t-sh"),
        "sh_short": add_shell_runtime("t-sh-short", wall_ms=2000),
        "sh_small_out": add_shell_runtime("t-sh-out", output_bytes=256 << 10),
        "sh_big_out": add_shell_runtime("t-sh-big", output_bytes=512 << 20),
        "sh_build": add_runtime("t-sh-build", SHELL_IMAGE, ["sh", "/tmp/run.sh"],
                                 build_cmd=["sh", "build.sh"]),
    }
    if image_present(PYTHON_IMAGE):
        rt["py"] = add_runtime("t-py", PYTHON_IMAGE, ["python3", "-u", "main.py"],
                                memory_bytes=96 << 20)
    return rt


def containers_of(project_id, warm=False):
    """The project's run containers (or, with warm=True, its prepared ones)."""
    r = docker("ps", "-a", "--filter", f"label=run-it.project={project_id}",
               "--format", '{{.ID}} {{.Label "run-it.run"}}')
    rows = [line.split() for line in r.stdout.splitlines() if line.strip()]
    found = [cid for cid, run_label in rows if (run_label == "warm") == warm]
    if warm:
        return found
    # a run that took a prepared container (run_prep.c): its labels name no
    # project; its row says which container it has
    used = [row[0] for row in psql("SELECT container_id FROM runs WHERE project_id = :'v1'"
                                   " AND container_id IS NOT NULL", project_id)]
    r = docker("ps", "-a", "--format", "{{.ID}}", "--filter", "label=run-it.run=prepared")
    return found + [cid for cid in r.stdout.split() if any(u.startswith(cid) for u in used)]


def test_hello_world_in_shell_and_python(server, runtimes):
    async def go():
        u = await User.new(server)
        _, _, out = await u.run_code(runtimes["sh"], {"main.sh": "echo 'Hello, world!'\n"})
        assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 0, out.exit
        assert out.text() == "Hello, world!\n"
        assert out.states[:2] == ["queued", "starting"] and "running" in out.states
        assert out.exit["first_byte_ms"] is not None and out.exit["duration_ms"] >= 0
        if "py" in runtimes:
            _, _, out = await u.run_code(runtimes["py"], {"main.py": "print('Hello, world!')\n"})
            assert out.text() == "Hello, world!\n" and out.exit["exit_code"] == 0, out.events
    run(go())


def test_seeded_runtimes_templates_really_run(server, runtimes):
    """Every seeded runtime whose image is built here runs its own template."""
    rows = psql("SELECT code, image FROM runtimes WHERE enabled AND code NOT LIKE 't-%'")
    todo = [(code, img) for code, img in rows if image_present(img)]
    if not todo:
        pytest.fail("no seeded runtime has its image: run-it seed and images/build must run first")

    async def go():
        u = await User.new(server)
        results = {}
        for code, _ in todo:
            r = await u.c.call("project/create", {"name": "tpl " + code, "runtime": code})
            res = r["result"]
            pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
            rid = await u.start(pid)
            out = await u.wait_exit(rid, timeout=300)  # compilers, on a busy machine
            results[code] = (out.exit, out.text())
        return results
    for code, (ex, text) in run(go()).items():
        print(f"template {code}: {ex['reason']} {ex['exit_code']} {text!r}")
        assert ex["reason"] == "exited" and ex["exit_code"] == 0, (code, ex, text)
        assert "Hello, world!" in text, (code, text)


def test_multi_file_python_project_imports_its_own_module(server, runtimes):
    if "py" not in runtimes:
        pytest.fail("runit/python is missing")

    async def go():
        u = await User.new(server)
        return await u.run_code(runtimes["py"], {
            "main.py": "from lib.util import greet\nprint(greet('files'))\n",
            "lib/__init__.py": "",
            "lib/util.py": "def greet(x):\n    return f'hello from {x}'\n"})
    _, _, out = run(go())
    assert out.text() == "hello from files\n", out.events


def test_stdout_and_stderr_interleave_in_order(server, runtimes):
    # stdout and stderr are two pipes: what orders them is the time between
    # the writes, so leave enough of it for a machine that is busy
    script = "".join(f"echo out{i}\nsleep 0.3\necho err{i} >&2\nsleep 0.3\n" for i in range(5))

    async def go():
        u = await User.new(server)
        return await u.run_code(runtimes["sh"], {"main.sh": script})
    _, _, out = run(go())
    seq = [(l["stream"], line) for l in out.logs for line in l["data"].splitlines()]
    expect = []
    for i in range(5):
        expect += [("stdout", f"out{i}"), ("stderr", f"err{i}")]
    assert seq == expect


def test_ten_thousand_blank_lines_arrive_exactly(server, runtimes):
    async def go():
        u = await User.new(server)
        return await u.run_code(runtimes["sh"], {"main.sh": "i=0; while [ $i -lt 10000 ]; do echo; i=$((i+1)); done\necho end\n"})
    _, _, out = run(go())
    assert out.text() == "\n" * 10000 + "end\n", (out.exit["reason"], out.exit.get("message"), out.exit["exit_code"])
    # how many frames they came in depends on the machine's speed: a figure
    # for bench/output_frames.py, not an assertion


def test_unicode_output_is_never_split(server, runtimes):
    async def go():
        u = await User.new(server)
        # printf one byte at a time: a character's bytes arrive in separate writes
        return await u.run_code(runtimes["sh"], {"main.sh": "for b in '\\303' '\\251' '\\342' '\\202' '\\254' '\\360' '\\237' '\\230' '\\200'; do printf \"$b\"; sleep 0.01; done; printf '\\377\\n'\n"})
    _, _, out = run(go())
    assert out.text() == "é€😀\ufffd\n"


def test_endless_output_ends_with_output_limit_and_memory_stays_flat(server, runtimes):
    async def go():
        u = await User.new(server)
        rss0 = server.rss_kb()
        _, _, out = await u.run_code(runtimes["sh_small_out"], {"main.sh": "yes 'spam spam spam'\n"})
        return rss0, server.rss_kb(), out
    rss0, rss1, out = run(go())
    print(f"endless output: server RSS {rss0} kB -> {rss1} kB, received {len(out.text())} bytes")
    assert out.exit["reason"] == "output_limit"
    assert 0 < len(out.text()) <= 256 << 10
    assert rss1 - rss0 < 64 * 1024


def test_sleep_forever_ends_with_timeout_not_before_the_limit(server, runtimes):
    async def go():
        u = await User.new(server)
        t0 = time.monotonic()
        _, _, out = await u.run_code(runtimes["sh_short"], {"main.sh": "echo start\nsleep 1000\n"})
        return time.monotonic() - t0, out
    took, out = run(go())
    print(f"timeout run took {took:.2f} s for a 2 s limit")
    assert out.exit["reason"] == "timeout"
    assert out.text() == "start\n"
    # not before the 2 s limit; how soon after it is the machine's speed
    # (the run's deadline, far below the program's 1000 s, bounds it)
    assert took >= 2.0


def test_memory_bomb_ends_with_oom(server, runtimes):
    if "py" not in runtimes:
        pytest.fail("runit/python is missing")

    async def go():
        u = await User.new(server)
        return await u.run_code(runtimes["py"], {"main.py": "x = []\nwhile True:\n    x.append(bytearray(16 << 20))\n"})
    _, _, out = run(go())
    assert out.exit["reason"] == "oom", out.exit


def test_fork_bomb_is_contained_and_others_still_run(server, runtimes):
    async def go():
        bomber, other = await User.new(server), await User.new(server)
        pid = await bomber.project(runtimes["sh_short"], {"main.sh": "b() { b | b & }; b\n"})
        rid = await bomber.start(pid)
        await bomber.wait_state(rid, "running")
        _, _, ok = await other.run_code(runtimes["sh"], {"main.sh": "echo still fine\n"})
        bomb = await bomber.wait_exit(rid)
        return bomb, ok
    bomb, ok = run(go())
    assert ok.text() == "still fine\n" and ok.exit["exit_code"] == 0
    assert bomb.exit["reason"] in ("timeout", "exited")


def test_isolation_seen_from_inside(server, runtimes):
    script = """
echo "uid=$(id -u)"
echo "ifaces=$(ls /sys/class/net | tr '\\n' ' ')"
echo "routes=$(tail -n +2 /proc/net/route | wc -l)"
test -e /var/run/docker.sock && echo docker=present || echo docker=absent
touch /etc/x 2>/dev/null && echo etc=writable || echo etc=readonly
touch /x 2>/dev/null && echo root=writable || echo root=readonly
touch /workspace/ok && echo workspace=writable
touch /tmp/ok && echo tmp=writable
cat /etc/shadow >/dev/null 2>&1 && echo shadow=readable || echo shadow=unreadable
nc -z -w 1 127.0.0.1 %d 2>/dev/null && echo server=reachable || echo server=unreachable
echo "lo=$(cat /sys/class/net/lo/flags)"
(echo ping | nc -l -p 7777 127.0.0.1 >/tmp/got 2>&1 &); sleep 0.3
echo pong | nc -w 1 127.0.0.1 7777 >/dev/null 2>&1; sleep 0.2
echo "loopback=$(cat /tmp/got)"
echo "home=$HOME"
""" % server.port

    async def go():
        u = await User.new(server)
        return await u.run_code(runtimes["sh"], {"main.sh": script})
    _, _, out = run(go())
    facts = dict(line.split("=", 1) for line in out.text().splitlines())
    print("inside the container:", facts)
    assert facts["uid"] == "1000"
    assert facts["ifaces"].split() == ["lo"]
    assert facts["routes"] == "0"
    assert facts["docker"] == "absent"
    assert facts["etc"] == "readonly" and facts["root"] == "readonly"
    assert facts["workspace"] == "writable" and facts["tmp"] == "writable"
    assert facts["shadow"] == "unreadable"
    assert facts["server"] == "unreachable"
    # its own loopback is up: a program may serve and connect to itself
    assert int(facts["lo"], 16) & 1, facts["lo"]
    assert facts["loopback"] == "pong", facts
    assert facts["home"] == "/tmp"


def test_symlink_planted_by_one_run_cannot_touch_a_host_file(server, runtimes, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("untouched\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(canary, 0o666)  # even a world-writable host file

    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": f"ln -s {canary} /workspace/data.txt; ls -l /workspace\n"})
        first = await u.wait_exit(await u.start(pid))
        # save data.txt and run code that writes through that path
        second = await u.wait_exit(await u.start(pid, files={
            "data.txt": "saved\n",
            "main.sh": "cat data.txt; echo pwned > data.txt; echo pwned >> data.txt; ls -l\n"}))
        return first, second
    first, second = run(go())
    assert second.exit["exit_code"] == 0, second.events
    assert second.text().startswith("saved\n")
    assert canary.read_text() == "untouched\n"


def test_files_deleted_in_the_editor_are_gone_in_the_next_run(server, runtimes):
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "ls\n", "old.txt": "x"})
        a = await u.wait_exit(await u.start(pid))
        await u.c.call("file/delete", {"project": pid, "path": "old.txt"})
        b = await u.wait_exit(await u.start(pid))
        return a, b
    a, b = run(go())
    assert a.text().split() == ["main.sh", "old.txt"]
    assert b.text().split() == ["main.sh"]


def test_stop_during_heavy_output(server, runtimes):
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh_big_out"], {"main.sh": "yes\n"})
        rid = await u.start(pid)
        await u.wait_output(rid, "y\n")  # the output is flowing
        t0 = time.monotonic()
        r = await u.c.call("run/stop", {"run": rid})
        assert "result" in r, r
        out = await u.wait_exit(rid)
        return time.monotonic() - t0, out, pid
    took, out, pid = run(go())
    print(f"stop during heavy output: run/exit {took * 1000:.0f} ms after run/stop")
    assert out.exit["reason"] == "stopped"
    # run/exit follows the program's exit; the container goes just after (issue 16)
    assert wait_until(lambda: containers_of(pid) == [], timeout=10), containers_of(pid)


def test_stop_right_after_start_ends_every_run(server, runtimes):
    """Ten users each press Run, then Stop 0-300 ms later, five times: a
    stop that reaches the engine while the container's start is still on
    its way (or waiting in the engine's gate) finds nothing running; the
    container must still be stopped once started, and every run end with
    "stopped". It used to wait for "go" forever, its run never ending."""
    async def one(k):
        u = await User.new(server, prefix=f"stopper{k}x")
        pid = await u.project(runtimes["sh"], {"main.sh": "echo hi; sleep 60\n"})
        reasons = []
        for i in range(5):
            rid = result_of(await u.c.call("run/start", {"project": pid,
                                                          "tty": (k + i) % 2 == 1}))["run"]
            await asyncio.sleep(0.06 * ((k + i) % 6))
            r = await u.c.call("run/stop", {"run": rid})
            assert "result" in r or error_reason(r) == "NOT_FOUND", r
            reasons.append((await u.wait_exit(rid, timeout=60)).exit["reason"])
        return pid, reasons

    async def go():
        return await asyncio.gather(*(one(k) for k in range(10)))
    done = run(go())
    assert [r for _, r in done] == [["stopped"] * 5] * 10, done
    for pid, _ in done:
        assert wait_until(lambda: containers_of(pid) == [], timeout=30), containers_of(pid)


def test_run_twice_within_50ms_replaces_the_first(server, runtimes):
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "echo started; sleep 30\n"})
        rid1 = await u.start(pid)
        await asyncio.sleep(0.03)
        rid2 = await u.start(pid, files={"main.sh": "echo second; sleep 2; echo done\n"})
        first = await u.wait_exit(rid1)
        # one active run: the first's row is finished before the second's
        # goes in (its container may still be on its way out: issue 16)
        seen = psql("SELECT count(*) FROM runs WHERE project_id = :'v1' AND state <> 'finished'", pid)
        second = await u.wait_exit(rid2)
        return pid, first, second, seen
    pid, first, second, seen = run(go())
    assert first.exit["reason"] == "replaced"
    assert int(seen[0][0]) <= 1, seen
    assert second.exit["reason"] == "exited" and second.text() == "second\ndone\n"
    # run/exit follows the program's exit; the container goes just after (issue 16)
    assert wait_until(lambda: containers_of(pid) == [], timeout=10), containers_of(pid)


@pytest.mark.parametrize("prints", [True, False], ids=["new-prints", "new-silent"])
def test_replaced_container_dies_soon_even_if_the_new_run_prints_nothing(server, runtimes, prints):
    """Run again: the replaced container is killed once the new run printed,
    or at most RUN_KILL_LATER_MS (300 ms) after; its output after the
    replacement reaches no one (issue 16, docs/decisions.md "Run again")."""
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "while :; do echo old; sleep 0.01; done\n"})
        rid1 = await u.start(pid)
        await u.wait_output(rid1, "old")
        old_cid = await async_wait_until(
            lambda: psql("SELECT container_id FROM runs WHERE id = :'v1'", rid1)[0][0])
        new_src = "echo new; sleep 4\n" if prints else "sleep 4\n"
        rid2 = await u.start(pid, files={"main.sh": new_src})
        first = await u.wait_exit(rid1)
        t0 = time.monotonic()
        gone = await async_wait_until(lambda: old_cid not in docker("ps", "-q", "--no-trunc").stdout,
                                      timeout=10)
        took = time.monotonic() - t0
        second = await u.wait_exit(rid2)
        return first, second, gone, took
    first, second, gone, took = run(go())
    assert first.exit["reason"] == "replaced", first.exit
    assert gone, "the replaced container still runs"
    # well before the new run's 4 s end, silent or not
    assert took < 3, took
    assert second.exit["reason"] == "exited", second.exit
    assert second.text() == ("new\n" if prints else ""), second.text()


async def starts_at_once(u, params):
    """run/start with each of params, all sent before any answer is read;
    the answers in the same order (other messages go to u.c.notes)."""
    ids = [await u.c.send("run/start", p) for p in params]
    got = await u.c.answers(ids)
    return [got[i] for i in ids]


def test_burst_of_raw_starts_leaves_one_container(server, runtimes):
    def active_runs(pid):
        return psql("SELECT count(*) FROM runs WHERE project_id = :'v1' AND state <> 'finished'",
                    pid)[0][0]

    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "sleep 60\n"})  # stopped below
        answers = await starts_at_once(u, [{"project": pid}] * 5)
        # the replaced runs' containers go, the last run's comes: wait for that
        await async_wait_until(lambda: len(containers_of(pid)) == 1 and active_runs(pid) == "1")
        seen = containers_of(pid)
        active = active_runs(pid)
        started = [a["result"]["run"] for a in answers if "result" in a]
        for rid in started:
            await u.c.call("run/stop", {"run": rid})
        return seen, active, answers, started
    seen, active, answers, started = run(go())
    assert len(seen) == 1, seen
    assert active == "1"
    assert started, answers


def test_a_bad_start_does_not_make_a_good_one_give_way(server, runtimes):
    """Run, then at once Run with a bad file name (or too many files, or a
    file that is not a string), on a project that never ran: the bad start
    is refused before it reaches the engine, and the good one runs. It used
    to become the project's newest start and the good one was refused as
    superseded (CONFLICT), and before that the slot was freed under it."""
    bads = [{"../bad": "x"}, {f"f{i}.txt": "x" for i in range(201)}, {"main.sh": 42}]

    async def one(u, k):
        pid = await u.project(runtimes["sh"], {"main.sh": "echo fresh\n"})
        first, bad = await starts_at_once(u, [{"project": pid, "files": {"main.sh": f"echo one {k}\n"}},
                                              {"project": pid, "files": bads[k % 3]}])
        assert error_reason(bad) in ("INVALID_PATH", "TOO_LARGE", "INVALID_PARAMS"), bad
        assert "result" in first, first
        out = await u.wait_exit(first["result"]["run"])
        assert out.exit["reason"] == "exited" and out.text() == f"one {k}\n", out.events
        return pid

    async def go():
        u = await User.new(server)
        return [await one(u, k) for k in range(12)]
    for pid in run(go()):
        assert psql("SELECT count(*) FROM runs WHERE project_id = :'v1' AND state <> 'finished'",
                    pid)[0][0] == "0"


def test_a_start_outlived_by_a_newer_start_that_failed_keeps_its_slot(server, runtimes):
    """Run, then at once Run with a file over max_file_bytes, on a project
    that never ran: the newer start fails in the database (its save) while
    the first one's save may still be there. The slot (user, project) must
    outlive the first start, which then goes on or is refused, but the
    server stays up and nothing is left running. The slot used to be freed
    under the first start (no holder counted it)."""
    async def one(u, k):
        pid = await u.project(runtimes["sh"], {"main.sh": "echo fresh\n"})
        first, bad = await starts_at_once(u, [{"project": pid, "files": {"main.sh": f"echo one {k}\n"}},
                                              {"project": pid, "files": {"big.txt": "#" * 300_000}}])
        assert error_reason(bad) == "TOO_LARGE", bad
        if "result" in first:  # the newer start replaced it before its save failed, or not
            assert (await u.wait_exit(first["result"]["run"])).exit["reason"] in ("exited",
                                                                                  "replaced")
        else:
            assert error_reason(first) == "CONFLICT", first
        return pid

    async def go():
        u = await User.new(server)
        pids = [await one(u, k) for k in range(20)]
        # the server is up and the slots still work: a run of each project
        for pid in pids[:3]:
            rid = await u.start(pid)
            assert (await u.wait_exit(rid)).exit["reason"] == "exited"
        return pids
    for pid in run(go()):
        assert psql("SELECT count(*) FROM runs WHERE project_id = :'v1' AND state <> 'finished'",
                    pid)[0][0] == "0"


def test_stdin_reaches_the_program(server, runtimes):
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "read name; echo \"hello $name\"\n"})
        rid = await u.start(pid)
        deadline = time.monotonic() + DEADLINE_S
        while True:  # refused until the program runs
            r = await u.c.call("run/stdin", {"run": rid, "data": "world\n"})
            if "result" in r or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert "result" in r, r
        return await u.wait_exit(rid)
    out = run(go())
    assert out.text() == "hello world\n"


def test_build_step_then_run(server, runtimes):
    async def go():
        u = await User.new(server)
        return await u.run_code(runtimes["sh_build"], {
            "build.sh": "echo compiling\necho 'echo built ok' > /tmp/run.sh\n"})
    _, _, out = run(go())
    assert out.states[:4] == ["queued", "starting", "building", "running"], out.states
    assert out.text() == "compiling\nbuilt ok\n"


def test_history_logs_paging_get_and_attach(server, runtimes):
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "i=0; while [ $i -lt 50 ]; do echo line$i; sleep 0.01; i=$((i+1)); done\n"})
        rid = await u.start(pid)
        out = await u.wait_exit(rid)
        hist = await u.c.call("run/history", {"project": pid})
        pages, frm = [], 1
        while frm is not None:
            r = await u.c.call("run/logs", {"run": rid, "from": frm, "limit": 3})
            pages.append(r["result"]["chunks"])
            frm = r["result"]["next"]
        got = await u.c.call("run/get", {"run": rid})
        # a second client attaches from the start of the finished run
        v = await logged_in(server, u.name, u.password)
        att = await v.call("run/attach", {"run": rid, "from_seq": 1})
        replay = [n for n in v.notes if n["method"] == "run/log"]
        return rid, out, hist, pages, got, att, replay
    rid, out, hist, pages, got, att, replay = run(go())
    print(hist, got, att)
    assert hist["result"]["runs"][0]["run"] == rid and hist["result"]["runs"][0]["reason"] == "exited"
    text = "".join(c["data"] for p in pages for c in p if c["stream"] == "stdout")
    assert text == "".join(f"line{i}\n" for i in range(50)) == out.text()
    assert all(len(p) <= 3 for p in pages)
    assert "main.sh" in got["result"]["files"]
    assert att["result"]["live"] is False
    assert "".join(n["params"]["data"] for n in replay) == out.text()


def test_run_exit_goes_out_only_once_its_stored_exit_can_be_read(server, runtimes):
    """Once run/exit arrives, run/logs has the whole run, its stored exit
    (meta) last. The stored exit is held back here: an uncommitted row of
    another session has its key (run, seq), so the database makes the
    server's insert wait; run/exit must wait for it, and then be readable."""
    src = {"main.sh": "echo ready; read x\n"}

    async def ready_seq(u, rid):
        await u.wait_output(rid, "ready")
        return next(e["params"]["seq"] for e in u.c.notes
                    if e.get("method") == "run/log" and e["params"]["run"] == rid)

    async def let_go(u, rid):
        r = await u.c.call("run/stdin", {"run": rid, "data": "x\n"})
        assert "result" in r, r

    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], src)
        # the first run: how far after "ready" its run/exit is numbered
        rid = await u.start(pid)
        ready = await ready_seq(u, rid)
        await let_go(u, rid)
        gap = (await u.wait_exit(rid)).exit["seq"] - ready
        # the second: its stored exit's key is taken until the rollback
        rid = await u.start(pid)
        key = await ready_seq(u, rid) + gap
        holder = subprocess.Popen([os.environ.get("RUNIT_PSQL", "psql"), DB_URL, "-XAtq"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            holder.stdin.write(f"BEGIN; INSERT INTO run_logs (run_id, seq, stream, data) "
                               f"VALUES ({rid}, {key}, 'status', 'held');\n")
            holder.stdin.flush()
            wait_until(lambda: psql("SELECT count(*) FROM pg_stat_activity WHERE state ="
                                    " 'idle in transaction' AND query LIKE"
                                    " 'INSERT INTO run_logs%' || :'v1' || '%held%'", rid)
                       == [["1"]])
            await let_go(u, rid)
            await u.wait_state(rid, "stopping")
            await u.collect(1.5)
            early = [e for e in u.c.notes if e.get("method") == "run/exit"
                     and e["params"]["run"] == rid]
            holder.stdin.write("ROLLBACK;\n")
            holder.stdin.flush()
        finally:
            holder.stdin.close()
            holder.wait(DEADLINE_S)
        ex = (await u.wait_exit(rid)).exit
        logs = result_of(await u.c.call("run/logs", {"run": rid}))
        return early, ex, key, logs["chunks"]

    early, ex, key, chunks = run(go())
    assert early == [], "run/exit went out before its stored exit was written"
    assert ex["seq"] == key and ex["reason"] == "exited" and ex["exit_code"] == 0
    last = chunks[-1]
    assert last["seq"] == key and last["stream"] == "meta", chunks
    assert json.loads(last["data"]) == ex
    assert "ready\n" in "".join(c["data"] for c in chunks if c["stream"] == "stdout")


def test_attach_resumes_a_live_run_after_reconnect(server, runtimes):
    # after tick14 the program waits for a line on stdin: the run is still
    # live when the second client attaches, however slow the machine
    script = ("i=0; while [ $i -lt 30 ]; do echo tick$i; sleep 0.05; i=$((i+1));"
              " if [ $i = 15 ]; then read go; fi; done\n")

    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": script})
        rid = await u.start(pid)
        await u.wait_output(rid, "tick3\n")
        seen = [n["params"] for n in u.c.notes if n["method"] == "run/log"]
        last = max([n["params"]["seq"] for n in u.c.notes if n.get("params", {}).get("run") == rid])
        await u.c.ws.close()
        await asyncio.sleep(0.3)
        c2 = await logged_in(server, u.name, u.password)
        att = await c2.call("run/attach", {"run": rid, "from_seq": last + 1})
        u2 = User(c2, u.name, u.uid)
        await u2.wait_output(rid, "tick14\n")
        assert "result" in await c2.call("run/stdin", {"run": rid, "data": "go\n"})
        rest = await u2.wait_exit(rid)
        return seen, rest, att
    seen, rest, att = run(go())
    assert att["result"]["live"] is True
    text = "".join(p["data"] for p in seen) + rest.text()
    assert text == "".join(f"tick{i}\n" for i in range(30))


def test_quota_of_active_runs(server, runtimes):
    async def go():
        u = await User.new(server)
        psql("UPDATE users SET max_active_runs = 1 WHERE id = :'v1'", u.uid)
        p1 = await u.project(runtimes["sh"], {"main.sh": "sleep 5\n"})
        p2 = await u.project(runtimes["sh"], {"main.sh": "echo hi\n"})
        rid = await u.start(p1)
        r = await u.c.call("run/start", {"project": p2})
        await u.c.call("run/stop", {"run": rid})
        return r
    r = run(go())
    assert r["error"]["data"]["reason"] == "RUN_QUOTA"


def test_disabled_runtime_refuses_new_runs(server, runtimes):
    code = add_shell_runtime("t-sh-off")

    async def go():
        u = await User.new(server)
        pid = await u.project(code, {"main.sh": "echo hi\n"})
        psql("UPDATE runtimes SET enabled = false WHERE code = :'v1'", code)
        r = await u.c.call("run/start", {"project": pid})
        readable = await u.c.call("file/read", {"project": pid, "path": "main.sh"})
        return r, readable
    r, readable = run(go())
    assert r["error"]["data"]["reason"] == "RUNTIME_DISABLED"
    assert "result" in readable


def test_another_user_cannot_run_or_watch_a_private_project(server, runtimes):
    async def go():
        owner, other = await User.new(server), await User.new(server)
        pid, rid, _ = await owner.run_code(runtimes["sh"], {"main.sh": "echo secret\n"})
        a = await other.c.call("run/start", {"project": pid})
        b = await other.c.call("run/logs", {"run": rid})
        c = await other.c.call("run/attach", {"run": rid, "from_seq": 1})
        d = await other.c.call("run/history", {"project": pid})
        e = await other.c.call("run/stop", {"run": rid})
        return [x["error"]["data"]["reason"] for x in (a, b, c, d, e)]
    assert run(go()) == ["NOT_FOUND"] * 5


def test_twenty_users_at_once(server, runtimes):
    async def one(i):
        u = await User.new(server, prefix=f"crowd{i}x")
        _, _, out = await u.run_code(runtimes["sh"], {"main.sh": f"echo user {i}\n"},
                                  timeout=300)  # twenty containers on a busy engine
        return out

    async def go():
        return await asyncio.gather(*(one(i) for i in range(20)))
    outs = run(go())
    for o in outs:
        if o.exit["exit_code"] != 0:
            print("failed run:", o.exit, o.text("stderr"))
    assert [o.text() for o in outs] == [f"user {i}\n" for i in range(20)]
    assert all(o.exit["exit_code"] == 0 for o in outs)


def test_platform_unavailable_then_back(server, runtimes):
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "echo back\n"})
        old = psql("SELECT endpoint FROM platforms WHERE is_default")[0][0]
        psql("UPDATE platforms SET endpoint = 'unix:///tmp/runit-no-such.sock' WHERE is_default")
        try:
            down = await u.c.call("run/start", {"project": pid})
            hello = await u.c.call("session/hello", {})
        finally:
            psql("UPDATE platforms SET endpoint = :'v1' WHERE is_default", old)
        rid = await u.start(pid)
        return down, hello, await u.wait_exit(rid)
    down, hello, out = run(go())
    assert down["error"]["data"]["reason"] == "PLATFORM_UNAVAILABLE"
    assert "result" in hello
    assert out.text() == "back\n"


def test_server_killed_mid_run_leaves_nothing_behind(make_server, runtimes):
    srv = make_server(RUNIT_INSTANCE="killtest").start()

    async def go():
        u = await User.new(srv)
        pid = await u.project(runtimes["sh"], {"main.sh": "echo up; sleep 60\n"})
        rid = await u.start(pid)
        await async_wait_until(lambda: containers_of(pid))
        return pid, rid
    pid, rid = run(go())
    assert len(containers_of(pid)) == 1
    srv.kill()
    srv2 = make_server(RUNIT_INSTANCE="killtest").start()
    wait_until(lambda: not containers_of(pid))
    assert containers_of(pid) == []
    row = psql("SELECT state || ' ' || reason FROM runs WHERE id = :'v1'", rid)
    assert row == [["finished error"]]
    srv2.stop()


@pytest.mark.parametrize("when", ["after_exit", "while_starting"])
def test_graceful_stop_with_ten_users_leaves_no_container(make_server, runtimes, when):
    """SIGTERM while ten users' runs start (or just ended, their next warm
    containers and the prepared pool being made): the drain stops and
    removes every container of the instance. A stop sent while a start was
    still on its way (or waiting in the engine's gate) used to find nothing
    running, and the started container then waited for "go" forever."""
    instance = f"drain-{when}-{os.getpid()}"
    srv = make_server(RUNIT_INSTANCE=instance).start()
    code = "echo up\n" if when == "after_exit" else "echo up; sleep 60\n"

    async def one(k):
        u = await User.new(srv, prefix=f"drain{k}x")
        pid = await u.project(runtimes["sh"], {"main.sh": code})
        rid = result_of(await u.c.call("run/start", {"project": pid, "tty": k % 2 == 1}))["run"]
        if when == "after_exit":
            out = await u.wait_exit(rid)
            assert out.exit["exit_code"] == 0, out.exit
        return u, rid

    async def go():
        users = await asyncio.gather(*(one(k) for k in range(10)))
        # SIGTERM with the sockets open (the loop answers them meanwhile);
        # the test fails unless the server drains and exits 0
        await asyncio.get_running_loop().run_in_executor(None, srv.stop)
        return [rid for _, rid in users]
    rids = run(go())
    left = docker("ps", "-a", "--filter", f"label=run-it.instance={instance}",
                  "--format", "{{.ID}} {{.Status}} {{.Label \"run-it.run\"}}").stdout.split("\n")
    assert [x for x in left if x.strip()] == [], "the graceful stop left containers"
    states = psql("SELECT DISTINCT state FROM runs WHERE id = ANY(:'v1')",
                  "{" + ",".join(map(str, rids)) + "}")
    assert states == [["finished"]], states


# test_slow_watcher_gets_a_gap_not_unbounded_memory is in test_output_pacing.py
# (issue 16: the run's own user is paced, never given run/gap; a watcher is)


def test_gvisor_platform_option(server, runtimes):
    if "runsc" not in docker("info", "--format", "{{json .Runtimes}}").stdout:
        pytest.fail("the Docker engine has no runsc runtime: scripts/lib/docker.sh registers it")
    code = add_shell_runtime("t-sh-gvisor", pids=512)

    async def go():
        u = await User.new(server)
        old = psql("SELECT options::text FROM platforms WHERE is_default")[0][0]
        psql("UPDATE platforms SET options = '{\"oci_runtime\": \"runsc\"}' WHERE is_default")
        try:
            return await u.run_code(code, {"main.sh": "dmesg | head -n 1; id -u; ls /sys/class/net\n"},
                                    timeout=300)  # gVisor starts slower
        finally:
            psql("UPDATE platforms SET options = :'v1'::jsonb WHERE is_default", old)
    _, _, out = run(go())
    print("under gVisor:", out.text())
    assert out.exit["exit_code"] == 0, out.events
    assert "gVisor" in out.text()
    assert out.text().split()[-2:] == ["1000", "lo"] or out.text().split()[-1] == "lo"


def test_env_vars_reach_the_run_and_nothing_else_from_the_host(server, runtimes):
    big = "x" * 20000

    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "echo \"$GREETING\"; echo ${#BIG}; env | cut -d= -f1 | sort | tr '\\n' ' '\n"})
        r = await u.c.call("env/set", {"project": pid, "vars": {"GREETING": "hi there", "BIG": big}})
        assert "result" in r, r
        return await u.wait_exit(await u.start(pid))
    out = run(go())
    lines = out.text().splitlines()
    assert lines[0] == "hi there" and lines[1] == "20000"
    names = set(lines[2].split())
    assert {"GREETING", "BIG", "HOME", "PATH"} <= names
    assert not any(n.startswith("RUNIT_") for n in names), names


def test_next_run_uses_a_prepared_container(make_server, runtimes):
    server = make_server().start()  # its own: the module's server may have used its warm quota

    def warm_running(pid):
        warm = containers_of(pid, warm=True)
        running = warm and docker("inspect", "-f", "{{.State.Running}}", warm[0]).stdout.strip() == "true"
        return warm if running else None

    async def go():
        u = await User.new(server)
        pid, rid1, first = await u.run_code(runtimes["sh"], {"main.sh": "echo one; ls /workspace\n"})
        # the prepared container is made when the run ends; a run that comes
        # before it is ready waits for it (run_launch_adopted)
        warm = await async_wait_until(lambda: warm_running(pid)) or containers_of(pid, warm=True)
        rid2 = await u.start(pid, files={"main.sh": "echo two; ls /workspace\n", "extra.txt": "x"})
        second = await u.wait_exit(rid2)
        return pid, warm, first, second, rid2
    pid, warm, first, second, rid2 = run(go())
    assert len(warm) == 1, warm
    used = psql("SELECT container_id FROM runs WHERE id = :'v1'", rid2)[0][0]
    assert used.startswith(warm[0]), (used, warm)
    assert first.text() == "one\nmain.sh\n"
    assert second.text() == "two\nextra.txt\nmain.sh\n"  # exactly the saved files
    assert second.exit["reason"] == "exited" and second.states[:3] == ["queued", "starting", "running"]
    # run/exit follows the program's exit; the container goes just after (issue 16)
    assert wait_until(lambda: containers_of(pid) == [], timeout=10), containers_of(pid)
    server.stop()  # a server that stops removes what it prepared
    assert containers_of(pid, warm=True) == []
