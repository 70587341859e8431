"""Issue 12, part B: a cache volume per project (never shared, capped,
removed with the project), the output of an unchanged build kept in it,
and a build time limit apart from the run's. Real server, PostgreSQL and
Docker engine; the Go tests use the seeded go-1.19 runtime (runit/go)."""
import asyncio
import uuid

import pytest

from harness import (SHELL_IMAGE, User, add_admin, add_runtime, docker, error_reason, logged_in,
                     psql, run, wait_until)

GO_IMAGE = "runit/go:latest"

GO_MOD = "module hello\n\ngo 1.19\n"
# main.go prints when its binary was written and whether Go's cache is in
# the volume: an unchanged second run prints the same time (not rebuilt)
GO_MAIN = """package main

import (
	"fmt"
	"os"
)

func main() {
	st, err := os.Stat("/tmp/main")
	if err != nil {
		fmt.Println("no binary:", err)
		return
	}
	_, cerr := os.Stat("/cache/go-build")
	fmt.Printf("built %d cache %v %s\\n", st.ModTime().UnixNano(), cerr == nil, greeting())
}
"""
GO_UTIL = 'package main\n\nfunc greeting() string { return "%s" }\n'


def set_runtime(code, **cols):
    for k, v in cols.items():
        assert k in ("build_wall_ms", "cache_bytes", "wall_ms")
        psql(f"UPDATE runtimes SET {k} = :'v1' WHERE code = :'v2'", str(v), code)


def volume_of(project_id):
    return psql("SELECT runit_cache_volume(cache_key) FROM projects WHERE id = :'v1'",
                str(project_id))[0][0]


def volume_exists(name):
    return docker("volume", "inspect", name).returncode == 0


@pytest.fixture(scope="module")
def rt(db_url, seeded):
    if docker("image", "inspect", GO_IMAGE).returncode:
        pytest.fail(f"{GO_IMAGE} is missing: images/build go")
    # a build that does nothing, so the shell image gets the cache volume
    cached = add_runtime("t-sh-cached", SHELL_IMAGE, ["sh", "main.sh"], build_cmd=["true"])
    slow = add_runtime("t-sh-slow-build", SHELL_IMAGE, ["sh", "main.sh"],
                       build_cmd=["sh", "-c", "sleep 2; echo built"], wall_ms=1000)
    set_runtime(slow, build_wall_ms=15000)
    stuck = add_runtime("t-sh-stuck-build", SHELL_IMAGE, ["sh", "main.sh"],
                        build_cmd=["sh", "-c", "echo compiling; sleep 60"], wall_ms=30000)
    set_runtime(stuck, build_wall_ms=1500)
    small = add_runtime("t-sh-small-cache", SHELL_IMAGE, ["sh", "main.sh"], build_cmd=["true"])
    set_runtime(small, cache_bytes=1 << 20)
    return {"go": "go-1.19", "cached": cached, "slow": slow, "stuck": stuck, "small": small}


def go_files(word="hello"):
    return {"go.mod": GO_MOD, "main.go": GO_MAIN, "util.go": GO_UTIL % word}


def built_line(out):
    assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 0, (out.exit, out.text("stderr"))
    line = out.text().strip()
    assert line.startswith("built "), line
    return line.split()


def test_unchanged_go_project_reuses_the_built_program(server, rt):
    async def go():
        u = await User.new(server)
        pid = await u.project(rt["go"], go_files())
        outs = []
        for files in (None, None, go_files("changed")):
            rid = await u.start(pid, files)
            outs.append(await u.wait_exit(rid))
        return pid, outs
    pid, outs = run(go())
    first, second, third = (built_line(o) for o in outs)
    assert outs[0].states[:4] == ["queued", "starting", "building", "running"], outs[0].states
    # Go's cache is in the project's volume from the first build on
    assert first[3] == "true" and first[4] == "hello", first
    # unchanged code: the very binary of the first build (same write time)
    assert second[1] == first[1] and second[4] == "hello", (first, second)
    # a changed file: built again, with the change
    assert third[1] != first[1] and third[4] == "changed", (first, third)
    assert volume_exists(volume_of(pid))


def test_two_projects_never_see_each_others_cache(server, rt):
    secret = uuid.uuid4().hex
    writer = f"echo {secret} > /cache/secret-{secret}; ls -a /cache\n"
    reader = "ls -a /cache; cat /cache/secret-* 2>/dev/null; echo end\n"

    async def go():
        a, b = await User.new(server), await User.new(server)
        pa = await a.project(rt["cached"], {"main.sh": writer})
        pb = await b.project(rt["cached"], {"main.sh": reader})
        pa2 = await a.project(rt["cached"], {"main.sh": reader})  # same user, other project
        ra, rb = await asyncio.gather(a.start(pa), b.start(pb))  # at the same time
        oa, ob = await asyncio.gather(a.wait_exit(ra), b.wait_exit(rb))
        oa2 = await a.wait_exit(await a.start(pa2))
        again = await a.wait_exit(await a.start(pa, {"main.sh": reader}))
        return (pa, pb, pa2), oa, ob, oa2, again
    pids, oa, ob, oa2, again = run(go())
    assert f"secret-{secret}" in oa.text(), oa.text("stderr")
    # the writer's own next run finds it: the volume lasts ...
    assert secret in again.text(), again.text()
    # ... and no other project, of another user or the same one, sees it
    for o in (ob, oa2):
        assert o.exit["reason"] == "exited", o.exit
        assert secret not in o.text() and o.text().endswith("end\n"), o.text()
    vols = {volume_of(p) for p in pids}
    assert len(vols) == 3 and all(volume_exists(v) for v in vols)


def test_a_build_longer_than_the_run_limit_but_within_the_build_limit_succeeds(server, rt):
    async def go():
        u = await User.new(server)
        return await u.run_code(rt["slow"], {"main.sh": "echo ran\n"})
    _, _, out = run(go())
    # the build takes 2 s, the run limit is 1 s, the build limit 15 s
    assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 0, out.exit
    assert out.text() == "built\nran\n"


def test_a_build_past_the_build_limit_ends_with_build_timeout(server, rt):
    async def go():
        u = await User.new(server)
        pid, rid, out = await u.run_code(rt["stuck"], {"main.sh": "echo never\n"})
        hist = await u.c.call("run/history", {"project": pid})
        return out, hist
    out, hist = run(go())
    assert out.exit["reason"] == "build_timeout", out.exit
    assert out.exit["message"] == "the build timed out after 1.5 s", out.exit
    assert out.text() == "compiling\n"
    assert "never" not in out.text()
    assert hist["result"]["runs"][0]["reason"] == "build_timeout"


def test_a_compile_error_ends_with_build_failed_and_the_compilers_output(server, rt):
    bad = dict(go_files())
    bad["util.go"] = "package main\n\nfunc greeting() string { return 42 }\n"

    async def go():
        u = await User.new(server)
        pid, rid, out = await u.run_code(rt["go"], bad)
        hist = await u.c.call("run/history", {"project": pid})
        got = await u.c.call("run/get", {"run": rid})
        logs = await u.c.call("run/logs", {"run": rid, "from": 1, "limit": 1000})
        return out, hist, got, logs
    out, hist, got, logs = run(go())
    assert out.exit["reason"] == "build_failed", out.exit
    code = out.exit["exit_code"]  # go build's status (1 or 2)
    assert code in (1, 2), out.exit
    assert out.exit["message"] == f"the build failed (exit code {code})", out.exit
    assert "running" not in out.states, out.states
    assert "util.go:3" in out.text("stderr"), out.text("stderr")
    assert hist["result"]["runs"][0]["reason"] == "build_failed"
    assert got["result"]["reason"] == "build_failed"
    stored = "".join(c["data"] for c in logs["result"]["chunks"] if c["stream"] == "stderr")
    assert "util.go:3" in stored and stored == out.text("stderr")


def test_the_cache_is_emptied_past_its_cap(server, rt):
    # cap 1 MiB: a run leaves 2 MiB there; the next build empties it first
    fill = "dd if=/dev/zero of=/cache/big bs=1024 count=2048 2>/dev/null; echo > /cache/small; ls /cache\n"
    look = "ls /cache; echo end\n"

    async def go():
        u = await User.new(server)
        pid, _, o1 = await u.run_code(rt["small"], {"main.sh": fill})
        o2 = await u.wait_exit(await u.start(pid, {"main.sh": look}))
        return o1, o2
    o1, o2 = run(go())
    assert "big" in o1.text().split(), o1.text()
    assert "big" not in o2.text().split() and "small" not in o2.text().split(), o2.text()
    assert o2.text().endswith("end\n")


def test_deleting_a_project_removes_its_cache_volume(server, rt):
    async def go():
        u = await User.new(server)
        pid, _, out = await u.run_code(rt["cached"], {"main.sh": "echo x > /cache/x\n"})
        vol = volume_of(pid)
        assert volume_exists(vol)
        # start another run, then delete the project while it runs
        await u.start(pid, {"main.sh": "sleep 5\n"})
        res = await u.c.call("project/delete", {"id": pid})
        assert "result" in res, res
        return vol
    vol = run(go())
    wait_until(lambda: not volume_exists(vol), timeout=40)
    wait_until(lambda: not psql("SELECT 1 FROM cache_volumes_gone WHERE volume = :'v1'", vol),
               timeout=20)


def test_admin_sets_the_build_limit_and_the_cache_cap(server, rt):
    code = rt["small"]

    async def go():
        a = await logged_in(server, add_admin())
        ok = await a.call("admin/runtime/update", {"code": code, "build_wall_ms": 45000,
                                                   "cache_bytes": 0})
        bad = [await a.call("admin/runtime/update", {"code": code, k: v}) for k, v in
               (("build_wall_ms", 50), ("cache_bytes", 5), ("build_wall_ms", "x"),
                ("cache_bytes", -1))]
        reset = await a.call("admin/runtime/update", {"code": code, "build_wall_ms": None,
                                                      "cache_bytes": None})
        u = await User.new(server)
        forbidden = await u.c.call("admin/runtime/update", {"code": code, "build_wall_ms": 1000})
        return ok, bad, reset, forbidden
    ok, bad, reset, forbidden = run(go())
    assert ok["result"]["build_wall_ms"] == 45000 and ok["result"]["cache_bytes"] == 0, ok
    for b in bad:
        assert error_reason(b) == "INVALID_PARAMS", b
    assert "cache_bytes: is 0 (no cache volume) or at least 1048576" in bad[1]["error"]["message"]
    assert reset["result"]["build_wall_ms"] == 60000
    assert reset["result"]["cache_bytes"] == 268435456
    assert error_reason(forbidden) == "FORBIDDEN", forbidden
    set_runtime(code, cache_bytes=1 << 20)


def test_no_cache_volume_when_the_runtime_turns_it_off(server, rt):
    code = add_runtime("t-sh-nocache", SHELL_IMAGE, ["sh", "main.sh"], build_cmd=["true"])
    set_runtime(code, cache_bytes=0)

    async def go():
        u = await User.new(server)
        pid, _, out = await u.run_code(code, {"main.sh": "touch /cache/x && echo wrote; echo end\n"})
        return pid, out
    pid, out = run(go())
    assert "wrote" not in out.text() and out.text().endswith("end\n"), out.text()
    assert not volume_exists(volume_of(pid))
