"""Access that changes while a socket stays open, and the one rule for live
and stored run output (issue 11): a collaborator removed, a project made
private, a public visitor; and the active-run quota under parallel starts
on two server instances sharing the database."""
import asyncio
import json
import time

import pytest

from conftest import run
from test_runs import SHELL_IMAGE, User, image_present, make_runtime, sql

ROOMY = {"RUNIT_SIGNUP_ADDR_MAX": 1000000, "RUNIT_LOGIN_ADDR_MAX": 1000000}
SECRET = "s3cr3t-value-7"
# prints the project's secret every 100 ms for about 30 s
TICKER = 'i=0; while [ $i -lt 300 ]; do echo "tick $i $SECRET"; i=$((i+1)); sleep 0.1; done\n'


@pytest.fixture(scope="module")
def shell_rt(db_url):
    if not image_present(SHELL_IMAGE):
        pytest.fail(f"{SHELL_IMAGE} is missing: scripts/test builds it with images/build")
    sql(db_url, "INSERT INTO platforms (name, kind, endpoint, is_default) SELECT 'local-docker',"
        " 'docker', 'unix:///var/run/docker.sock', true WHERE NOT EXISTS (SELECT 1 FROM platforms)")
    return make_runtime(db_url, "t-sh-attack", SHELL_IMAGE, ["sh", "main.sh"], wall_ms=60000)


@pytest.fixture(scope="module")
def srv(tmp_path_factory, db_url):
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("attack"), **ROOMY).start()
    yield s
    s.stop()


def ok(r):
    assert "result" in r, r
    return r["result"]


async def drain(u, seconds):
    """Read what arrives for a while; returns it (and keeps nothing)."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.append(json.loads(await asyncio.wait_for(u.c.ws.recv(), left)))
        except asyncio.TimeoutError:
            break
    return got


async def wait_for(u, pred, seconds=20):
    """Read until a message matches pred; returns it (others are kept in notes)."""
    for m in u.c.notes:
        if pred(m):
            u.c.notes.remove(m)
            return m
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        m = json.loads(await asyncio.wait_for(u.c.ws.recv(), left))
        if pred(m):
            return m
        u.c.notes.append(m)
    raise AssertionError("nothing matched in time")


def is_log_of(rid):
    return lambda m: m.get("method") == "run/log" and m["params"].get("run") == rid


async def project_with_secret(owner, rt):
    pid = await owner.project(rt, {"main.sh": TICKER})
    ok(await owner.c.call("env/set", {"project": pid, "vars": {"SECRET": SECRET}}))
    return pid


def test_removed_collaborator_receives_nothing_more(srv, shell_rt):
    async def go():
        owner, col = await User.new(srv), await User.new(srv)
        pid = await project_with_secret(owner, shell_rt)
        ok(await owner.c.call("project/share", {"id": pid, "username": col.name, "role": "editor"}))
        ok(await col.c.call("project/open", {"id": pid}))
        rid = await owner.start(pid)
        ok(await col.c.call("run/attach", {"run": rid, "from_seq": 1}))
        seen = await wait_for(col, is_log_of(rid))  # it does get the run while a member
        assert SECRET in seen["params"]["data"]
        ok(await owner.c.call("project/share", {"id": pid, "username": col.name, "role": None}))
        lost = await wait_for(col, lambda m: m.get("method") == "project/changed")
        col.c.notes.clear()
        # the run goes on printing the secret; the owner edits a file
        ok(await owner.c.call("file/save", {"project": pid, "path": "main.sh",
                                            "content": TICKER + "# edited\n", "base_version": 1}))
        after = await drain(col, 3)
        logs = await col.c.call("run/logs", {"run": rid})
        await owner.c.call("run/stop", {"run": rid})
        return lost, after, logs
    lost, after, logs = run(go())
    assert lost["params"]["op"] == "access_lost"
    assert [m for m in after if m.get("method") in ("run/log", "run/status", "run/exit",
                                                    "file/changed", "presence/changed")] == []
    assert SECRET not in json.dumps(after)
    assert logs["error"]["data"]["reason"] == "NOT_FOUND"


def test_visitor_of_a_project_made_private_receives_nothing_more(srv, shell_rt):
    async def go():
        owner, visitor = await User.new(srv), await User.new(srv)
        pid = await owner.project(shell_rt, {"main.sh": "echo hi\n"})
        ok(await owner.c.call("project/update", {"id": pid, "is_public": True}))
        ok(await visitor.c.call("project/open", {"id": pid}))
        ok(await owner.c.call("file/save", {"project": pid, "path": "main.sh",
                                            "content": "echo 1\n", "base_version": 1}))
        before = await wait_for(visitor, lambda m: m.get("method") == "file/changed")
        ok(await owner.c.call("project/update", {"id": pid, "is_public": False}))
        lost = await wait_for(visitor, lambda m: m.get("method") == "project/changed"
                              and m["params"].get("op") == "access_lost")
        visitor.c.notes.clear()
        ok(await owner.c.call("file/save", {"project": pid, "path": "main.sh",
                                            "content": "echo 2\n", "base_version": 2}))
        after = await drain(visitor, 2)
        read = await visitor.c.call("file/read", {"project": pid, "path": "main.sh"})
        return before, lost, after, read
    before, lost, after, read = run(go())
    assert before["params"]["path"] == "main.sh"
    assert lost["params"]["op"] == "access_lost"
    assert [m for m in after if m.get("method") == "file/changed"] == []
    assert read["error"]["data"]["reason"] == "NOT_FOUND"


def test_public_visitor_gets_live_output_only_if_run_logs_would_answer(srv, shell_rt):
    async def go():
        owner, visitor = await User.new(srv), await User.new(srv)
        pid = await project_with_secret(owner, shell_rt)
        ok(await owner.c.call("project/update", {"id": pid, "is_public": True}))
        ok(await visitor.c.call("project/open", {"id": pid}))
        rid = await owner.start(pid)
        await wait_for(owner, is_log_of(rid))
        got = await drain(visitor, 2)
        logs = await visitor.c.call("run/logs", {"run": rid})
        attach = await visitor.c.call("run/attach", {"run": rid, "from_seq": 1})
        await owner.c.call("run/stop", {"run": rid})
        return got, logs, attach
    got, logs, attach = run(go())
    assert logs["error"]["data"]["reason"] == "NOT_FOUND"
    assert attach["error"]["data"]["reason"] == "NOT_FOUND"
    assert [m for m in got if m.get("method", "").startswith("run/")] == []
    assert SECRET not in json.dumps(got)


def test_removed_collaborator_on_another_instance_is_dropped_too(make_server, shell_rt):
    a = make_server(**ROOMY).start()
    b = make_server(**ROOMY).start()

    async def go():
        owner = await User.new(a)
        col, member = await User.new(b), await User.new(b)
        pid = await owner.project(shell_rt, {"main.sh": "echo hi\n"})
        for u in (col, member):
            ok(await owner.c.call("project/share", {"id": pid, "username": u.name,
                                                    "role": "editor"}))
            ok(await u.c.call("project/open", {"id": pid}))
        ok(await owner.c.call("project/share", {"id": pid, "username": col.name, "role": None}))
        lost = await wait_for(col, lambda m: m.get("method") == "project/changed"
                              and m["params"].get("op") == "access_lost", seconds=20)
        col.c.notes.clear()
        ok(await member.c.call("file/save", {"project": pid, "path": "main.sh",
                                             "content": "echo edited\n", "base_version": 1}))
        after = await drain(col, 2)
        return lost, after
    lost, after = run(go())
    assert lost["params"]["op"] == "access_lost"
    assert [m for m in after if m.get("method") == "file/changed"] == []


def test_parallel_starts_on_two_instances_hold_the_quota(make_server, shell_rt, db_url):
    a = make_server(**ROOMY).start()
    b = make_server(**ROOMY).start()
    quota = 3

    async def go():
        ua = await User.new(a)
        sql(db_url, "UPDATE users SET max_active_runs = :'v1' WHERE id = :'v2'", quota, ua.uid)
        ub = User(await connect_as(b, ua.name), ua.name, ua.uid)
        pids = [await ua.project(shell_rt, {"main.sh": "sleep 30\n"}) for _ in range(8)]
        # both sockets send all their starts before either reads an answer
        halves = await asyncio.gather(send_all(ua.c, pids[0::2]), send_all(ub.c, pids[1::2]))
        answers = [(u, x) for u, half in zip((ua, ub), halves) for x in half]
        started = [(u, x["result"]["run"]) for u, x in answers if "result" in x]
        refused = [x["error"]["data"]["reason"] for _, x in answers if "error" in x]
        active = sql(db_url, "SELECT count(*) FROM runs WHERE user_id = :'v1' AND state <> "
                     "'finished'", ua.uid)
        for u, rid in started:
            await u.c.call("run/stop", {"run": rid})
        return started, refused, int(active)
    started, refused, active = run(go())
    assert len(started) == quota, (started, refused)
    assert refused == ["RUN_QUOTA"] * (8 - quota)
    assert active == quota


async def connect_as(server, name):
    from conftest import connect
    c = await connect(server.ws_url)
    r = await c.call("auth/login", {"username": name, "password": "password123"})
    assert "result" in r, r
    return c


async def send_all(client, pids):
    """run/start for every project on one socket, all sent before any answer
    is read; returns the answers in order."""
    first = client.next_id + 1
    for p in pids:
        client.next_id += 1
        await client.ws.send(json.dumps({"jsonrpc": "2.0", "id": client.next_id,
                                         "method": "run/start", "params": {"project": p}}))
    answers = {}
    deadline = time.monotonic() + 60
    while len(answers) < len(pids):
        m = json.loads(await asyncio.wait_for(client.ws.recv(), deadline - time.monotonic()))
        if m.get("id") is not None and first <= m["id"] < first + len(pids):
            answers[m["id"]] = m
        else:
            client.notes.append(m)
    return [answers[i] for i in range(first, first + len(pids))]


def test_disabled_collaborator_is_cut_off_at_once(srv, shell_rt):
    from conftest import add_admin, logged_in

    async def go():
        owner, col = await User.new(srv), await User.new(srv)
        admin = await logged_in(srv, add_admin())
        pid = await project_with_secret(owner, shell_rt)
        ok(await owner.c.call("project/share", {"id": pid, "username": col.name, "role": "editor"}))
        ok(await col.c.call("project/open", {"id": pid}))
        rid = await owner.start(pid)
        await wait_for(col, is_log_of(rid))
        ok(await admin.call("admin/user/disable", {"id": col.uid}))
        ended = await wait_for(col, lambda m: m.get("method") == "session/ended")
        col.c.notes.clear()
        after, closed = [], None
        try:
            while True:
                after.append(json.loads(await asyncio.wait_for(col.c.ws.recv(), 10)))
        except Exception as e:  # the server closes the socket
            closed = e
        await owner.c.call("run/stop", {"run": rid})
        return ended, after, closed
    ended, after, closed = run(go())
    assert ended["params"]["reason"] == "account_disabled"
    assert [m for m in after if m.get("method", "").startswith("run/")] == []
    assert getattr(closed, "code", None) == 4010 or getattr(getattr(closed, "rcvd", None), "code", None) == 4010, closed
