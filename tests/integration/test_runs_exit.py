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
import time

import pytest

from harness import (PYTHON_IMAGE, DockerProxy, User, add_runtime, add_shell_runtime, docker,
                     http_get, psql, result_of, run, wait_until)


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


def test_a_container_that_exits_by_itself_is_removed_not_killed(server, rts):
    """A run that ended on the notice leaves a container whose wrapper is
    exiting: it is removed once the engine saw it exit, never killed on the
    way out (each kill is one more call into the container runtime per run).
    Checked on the engine's own events: die and destroy, no kill, for runs
    through pipes and a terminal, one leaving a child in the background."""
    t0 = time.time()

    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": "echo hi\n"})
        outs = [await run_once(u, pid, tty=k % 2 == 1) for k in range(6)]
        bg = await u.project(rts["sh"], {"main.sh": "sleep 30 & echo started\n"})
        return outs + [await run_once(u, bg)]
    outs = run(go())
    assert [o.exit["reason"] for o in outs] == ["exited"] * 7, [o.exit for o in outs]
    cids = [psql("SELECT container_id FROM runs WHERE id = :'v1'", o.exit["run"])[0][0]
            for o in outs]
    assert all(cids), cids
    assert wait_until(lambda: all(docker("inspect", c).returncode != 0 for c in cids),
                      timeout=30), "the containers were not removed"
    ev = docker("events", "--since", f"{t0:.3f}", "--until", f"{time.time():.3f}", "--format",
                "{{.Actor.ID}} {{.Action}}", *[a for c in cids for a in ("--filter",
                                                                           f"container={c}")])
    acts = {c: [w[1] for w in (line.split() for line in ev.stdout.splitlines())
                if w[0].startswith(c)] for c in cids}
    for c, a in acts.items():
        assert "die" in a and "destroy" in a and "kill" not in a, (c, a)


def test_a_container_whose_exit_the_engine_never_tells_is_removed_anyway(make_server, rts,
                                                                         tmp_path):
    """The run ended on the notice and the engine's wait never answers: the
    container is removed all the same, RUN_REMOVE_AFTER_EXIT_MS (1 s) later,
    and the run was not held up by it. The runs go to a platform behind the
    proxy that holds waits (harness.DockerProxy; the shared platforms
    disabled meanwhile)."""
    proxy = DockerProxy(str(tmp_path / "engine.sock"), hold_waits=True).start()
    others = [r[0] for r in psql("SELECT id FROM platforms WHERE enabled")]
    default = psql("SELECT id FROM platforms WHERE is_default")[0][0]
    plat = psql("INSERT INTO platforms (name, kind, endpoint) VALUES ('t-no-wait', 'docker', "
                ":'v1') RETURNING id", "unix://" + proxy.path)[0][0]
    try:
        for o in others:
            psql("UPDATE platforms SET enabled = false, is_default = false WHERE id = :'v1'", o)
        psql("UPDATE platforms SET is_default = true WHERE id = :'v1'", plat)
        srv = make_server().start()
        before = counters(srv)

        async def go():
            u = await User.new(srv)
            pid = await u.project(rts["sh"], {"main.sh": "echo hi\n"})
            return await run_once(u, pid)
        out = run(go())
        assert out.exit["reason"] == "exited" and out.text() == "hi\n", out.exit
        # it ended on the notice, not on the engine's wait (which never comes)
        after = counters(srv)
        assert after["runit_run_exits_noticed_total"] == before["runit_run_exits_noticed_total"] + 1
        assert after["runit_run_exits_waited_total"] == before["runit_run_exits_waited_total"]
        cid = psql("SELECT container_id FROM runs WHERE id = :'v1'", out.exit["run"])[0][0]
        assert wait_until(lambda: docker("inspect", cid).returncode != 0, timeout=15), \
            "the container was never removed"
        proxy.stop()  # the waits fail now: the server stops without them
        srv.stop()
    finally:
        psql("UPDATE platforms SET is_default = false WHERE id = :'v1'", plat)
        psql("DELETE FROM platforms WHERE id = :'v1'", plat)
        for o in others:
            psql("UPDATE platforms SET enabled = true WHERE id = :'v1'", o)
        psql("UPDATE platforms SET is_default = true WHERE id = :'v1'", default)


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
