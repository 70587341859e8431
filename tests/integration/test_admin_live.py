"""Issue 7: the admins' live view over the websocket (admin/subscribe,
admin/event, admin/run/cancel, admin/session/kick)."""
from harness import User, add_admin, logged_in, run


async def admin_client(server):
    """A client logged in as a new admin."""
    return await logged_in(server, add_admin())


def has_event(topic, kind=None):
    """until= for collect_notifications("admin/event"): one of topic (and kind) is there."""
    return lambda events: any(e["topic"] == topic and kind in (None, e["kind"]) for e in events)


def test_admin_sees_sessions_and_runs_in_order_and_cancels(server, shell_runtime):
    code = shell_runtime

    async def go():
        a = await admin_client(server)
        snap = await a.call("admin/subscribe", {})
        assert "result" in snap, snap
        s0 = snap["result"]["seq"]
        u = await User.new(server)
        pid = await u.project(code, {"main.sh": "echo hi; sleep 30\n"})
        rid = await u.start(pid)
        evs = await a.collect_notifications("admin/event", has_event("run", "started"))
        listed = (await a.call("admin/run/list", {}))["result"]["runs"]
        r = await a.call("admin/run/cancel", {"run": rid})
        assert "result" in r, r
        out = await u.wait_exit(rid)
        evs += await a.collect_notifications("admin/event", has_event("run", "ended"))
        return s0, snap["result"], evs, out, u, listed
    s0, snap, evs, out, u, listed = run(go())
    seqs = [e["seq"] for e in evs]
    assert seqs == list(range(s0 + 1, s0 + 1 + len(seqs))), seqs
    kinds = [(e["topic"], e["kind"]) for e in evs]
    assert ("session", "opened") in kinds and ("session", "signed_in") in kinds
    run_kinds = [k for t, k in kinds if t == "run"]
    assert run_kinds == ["queued", "started", "cancel", "ended"], kinds  # "cancel": the audited admin action
    ended = [e for e in evs if e["topic"] == "run" and e["kind"] == "ended"][0]
    assert ended["data"]["reason"] == "cancelled"
    # who started it, by name: the dashboard needs no list of every user
    assert [e["data"]["username"] for e in evs if e["topic"] == "run" and e["kind"] != "cancel"] == [u.name] * 3
    rid = ended["data"]["run"]
    assert [(x["run"], x["user"], x["username"]) for x in listed if x["run"] == rid] == [(rid, u.uid, u.name)]
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


def test_admin_kicks_a_session(server):
    async def go():
        a = await admin_client(server)
        u = await User.new(server)
        hello = await u.c.call("session/hello", {})
        sid = int(hello["result"]["session"])
        r = await a.call("admin/session/kick", {"session": sid})
        assert "result" in r, r
        return await u.c.read_until_closed()
    notes, code = run(go())
    assert any(n.get("method") == "session/ended" and n["params"]["reason"] == "kicked_by_admin" for n in notes)
    assert code == 4011


def test_disabling_a_user_ends_their_runs_and_admins_hear_of_it(server, shell_runtime):
    code = shell_runtime

    async def go():
        a = await admin_client(server)
        await a.call("admin/subscribe", {})
        u = await User.new(server)
        pid = await u.project(code, {"main.sh": "sleep 30\n"})
        rid = await u.start(pid)
        await a.collect_notifications("admin/event", has_event("run", "started"))
        r = await a.call("admin/user/disable", {"id": u.uid})
        assert "result" in r, r
        evs = await a.collect_notifications(
            "admin/event", lambda e: has_event("user", "disable")(e) and has_event("run", "ended")(e))
        s = await a.call("admin/settings/set", {"run_history_per_project": 20})
        assert "result" in s, s
        evs += await a.collect_notifications("admin/event", has_event("config"))
        return evs, rid
    evs, rid = run(go())
    ended = [e for e in evs if e["topic"] == "run" and e["kind"] == "ended"][0]
    assert ended["data"]["run"] == rid and ended["data"]["reason"] == "cancelled"
    assert [e for e in evs if e["topic"] == "config"][0]["kind"] == "settings.set"
