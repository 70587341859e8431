"""Issue 15: several container engines (README "Several engines").

Two real dockerd instances: the shared one (/var/run/docker.sock, the
default platform) and a second one this module starts
(scripts/lib/platforms.sh engine2_ensure: its own socket, data root, exec
root and network namespace) with runit/shell loaded. The second is a platform
row "t-engine2". Checked: runs spread over both (the least loaded engine
first); an engine killed mid-run ends its run with its reason, takes no new
runs, and rejoins when it is back (its leftover container removed); with
max_containers 2 on each, 30 runs of two users queue fairly (the users
alternate), the clients see their positions go down and every run finishes;
a queued run counts for one run per (user, project), run again and run/stop
take it out of the queue; a run queued while the instance reads its queue
is still launched; two server instances share one queue.

Other enabled platforms are disabled while the module runs (and enabled
again after): placement is over the two engines only."""
import asyncio
import os
import subprocess
import time

import pytest

from harness import (DEADLINE_S, ROOT, User, add_admin, add_shell_runtime, logged_in, psql, run,
                     result_of, wait_until)

ENGINE2_SOCK = "/run/runit-engine2/docker.sock"
ENGINE2 = "unix://" + ENGINE2_SOCK
NAME2 = "t-engine2"
LONG = "echo up; sleep 300\n"


def platforms_sh(fn):
    env = dict(os.environ, RUNIT_PLATFORM_IMAGES="runit/shell:latest",
               RUNIT_ENGINE2_SOCK=ENGINE2_SOCK)
    r = subprocess.run(["bash", "-c", f"source {ROOT}/scripts/lib/platforms.sh && {fn}"],
                       env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"{fn}: {r.stdout}{r.stderr}"


def engine2_docker(*args):
    return subprocess.run(["docker", "-H", ENGINE2, *args], capture_output=True, text=True)


def engine2_kill():
    """kill -9 of the second dockerd: the engine is gone at once (its
    containers are left to its containerd, as after a crash)."""
    pid = open(os.path.join(os.path.dirname(ENGINE2_SOCK), "docker.pid")).read().strip()
    os.kill(int(pid), 9)
    assert wait_until(lambda: engine2_docker("version").returncode != 0, timeout=30)


def plat_of(rid):
    return int(psql("SELECT coalesce(platform_id, 0) FROM runs WHERE id = :'v1'", rid)[0][0])


def up_of(pid):
    return psql("SELECT coalesce(up::text, 'null') FROM platforms WHERE id = :'v1'", pid)[0][0]


def set_capacity(ids, n):
    for i in ids:
        psql("UPDATE platforms SET max_containers = nullif(:'v1', '')::int WHERE id = :'v2'",
             "" if n is None else str(n), i)


@pytest.fixture(scope="module")
def engines(db_url):
    """{default, second, rt}: the two platforms' ids and the runtime."""
    platforms_sh("engine2_ensure")
    rt = add_shell_runtime("t-eng", wall_ms=300000)  # makes the docker row if none
    default = int(psql("SELECT id FROM platforms WHERE is_default")[0][0])
    others = [r[0] for r in psql("SELECT id FROM platforms WHERE enabled AND NOT is_default")]
    for o in others:
        psql("UPDATE platforms SET enabled = false WHERE id = :'v1'", o)
    psql("DELETE FROM platforms WHERE name = :'v1'", NAME2)
    second = int(psql("INSERT INTO platforms (name, kind, endpoint) VALUES (:'v1', 'docker',"
                      " :'v2') RETURNING id", NAME2, ENGINE2)[0][0])
    yield {"default": default, "second": second, "rt": rt}
    set_capacity([default], None)
    psql("DELETE FROM platforms WHERE id = :'v1'", second)
    for o in others:
        psql("UPDATE platforms SET enabled = true WHERE id = :'v1'", o)
    platforms_sh("engine2_stop")


@pytest.fixture
def both_up(engines, server):
    """Both engines up as the server sees them, no capacity limit."""
    set_capacity([engines["default"], engines["second"]], None)
    assert wait_until(lambda: up_of(engines["second"]) == "true" and
                      up_of(engines["default"]) == "true", timeout=DEADLINE_S)
    return engines


async def stop_all(u, rids):
    for rid in rids:
        await u.c.call("run/stop", {"run": rid})
    for rid in rids:
        await u.wait_exit(rid)


def test_runs_spread_over_both_engines(server, both_up):
    """Two runs at once: the second goes to the engine with fewer runs; the
    admin list shows each engine's active runs."""
    e = both_up

    async def go():
        u = await User.new(server)
        a = await u.project(e["rt"], {"main.sh": LONG})
        b = await u.project(e["rt"], {"main.sh": LONG})
        psql("UPDATE users SET max_active_runs = 10 WHERE id = :'v1'", u.uid)
        r1 = await u.start(a)
        await u.wait_output(r1, "up")
        r2 = await u.start(b)
        await u.wait_output(r2, "up")
        adm = await logged_in(server, add_admin())
        listed = result_of(await adm.call("admin/platform/list", {}))["platforms"]
        await stop_all(u, [r1, r2])
        return r1, r2, listed
    r1, r2, listed = run(go())
    assert {plat_of(r1), plat_of(r2)} == {e["default"], e["second"]}
    row2 = [p for p in listed if p["id"] == e["second"]][0]
    assert row2["active_runs"] >= 1 and row2["max_containers"] is None and row2["up"] is True
    print("placed:", {r1: plat_of(r1), r2: plat_of(r2)})


def test_an_engine_that_goes_away_ends_its_runs_and_rejoins(server, both_up):
    e = both_up

    async def phase1():
        u = await User.new(server)
        psql("UPDATE users SET max_active_runs = 10 WHERE id = :'v1'", u.uid)
        pids = [await u.project(e["rt"], {"main.sh": LONG}) for _ in range(3)]
        r1 = await u.start(pids[0])
        await u.wait_output(r1, "up")
        r2 = await u.start(pids[1])
        await u.wait_output(r2, "up")
        on2 = r1 if plat_of(r1) == e["second"] else r2
        other = r2 if on2 == r1 else r1
        assert plat_of(on2) == e["second"] and plat_of(other) == e["default"]
        t0 = time.monotonic()
        engine2_kill()
        out = await u.wait_exit(on2, timeout=DEADLINE_S)
        ended_s = time.monotonic() - t0
        # the other engine's run goes on; the next run goes there too
        r3 = await u.start(pids[2])
        await u.wait_output(r3, "up")
        assert psql("SELECT state FROM runs WHERE id = :'v1'", other) == [["running"]]
        await stop_all(u, [other, r3])
        return on2, out, r3, ended_s
    on2, out, r3, ended_s = run(phase1())
    assert out.exit["reason"] == "error", out.exit
    assert out.exit["message"] == f"the container engine {NAME2} went away", out.exit
    assert psql("SELECT reason, error_message FROM runs WHERE id = :'v1'", on2) == \
        [["error", f"the container engine {NAME2} went away"]]
    assert plat_of(r3) == e["default"]
    assert up_of(e["second"]) == "false"
    print(f"the run on the killed engine ended {ended_s:.2f} s after kill -9")

    # it comes back: it is up again, takes runs, and the dead run's container goes
    platforms_sh("engine2_ensure")
    t0 = time.monotonic()
    assert wait_until(lambda: up_of(e["second"]) == "true", timeout=DEADLINE_S)
    print(f"up again {time.monotonic() - t0:.1f} s after its restart")
    assert wait_until(lambda: not engine2_docker("ps", "-aq", "--filter",
                                                 f"label=run-it.run={on2}").stdout.strip(),
                      timeout=DEADLINE_S), "the dead run's container was not removed" + server.log_text()[-6000:]

    async def phase2():
        u = await User.new(server)
        psql("UPDATE users SET max_active_runs = 10 WHERE id = :'v1'", u.uid)
        a = await u.project(e["rt"], {"main.sh": LONG})
        b = await u.project(e["rt"], {"main.sh": LONG})
        r1 = await u.start(a)
        await u.wait_output(r1, "up")
        r2 = await u.start(b)
        await u.wait_output(r2, "up")
        await stop_all(u, [r1, r2])
        return r1, r2
    r1, r2 = run(phase2())
    assert {plat_of(r1), plat_of(r2)} == {e["default"], e["second"]}


def statuses(events):
    return [(n["params"]["state"], n["params"].get("position")) for n in events
            if n["method"] == "run/status"]


def test_thirty_runs_queue_fairly_and_all_finish(server, both_up):
    """max_containers 2 on each engine; user A starts 15 runs, then user B 15:
    after A's first four, the queue serves B and A in turn."""
    e = both_up
    set_capacity([e["default"], e["second"]], 2)
    # long enough that all 30 starts are in before A's first four end (a run
    # starts in well under a second now: A's next ones would go first)
    script = "sleep 4; echo done\n"

    peaks = []

    async def sample():  # the most active runs on one engine, every 0.2 s
        while True:
            rows = await asyncio.to_thread(
                psql, "SELECT max(active) FROM runit_platform_load() WHERE id IN (:'v1', :'v2')",
                e["default"], e["second"])
            peaks.append(int(rows[0][0]))
            await asyncio.sleep(0.2)

    async def go():
        a = await User.new(server, "qa")
        b = await User.new(server, "qb")
        for u in (a, b):
            # a queue, not the users' pools (a user's default pool holds 4 such runs)
            psql("UPDATE users SET max_active_runs = 20, pool_cpu_millis = 0, pool_mem_bytes = 0"
                 " WHERE id = :'v1'", u.uid)
        projects = {u: [await u.project(e["rt"], {"main.sh": script}) for _ in range(15)]
                    for u in (a, b)}
        answers = {}
        for u in (a, b):
            for pid in projects[u]:
                res = result_of(await u.c.call("run/start", {"project": pid}))
                answers[res["run"]] = (u, res)
        async def drain(u):  # both clients read all along (a lagging reader pauses runs)
            return {rid: await u.wait_exit(rid, timeout=240)
                    for rid, (v, _) in answers.items() if v is u}
        sampler = asyncio.create_task(sample())
        got = await asyncio.gather(drain(a), drain(b))
        sampler.cancel()
        return a, b, answers, {**got[0], **got[1]}
    t0 = time.monotonic()
    a, b, answers, outs = run(go())
    took = time.monotonic() - t0
    set_capacity([e["default"], e["second"]], None)
    for rid, out in outs.items():
        assert out.exit["reason"] == "exited" and out.text() == "done\n", (rid, out.exit)
    queued = [rid for rid, (_, res) in answers.items() if "position" in res]
    assert len(queued) >= 15, f"only {len(queued)} of 30 runs were queued"
    # every queued run was told its position and then started; B's runs (no
    # one joined the queue after them: a newcomer may go before A's waiting
    # runs, that is the round robin) only ever move forward
    for rid in queued:
        st = statuses(outs[rid].events)
        pos = [p for s, p in st if s == "queued" and p is not None]
        assert pos and answers[rid][1]["position"] == pos[0], (rid, st)
        assert "starting" in [s for s, _ in st], (rid, st)
        if answers[rid][0] is b:
            assert pos == sorted(pos, reverse=True) and len(set(pos)) == len(pos), (rid, st)
    b_last = max(r for r, (u, _) in answers.items() if u is b)
    assert len([p for s, p in statuses(outs[b_last].events) if s == "queued"]) >= 3
    # the order the runs started: A's first 4 (no queue), then B and A in turn
    order = [int(r[0]) for r in psql(
        "SELECT user_id FROM runs WHERE id = ANY (:'v1'::bigint[]) ORDER BY started_at, id",
        "{" + ",".join(str(r) for r in answers) + "}")]
    print("users in start order:", "".join("A" if x == a.uid else "B" for x in order),
          f"({took:.1f} s for 30 runs)")
    first12 = order[:12]
    assert first12.count(b.uid) >= 4, "B waited behind all of A's runs: not fair"
    # the queue hands out A, B, A, B...: while both wait, neither gets ahead by
    # more than 3 after A's first four (room frees four at a time, and the
    # runs of one handout start in any order: a prepared container is faster)
    lead = 0
    for i in range(4, 26):
        lead += 1 if order[i] == a.uid else -1
        assert abs(lead) <= 3, (i, order)
    assert max(peaks) == 2, f"active runs per engine, sampled: {sorted(set(peaks))}"


def test_a_queued_run_holds_its_project_and_leaves_the_queue(server, both_up):
    """No room anywhere (max_containers 0): run/start answers queued with a
    position; run again replaces the queued run (one per user and project);
    run/stop takes it out; once there is room the next one runs."""
    e = both_up
    set_capacity([e["default"], e["second"]], 0)

    async def go():
        u = await User.new(server)
        pid = await u.project(e["rt"], {"main.sh": "echo hi\n"})
        r1 = result_of(await u.c.call("run/start", {"project": pid}))
        assert r1["state"] == "queued" and r1["position"] >= 1, r1
        r2 = result_of(await u.c.call("run/start", {"project": pid}))
        assert r2["state"] == "queued" and r2["position"] >= 1, r2
        out1 = await u.wait_exit(r1["run"])
        assert out1.exit["reason"] == "replaced", out1.exit
        rows = psql("SELECT id FROM runs WHERE user_id = :'v1' AND state <> 'finished'", u.uid)
        assert rows == [[str(r2["run"])]], rows
        assert "result" in await u.c.call("run/stop", {"run": r2["run"]})
        out2 = await u.wait_exit(r2["run"])
        assert out2.exit["reason"] == "stopped", out2.exit
        assert not psql("SELECT 1 FROM runit_queue_order() WHERE id = :'v1'", r2["run"])
        r3 = result_of(await u.c.call("run/start", {"project": pid}))
        assert r3["state"] == "queued"
        adm = await logged_in(server, add_admin())
        for i in (e["default"], e["second"]):
            upd = await adm.call("admin/platform/update", {"id": i, "max_containers": None})
            assert upd["result"]["max_containers"] is None, upd
        out3 = await u.wait_exit(r3["run"])
        bad = await adm.call("admin/platform/update", {"id": e["second"], "max_containers": -1})
        return out3, bad
    out3, bad = run(go())
    assert out3.exit["reason"] == "exited" and out3.text() == "hi\n", out3.exit
    assert bad["error"]["data"]["reason"] == "INVALID_PARAMS", bad


SLOW_MINE = """
ALTER FUNCTION runit_queue_mine(text) RENAME TO runit_queue_mine_fast;
CREATE FUNCTION runit_queue_mine(p_instance text)
RETURNS TABLE (id bigint, platform_id bigint, q_position bigint, kind text, endpoint text,
	oci_runtime text, name text) LANGUAGE sql STABLE AS $$
	SELECT m.* FROM (SELECT pg_sleep(1)) s, runit_queue_mine_fast(p_instance) m
$$"""
FAST_MINE = """
DROP FUNCTION IF EXISTS runit_queue_mine(text);
ALTER FUNCTION runit_queue_mine_fast(text) RENAME TO runit_queue_mine"""


def test_a_run_queued_while_the_queue_is_read_is_still_launched(server, both_up):
    """A read of the instance's queued runs (runit_queue_mine) is slowed to
    1 s, the one fault injected here: it is sent when a slot frees, and a
    run queued meanwhile is not in its snapshot. That run must still be
    launched when its turn comes (it used to be taken for gone, dropped from
    the instance's list and, once placed, left queued for ever)."""
    e = both_up
    set_capacity([e["default"], e["second"]], 1)

    async def go():
        u = await User.new(server)
        psql("UPDATE users SET max_active_runs = 10 WHERE id = :'v1'", u.uid)
        p1 = await u.project(e["rt"], {"main.sh": LONG})
        p2 = await u.project(e["rt"], {"main.sh": LONG})
        p3 = await u.project(e["rt"], {"main.sh": "echo q0; sleep 300\n"})
        p4 = await u.project(e["rt"], {"main.sh": "echo q1\n"})
        r1, r2 = await u.start(p1), await u.start(p2)
        await u.wait_output(r1, "up")
        await u.wait_output(r2, "up")
        q0 = result_of(await u.c.call("run/start", {"project": p3}))
        assert q0["state"] == "queued", q0
        psql(SLOW_MINE)
        try:
            await u.c.call("run/stop", {"run": r1})
            await u.wait_exit(r1)  # its slot goes to q0; the read is out
            await asyncio.sleep(0.3)
            # queued however slow the machine: r2 and q0 hold both slots
            q1 = result_of(await u.c.call("run/start", {"project": p4}))
            assert q1["state"] == "queued", q1
            await u.wait_output(q0["run"], "q0")
            await u.c.call("run/stop", {"run": q0["run"]})
            out0 = await u.wait_exit(q0["run"])
            out1 = await u.wait_exit(q1["run"], timeout=30)  # in q0's slot
        finally:
            psql(FAST_MINE)
        await stop_all(u, [r2])
        return out0, out1
    out0, out1 = run(go())
    set_capacity([e["default"], e["second"]], None)
    assert out0.text() == "q0\n" and out1.text() == "q1\n", (out0.exit, out1.exit)


def test_two_instances_share_one_queue(make_server, both_up):
    """One slot on each engine. A run queued on instance B is started when a
    run of instance A ends; positions are the same queue's."""
    e = both_up
    set_capacity([e["default"], e["second"]], 1)
    a = make_server().start()
    b = make_server().start()

    async def go():
        ua = await User.new(a)
        ub = await User.new(b)
        psql("UPDATE users SET max_active_runs = 10 WHERE id = :'v1'", ua.uid)
        p1 = await ua.project(e["rt"], {"main.sh": LONG})
        p2 = await ua.project(e["rt"], {"main.sh": LONG})
        p3 = await ub.project(e["rt"], {"main.sh": "echo from b\n"})
        r1 = await ua.start(p1)
        r2 = await ua.start(p2)
        await ua.wait_output(r1, "up")
        await ua.wait_output(r2, "up")
        q = result_of(await ub.c.call("run/start", {"project": p3}))
        assert q["state"] == "queued" and q["position"] == 1, q
        await ua.c.call("run/stop", {"run": r1})
        out = await ub.wait_exit(q["run"])
        await stop_all(ua, [r2])
        await ua.wait_exit(r1)
        return r1, q["run"], out
    r1, rq, out = run(go())
    set_capacity([e["default"], e["second"]], None)
    assert out.exit["reason"] == "exited" and out.text() == "from b\n", out.exit
    assert plat_of(rq) == plat_of(r1)  # the slot r1 freed
    a.stop()
    b.stop()
