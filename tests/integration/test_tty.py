"""Issue 12, the console is a terminal: run/start with tty gives the program a
pseudo-terminal (output in exactly the order written, isatty() true, the size
of the console, Ctrl+C and Ctrl+D through stdin); run/resize changes the size
for the run's user only; runs without tty keep their pipes. Real server,
PostgreSQL and Docker engine, on the images images/build makes."""
import asyncio

import pytest

from harness import (PYTHON_IMAGE, SHELL_IMAGE, User, add_runtime, add_shell_runtime,
                     async_wait_until, docker, error_reason, image_present, psql, result_of, run)

GO_IMAGE = "runit/go:latest"

GO_MAIN = """package main

import (
	"fmt"
	"os"
)

func main() {
	for i := 0; i < 1000; i++ {
		fmt.Println("out", i)
		fmt.Fprintln(os.Stderr, "err", i)
	}
}
"""
GO_WANT = "".join(f"out {i}\r\nerr {i}\r\n" for i in range(1000))


@pytest.fixture(scope="module")
def rts(db_url):
    rt = {
        "sh": add_shell_runtime("t-tty-sh"),
        "sh_build": add_runtime("t-tty-sh-build", SHELL_IMAGE, ["sh", "/tmp/run.sh"],
                                build_cmd=["sh", "build.sh"]),
        "py": add_runtime("t-tty-py", PYTHON_IMAGE, ["python3", "-u", "main.py"],
                          memory_bytes=96 << 20),
    }
    if image_present(GO_IMAGE):
        rt["go"] = add_runtime("t-tty-go", GO_IMAGE, ["/tmp/main"],
                               build_cmd=["go", "build", "-o", "/tmp/main", "."],
                               memory_bytes=512 << 20, pids=256, wall_ms=60000)
    return rt


async def start(u, pid, tty=True, **kw):
    """run/start with a terminal (or not); the result."""
    p = {"project": pid, **kw}
    if tty:
        p["tty"] = True
    return result_of(await u.c.call("run/start", p))


async def send_when_running(u, rid, data, **kw):
    """run/stdin, retried until the run is in its running state (a terminal
    run holds input until its program reads, so one try is enough there)."""
    r = await u.c.call("run/stdin", {"run": rid, "data": data, **kw})
    assert "result" in r, r
    return r


def test_go_stdout_and_stderr_arrive_in_the_order_written_every_time(server, rts):
    """The issue's program: 1,000 fmt.Println and fmt.Fprintln(os.Stderr)
    alternating with no pause, run five times (two users at once), arrives in
    exactly that order each time; through pipes the two streams stay apart."""
    if "go" not in rts:
        pytest.fail(f"{GO_IMAGE} is missing: images/build go builds it")

    async def one_user(runs):
        u = await User.new(server)
        pid = await u.project(rts["go"], {"go.mod": "module m\n\ngo 1.19\n", "main.go": GO_MAIN})
        outs = []
        for _ in range(runs):
            res = await start(u, pid, cols=120, rows=40)
            assert res["tty"] is True
            outs.append(await u.wait_exit(res["run"], timeout=120))
        res = await start(u, pid, tty=False)
        assert res["tty"] is False
        outs.append(await u.wait_exit(res["run"], timeout=120))
        return outs

    async def go():
        return await asyncio.gather(one_user(3), one_user(2))
    for outs in run(go()):
        for out in outs[:-1]:
            assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 0, out.exit
            assert out.states[:4] == ["queued", "starting", "building", "running"], out.states
            assert {l["stream"] for l in out.logs} == {"stdout"}
            assert out.text() == GO_WANT
        pipes = outs[-1]
        assert pipes.text() == "".join(f"out {i}\n" for i in range(1000))
        assert pipes.text("stderr") == "".join(f"err {i}\n" for i in range(1000))


def test_a_terminal_is_a_terminal_and_pipes_stay_pipes(server, rts):
    code = ("import os, sys, shutil\n"
            "print([os.isatty(f) for f in (0, 1, 2)], shutil.get_terminal_size())\n"
            "print('to stderr', file=sys.stderr)\nprint()\nprint('  x  ')\n")

    async def go():
        u = await User.new(server)
        pid = await u.project(rts["py"], {"main.py": code})
        tty = await u.wait_exit((await start(u, pid, cols=132, rows=43))["run"])
        pipes = await u.wait_exit((await start(u, pid, tty=False))["run"])
        return tty, pipes
    tty, pipes = run(go())
    # the terminal's \r\n; blank lines and spaces exact; stderr in its place
    assert tty.text() == ("[True, True, True] os.terminal_size(columns=132, lines=43)\r\n"
                          "to stderr\r\n\r\n  x  \r\n"), tty.text()
    assert tty.text("stderr") == ""
    assert pipes.text() == "[False, False, False] os.terminal_size(columns=80, lines=24)\n\n  x  \n"
    assert pipes.text("stderr") == "to stderr\n"


def test_stty_size_follows_run_resize(server, rts):
    """Size at start, then two run/resize in a row (the newest wins, the one
    before it lands too), then another; a program waiting for SIGWINCH gets
    it with the new size."""
    script = "stty size\nread x\nstty size\nread x\nstty size\n"
    winch = ("import os, signal\n"
             "def on(*a):\n    s = os.get_terminal_size()\n    print('winch', s.columns, s.lines)\n"
             "    if s.columns == 77: os._exit(0)\n"
             "signal.signal(signal.SIGWINCH, on)\nprint('ready')\nwhile True: signal.pause()\n")

    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": script})
        rid = (await start(u, pid, cols=100, rows=30))["run"]
        await u.wait_output(rid, "30 100\r\n")
        for size in ({"rows": 10, "cols": 20}, {"rows": 41, "cols": 121}):
            assert result_of(await u.c.call("run/resize", {"run": rid, **size})) == {}
        await asyncio.sleep(0.3)
        await send_when_running(u, rid, "\n")
        await u.wait_output(rid, "41 121\r\n")
        assert result_of(await u.c.call("run/resize", {"run": rid, "rows": 5, "cols": 1000})) == {}
        await asyncio.sleep(0.3)
        await send_when_running(u, rid, "\n")
        sized = await u.wait_exit(rid)
        pid2 = await u.project(rts["py"], {"main.py": winch})
        rid2 = (await start(u, pid2))["run"]
        await u.wait_output(rid2, "ready")
        assert result_of(await u.c.call("run/resize", {"run": rid2, "rows": 17, "cols": 77})) == {}
        return sized, await u.wait_exit(rid2)
    sized, winched = run(go())
    assert sized.text() == "30 100\r\n\r\n41 121\r\n\r\n5 1000\r\n", sized.text()
    assert winched.text() == "ready\r\nwinch 77 17\r\n", winched.text()


def test_only_the_runs_user_may_resize_or_type(server, rts):
    """A viewer and an editor of the project see the run but cannot resize
    it (NOT_FOUND) or send input (FORBIDDEN: the shared console); bad sizes and a resize
    of a run without a terminal are refused with their reasons."""
    async def go():
        owner, viewer, editor = await User.new(server), await User.new(server), await User.new(server)
        pid = await owner.project(rts["sh"], {"main.sh": "stty size; read x; echo \"got $x\"\n"})
        for who, role in ((viewer, "viewer"), (editor, "editor")):
            result_of(await owner.c.call("project/share", {"id": pid, "username": who.name, "role": role}))
        rid = (await start(owner, pid, cols=90, rows=20))["run"]
        await owner.wait_output(rid, "20 90")
        refused = []
        for who in (viewer, editor):
            a = result_of(await who.c.call("run/attach", {"run": rid, "from_seq": 1}))
            assert a["live"] is True
            refused.append(error_reason(await who.c.call("run/resize", {"run": rid, "rows": 9, "cols": 9})))
            refused.append(error_reason(await who.c.call("run/stdin", {"run": rid, "data": "evil\n"})))
        bad = [error_reason(await owner.c.call("run/resize", p)) for p in (
            {"run": rid, "rows": 0, "cols": 80}, {"run": rid, "rows": 24, "cols": 1001},
            {"run": rid, "rows": 24}, {"run": rid, "rows": "24", "cols": 80})]
        bad.append(error_reason(await owner.c.call("run/start", {"project": pid, "cols": 80, "rows": 24})))
        bad.append(error_reason(await owner.c.call("run/start", {"project": pid, "tty": 1})))
        await send_when_running(owner, rid, "mine\n")
        out = await owner.wait_exit(rid)
        pipe_rid = (await start(owner, pid, tty=False))["run"]
        pipe_resize = error_reason(await owner.c.call("run/resize", {"run": pipe_rid, "rows": 9, "cols": 9}))
        await send_when_running(owner, pipe_rid, "x\n")
        await owner.wait_exit(pipe_rid)
        ended = error_reason(await owner.c.call("run/resize", {"run": rid, "rows": 9, "cols": 9}))
        return refused, bad, out, pipe_resize, ended
    refused, bad, out, pipe_resize, ended = run(go())
    # resize: the run's user only; input: FORBIDDEN to those who see the run (issue 14)
    assert refused == ["NOT_FOUND", "FORBIDDEN"] * 2
    assert bad == ["INVALID_PARAMS"] * 6
    assert out.text() == "20 90\r\nmine\r\ngot mine\r\n"  # nobody else's input, no resize
    assert pipe_resize == "CONFLICT"
    assert ended == "NOT_FOUND"


def test_ctrl_c_interrupts_and_ctrl_d_ends_input(server, rts):
    """"\\x03" through stdin is SIGINT for the program (Python's
    KeyboardInterrupt); eof on a terminal is Ctrl+D: end of file for a read."""
    loop = "import time\nprint('looping')\nwhile True:\n    time.sleep(0.05)\n"
    # sys.stdin.readline(), not input(): input() on a terminal is GNU readline's
    reader = ("import sys\ndata = sys.stdin.read()\nprint(repr(data))\n"
              "print(repr(sys.stdin.readline()))\n")

    async def go():
        u = await User.new(server)
        pid = await u.project(rts["py"], {"main.py": loop})
        rid = (await start(u, pid))["run"]
        await u.wait_output(rid, "looping")
        await send_when_running(u, rid, "\x03")
        interrupted = await u.wait_exit(rid)
        pid2 = await u.project(rts["py"], {"main.py": reader})
        rid2 = (await start(u, pid2))["run"]
        await send_when_running(u, rid2, "two\nlines\n", eof=True)
        await u.wait_output(rid2, "'two\\nlines\\n'")
        await send_when_running(u, rid2, "after eof\n")  # a terminal's input stays open
        return interrupted, await u.wait_exit(rid2)
    interrupted, read = run(go())
    assert "KeyboardInterrupt" in interrupted.text(), interrupted.text()
    assert interrupted.exit["reason"] == "exited" and interrupted.exit["exit_code"] != 0
    assert read.text() == "two\r\nlines\r\n'two\\nlines\\n'\r\nafter eof\r\n'after eof\\n'\r\n", read.text()
    assert read.exit["exit_code"] == 0


def test_input_sent_before_the_program_starts_is_echoed_where_it_begins(server, rts):
    """The wrapper reads "go" from the same terminal: its echo and marker
    never show; input sent at once waits and is echoed once, in place."""
    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": "read name; echo \"hi $name\"\n"})
        res = await u.c.call("run/start", {"project": pid, "tty": True})
        rid = result_of(res)["run"]
        await send_when_running(u, rid, "bob\n")
        return await u.wait_exit(rid), rid
    out, rid = run(go())
    assert out.text() == "bob\r\nhi bob\r\n", out.text()
    assert out.exit["first_byte_ms"] is not None


def test_build_marker_logs_and_history_of_a_terminal_run(server, rts):
    """A build step's marker works with the terminal's \\r\\n; run/logs
    returns what the console got (one stream, \\r\\n, blank lines exact);
    run/get and run/history say which mode the run had."""
    async def go():
        u = await User.new(server)
        build = ("echo compiling; echo oops >&2\n"
                 "printf 'echo built ok; printf \"a\\\\n\\\\n\\\\n  b\\\\n\"' > /tmp/run.sh\n")
        pid = await u.project(rts["sh_build"], {"build.sh": build})
        rid = (await start(u, pid))["run"]
        out = await u.wait_exit(rid)
        logs = result_of(await u.c.call("run/logs", {"run": rid}))
        got = result_of(await u.c.call("run/get", {"run": rid}))
        # the same code would not be built again (the project's cache keeps the
        # build's output): a changed build.sh builds again, through pipes
        rid2 = (await start(u, pid, tty=False, files={"build.sh": build + "# again\n"}))["run"]
        out2 = await u.wait_exit(rid2)
        hist = result_of(await u.c.call("run/history", {"project": pid}))
        return out, logs, got, out2, hist, rid, rid2
    out, logs, got, out2, hist, rid, rid2 = run(go())
    assert out.states[:4] == ["queued", "starting", "building", "running"], out.states
    assert out.text() == "compiling\r\noops\r\nbuilt ok\r\na\r\n\r\n\r\n  b\r\n", out.text()
    stored = "".join(c["data"] for c in logs["chunks"] if c["stream"] in ("stdout", "stderr"))
    assert stored == out.text()
    assert {c["stream"] for c in logs["chunks"]} <= {"stdout", "status", "meta"}
    assert got["tty"] is True
    assert out2.text() == "compiling\nbuilt ok\na\n\n\n  b\n" and out2.text("stderr") == "oops\n"
    assert {h["run"]: h["tty"] for h in hist["runs"]} == {rid: True, rid2: False}


def test_prepared_container_matches_terminal_or_pipes(make_server, rts):
    """A warm container is made for the mode of the run before it: the next
    run of the same mode adopts it, a run of the other mode gets a fresh one
    (and the program sees what it asked for)."""
    server = make_server().start()
    code = "[ -t 1 ] && echo tty || echo pipe\n"

    def warm_of(pid):
        r = docker("ps", "-q", "--filter", f"label=run-it.project={pid}", "--filter", "label=run-it.run=warm")
        return r.stdout.split()

    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": code})
        seen = []
        for tty in (True, True, False, False, True):
            warm = await async_wait_until(lambda: warm_of(pid), timeout=10) if seen else None
            rid = (await start(u, pid, tty=tty))["run"]
            out = await u.wait_exit(rid)
            used = psql("SELECT container_id FROM runs WHERE id = :'v1'", rid)[0][0]
            seen.append((tty, out.text(), bool(warm) and used.startswith(warm[0])))
        return seen
    seen = run(go())
    server.stop()
    assert [s[1] for s in seen] == ["tty\r\n", "tty\r\n", "pipe\n", "pipe\n", "tty\r\n"]
    # adopted only when the mode matched the run before
    assert [s[2] for s in seen] == [False, True, False, True, False], seen


def test_many_terminal_runs_at_once(server, rts):
    """Ten users start terminal runs at the same moment, each with its own
    size; each gets its own size and its own output, in order."""
    script = ("stty size\ni=0; while [ $i -lt 200 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done\n")
    want_tail = "".join(f"o{i}\r\ne{i}\r\n" for i in range(200))

    async def one(k):
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": script})
        rid = (await start(u, pid, rows=10 + k, cols=50 + k))["run"]
        return k, await u.wait_exit(rid, timeout=90)

    async def go():
        return await asyncio.gather(*(one(k) for k in range(10)))
    for k, out in run(go()):
        assert out.text() == f"{10 + k} {50 + k}\r\n" + want_tail
