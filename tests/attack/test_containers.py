"""Containers end with their reason for being (issue "Hostile users at the
same time"): a user's prepared ("warm") container goes when that user's
last socket closes; a server stopped gracefully leaves no container of its
instance; a warm container whose program ended is removed, not left exited;
a container on a platform that stopped answering is removed once it answers
again, even after its platform row was deleted; and a restarted server
reconciles every platform row, not only its built-in engine."""
import asyncio
import json
import time
import uuid

import pytest

from conftest import connect, run
from harness import DockerProxy
from test_runs import SHELL_IMAGE, User, containers_of, docker, image_present, make_runtime, sql

ROOMY = {"RUNIT_SIGNUP_ADDR_MAX": 1000000, "RUNIT_LOGIN_ADDR_MAX": 1000000}


@pytest.fixture(scope="module")
def shell(db_url):
    if not image_present(SHELL_IMAGE):
        pytest.fail(f"{SHELL_IMAGE} is missing: scripts/test builds it with images/build")
    sql(db_url, "INSERT INTO platforms (name, kind, endpoint, is_default) SELECT 'local-docker',"
        " 'docker', 'unix:///var/run/docker.sock', true WHERE NOT EXISTS (SELECT 1 FROM platforms)")
    return make_runtime(db_url, "t-sh-boxes", SHELL_IMAGE, ["sh", "main.sh"], wall_ms=120000)


def ps(*filters, fmt="{{.ID}} {{.State}}"):
    args = ["ps", "-a", "--format", fmt]
    for f in filters:
        args += ["--filter", f]
    return [line.split() for line in docker(*args).stdout.splitlines() if line.strip()]


def warm_of(pid):
    return ps("label=run-it.run=warm", f"label=run-it.project={pid}")


def of_instance(instance):
    return ps(f"label=run-it.instance={instance}")


def poll(fn, seconds, step=0.1):
    """fn() until it is truthy or seconds pass; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


async def apoll(fn, seconds, step=0.1):
    deadline = time.monotonic() + seconds
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        await asyncio.sleep(step)


async def warm_running(pid, seconds=60):
    """Wait until the project's warm container runs (prepared after a run)."""
    got = await apoll(lambda: [c for c, st in warm_of(pid) if st == "running"], seconds)
    assert got, f"no warm container for project {pid}: {warm_of(pid)}"
    return got[0]


async def until_output(u, rid, text, seconds=60):
    """Read until the run's stdout holds text (other messages stay in notes)."""
    def seen():
        return "".join(n["params"]["data"] for n in u.c.notes
                       if n.get("method") == "run/log" and n["params"]["run"] == rid)
    deadline = time.monotonic() + seconds
    while text not in seen():
        left = deadline - time.monotonic()
        assert left > 0, f"no {text!r} from run {rid} in {seconds} s: {seen()!r}"
        u.c.notes.append(json.loads(await asyncio.wait_for(u.c.ws.recv(), left)))


async def login_again(server, user):
    """A second socket of the same user."""
    c = await connect(server.ws_url)
    r = await c.call("auth/login", {"username": user.name, "password": "password123"})
    assert "result" in r, r
    return c


def test_warm_container_goes_within_5_s_of_its_users_last_socket_closing(make_server, shell):
    srv = make_server(**ROOMY).start()

    async def go():
        u = await User.new(srv)
        other = await login_again(srv, u)
        pid, _, out = await u.run_code(shell, {"main.sh": "echo hi\n"})
        assert out.text() == "hi\n"
        await warm_running(pid)
        await other.ws.close()  # another socket of the user is left: it stays
        await asyncio.sleep(1)
        kept = warm_of(pid)
        await u.c.ws.close()  # the last one
        t0 = time.monotonic()
        gone = await apoll(lambda: not warm_of(pid), 5)
        return kept, gone, time.monotonic() - t0, pid
    kept, gone, took, pid = run(go())
    print(f"the warm container went {took:.2f} s after its user's last socket closed")
    assert [st for _, st in kept] == ["running"], kept
    assert gone, warm_of(pid)


def test_graceful_stop_leaves_no_container_of_its_instance(make_server, shell, db_url):
    instance = "grace-" + uuid.uuid4().hex[:8]
    srv = make_server(RUNIT_INSTANCE=instance, **ROOMY).start()

    async def go():
        u = await User.new(srv)
        p1, _, _ = await u.run_code(shell, {"main.sh": "echo one\n"})
        await warm_running(p1)  # a prepared container
        p2 = await u.project(shell, {"main.sh": "echo up; sleep 100\n"})
        r2 = await u.start(p2)  # a running one
        await until_output(u, r2, "up")
        p3 = await u.project(shell, {"main.sh": "sleep 100\n"})
        before = of_instance(instance)
        # one more being started as the server stops; the user's socket stays
        # open throughout, so its warm container goes with the stop itself
        await u.c.ws.send(json.dumps({"jsonrpc": "2.0", "id": 99, "method": "run/start",
                                      "params": {"project": p3}}))
        srv.stop()
        return r2, before, of_instance(instance)
    r2, before, after = run(go())
    assert len(before) >= 2, before
    assert after == []
    row = sql(db_url, "SELECT state || ' ' || reason FROM runs WHERE id = :'v1'", r2)
    assert row == "finished error"


def test_no_exited_warm_container_remains_after_its_program_ends(make_server, shell):
    srv = make_server(**ROOMY).start()

    async def go():
        u = await User.new(srv)
        pid, _, _ = await u.run_code(shell, {"main.sh": "echo one\n"})
        cid = await warm_running(pid)
        docker("kill", "--signal", "KILL", cid)  # its program ends (as when stdin closes)
        gone = await apoll(lambda: not warm_of(pid), 20)
        left = warm_of(pid)
        again = await u.wait_exit(await u.start(pid))  # a fresh container runs it
        return gone, left, again, pid
    gone, left, again, pid = run(go())
    assert gone, left
    assert again.text() == "one\n"
    assert [st for _, st in warm_of(pid) if st == "exited"] == []


def test_container_on_a_platform_that_stops_answering_goes_when_it_answers(make_server, shell,
                                                                           db_url, tmp_path):
    proxy = DockerProxy(str(tmp_path / "docker.sock")).start()
    name = "proxy-" + uuid.uuid4().hex[:8]
    old = sql(db_url, "SELECT id FROM platforms WHERE is_default")
    srv = make_server(**ROOMY).start()

    async def go():
        u = await User.new(srv)
        pid = await u.project(shell, {"main.sh": "echo up; sleep 100\n"})
        sql(db_url, "UPDATE platforms SET is_default = false WHERE is_default; INSERT INTO"
            " platforms (name, kind, endpoint, is_default) VALUES (:'v1', 'docker',"
            " 'unix://' || :'v2', true)", name, proxy.path)
        try:
            rid = await u.start(pid)
        finally:
            sql(db_url, "UPDATE platforms SET is_default = false WHERE name = :'v1';"
                " UPDATE platforms SET is_default = true WHERE id = :'v2'", name, old)
        await until_output(u, rid, "up")
        proxy.stop()  # the platform stops answering while the run is live
        await u.c.call("run/stop", {"run": rid})
        out = await u.wait_exit(rid, timeout=60)
        stranded = containers_of(pid)
        # its row goes too: the container is still removed when it answers
        sql(db_url, "DELETE FROM platforms WHERE name = :'v1'", name)
        proxy.start()
        gone = await apoll(lambda: not containers_of(pid), 30)
        return out, stranded, gone, pid
    try:
        out, stranded, gone, pid = run(go())
    finally:
        proxy.stop()
        sql(db_url, "DELETE FROM platforms WHERE name = :'v1'", name)
    assert out.exit["reason"] in ("stopped", "error"), out.exit
    assert len(stranded) == 1, "the engine was unreachable: the container must still be there"
    assert gone, containers_of(pid)


def test_restart_reconciles_every_platform_row(make_server, shell, db_url):
    instance = "rows-" + uuid.uuid4().hex[:8]
    first = make_server(RUNIT_INSTANCE=instance, **ROOMY).start()

    async def go():
        u = await User.new(first)
        pid = await u.project(shell, {"main.sh": "echo up; sleep 100\n"})
        await u.start(pid)
        assert await apoll(lambda: containers_of(pid), 60)
        return pid
    pid = run(go())
    first.kill()
    # the next process of the instance has no built-in engine it can reach:
    # only the platform rows lead to the container
    second = make_server(RUNIT_INSTANCE=instance, RUNIT_DOCKER_HOST="unix:///nonexistent.sock",
                         **ROOMY).start()
    gone = poll(lambda: not of_instance(instance), 30)
    second.stop()
    assert gone, of_instance(instance)
    assert containers_of(pid) == []
