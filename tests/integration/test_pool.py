"""The per-user resource pool (issue 15; sql/020_pool.sql, run_pool.c,
platforms/plat_docker_cgroup.c): a run reserves its runtime's CPU and memory
from its user's budget when it starts and gives them back when it ends; a
run that does not fit is refused with POOL_FULL and what holds the pool;
parallel starts on two server instances never reserve more than the budget;
and the kernel holds the pool too: each user's containers go under one
cgroup parent with the budget as its limits, so two busy runs of one user
share one budget while another user's run gets its own (measured with the
cgroups' cpuacct.usage).

Each server gets a RUNIT_POOL_PREFIX of its own: the cgroup tree is the
host's, shared with every other checkout's test servers."""
import asyncio
import os
import time
import uuid

import pytest

from conftest import run
from harness import (User, add_admin, add_shell_runtime, docker, error_reason, logged_in, psql,
                     result_of)

CPU = 1000  # millicores: the test runtime's CPU limit (one CPU)
MEM = 64 << 20
CGROUP = "/sys/fs/cgroup"


@pytest.fixture(scope="module")
def pool_runtime(db_url):
    code = add_shell_runtime("t-pool", wall_ms=120000, memory_bytes=MEM, pids=64)
    psql("UPDATE runtimes SET nano_cpus = :'v1' WHERE code = 't-pool'", CPU * 1000000)
    return code


def prefix():
    return "t" + uuid.uuid4().hex[:8] + "-"


async def admin_of(server):
    return await logged_in(server, add_admin())


async def set_pool(admin, uid, **q):
    return result_of(await admin.call("admin/user/set_quota", {"id": uid, **q}))


SLEEPER = {"main.sh": "echo up; sleep 100\n"}


async def running(u, pid, files=None):
    rid = await u.start(pid, files)
    await u.wait_output(rid, "up")
    return rid


def active_reserved(uid):
    return psql("SELECT count(*), coalesce(sum(pool_cpu_millis), 0), coalesce(sum(pool_mem_bytes), 0)"
                " FROM runs WHERE user_id = :'v1' AND state <> 'finished'", uid)[0]


def test_runit_pool_fits_in_sql(server, pool_runtime):
    """runit_pool_fits (the queue's question, sql/019 after the merge):
    the budget is the user's own, else its role's; 0 is unlimited; what is
    reserved is the sum of the user's active rows, finished ones hold nothing."""
    async def go():
        u = await User.new(server)
        pid = await u.project(pool_runtime, SLEEPER)
        return u.uid, pid
    uid, pid = run(go())
    fits = lambda c, m: psql("SELECT runit_pool_fits(:'v1', :'v2', :'v3')", uid, c, m)[0][0] == "t"
    default_cpu = int(psql("SELECT value FROM settings WHERE key = 'pool_cpu_millis_user'")[0][0])
    assert fits(default_cpu, 1) and not fits(default_cpu + 1, 1)
    psql("UPDATE users SET pool_cpu_millis = 1500, pool_mem_bytes = 1000 WHERE id = :'v1'", uid)
    assert fits(1500, 1000) and not fits(1501, 1) and not fits(1, 1001)
    # an active row holds its reservation; a finished one nothing
    rt = psql("SELECT id FROM runtimes WHERE code = 't-pool'")[0][0]
    run_id = psql("INSERT INTO runs (user_id, project_id, runtime_id, instance, state,"
                  " pool_cpu_millis, pool_mem_bytes) VALUES (:'v1', :'v2', :'v3', 'pool-sql-test',"
                  " 'running', 1000, 600) RETURNING id", uid, pid, rt)[0][0]
    try:
        assert fits(500, 400) and not fits(501, 1) and not fits(1, 401)
        psql("UPDATE users SET pool_cpu_millis = 0, pool_mem_bytes = 0 WHERE id = :'v1'", uid)
        assert fits(10 ** 6, 1 << 40)  # 0: unlimited
        psql("UPDATE users SET pool_cpu_millis = 1500, pool_mem_bytes = 1000 WHERE id = :'v1'", uid)
    finally:
        psql("UPDATE runs SET state = 'finished', reason = 'error', finished_at = now()"
             " WHERE id = :'v1'", run_id)
    assert fits(1500, 1000)
    # the role's default when the user's own is NULL; an unknown user fits nothing
    psql("UPDATE users SET pool_cpu_millis = NULL, pool_mem_bytes = NULL WHERE id = :'v1'", uid)
    assert fits(default_cpu, 1) and not fits(default_cpu + 1, 1)
    assert psql("SELECT runit_pool_fits(-1, 1, 1)")[0][0] == "f"
    # the settings keep their shapes
    with pytest.raises(Exception):
        psql("UPDATE settings SET value = '\"later\"' WHERE key = 'pool_full'")
    with pytest.raises(Exception):
        psql("UPDATE settings SET value = '-1' WHERE key = 'pool_cpu_millis_user'")


def test_a_run_that_does_not_fit_is_refused_with_what_holds_the_pool_until_one_ends(
        server, pool_runtime):
    async def go():
        admin = await admin_of(server)
        u = await User.new(server)
        await set_pool(admin, u.uid, pool_cpu_millis=2 * CPU)
        p1 = await u.project(pool_runtime, SLEEPER)
        p2 = await u.project(pool_runtime, {"main.sh": "echo up; sleep 3\n"})
        p3 = await u.project(pool_runtime, SLEEPER)
        names = [psql("SELECT name FROM projects WHERE id = :'v1'", p)[0][0] for p in (p1, p2)]
        r1 = await running(u, p1)
        r2 = await running(u, p2)
        assert active_reserved(u.uid)[:2] == ["2", str(2 * CPU)]
        refused = await u.c.call("run/start", {"project": p3})
        assert error_reason(refused) == "POOL_FULL", refused
        data = refused["error"]["data"]
        assert data["budget"]["cpu_millis"] == 2 * CPU and data["used"]["cpu_millis"] == 2 * CPU
        assert data["need"] == {"cpu_millis": CPU, "mem_bytes": MEM}
        assert [(h["run_id"], h["project_id"], h["project"], h["cpu_millis"], h["mem_bytes"])
                for h in data["holders"]] == [(r1, p1, names[0], CPU, MEM),
                                              (r2, p2, names[1], CPU, MEM)]
        msg = refused["error"]["message"]
        assert names[0] in msg and names[1] in msg and "CPU pool" in msg, msg
        # nothing was reserved for it
        assert active_reserved(u.uid)[:2] == ["2", str(2 * CPU)]
        # the second run exits: its share comes back, the third fits
        await u.wait_exit(r2)
        r3 = await running(u, p3)
        again = await u.c.call("run/start", {"project": p2})
        assert error_reason(again) == "POOL_FULL"
        assert [h["run_id"] for h in again["error"]["data"]["holders"]] == [r1, r3]
        # a stopped run gives its share back too
        result_of(await u.c.call("run/stop", {"run": r1}))
        await u.wait_exit(r1)
        r4 = await running(u, p2)
        assert active_reserved(u.uid)[:2] == ["2", str(2 * CPU)]
        # a run that can never fit says so
        await set_pool(admin, u.uid, pool_cpu_millis=CPU // 2)
        never = await u.c.call("run/start", {"project": p1})
        assert error_reason(never) == "POOL_FULL"
        assert "more than your whole CPU pool" in never["error"]["message"]
        # memory is a budget too
        await set_pool(admin, u.uid, pool_cpu_millis="default", pool_mem_bytes=2 * MEM + MEM // 2)
        mem = await u.c.call("run/start", {"project": p1})
        assert error_reason(mem) == "POOL_FULL" and "memory pool" in mem["error"]["message"]
        for rid in (r3, r4):
            result_of(await u.c.call("run/stop", {"run": rid}))
            await u.wait_exit(rid)
        assert active_reserved(u.uid) == ["0", "0", "0"]
    run(go())


def test_with_pool_full_wait_a_run_waits_in_the_queue_until_its_pool_has_room(
        server, pool_runtime):
    """pool_full "wait": the run that does not fit is queued (run/start
    answers queued with its position), holds nothing while it waits, and
    starts once the user's own run ends (runit_queue_dispatch asks
    runit_pool_fits)."""
    async def go():
        admin = await admin_of(server)
        result_of(await admin.call("admin/settings/set", {"pool_full": "wait"}))
        try:
            u = await User.new(server)
            await set_pool(admin, u.uid, pool_cpu_millis=CPU)
            p1 = await u.project(pool_runtime, SLEEPER)
            p2 = await u.project(pool_runtime, {"main.sh": "echo second\n"})
            r1 = await running(u, p1)
            ans = result_of(await u.c.call("run/start", {"project": p2}))
            r2 = ans["run"]
            assert ans.get("state") == "queued" and ans.get("position", 0) >= 1, ans
            # waiting, it holds nothing of the pool: only the first run's share
            assert psql("SELECT cpu_millis FROM runit_pool_used(:'v1')", u.uid) == [[str(CPU)]]
            assert psql("SELECT platform_id IS NULL FROM runs WHERE id = :'v1'", r2) == [["t"]]
            await asyncio.sleep(2)  # still waiting while the first runs
            assert psql("SELECT state FROM runs WHERE id = :'v1'", r2) == [["queued"]]
            result_of(await u.c.call("run/stop", {"run": r1}))
            await u.wait_exit(r1)
            out = await u.wait_exit(r2, timeout=120)
            assert out.exit["reason"] == "exited" and out.text() == "second\n", (out.exit,
                                                                                 out.text())
        finally:
            result_of(await admin.call("admin/settings/set", {"pool_full": "refuse"}))
    run(go())


def test_a_budget_changed_while_runs_are_active_applies_to_the_next_start(server, pool_runtime):
    async def go():
        admin = await admin_of(server)
        u = await User.new(server)
        p1 = await u.project(pool_runtime, SLEEPER)
        p2 = await u.project(pool_runtime, SLEEPER)
        r1 = await running(u, p1)
        got = await set_pool(admin, u.uid, pool_cpu_millis=CPU)
        assert got["pool_cpu_millis"] == CPU and got["pool_mem_bytes"] is None
        listed = result_of(await admin.call("admin/user/list", {"query": u.name}))["users"][0]
        assert listed["pool_cpu_millis"] == CPU and listed["pool_used_cpu_millis"] == CPU
        # the running one goes on; the next start meets the new budget
        assert error_reason(await u.c.call("run/start", {"project": p2})) == "POOL_FULL"
        assert psql("SELECT state FROM runs WHERE id = :'v1'", r1)[0][0] != "finished"
        got = await set_pool(admin, u.uid, pool_cpu_millis="default")
        assert got["pool_cpu_millis"] is None
        r2 = await running(u, p2)
        for rid in (r1, r2):
            result_of(await u.c.call("run/stop", {"run": rid}))
            await u.wait_exit(rid)
        bad = await admin.call("admin/user/set_quota", {"id": u.uid, "pool_cpu_millis": -5})
        assert error_reason(bad) == "INVALID_PARAMS"
    run(go())


def test_parallel_starts_on_two_instances_never_over_reserve(make_server, pool_runtime):
    a = make_server().start()
    b = make_server().start()

    async def go():
        admin = await admin_of(a)
        u = await User.new(a)
        await set_pool(admin, u.uid, pool_cpu_millis=3 * CPU, max_active_runs=20)
        pids = [await u.project(pool_runtime, SLEEPER) for _ in range(8)]
        # eight sockets of the same user, four on each instance, start at once
        clients = [await logged_in(b if i % 2 else a, u.name, User.PASSWORD) for i in range(8)]
        answers = await asyncio.gather(*[c.call("run/start", {"project": pid})
                                         for c, pid in zip(clients, pids)])
        started = [r["result"]["run"] for r in answers if "result" in r]
        refused = [r for r in answers if "error" in r]
        assert len(started) == 3, answers
        assert all(error_reason(r) == "POOL_FULL" for r in refused), refused
        count, cpu, _ = active_reserved(u.uid)
        assert (count, cpu) == ("3", str(3 * CPU))
        for rid in started:  # run/stop works from any instance
            result_of(await u.c.call("run/stop", {"run": rid}))
        deadline = time.monotonic() + 60
        while active_reserved(u.uid)[0] != "0" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert active_reserved(u.uid)[0] == "0"
    run(go())


# ------------------------------------------------------------ the kernel

def cgroup_v1():
    return os.path.isdir(f"{CGROUP}/cpuacct") and os.access(f"{CGROUP}/cpu", os.W_OK)


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def container_of(run_id, instance):
    """The run's container: its labels name the run, or (a prepared
    container, run_prep.c, whose labels name no run) its row does."""
    out = docker("ps", "-q", "--no-trunc", "--filter", f"label=run-it.run={run_id}",
                 "--filter", f"label=run-it.instance={instance}").stdout.split()
    if out:
        assert len(out) == 1, out
        return out[0]
    for _ in range(100):
        row = psql("SELECT container_id FROM runs WHERE id = :'v1' AND container_id IS NOT NULL",
                   run_id)
        if row:
            return row[0][0]
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} has no container")


SPIN = {"main.sh": "spin() { while :; do :; done; }\nspin & spin & echo up; wait\n"}


@pytest.mark.skipif(not cgroup_v1(), reason="needs the cgroup v1 cpu/cpuacct hierarchies,"
                    " writable (the server as root on the engine's machine)")
def test_two_busy_runs_of_one_user_share_its_pool_while_another_user_gets_its_own(
        make_server, pool_runtime):
    pfx = prefix()
    s = make_server(RUNIT_POOL_PREFIX=pfx).start()
    instance = s.env["RUNIT_INSTANCE"]

    async def go():
        admin = await admin_of(s)
        a = await User.new(s)
        b = await User.new(s)
        for u in (a, b):
            await set_pool(admin, u.uid, pool_cpu_millis=2 * CPU, pool_mem_bytes=512 << 20)
        a1 = await running(a, await a.project(pool_runtime, SPIN))
        a2 = await running(a, await a.project(pool_runtime, SPIN))
        b1 = await running(b, await b.project(pool_runtime, SPIN))
        parents = {u: f"runit/{pfx}u{u.uid}" for u in (a, b)}
        try:
            # the parents carry the pools' limits
            for u in (a, b):
                assert read_int(f"{CGROUP}/cpu/{parents[u]}/cpu.cfs_quota_us") == 2 * CPU * 100
                assert read_int(f"{CGROUP}/cpu/{parents[u]}/cpu.shares") == 2048
                assert read_int(f"{CGROUP}/memory/{parents[u]}/memory.limit_in_bytes") == 512 << 20
            cids = {rid: container_of(rid, instance) for rid in (a1, a2, b1)}
            owner = {a1: a, a2: a, b1: b}
            for rid, cid in cids.items():  # each container under its user's parent
                assert os.path.isdir(f"{CGROUP}/cpuacct/{parents[owner[rid]]}/{cid}"), rid

            def usage():
                return ({u: read_int(f"{CGROUP}/cpuacct/{p}/cpuacct.usage")
                         for u, p in parents.items()},
                        {rid: read_int(f"{CGROUP}/cpuacct/{parents[owner[rid]]}/{cid}/cpuacct.usage")
                         for rid, cid in cids.items()})
            await asyncio.sleep(1)
            t0, (u0, c0) = time.monotonic(), usage()
            await asyncio.sleep(6)
            t1, (u1, c1) = time.monotonic(), usage()
            secs = t1 - t0
            cpu = {u: (u1[u] - u0[u]) / 1e9 / secs for u in (a, b)}
            per = {rid: (c1[rid] - c0[rid]) / 1e9 / secs for rid in cids}
            print(f"CPUs over {secs:.1f} s: user A (2 runs) {cpu[a]:.2f} ({per[a1]:.2f} + "
                  f"{per[a2]:.2f}), user B (1 run) {cpu[b]:.2f}")
            # without the pools the three containers would share the host
            # equally (B would get half of A); with them the users do
            # (the host is shared: the absolute figures depend on its load,
            # the ratios do not)
            assert cpu[a] > 0.02 and cpu[b] > 0.02, cpu
            assert 0.7 < cpu[b] / cpu[a] < 1.45, cpu
            # A's two runs share A's part, neither starved
            assert 0.5 < per[a1] / per[a2] < 2.0, per
            # nobody gets more than its budget (2 CPUs) or its runs' limits
            assert cpu[a] < 2 * 1.1 and cpu[b] < 1 * 1.1, cpu
        finally:
            for u, rid in ((a, a1), (a, a2), (b, b1)):
                await u.c.call("run/stop", {"run": rid})
            for u, rid in ((a, a1), (a, a2), (b, b1)):
                await u.wait_exit(rid)
    try:
        run(go())
    finally:
        s.stop()
        for ctl in ("cpu", "cpuacct", "memory", "cpuset", "pids", "blkio", "devices", "freezer",
                    "systemd"):
            base = f"{CGROUP}/{ctl}/runit"
            for d in os.listdir(base) if os.path.isdir(base) else []:
                if d.startswith(pfx):
                    try:
                        os.rmdir(f"{base}/{d}")
                    except OSError:
                        pass
