"""Issue 15: the run-level test set on the other platforms (docs/platforms/).

An admin adds a platform row of kind "swarm" (a one-node swarm: its own
dockerd on /run/runit-swarm/docker.sock) or "podman" (`podman system
service` on /run/runit-podman/podman.sock) through admin/platform/create
and makes it the default; then the same runs as on Docker: hello output,
stdout and stderr, the exit code, stdin, stop, the time limit, the memory
limit, the output limit, exactly the saved files, env, a read-only root, a
non-root user, no network (interfaces and routes only). scripts/test starts
both platforms (scripts/lib/platforms.sh); without them these tests fail
(RUNIT_TEST_PLAT_REQUIRED=1) or, run by hand, skip.

The health round reads what each engine is (/version, /info): the row's
engine_os, engine_arch and engine_version are checked here too."""
import asyncio
import os
import subprocess
import time

import pytest

from harness import (DEADLINE_S, User, add_admin, add_runtime, add_shell_runtime, logged_in,
                     psql, run, wait_until, SHELL_IMAGE)

PLATFORMS = {
    "swarm": "unix:///run/runit-swarm/docker.sock",
    # scripts/lib/platforms.sh's socket (RUNIT_PODMAN_SOCK: a service of one's own)
    "podman": "unix://" + os.environ.get("RUNIT_PODMAN_SOCK", "/run/runit-podman/podman.sock"),
}


def answers(endpoint):
    path = endpoint[len("unix://"):]
    r = subprocess.run(["curl", "-fsS", "--max-time", "5", "--unix-socket", path, "http://d/_ping"],
                       capture_output=True, text=True)
    return r.returncode == 0


@pytest.fixture(scope="module", params=sorted(PLATFORMS))
def platform(request, server):
    """The platform row of this kind, the default while the module's tests
    on it run; the old default comes back afterwards."""
    kind = request.param
    endpoint = PLATFORMS[kind]
    if not answers(endpoint):
        msg = f"no {kind} engine at {endpoint} (scripts/lib/platforms.sh starts it)"
        if os.environ.get("RUNIT_TEST_PLAT_REQUIRED") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    add_shell_runtime("t-sh")  # makes the docker row if there is none
    old = psql("SELECT id FROM platforms WHERE is_default")
    name = f"t-{kind}"
    psql("DELETE FROM platforms WHERE name = :'v1' AND NOT is_default", name)

    async def make():
        a = await logged_in(server, add_admin())
        r = await a.call("admin/platform/create", {
            "name": name, "code": f"test-{kind}", "kind": kind, "endpoint": endpoint,
            "description": f"the {kind} platform of the tests", "is_default": True})
        assert "result" in r, r
        return r["result"]
    row = run(make())
    assert row["kind"] == kind and row["code"] == f"test-{kind}" and row["is_default"]
    yield {"kind": kind, "row": row}
    if old:
        psql("SELECT runit_platform_make_default(:'v1'::bigint)", old[0][0])
    psql("DELETE FROM platforms WHERE id = :'v1'::bigint AND NOT is_default", str(row["id"]))


@pytest.fixture(scope="module")
def rts(platform):
    return {
        "sh": add_shell_runtime("t-sh"),
        "short": add_shell_runtime("t-sh-short", wall_ms=2000),
        "small_out": add_shell_runtime("t-sh-out", output_bytes=256 << 10),
        "mem": add_runtime("t-sh-mem", SHELL_IMAGE, ["sh", "main.sh"], memory_bytes=32 << 20),
    }


def go_run(server, code, files):
    async def go():
        u = await User.new(server)
        return await u.run_code(code, files)
    return run(go())[2]


def test_engine_is_described_in_the_row(server, platform):
    """The health round wrote what the engine said about itself."""
    pid = str(platform["row"]["id"])

    def described():
        rows = psql("SELECT engine_os, engine_arch, engine_version, engine_info->>'ncpu',"
                    " engine_info->>'swarm' FROM platforms WHERE id = :'v1'::bigint", pid)
        return rows[0] if rows and rows[0][0] else None
    row = wait_until(described, timeout=DEADLINE_S)
    print(platform["kind"], "engine:", row)
    assert row[0] == "linux" and row[1] in ("amd64", "arm64") and row[2]
    assert int(row[3]) >= 1
    assert row[4] == ("active" if platform["kind"] == "swarm" else row[4])


def test_hello_stdout_stderr_and_exit_code(server, rts):
    out = go_run(server, rts["sh"], {"main.sh": "echo 'Hello, world!'\necho oops >&2\nexit 3\n"})
    assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 3, out.exit
    assert out.text() == "Hello, world!\n"
    assert out.text("stderr") == "oops\n"


def test_exactly_the_saved_files_and_env(server, rts):
    out = go_run(server, rts["sh"], {"main.sh": "ls -A /workspace | sort | tr '\\n' ' '; echo\n"
                                                "cat sub/x.txt; echo \"$HOME\"\n",
                                     "sub/x.txt": "x\n"})
    assert out.exit["exit_code"] == 0, out.events
    assert out.text() == "main.sh sub \nx\n/tmp\n"


def test_hardening_seen_from_inside(server, rts):
    script = ("echo uid=$(id -u)\n"
              "echo ifaces=$(ls /sys/class/net | tr '\\n' ' ')\n"
              "echo routes=$(tail -n +2 /proc/net/route | wc -l)\n"
              "touch /x 2>/dev/null && echo root=writable || echo root=readonly\n"
              "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status | tr -d '\\t' | tr ':' '='\n")
    out = go_run(server, rts["sh"], {"main.sh": script})
    facts = dict(line.split("=", 1) for line in out.text().splitlines())
    print("inside:", facts)
    assert facts["uid"] == "1000"
    assert facts["ifaces"].split() == ["lo"]
    assert facts["routes"] == "0"
    assert facts["root"] == "readonly"
    assert facts["CapEff"] == "0000000000000000" and facts["NoNewPrivs"] == "1"


def test_stdin_reaches_the_program(server, rts):
    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": "read name; echo \"hello $name\"\n"})
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


def test_closing_stdin_is_end_of_file(server, rts):
    """run/stdin eof: the program reading to the end of its input (wc -c)
    gets every byte, then end of file, and ends by itself (on swarm the
    gate's FIFO and relay: docs/platforms/swarm.md, "Stdin")."""
    chunk = "0123456789abcdef" * 256  # 4 KiB

    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": "echo ready; wc -c; echo done\n"})
        rid = await u.start(pid)
        await u.wait_output(rid, "ready\n")
        for _ in range(7):
            r = await u.c.call("run/stdin", {"run": rid, "data": chunk})
            assert "result" in r, r
        r = await u.c.call("run/stdin", {"run": rid, "data": "end\n", "eof": True})
        assert "result" in r, r
        t0 = time.monotonic()
        out = await u.wait_exit(rid)
        return out, time.monotonic() - t0
    out, took = run(go())
    assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 0, out.exit
    assert out.text().split() == ["ready", str(7 * len(chunk) + 4), "done"], out.text()
    print(f"ended {took:.2f} s after end of file")


def test_stop_ends_a_running_program(server, rts):
    async def go():
        u = await User.new(server)
        pid = await u.project(rts["sh"], {"main.sh": "echo up; sleep 1000\n"})
        rid = await u.start(pid)
        await u.wait_output(rid, "up\n")
        r = await u.c.call("run/stop", {"run": rid})
        assert "result" in r, r
        return await u.wait_exit(rid)
    out = run(go())
    assert out.exit["reason"] == "stopped", out.exit


def test_time_limit(server, rts):
    t0 = time.monotonic()
    out = go_run(server, rts["short"], {"main.sh": "echo start\nsleep 1000\n"})
    assert out.exit["reason"] == "timeout", out.exit
    assert out.text() == "start\n" and time.monotonic() - t0 >= 2.0


def test_memory_limit(server, rts, platform):
    out = go_run(server, rts["mem"], {"main.sh": "x=$(head -c 100000000 /dev/zero | tr '\\0' a)\n"
                                                 "echo survived\n"})
    assert "survived" not in out.text()
    # on podman too: its conmon is started in the container's bundle
    # (scripts/lib/platforms.sh, docs/platforms/podman.md), where Podman 4.3
    # looks for the file that says "killed for memory"
    assert out.exit["reason"] == "oom", out.exit


def test_output_limit(server, rts):
    out = go_run(server, rts["small_out"], {"main.sh": "yes\n"})
    assert out.exit["reason"] == "output_limit", out.exit
