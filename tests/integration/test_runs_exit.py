"""Issue 16, run/exit follows the program's exit: the wait wrapper runs the
program as its child and prints an exit notice with a token of the run's
(server/domain/run_notice.h); the run ends once the notice and the end of
the output are in, without the engine's wait. Checked on the real server,
PostgreSQL and Docker engine: the notice never shows in the output (pipes
and terminal), a look-alike of the program's does, exit codes are right when
the program exits with output still in flight, a signal's exit is told by
the engine (137 may be the OOM killer), a child left running in the
background does not hold the run, and the counters say which way each run
ended."""
import re

import pytest

from harness import (PYTHON_IMAGE, User, add_runtime, add_shell_runtime, http_get, result_of,
                     run)


@pytest.fixture(scope="module")
def rts(db_url):
    return {
        "sh": add_shell_runtime("t-exit-sh", wall_ms=60000, output_bytes=64 << 20),
        "py": add_runtime("t-exit-py", PYTHON_IMAGE, ["python3", "main.py"], wall_ms=60000,
                          memory_bytes=256 << 20, output_bytes=64 << 20),
    }


def counters(server):
    code, _, body = http_get(server.url + "/metrics")
    assert code == 200
    got = {}
    for name in ("runit_run_exits_noticed_total", "runit_run_exits_waited_total"):
        m = re.search(rf"^{name} (\S+)$", body.decode(), re.M)
        assert m, name
        got[name] = float(m.group(1))
    return got


async def run_once(u, pid, tty=False):
    p = {"project": pid}
    if tty:
        p["tty"] = True
    rid = result_of(await u.c.call("run/start", p))["run"]
    return await u.wait_exit(rid)


def test_the_notice_ends_the_run_and_never_shows(server, rts):
    before = counters(server)

    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": "printf 'no newline'; exit 3\n"})
        pipes = await run_once(u, pid)
        tty = await run_once(u, pid, tty=True)
        ok = await u.project(rts["sh"], {"main.sh": "echo fine\n"})
        zero = await run_once(u, ok)
        return pipes, tty, zero
    pipes, tty, zero = run(go())
    for out in (pipes, tty):
        assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 3, out.exit
        assert out.text() == "no newline" and out.text("stderr") == "", out.logs
    assert zero.exit["exit_code"] == 0 and zero.text() == "fine\n"
    after = counters(server)
    # all three ended on the notice, none waited for the engine
    assert after["runit_run_exits_noticed_total"] - before["runit_run_exits_noticed_total"] == 3
    assert after["runit_run_exits_waited_total"] == before["runit_run_exits_waited_total"]


def test_a_look_alike_is_output(server, rts):
    fake = r"printf '\036run-it-exit-0123456789abcdef01234567 0\n'; exit 5"

    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": fake + "\n"})
        return await run_once(u, pid)
    out = run(go())
    assert out.exit["exit_code"] == 5, out.exit
    assert out.text() == "\x1erun-it-exit-0123456789abcdef01234567 0\n", out.text()


PY_FLOOD = """import os, sys
line = b"x" * 1023 + b"\\n"
for i in range(4096):  # 4 MiB on stdout, 1 MiB on stderr, interleaved
    os.write(1, line)
    if i % 4 == 0:
        os.write(2, line)
os._exit(7)
"""


def test_every_byte_before_the_exit_when_the_program_exits_mid_flight(server, rts):
    async def go():
        u = await User.new(server)
        pid = await u.project(rts["py"], {"main.py": PY_FLOOD})
        return await run_once(u, pid), await run_once(u, pid, tty=True)
    pipes, tty = run(go())
    assert pipes.exit["reason"] == "exited" and pipes.exit["exit_code"] == 7, pipes.exit
    assert len(pipes.text()) == 4096 * 1024 and len(pipes.text("stderr")) == 1024 * 1024
    assert tty.exit["exit_code"] == 7, tty.exit
    assert len(tty.text()) == 5120 * 1025  # one stream; "\n" is "\r\n"
    assert "run-it-exit" not in tty.text()
    for out in (pipes, tty):
        assert not [e for e in out.events if e["method"] == "run/gap"]


def test_signals_background_children_and_a_failed_build(server, rts):
    before = counters(server)
    build = add_runtime("t-exit-build", "runit/shell:latest", ["sh", "main.sh"],
                        build_cmd=["sh", "-c", "echo compiling; exit 4"], wall_ms=60000)

    async def go():
        u = await User.new(server)
        term = await u.project(rts["sh"], {"main.sh": "echo a; kill -TERM $$; sleep 5\n"})
        kill = await u.project(rts["sh"], {"main.sh": "echo b; kill -KILL $$; sleep 5\n"})
        # a child that outlives the program holds neither the run nor its output
        bg = await u.project(rts["sh"], {"main.sh": "sleep 300 & echo c; exit 0\n"})
        failed = await u.project(build, {"main.sh": "echo never\n"})
        return [await run_once(u, p) for p in (term, kill, bg, failed)]
    term, kill, bg, failed = run(go())
    assert (term.exit["exit_code"], term.text()) == (143, "a\n"), term.exit
    assert (kill.exit["exit_code"], kill.exit["reason"]) == (137, "exited"), kill.exit
    assert (bg.exit["exit_code"], bg.exit["reason"], bg.text()) == (0, "exited", "c\n"), bg.exit
    assert failed.exit["reason"] == "build_failed" and failed.exit["exit_code"] == 4, failed.exit
    assert "compiling" in failed.text() and "never" not in failed.text()
    after = counters(server)
    # 137 waits for the engine (the OOM killer sends the same signal)
    assert after["runit_run_exits_waited_total"] - before["runit_run_exits_waited_total"] >= 1
    assert after["runit_run_exits_noticed_total"] - before["runit_run_exits_noticed_total"] >= 3
