"""The fair queue's gaps (issue 15; sql/023_queue_access.sql, run_queue.c,
run_follow.c, run_engine.c): positions reach every watcher, on any server
instance, and run/get and run/attach answer them; a waiting run whose user
loses access (removed from the members, made a viewer, disabled, deleted,
the project deleted) ends at once with reason "cancelled" and a reason code;
a budget lowered below a waiting run's needs ends it with "pool_full", a
budget raised lets it start; with pool_full "wait" a run that could never
fit is refused at once (POOL_FULL).

The default platform gets max_containers 1 while a test needs a queue (one
long run of another user holds it); every other enabled platform is
disabled for the module and enabled again after."""
import asyncio
import time

import pytest

from harness import (User, add_admin, add_shell_runtime, error_reason, logged_in, psql, run,
                     result_of)

LONG = {"main.sh": "echo up; sleep 300\n"}
QUICK = {"main.sh": "echo done\n"}
CPU = 1000  # millicores: the test runtime's CPU limit
END_S = 10  # "at once": well before anything else would end the run


@pytest.fixture(scope="module")
def qrt(db_url):
    code = add_shell_runtime("t-qacc", wall_ms=300000, memory_bytes=64 << 20, pids=64)
    psql("UPDATE runtimes SET nano_cpus = :'v1' WHERE code = :'v2'", CPU * 1000000, code)
    default = int(psql("SELECT id FROM platforms WHERE is_default")[0][0])
    others = [r[0] for r in psql("SELECT id FROM platforms WHERE enabled AND NOT is_default")]
    for o in others:
        psql("UPDATE platforms SET enabled = false WHERE id = :'v1'", o)
    yield {"rt": code, "default": default}
    capacity(default, None)
    for o in others:
        psql("UPDATE platforms SET enabled = true WHERE id = :'v1'", o)


def capacity(pid, n):
    psql("UPDATE platforms SET max_containers = nullif(:'v1', '')::int WHERE id = :'v2'",
         "" if n is None else str(n), pid)


def row(rid):
    got = psql("SELECT state, coalesce(reason, ''), coalesce(end_code, '') FROM runs"
               " WHERE id = :'v1'", rid)
    return tuple(got[0]) if got else None


def lift(u):
    """No pool or quota in the way of a queue test."""
    psql("UPDATE users SET max_active_runs = 10, pool_cpu_millis = 0, pool_mem_bytes = 0"
         " WHERE id = :'v1'", u.uid)


async def blocked(server, q):
    """Capacity 1, held by a long run of another user: (that user, its run)."""
    capacity(q["default"], 1)
    holder = await User.new(server, "qh")
    lift(holder)
    pid = await holder.project(q["rt"], LONG)
    rid = await holder.start(pid)
    await holder.wait_output(rid, "up")
    return holder, rid


async def release(holder, rid, q):
    capacity(q["default"], None)
    await holder.c.call("run/stop", {"run": rid})
    await holder.wait_exit(rid)


async def queued(u, pid):
    ans = result_of(await u.c.call("run/start", {"project": pid}))
    assert ans["state"] == "queued" and ans.get("position", 0) >= 1, ans
    return ans


async def ended_at_once(u, rid):
    t0 = time.monotonic()
    out = await u.wait_exit(rid, timeout=END_S)
    return out.exit, time.monotonic() - t0


# ------------------------------------------------------------ positions

def test_positions_reach_watchers_on_another_instance_and_get_and_attach_answer_them(
        make_server, qrt):
    """Instance A runs the holder and two queued runs (Y's, then Z's); Z
    watches from instance B (a second session in the project's room) and
    asks B for run/get and run/attach: position 2, then, once Y's run left
    the queue, run/status queued position 1 arrives on B and both methods
    answer 1; Z's run starts when the holder's ends."""
    a = make_server().start()
    b = make_server().start()

    async def go():
        holder, hr = await blocked(a, qrt)
        y = await User.new(a, "qy")
        z = await User.new(a, "qz")
        for u in (y, z):
            lift(u)
        py = await y.project(qrt["rt"], QUICK)
        pz = await z.project(qrt["rt"], QUICK)
        ry = (await queued(y, py))["run"]
        qz = await queued(z, pz)
        rz = qz["run"]
        assert qz["position"] == 2, qz
        zb = await logged_in(b, z.name, User.PASSWORD)
        result_of(await zb.call("project/open", {"id": pz}))
        got = result_of(await zb.call("run/get", {"run": rz}))
        assert got["state"] == "queued" and got["position"] == 2, got
        att = result_of(await zb.call("run/attach", {"run": rz, "from_seq": 1}))
        assert att["state"] == "queued" and att["position"] == 2 and att["live"], att
        # the replay: the stored "queued" status carries its place now
        seen = await zb.collect_notifications(
            "run/status", lambda got: any(s["run"] == rz for s in got))
        first = [s for s in seen if s["run"] == rz][0]
        assert first["state"] == "queued" and first["position"] == 2, first
        # Y leaves the queue: Z moves up, and B's watcher is told
        result_of(await y.c.call("run/stop", {"run": ry}))
        await y.wait_exit(ry)
        seen = await zb.collect_notifications(
            "run/status", lambda got: any(s["run"] == rz and s.get("position") == 1
                                          for s in got), timeout=15)
        assert all(s["by"]["id"] == z.uid for s in seen if s["run"] == rz), seen
        got = result_of(await zb.call("run/get", {"run": rz}))
        assert got["position"] == 1, got
        att = result_of(await zb.call("run/attach", {"run": rz, "from_seq": 1}))
        assert att["position"] == 1, att
        # on the run's own instance too (another socket: a replay repeats seqs)
        za = await logged_in(a, z.name, User.PASSWORD)
        got = result_of(await za.call("run/attach", {"run": rz, "from_seq": 1}))
        assert got["state"] == "queued" and got["position"] == 1, got
        await release(holder, hr, qrt)
        out = await z.wait_exit(rz, timeout=60)
        assert out.exit["reason"] == "exited" and out.text() == "done\n", out.exit
        seen = await zb.collect_notifications(
            "run/exit", lambda got: any(s["run"] == rz for s in got), timeout=15)
        got = result_of(await zb.call("run/get", {"run": rz}))
        assert got["state"] == "finished" and "position" not in got, got
    try:
        run(go())
    finally:
        capacity(qrt["default"], None)
        a.stop()
        b.stop()


# ------------------------------------------------------------ access

@pytest.mark.parametrize("change", ["removed", "viewer"])
def test_a_waiting_run_ends_at_once_when_its_user_loses_access(server, qrt, change):
    """An editor's queued run in another user's project ends as soon as the
    owner removes them (or makes them a viewer): cancelled, access_lost; the
    row is finished and holds no place; the queue behind it moves up."""
    async def go():
        holder, hr = await blocked(server, qrt)
        try:
            owner = await User.new(server, "qo")
            ed = await User.new(server, "qe")
            other = await User.new(server, "qx")
            for u in (owner, ed, other):
                lift(u)
            pid = await owner.project(qrt["rt"], QUICK)
            result_of(await owner.c.call("project/share", {"id": pid, "username": ed.name,
                                                          "role": "editor"}))
            rid = (await queued(ed, pid))["run"]
            behind = await queued(other, await other.project(qrt["rt"], QUICK))
            assert behind["position"] == 2, behind
            result_of(await owner.c.call("project/share", {
                "id": pid, "username": ed.name, "role": None if change == "removed" else "viewer"}))
            ex, took = await ended_at_once(ed, rid)
            assert ex["reason"] == "cancelled" and ex["code"] == "access_lost", ex
            assert "no longer run" in ex["message"], ex
            assert row(rid) == ("finished", "cancelled", "access_lost")
            # the run behind it moved up
            st = await other.c.collect_notifications(
                "run/status", lambda g: any(s.get("position") == 1 for s in g), timeout=10)
            assert st
            await other.c.call("run/stop", {"run": behind["run"]})
            await other.wait_exit(behind["run"])
            print(f"{change}: ended {took:.2f} s after the change")
        finally:
            await release(holder, hr, qrt)
    run(go())


def test_a_waiting_run_of_a_disabled_user_ends_on_whichever_instance_holds_it(make_server, qrt):
    """The admin disables the user on instance B; the run waits on instance
    A: the database ends it (cancelled, user_disabled) and A tells the
    project's owner watching there."""
    a = make_server().start()
    b = make_server().start()

    async def go():
        holder, hr = await blocked(a, qrt)
        try:
            owner = await User.new(a, "qo")
            ed = await User.new(a, "qe")
            lift(ed)
            pid = await owner.project(qrt["rt"], QUICK)
            result_of(await owner.c.call("project/share", {"id": pid, "username": ed.name,
                                                          "role": "editor"}))
            result_of(await owner.c.call("project/open", {"id": pid}))
            rid = (await queued(ed, pid))["run"]
            admin = await logged_in(b, add_admin())
            result_of(await admin.call("admin/user/disable", {"id": ed.uid}))
            ex, _ = await ended_at_once(owner, rid)
            assert ex["reason"] == "cancelled" and ex["code"] == "user_disabled", ex
            assert row(rid) == ("finished", "cancelled", "user_disabled")
        finally:
            await release(holder, hr, qrt)
    try:
        run(go())
    finally:
        capacity(qrt["default"], None)
        a.stop()
        b.stop()


def test_a_waiting_run_ends_when_its_user_or_its_project_is_deleted(server, qrt):
    """...and nothing of it is written once its row went with the user or
    the project: no failed insert in the server's log (its stored run/exit
    went with the row's finish, which finds no row)."""
    warned = server.log_text().count("run bookkeeping query failed")

    async def go():
        holder, hr = await blocked(server, qrt)
        try:
            owner = await User.new(server, "qo")
            ed = await User.new(server, "qe")
            lift(ed)
            lift(owner)
            pid = await owner.project(qrt["rt"], QUICK)
            result_of(await owner.c.call("project/share", {"id": pid, "username": ed.name,
                                                          "role": "editor"}))
            result_of(await owner.c.call("project/open", {"id": pid}))
            rid = (await queued(ed, pid))["run"]
            psql("DELETE FROM users WHERE id = :'v1'", ed.uid)
            ex, _ = await ended_at_once(owner, rid)
            assert ex["reason"] == "cancelled" and ex["code"] == "user_deleted", ex
            assert row(rid) is None
            # the owner's own queued run, then the project deleted
            mine = await owner.project(qrt["rt"], QUICK)
            rid = (await queued(owner, mine))["run"]
            result_of(await owner.c.call("project/delete", {"id": mine}))
            ex, _ = await ended_at_once(owner, rid)
            assert ex["reason"] == "cancelled" and ex["code"] == "project_deleted", ex
            assert psql("SELECT count(*) FROM runit_queue_order() WHERE id = :'v1'", rid) \
                == [["0"]]
        finally:
            await release(holder, hr, qrt)
    run(go())
    assert server.log_text().count("run bookkeeping query failed") == warned


# ------------------------------------------------------------ the pool

def test_a_pool_changed_while_a_run_waits_ends_it_or_lets_it_start(server, qrt):
    """pool_full "wait", a budget of one run: the second waits for the pool.
    Lowered below its needs it ends (pool_full, pool_too_small); raised, the
    next one starts at once while the first still runs; and a run that could
    never fit is refused (POOL_FULL, data.never), not queued."""
    async def go():
        admin = await logged_in(server, add_admin())
        result_of(await admin.call("admin/settings/set", {"pool_full": "wait"}))
        try:
            u = await User.new(server, "qp")
            psql("UPDATE users SET max_active_runs = 10 WHERE id = :'v1'", u.uid)
            result_of(await admin.call("admin/user/set_quota", {"id": u.uid,
                                                                "pool_cpu_millis": CPU}))
            p1 = await u.project(qrt["rt"], LONG)
            p2 = await u.project(qrt["rt"], QUICK)
            r1 = await u.start(p1)
            await u.wait_output(r1, "up")
            r2 = (await queued(u, p2))["run"]
            result_of(await admin.call("admin/user/set_quota", {"id": u.uid,
                                                                "pool_cpu_millis": CPU // 2}))
            ex, _ = await ended_at_once(u, r2)
            assert ex["reason"] == "pool_full" and ex["code"] == "pool_too_small", ex
            assert row(r2) == ("finished", "pool_full", "pool_too_small")
            assert row(r1)[0] == "running"  # a running run keeps its share
            # never fits: refused at once, not queued
            bad = await u.c.call("run/start", {"project": p2})
            assert error_reason(bad) == "POOL_FULL", bad
            assert bad["error"]["data"]["mode"] == "wait" and bad["error"]["data"]["never"], bad
            assert "more than your whole" in bad["error"]["message"], bad
            # fits once the first run ends: waits; raised: starts now
            result_of(await admin.call("admin/user/set_quota", {"id": u.uid,
                                                                "pool_cpu_millis": CPU}))
            r3 = (await queued(u, p2))["run"]
            await asyncio.sleep(1)
            assert row(r3)[0] == "queued"
            result_of(await admin.call("admin/user/set_quota", {"id": u.uid,
                                                                "pool_cpu_millis": 2 * CPU}))
            out = await u.wait_exit(r3, timeout=30)
            assert out.exit["reason"] == "exited" and out.text() == "done\n", out.exit
            assert row(r1)[0] == "running"
            result_of(await u.c.call("run/stop", {"run": r1}))
            await u.wait_exit(r1)
        finally:
            result_of(await admin.call("admin/settings/set", {"pool_full": "refuse"}))
    run(go())
