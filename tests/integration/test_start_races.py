"""run/start under hostile, concurrent sequences: many starts of one project
without waiting (valid and invalid mixed), starts raced with run/stop,
project/delete, file/delete, a closed websocket, a logout, a second
websocket of the same user, an editor losing access and the runtime being
disabled. The server (built with AddressSanitizer) must stay up, every
request must be answered with a result or a clear error, and afterwards the
project runs normally and leaves no active row or container behind."""
import asyncio
import signal

from harness import (DEADLINE_S, RUN_DEADLINE_S, User, add_admin, add_shell_runtime,
                     async_wait_until, error_reason, logged_in, psql, result_of, run,
                     wait_until)
from test_runs import containers_of, runtimes  # noqa: F401 (fixture)

# what a start may be refused with in these races, and nothing else
START_REASONS = {"CONFLICT", "INVALID_PATH", "INVALID_PARAMS", "TOO_LARGE", "NOT_FOUND",
                 "FORBIDDEN", "RUNTIME_DISABLED"}
QUICK = {"main.sh": "echo hi\n"}


def started(msgs):
    """The run ids of the starts that succeeded; asserts the rest failed clearly."""
    ids = []
    for m in msgs:
        if "result" in m:
            ids.append(m["result"]["run"])
        else:
            assert error_reason(m) in START_REASONS, m
            assert m["error"].get("message"), m
    return ids


def active_rows(pid):
    return int(psql("SELECT count(*) FROM runs WHERE project_id = :'v1' AND state <> 'finished'",
                    pid)[0][0])


async def settles(u, pid):
    """No active row and no container is left for the project, then it runs
    normally once more and leaves none again."""
    assert await async_wait_until(lambda: active_rows(pid) == 0, RUN_DEADLINE_S), \
        psql("SELECT id, state, reason FROM runs WHERE project_id = :'v1'", pid)
    rid = await u.start(pid, {"main.sh": "echo again\n"})
    out = await u.wait_exit(rid)
    assert out.exit["reason"] == "exited" and out.text() == "again\n", out.events
    assert await async_wait_until(lambda: active_rows(pid) == 0, DEADLINE_S)
    assert await async_wait_until(lambda: not containers_of(pid), DEADLINE_S), containers_of(pid)


def bad_params(pid, k):
    """A run/start's params, valid or not, by k."""
    kinds = [
        {"project": pid, "files": {"main.sh": f"echo ok {k}\n"}},
        {"project": pid, "files": {"../bad": "x"}},
        {"project": pid, "files": {f"f{i}.txt": "x" for i in range(201)}},
        {"project": pid, "files": {"main.sh": 42}},
        {"project": pid, "tty": True, "files": {"main.sh": f"echo tty {k}\n"}},
        {"project": pid},
        {"project": pid, "files": {"main.sh": f"echo ok {k}\n", "a/../b": "x"}},
        {"project": pid, "tty": True, "rows": 10, "cols": 20},
    ]
    return kinds[k % len(kinds)]


def test_a_burst_of_mixed_starts_of_one_project(server, runtimes):
    """Forty run/start of one project sent at once, valid and invalid mixed,
    with a terminal or not: each is answered, at most the newest valid one
    runs to its end, the others are replaced or superseded."""
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], QUICK)
        for rnd in range(3):
            ids = [await u.c.send("run/start", bad_params(pid, k + rnd)) for k in range(40)]
            got = await u.c.answers(ids)
            for k, i in enumerate(ids):
                kind = (k + rnd) % 8
                if kind in (1, 6):
                    assert error_reason(got[i]) == "INVALID_PATH", got[i]
                elif kind == 2:
                    assert error_reason(got[i]) == "TOO_LARGE", got[i]
                elif kind == 3:
                    assert error_reason(got[i]) == "INVALID_PARAMS", got[i]
            for rid in started(got.values()):
                ex = (await u.wait_exit(rid)).exit
                assert ex["reason"] in ("exited", "replaced"), ex
        await settles(u, pid)
    run(go())


def test_starts_of_unknown_foreign_and_public_projects_mixed_in(server, runtimes):
    """Starts of a project that does not exist, another user's private
    project and another user's public one (FORBIDDEN: only owners and
    editors run) mixed with starts of one's own: the refusals leave the own
    project's slot working, and nothing of the others' runs."""
    async def go():
        u, other = await User.new(server), await User.new(server)
        mine = await u.project(runtimes["sh"], QUICK)
        private = await other.project(runtimes["sh"], QUICK)
        public = await other.project(runtimes["sh"], QUICK)
        result_of(await other.c.call("project/update", {"id": public, "is_public": True}))
        targets = [mine, private, public, 2**40, mine]
        ids = [await u.c.send("run/start", {"project": targets[k % 5],
                                             "files": {"main.sh": f"echo {k}\n"}})
               for k in range(40)]
        got = await u.c.answers(ids)
        for k, i in enumerate(ids):
            t = targets[k % 5]
            if t == public:
                assert error_reason(got[i]) == "FORBIDDEN", got[i]
            elif t != mine:
                assert error_reason(got[i]) == "NOT_FOUND", got[i]
        for rid in started(got.values()):
            await u.wait_exit(rid)
        for p in (private, public):
            assert psql("SELECT count(*) FROM runs WHERE project_id = :'v1'", p)[0][0] == "0"
        await settles(u, mine)
    run(go())


def test_two_sockets_of_one_user_start_one_project_at_once(server, runtimes):
    """Two websockets of the same user each send starts of the same project
    at once: one slot serves both; each start is answered, at most one row
    is active at a time and both sockets see the project run after."""
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], QUICK)
        b = await logged_in(server, u.name, u.password)
        v = User(b, u.name, u.uid)
        for rnd in range(3):
            ia = [await u.c.send("run/start", bad_params(pid, k)) for k in range(0, 20)]
            ib = [await v.c.send("run/start", bad_params(pid, k)) for k in range(3, 23)]
            ga, gb = await asyncio.gather(u.c.answers(ia), v.c.answers(ib))
            ra, rb = started(ga.values()), started(gb.values())
            for w, rids in ((u, ra), (v, rb)):
                for rid in rids:
                    assert (await w.wait_exit(rid)).exit["reason"] in ("exited", "replaced")
            assert active_rows(pid) <= 1
        await settles(u, pid)
        await settles(v, pid)
    run(go())


def test_starts_raced_with_run_stop(server, runtimes):
    """run/start, then at once run/stop of the run it replaces and of the
    run it starts (its id guessed as the next ones): every answer is a
    result or a clear error and nothing is left running."""
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], {"main.sh": "sleep 30\n"})
        rid = await u.start(pid)
        for k in range(10):
            ids = [await u.c.send("run/start", {"project": pid,
                                                 "files": {"main.sh": f"echo {k}; sleep 30\n"}})]
            for guess in range(rid, rid + 4):
                ids.append(await u.c.send("run/stop", {"run": guess}))
            ids.append(await u.c.send("run/start", bad_params(pid, k)))
            got = await u.c.answers(ids)
            for i in ids[1:-1]:
                assert "result" in got[i] or error_reason(got[i]) in ("NOT_FOUND", "CONFLICT"), \
                    got[i]
            new = started([got[ids[0]], got[ids[-1]]])
            if new:
                rid = max(new)
        for r in [row[0] for row in psql("SELECT id FROM runs WHERE project_id = :'v1' AND"
                                         " state <> 'finished'", pid)]:
            await u.c.call("run/stop", {"run": int(r)})
        await settles(u, pid)
    run(go())


def test_a_start_raced_with_deleting_its_project(server, runtimes):
    """run/start (saving files) and project/delete sent together, twenty
    times: each start is answered with a run or NOT_FOUND (it used to be
    UNAVAILABLE, "database unavailable", when the row's insert met the
    deleted project), the deleted project leaves no active row and no
    container, and the owner's next project runs."""
    async def go():
        u = await User.new(server)
        pids = []
        for k in range(20):
            pid = await u.project(runtimes["sh"], {"main.sh": "sleep 20\n"})
            pids.append(pid)
            if k % 2:
                await u.start(pid)
            ids = [await u.c.send("run/start", {"project": pid,
                                                 "files": {"main.sh": f"echo {k}; sleep 20\n"}})]
            await asyncio.sleep((k % 5) * 0.002)  # lands between different steps
            ids.append(await u.c.send("project/delete", {"id": pid}))
            ids.append(await u.c.send("run/start", {"project": pid, "tty": True}))
            got = await u.c.answers(ids)
            assert "result" in got[ids[1]], got[ids[1]]
            for i in (ids[0], ids[2]):
                # not "database unavailable": the project is gone
                assert "result" in got[i] or error_reason(got[i]) in ("NOT_FOUND",
                                                                      "CONFLICT"), got[i]
        for pid in pids:
            assert await async_wait_until(lambda: active_rows(pid) == 0, RUN_DEADLINE_S), pid
            assert await async_wait_until(lambda: not containers_of(pid), RUN_DEADLINE_S), \
                (pid, containers_of(pid))
        pid = await u.project(runtimes["sh"], QUICK)
        await settles(u, pid)
    run(go())


def test_a_start_raced_with_deleting_and_recreating_its_file(server, runtimes):
    """run/start saving main.sh while the same file is deleted and
    re-created: answers are results or errors, the slot still works."""
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], QUICK)
        for k in range(15):
            ids = [await u.c.send("run/start", {"project": pid,
                                                 "files": {"main.sh": f"echo {k}\n"}}),
                   await u.c.send("file/delete", {"project": pid, "path": "main.sh"}),
                   await u.c.send("run/start", {"project": pid}),
                   await u.c.send("file/create", {"project": pid, "path": "main.sh",
                                                   "content": "echo back\n"})]
            got = await u.c.answers(ids)
            for rid in started([got[ids[0]], got[ids[2]]]):
                await u.wait_exit(rid)
        await settles(u, pid)
    run(go())


def test_starts_then_the_socket_closes(server, runtimes):
    """A socket sends starts (saving files, some invalid) and closes at
    once, before any answer, again and again: the starts go on without
    their session, their runs end, and the user's next socket runs the
    project."""
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], QUICK)
        for k in range(12):
            c = await logged_in(server, u.name, u.password)
            for j in range(k % 4 + 1):
                await c.send("run/start", bad_params(pid, k + j))
            if k % 3 == 1:
                await c.send("auth/logout", {})
            await c.ws.close()
        await settles(u, pid)
    run(go())


def test_starts_then_logout_on_the_same_socket(server, runtimes):
    """run/start then auth/logout without waiting, then more starts on the
    logged-out socket: each is answered; those after the logout are refused;
    nothing is left running."""
    async def go():
        owner = await User.new(server)
        pid = await owner.project(runtimes["sh"], QUICK)
        for k in range(6):
            c = await logged_in(server, owner.name, owner.password)
            ids = [await c.send("run/start", bad_params(pid, k)),
                   await c.send("run/start", {"project": pid, "files": {"main.sh": "echo x\n"}}),
                   await c.send("auth/logout", {}),
                   await c.send("run/start", {"project": pid})]
            got = await c.answers(ids)
            assert "result" in got[ids[2]], got[ids[2]]
            assert "error" in got[ids[3]], got[ids[3]]
            for i in ids[:2]:
                assert "result" in got[i] or error_reason(got[i]) in START_REASONS, got[i]
        await settles(owner, pid)
    run(go())


def test_an_editor_starts_while_losing_access(server, runtimes):
    """An editor sends starts while the owner makes the project private and
    takes the editor's role away (and gives it back): every start is
    answered with a run or a refusal, the editor's runs end, and afterwards
    the editor, editor again, runs the project."""
    async def go():
        owner, ed = await User.new(server), await User.new(server)
        pid = await owner.project(runtimes["sh"], QUICK)
        result_of(await owner.c.call("project/update", {"id": pid, "is_public": True}))
        for k in range(8):
            result_of(await owner.c.call("project/share", {"id": pid, "username": ed.name,
                                                           "role": "editor"}))
            ids = [await ed.c.send("run/start", bad_params(pid, k + j)) for j in range(4)]
            oid = [await owner.c.send("project/update", {"id": pid, "is_public": k % 2 == 0}),
                   await owner.c.send("project/share", {"id": pid, "username": ed.name,
                                                         "role": None if k % 2 else "viewer"})]
            ids += [await ed.c.send("run/start", bad_params(pid, k + j)) for j in range(4)]
            got, ogot = await asyncio.gather(ed.c.answers(ids), owner.c.answers(oid))
            for m in ogot.values():
                result_of(m)
            runs = started(got.values())
            # read from the rows: an editor who can no longer see the project
            # may not get its runs' run/exit on this socket
            assert await async_wait_until(lambda: active_rows(pid) == 0, RUN_DEADLINE_S)
            for rid in runs:
                reason = psql("SELECT reason FROM runs WHERE id = :'v1'", rid)
                assert reason in ([], [["exited"]], [["replaced"]], [["cancelled"]]), (rid, reason)
        result_of(await owner.c.call("project/share", {"id": pid, "username": ed.name,
                                                       "role": "editor"}))
        await settles(ed, pid)
        await settles(owner, pid)
    run(go())


def test_starts_raced_with_the_runtime_disabled(server, runtimes):
    """A user sends starts while an admin disables the project's runtime
    and enables it again: every start is answered with a run or
    RUNTIME_DISABLED (or a conflict), and once enabled it runs again."""
    code = add_shell_runtime("t-sh-race-off")

    async def go():
        u = await User.new(server)
        admin = await logged_in(server, add_admin())
        pid = await u.project(code, QUICK)
        rt_id = int(psql("SELECT id FROM runtimes WHERE code = :'v1'", code)[0][0])
        try:
            for k in range(8):
                ids = [await u.c.send("run/start", bad_params(pid, k + j)) for j in range(3)]
                aid = await admin.send("admin/runtime/update", {"id": rt_id, "enabled": False})
                ids += [await u.c.send("run/start", bad_params(pid, k + j)) for j in range(3)]
                got, ag = await asyncio.gather(u.c.answers(ids), admin.answers([aid]))
                result_of(ag[aid])
                for rid in started(got.values()):
                    await u.wait_exit(rid)
                result_of(await admin.call("admin/runtime/update", {"id": rt_id, "enabled": True}))
        finally:
            psql("UPDATE runtimes SET enabled = true WHERE code = :'v1'", code)
        await settles(u, pid)
    run(go())



def test_a_start_raced_with_disabling_its_user_leaves_no_run(server):
    """run/start (saving files), then an admin disables the user while the
    start is between its database steps: the start's run, if it got one,
    ends at once (cancelled) like the user's other runs, not at its wall
    time. It used to run on, its row active, until its wall time."""
    code = add_shell_runtime("t-sh-race-long", wall_ms=60000)

    async def go():
        admin = await logged_in(server, add_admin())
        pids = []
        for k in range(8):
            u = await User.new(server)
            pid = await u.project(code, {"main.sh": "sleep 50\n"})
            pids.append(pid)
            await u.c.send("run/start", {"project": pid,
                                          "files": {"main.sh": f"echo {k}; sleep 50\n"}})
            await asyncio.sleep((k % 4) * 0.002)
            result_of(await admin.call("admin/user/disable", {"id": u.uid}))
        for pid in pids:
            assert await async_wait_until(lambda: active_rows(pid) == 0, 10), \
                psql("SELECT id, state, reason FROM runs WHERE project_id = :'v1'", pid)
            assert await async_wait_until(lambda: not containers_of(pid), 10), pid
        assert psql("SELECT count(*) FROM runs WHERE project_id = ANY(:'v1'::bigint[]) AND"
                    " reason <> 'cancelled'", "{" + ",".join(map(str, pids)) + "}")[0][0] == "0"
    run(go())


def test_disabling_a_user_on_one_server_ends_their_runs_on_another(make_server):
    """admin/user/disable on server a: the user's run on server b and a start
    under way on b end at once (cancelled, user_disabled), not at their wall
    time. They used to run on: only the server that handled the disable
    ended its own runs (the others closed the user's sockets only)."""
    code = add_shell_runtime("t-sh-race-long", wall_ms=60000)
    a = make_server().start()
    b = make_server().start()

    async def go():
        admin = await logged_in(a, add_admin())
        u = await User.new(b)
        running = await u.project(code, {"main.sh": "echo up; sleep 50\n"})
        rid = await u.start(running)
        await u.wait_state(rid, "running")
        starting = await u.project(code, {"main.sh": "sleep 50\n"})
        await u.c.send("run/start", {"project": starting,
                                      "files": {"main.sh": "echo s; sleep 50\n"}})
        result_of(await admin.call("admin/user/disable", {"id": u.uid}))
        for pid in (running, starting):
            assert await async_wait_until(lambda: active_rows(pid) == 0, 10), \
                psql("SELECT id, state, reason FROM runs WHERE project_id = :'v1'", pid)
            assert await async_wait_until(
                lambda: not containers_of(pid) and not containers_of(pid, warm=True), 10), pid
        return rid, running, starting
    rid, running, starting = run(go())
    assert psql("SELECT reason FROM runs WHERE id = :'v1'", rid) == [["cancelled"]]
    assert psql("SELECT count(*) FROM runs WHERE project_id IN (:'v1', :'v2') AND"
                " reason <> 'cancelled'", running, starting)[0][0] == "0"
    a.stop()
    b.stop()


def test_a_disable_missed_while_the_listener_was_away_still_ends_the_run(make_server):
    """A disable whose notice a server missed (its LISTEN connection was
    down) still ends that user's run there once the listener is back, not
    at the run's wall time. Here the account is disabled in SQL, which
    sends no notice, and the server's listening backend is ended."""
    code = add_shell_runtime("t-sh-race-long", wall_ms=60000)
    srv = make_server().start()

    async def go():
        u = await User.new(srv)
        pid = await u.project(code, {"main.sh": "echo up; sleep 50\n"})
        rid = await u.start(pid)
        await u.wait_state(rid, "running")
        psql("UPDATE users SET disabled = true WHERE id = :'v1'", u.uid)
        assert psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE query LIKE 'LISTEN %'")[0][0] != "0"
        assert await async_wait_until(lambda: active_rows(pid) == 0, 20), \
            psql("SELECT id, state, reason FROM runs WHERE project_id = :'v1'", pid)
        return rid
    rid = run(go())
    assert psql("SELECT reason FROM runs WHERE id = :'v1'", rid) == [["cancelled"]]
    srv.stop()


def test_starts_over_a_warm_container_then_the_socket_closes(server, runtimes):
    """After a run ends its slot keeps a warm container; then starts with a
    terminal and without (the warm one matches only one of them) are sent
    at once and the only socket closes (its user's warm containers go):
    the starts go on, and the next socket runs the project."""
    async def go():
        u = await User.new(server)
        pid = await u.project(runtimes["sh"], QUICK)
        await u.c.ws.close()  # each socket below is the user's only one
        for k in range(6):
            c = await logged_in(server, u.name, u.password)
            w = User(c, u.name, u.uid)
            rid = await w.start(pid, {"main.sh": f"echo warm {k}\n"})
            assert (await w.wait_exit(rid)).exit["reason"] == "exited"
            for j in range(k % 3 + 2):
                await c.send("run/start", {"project": pid, "tty": (j + k) % 2 == 0,
                                            "files": {"main.sh": f"echo {j}\n"}})
            await c.ws.close()
        u.c = await logged_in(server, u.name, u.password)
        await settles(u, pid)
    run(go())


def test_starts_of_two_projects_against_a_quota_of_one(server, runtimes):
    """A user allowed one active run sends starts of two projects at once,
    again and again: each is a run or RUN_QUOTA (or superseded), at most
    one row is active at any time after, and both projects run after."""
    async def go():
        u = await User.new(server)
        psql("UPDATE users SET max_active_runs = 1 WHERE id = :'v1'", u.uid)
        a = await u.project(runtimes["sh"], {"main.sh": "sleep 1\n"})
        b = await u.project(runtimes["sh"], {"main.sh": "sleep 1\n"})
        for k in range(5):
            ids = [await u.c.send("run/start", bad_params((a, b)[j % 2], k + j // 2))
                   for j in range(12)]
            got = await u.c.answers(ids)
            rids = []
            for m in got.values():
                if "result" in m:
                    rids.append(m["result"]["run"])
                else:
                    assert error_reason(m) in START_REASONS | {"RUN_QUOTA"}, m
            for rid in rids:
                await u.wait_exit(rid)
        assert psql("SELECT count(*) FROM runs WHERE user_id = :'v1' AND state <> 'finished'",
                    u.uid)[0][0] == "0"
        await settles(u, a)
        await settles(u, b)
    run(go())


def test_starts_replacing_runs_that_wait_in_the_queue(server):
    """The engine has room for one container, held by another user's long
    run: bursts of starts of one project (valid and invalid mixed) replace
    each other while they wait in the fair queue, and a socket with a
    waiting run closes. Each is answered; once the room is back the last
    one runs, and nothing is left waiting or running."""
    code = add_shell_runtime("t-sh-race-q", wall_ms=60000)
    default = psql("SELECT id FROM platforms WHERE is_default")[0][0]
    others = [r[0] for r in psql("SELECT id FROM platforms WHERE enabled AND NOT is_default")]

    def lift(uid):
        psql("UPDATE users SET max_active_runs = 10, pool_cpu_millis = 0, pool_mem_bytes = 0"
             " WHERE id = :'v1'", uid)

    async def go():
        holder = await User.new(server)
        lift(holder.uid)
        hp = await holder.project(code, {"main.sh": "echo up; sleep 50\n"})
        hr = await holder.start(hp)
        await holder.wait_output(hr, "up")
        psql("UPDATE platforms SET max_containers = 1 WHERE id = :'v1'", default)
        u = await User.new(server)
        lift(u.uid)
        pid = await u.project(code, QUICK)
        for rnd in range(4):
            c = u.c if rnd < 3 else await logged_in(server, u.name, u.password)
            ids = [await c.send("run/start", bad_params(pid, k + rnd)) for k in range(12)]
            got = await c.answers(ids)
            for m in got.values():
                if "result" in m:  # it waits for room
                    assert m["result"].get("position", 0) >= 1, m
            rids = started(got.values())
            if rnd == 3:
                await c.ws.close()  # its waiting run goes on without it
                continue
            for rid in rids[:-1]:
                assert (await u.wait_exit(rid)).exit["reason"] == "replaced"
        psql("UPDATE platforms SET max_containers = NULL WHERE id = :'v1'", default)
        result_of(await holder.c.call("run/stop", {"run": hr}))
        await holder.wait_exit(hr)
        await settles(u, pid)
    try:
        for o in others:
            psql("UPDATE platforms SET enabled = false WHERE id = :'v1'", o)
        run(go())
    finally:
        psql("UPDATE platforms SET max_containers = NULL WHERE id = :'v1'", default)
        for o in others:
            psql("UPDATE platforms SET enabled = true WHERE id = :'v1'", o)


def test_one_user_starts_one_project_on_two_servers_at_once(make_server, runtimes):
    """Two server instances, one user with a socket on each: bursts of
    starts of the same project on both at once. The database lets one row
    in; the other instance's start asks for a cancel and tries again. Each
    start is answered, and afterwards the project runs on either server
    with no row or container left."""
    a = make_server().start()
    b = make_server().start()

    async def go():
        u = await User.new(a)
        pid = await u.project(runtimes["sh"], {"main.sh": "echo go; sleep 2\n"})
        v = User(await logged_in(b, u.name, u.password), u.name, u.uid)
        for rnd in range(3):
            ia = [await u.c.send("run/start", bad_params(pid, k)) for k in range(rnd, rnd + 8)]
            ib = [await v.c.send("run/start", bad_params(pid, k)) for k in range(rnd, rnd + 8)]
            ga, gb = await asyncio.gather(u.c.answers(ia, RUN_DEADLINE_S),
                                          v.c.answers(ib, RUN_DEADLINE_S))
            for w, got in ((u, ga), (v, gb)):
                for rid in started(got.values()):
                    ex = (await w.wait_exit(rid)).exit
                    assert ex["reason"] in ("exited", "replaced"), ex
        await settles(u, pid)
        await settles(v, pid)
    run(go())



def test_the_server_stops_while_starts_are_under_way(make_server, runtimes):
    """SIGTERM right after a burst of starts of three projects (some still
    loading, saving or inserting): the server exits 0 with no sanitizer
    report (nothing leaked, nothing used after free) and leaves no active
    row."""
    for k in range(4):
        s = make_server().start()

        async def go():
            u = await User.new(s)
            pids = [await u.project(runtimes["sh"], {"main.sh": "echo hi; sleep 5\n"})
                    for _ in range(3)]
            for j in range(12):
                await u.c.send("run/start", bad_params(pids[j % 3], j))
            await asyncio.sleep(k * 0.004)
            s.proc.send_signal(signal.SIGTERM)
            await u.c.read_until_closed()
            return pids
        pids = run(go())
        s.proc.wait(30)  # our SIGTERM: stop() sends no second one
        assert s.stop() == 0
        assert psql("SELECT count(*) FROM runs WHERE project_id = ANY(:'v1'::bigint[]) AND"
                    " state <> 'finished'", "{" + ",".join(map(str, pids)) + "}")[0][0] == "0"



def test_the_server_stops_while_a_start_waits_for_another_servers_run(make_server, runtimes):
    """A user's run goes on server A; a start of the same project on
    server B meets its row, asks A to cancel it and waits to try again;
    B is stopped meanwhile. B must exit 0 with no sanitizer report: the
    waiting start used to be left behind (its retry timer closed by the
    exit's walk over the loop without its callback), and LeakSanitizer
    reported the start, its slot and its call."""
    a = make_server().start()
    for k in range(3):
        b = make_server().start()

        async def go():
            u = await User.new(a)
            pid = await u.project(runtimes["sh"], {"main.sh": "echo up; sleep 30\n"})
            rid = await u.start(pid)
            await u.wait_output(rid, "up")
            v = await logged_in(b, u.name, u.password)
            await v.send("run/start", {"project": pid, "files": {"main.sh": "echo b\n"}})
            await asyncio.sleep(0.05 + k * 0.1)
            b.proc.send_signal(signal.SIGTERM)
            await v.read_until_closed()
            await u.wait_exit(rid)  # replaced (B asked) or ended by A
            return pid
        pid = run(go())
        b.proc.wait(30)  # our SIGTERM: stop() sends no second one
        assert b.stop() == 0
        assert wait_until(lambda: active_rows(pid) == 0, DEADLINE_S), \
            psql("SELECT id, state, instance FROM runs WHERE project_id = :'v1'", pid)
