"""Issue 7: the admins' live view over the websocket (admin/subscribe,
admin/event, admin/run/cancel, admin/session/kick)."""
import asyncio
import json
import subprocess
import time
import uuid

import pytest

from conftest import BIN, Server, connect, run
from test_runs import ROOMY, User, make_runtime, sql, SHELL_IMAGE


@pytest.fixture(scope="module")
def server(tmp_path_factory, db_url):
    s = Server(tmp_path_factory.mktemp("admin"), **ROOMY).start()
    yield s
    s.stop()


def make_admin(db_url):
    name = "adm" + uuid.uuid4().hex[:8]
    r = subprocess.run([BIN, "user", "add", "--admin", "--password-stdin", name], input="admin-pass-123\n",
                       capture_output=True, text=True, env={"RUNIT_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    return name


async def admin_client(server, db_url):
    name = make_admin(db_url)
    a = await connect(server.ws_url)
    r = await a.call("auth/login", {"username": name, "password": "admin-pass-123"})
    assert "result" in r, r
    return a


async def next_events(client, want, timeout=20):
    """admin/event notifications until `want(events)` is true."""
    got = [n["params"] for n in client.notes if n.get("method") == "admin/event"]
    client.notes = [n for n in client.notes if n.get("method") != "admin/event"]
    deadline = time.monotonic() + timeout
    while not want(got):
        left = deadline - time.monotonic()
        assert left > 0, got[-10:]
        m = json.loads(await asyncio.wait_for(client.ws.recv(), left))
        if m.get("method") == "admin/event":
            got.append(m["params"])
        else:
            client.notes.append(m)
    return got


def test_admin_sees_sessions_and_runs_in_order_and_cancels(server, db_url):
    code = make_runtime(db_url, "t-sh", SHELL_IMAGE, ["sh", "main.sh"])

    async def go():
        a = await admin_client(server, db_url)
        snap = await a.call("admin/subscribe", {})
        assert "result" in snap, snap
        s0 = snap["result"]["seq"]
        u = await User.new(server)
        pid = await u.project(code, {"main.sh": "echo hi; sleep 30\n"})
        rid = await u.start(pid)
        evs = await next_events(a, lambda e: any(x["topic"] == "run" and x["kind"] == "started" for x in e))
        r = await a.call("admin/run/cancel", {"run": rid})
        assert "result" in r, r
        out = await u.wait_exit(rid)
        evs += await next_events(a, lambda e: any(x["topic"] == "run" and x["kind"] == "ended" for x in e))
        return s0, snap["result"], evs, out, u
    s0, snap, evs, out, u = run(go())
    seqs = [e["seq"] for e in evs]
    assert seqs == list(range(s0 + 1, s0 + 1 + len(seqs))), seqs
    kinds = [(e["topic"], e["kind"]) for e in evs]
    assert ("session", "opened") in kinds and ("session", "signed_in") in kinds
    run_kinds = [k for t, k in kinds if t == "run"]
    assert run_kinds == ["queued", "started", "cancel", "ended"], kinds  # "cancel": the audited admin action
    ended = [e for e in evs if e["topic"] == "run" and e["kind"] == "ended"][0]
    assert ended["data"]["reason"] == "cancelled"
    assert out.exit["reason"] == "cancelled" and "admin" in out.exit["message"]
    assert isinstance(snap["platforms"], list) and "sessions" in snap and "runs" in snap


def test_non_admin_gets_forbidden_for_admin_live_methods(server):
    async def go():
        u = await User.new(server)
        return [await u.c.call(m, p) for m, p in [
            ("admin/subscribe", {}), ("admin/unsubscribe", {}), ("admin/session/list", {}),
            ("admin/session/kick", {"session": 1}), ("admin/run/list", {}), ("admin/run/cancel", {"run": 1})]]
    for r in run(go()):
        assert r["error"]["data"]["reason"] == "FORBIDDEN", r


def test_admin_kicks_a_session(server, db_url):
    async def go():
        a = await admin_client(server, db_url)
        u = await User.new(server)
        hello = await u.c.call("session/hello", {})
        sid = int(hello["result"]["session"])
        r = await a.call("admin/session/kick", {"session": sid})
        assert "result" in r, r
        notes = []
        try:
            while True:
                notes.append(json.loads(await asyncio.wait_for(u.c.ws.recv(), 5)))
        except Exception:
            pass
        return notes, u.c.ws.close_code
    notes, code = run(go())
    assert any(n.get("method") == "session/ended" and n["params"]["reason"] == "kicked_by_admin" for n in notes)
    assert code == 4011


def test_disabling_a_user_ends_their_runs_and_admins_hear_of_it(server, db_url):
    code = make_runtime(db_url, "t-sh", SHELL_IMAGE, ["sh", "main.sh"])

    async def go():
        a = await admin_client(server, db_url)
        await a.call("admin/subscribe", {})
        u = await User.new(server)
        pid = await u.project(code, {"main.sh": "sleep 30\n"})
        rid = await u.start(pid)
        await next_events(a, lambda e: any(x["topic"] == "run" and x["kind"] == "started" for x in e))
        r = await a.call("admin/user/disable", {"id": u.uid})
        assert "result" in r, r
        evs = await next_events(a, lambda e: any(x["topic"] == "user" and x["kind"] == "disable" for x in e)
                                and any(x["topic"] == "run" and x["kind"] == "ended" for x in e))
        s = await a.call("admin/settings/set", {"run_history_per_project": 20})
        assert "result" in s, s
        evs += await next_events(a, lambda e: any(x["topic"] == "config" for x in e))
        return evs, rid
    evs, rid = run(go())
    ended = [e for e in evs if e["topic"] == "run" and e["kind"] == "ended"][0]
    assert ended["data"]["run"] == rid and ended["data"]["reason"] == "cancelled"
    assert [e for e in evs if e["topic"] == "config"][0]["kind"] == "settings.set"
