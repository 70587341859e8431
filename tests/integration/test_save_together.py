"""Issue 16, saves: file/saves made while one is still in the database wait
for it, then go together, in one statement and one transaction
(server/core/dbbatch.c, sql/031_save_many.sql). Each still gets exactly the
answer it would get alone: of two saves of one file on the same version one
wins and the other gets CONFLICT, a missing file NOT_FOUND, and the room
hears each change once. A save held up by a lock holds the others back for
RUNIT_SAVE_WAIT_MS at most, and a statement that fails as a whole (a
deadlock) sends each save alone again. The real server and PostgreSQL; the
locks are held by psql sessions."""
import asyncio
import os
import re
import subprocess

from harness import (DB_URL, DEADLINE_S, User, error_reason, http_get, logged_in, psql,
                     result_of, run, wait_until)


def metric(srv, name):
    body = http_get(srv.url + "/metrics")[2].decode()
    m = re.search(rf"^{re.escape(name)} (\S+)$", body, re.M)
    assert m, f"{name} is not in /metrics"
    return float(m.group(1))


class Holder:
    """A psql session that holds row locks in an open transaction."""

    def __init__(self):
        self.p = subprocess.Popen([os.environ.get("RUNIT_PSQL", "psql"), DB_URL, "-XAtq"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)

    def send(self, sql):
        self.p.stdin.write(sql + "\n")
        self.p.stdin.flush()

    def lock_project(self, pid):
        """Begin, if not yet, and take project pid's row; back once it is taken."""
        if not getattr(self, "begun", False):
            self.send("BEGIN;")
            self.begun = True
        self.send(f"SELECT 1 FROM projects WHERE id = {int(pid)} FOR UPDATE;")
        self.send(f"SELECT 'holding {int(pid)}';")
        wait_until(lambda: psql("SELECT count(*) FROM pg_stat_activity WHERE state ="
                                " 'idle in transaction' AND query LIKE :'v1'",
                                f"SELECT 'holding {int(pid)}'%") == [["1"]])

    def want_project(self, pid):
        """Ask for project pid's row; does not wait for it."""
        self.send(f"SELECT 1 FROM projects WHERE id = {int(pid)} FOR UPDATE;")

    def end(self):
        """Roll back and quit; what psql said on stderr."""
        self.send("ROLLBACK;")
        self.p.stdin.close()
        self.p.wait(DEADLINE_S)
        return self.p.stderr.read()


def waiting_on_lock(sql_like):
    """Backends of the test database waiting for a lock in a statement like sql_like."""
    return int(psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE :'v1'", sql_like)[0][0])


async def async_wait(check, timeout=DEADLINE_S):
    """wait_until without stopping the loop (the sockets' answers keep coming)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not true in time"
        await asyncio.sleep(0.05)


async def sockets(u, server, n):
    """n more signed-in websockets of user u."""
    return [await logged_in(server, u.name, u.password) for _ in range(n)]


def save(c, pid, path, content, base):
    return asyncio.ensure_future(c.call("file/save", {"project": pid, "path": path,
                                                      "content": content, "base_version": base}))


def test_saves_made_while_one_is_in_the_database_go_together_each_with_its_own_answer(
        make_server, shell_runtime):
    srv = make_server(RUNIT_SAVE_WAIT_MS="60000").start()
    holder = Holder()

    async def go():
        u = await User.new(srv)
        a = await u.project(shell_runtime, {"a.txt": "a"})
        b = await u.project(shell_runtime, {"x.txt": "x", "y.txt": "y"})
        watcher = (await sockets(u, srv, 1))[0]
        result_of(await watcher.call("project/open", {"id": b}))
        cs = await sockets(u, srv, 5)
        together0 = metric(srv, "runit_db_together_calls_total")
        # project a's row is held: its save goes to the database and waits there
        holder.lock_project(a)
        held = save(cs[0], a, "a.txt", "a2", 1)
        await async_wait(lambda: waiting_on_lock("%runit_file_save%") == 1)
        # made meanwhile: they wait in the server
        x1 = save(cs[1], b, "x.txt", "x from one", 1)
        x2 = save(cs[2], b, "x.txt", "x from two", 1)
        y = save(cs[3], b, "y.txt", "y2", 1)
        missing = save(cs[4], b, "nope.txt", "n", 1)
        await async_wait(lambda: metric(srv, "runit_db_together_waiting") == 4)
        answered_early = [t for t in (held, x1, x2, y, missing) if t.done()]
        err = holder.end()
        answers = await asyncio.wait_for(asyncio.gather(held, x1, x2, y, missing), DEADLINE_S)
        together = metric(srv, "runit_db_together_calls_total") - together0
        changed = await watcher.collect_notifications(
            "file/changed", lambda got: len(got) >= 2, timeout=DEADLINE_S)
        await watcher.assert_no_notification("file/changed", 0.5)
        return answered_early, err, answers, together, changed, a, b

    answered_early, err, (held, x1, x2, y, missing), together, changed, a, b = run(go())
    assert answered_early == [], "a save answered while the held one was in the database"
    assert err == "", err
    assert together == 4, f"{together} saves went together, not the four made meanwhile"
    assert metric(srv, "runit_db_together_waiting") == 0
    assert result_of(held)["version"] == 2
    won = [r for r in (x1, x2) if "result" in r]
    lost = [r for r in (x1, x2) if "error" in r]
    assert len(won) == 1 and len(lost) == 1, (x1, x2)
    assert result_of(won[0])["version"] == 2
    assert error_reason(lost[0]) == "CONFLICT" and lost[0]["error"]["data"]["version"] == 2, lost
    winner = "x from one" if won[0] is x1 else "x from two"
    assert result_of(y)["version"] == 2
    assert error_reason(missing) == "NOT_FOUND", missing
    assert psql("SELECT path, content, version FROM files WHERE project_id = :'v1' ORDER BY 1",
                b) == [["x.txt", winner, "2"], ["y.txt", "y2", "2"]]
    assert psql("SELECT content FROM files WHERE project_id = :'v1'", a) == [["a2"]]
    # the replaced texts are history, once each
    assert psql("SELECT f.path, v.version, v.content FROM file_versions v JOIN files f ON"
                " f.id = v.file_id WHERE f.project_id = :'v1' ORDER BY 1", b) == [
        ["x.txt", "1", "x"], ["y.txt", "1", "y"]]
    assert sorted((c["path"], c["version"], c["op"]) for c in changed) == [
        ("x.txt", 2, "saved"), ("y.txt", 2, "saved")], changed


def test_a_save_held_by_a_lock_holds_the_others_back_only_a_moment(make_server,
                                                                   shell_runtime):
    srv = make_server().start()  # RUNIT_SAVE_WAIT_MS: the default, 200
    holder = Holder()

    async def go():
        u = await User.new(srv)
        a = await u.project(shell_runtime, {"a.txt": "a"})
        b = await u.project(shell_runtime, {"b.txt": "b"})
        cs = await sockets(u, srv, 2)
        holder.lock_project(a)
        held = save(cs[0], a, "a.txt", "a2", 1)
        await async_wait(lambda: waiting_on_lock("%runit_file_save%") == 1)
        others = [result_of(await cs[1].call("file/save", {
            "project": b, "path": "b.txt", "content": f"b{i}", "base_version": i}))["version"]
            for i in range(1, 4)]
        still_held = not held.done()
        holder.end()
        return others, still_held, await asyncio.wait_for(held, DEADLINE_S)

    others, still_held, held = run(go())
    assert others == [2, 3, 4] and still_held
    assert result_of(held)["version"] == 2


def test_saves_sent_together_that_deadlock_go_again_each_alone(make_server, shell_runtime):
    srv = make_server(RUNIT_SAVE_WAIT_MS="60000").start()

    async def attempt(u):
        """One try: (whether the statement of saves was the deadlock's victim,
        the three answers, the three projects)."""
        first_holder, second_holder = Holder(), Holder()
        c = await u.project(shell_runtime, {"c.txt": "c"})
        first = await u.project(shell_runtime, {"b.txt": "b"})  # locked first by the batch
        second = await u.project(shell_runtime, {"a.txt": "a"})
        cs = await sockets(u, srv, 3)
        first_holder.lock_project(c)
        second_holder.lock_project(second)
        out = save(cs[0], c, "c.txt", "c2", 1)
        await async_wait(lambda: waiting_on_lock("%runit_file_save_announce_later%") == 1)
        b_save = save(cs[1], first, "b.txt", "b2", 1)
        a_save = save(cs[2], second, "a.txt", "a2", 1)
        await async_wait(lambda: metric(srv, "runit_db_together_waiting") == 2)
        # c's save returns; the two go together: first's row, then second's, held
        first_holder.end()
        await async_wait(lambda: waiting_on_lock("%runit_file_save_many%") == 1)
        # second's holder now wants first's row, which the batch holds: a
        # deadlock. PostgreSQL ends the one whose deadlock_timeout (1 s) passes
        # first: the batch, unless this machine took most of a second to get
        # here; then the holder is ended, and the test tries again
        second_holder.want_project(first)
        asked = f"SELECT 1 FROM projects WHERE id = {int(first)} FOR UPDATE%"

        def holder_ended():
            return psql("SELECT count(*) FROM pg_stat_activity WHERE state ="
                        " 'idle in transaction (aborted)' AND query LIKE :'v1'", asked) == [["1"]]
        await async_wait(lambda: "calls sent together failed" in srv.log_text()
                         or holder_ended())
        batch_ended = "calls sent together failed" in srv.log_text()
        second_holder.end()
        answers = await asyncio.wait_for(asyncio.gather(out, b_save, a_save), DEADLINE_S)
        return batch_ended, answers, (c, first, second)

    async def go():
        u = await User.new(srv)
        tries = []
        while len(tries) < 3 and not (tries and tries[-1][0]):
            tries.append(await attempt(u))
        return tries

    tries = run(go())
    for _, answers, _ in tries:
        assert [result_of(r)["version"] for r in answers] == [2, 2, 2], answers
    assert tries[-1][0], f"the batch was never the deadlock's victim in {len(tries)} tries"
    projects = tries[-1][2]
    lines = [ln.replace(" ", "") for ln in srv.log_text().splitlines()
             if "calls sent together failed" in ln]
    assert len(lines) == 1 and '"sqlstate":"40P01"' in lines[0] \
        and '"sent_alone":true' in lines[0] and '"calls":2' in lines[0], lines
    assert psql("SELECT string_agg(content, ',' ORDER BY path) FROM files WHERE project_id IN"
                " (:'v1', :'v2', :'v3')", *projects) == [["a2,b2,c2"]]


def test_saves_waiting_when_the_server_stops_are_answered_and_nothing_leaks(make_server,
                                                                            shell_runtime):
    srv = make_server(RUNIT_SAVE_WAIT_MS="60000").start()
    holder = Holder()

    async def go():
        u = await User.new(srv)
        a = await u.project(shell_runtime, {"a.txt": "a"})
        b = await u.project(shell_runtime, {"b.txt": "b", "c.txt": "c"})
        cs = await sockets(u, srv, 3)
        holder.lock_project(a)
        held = save(cs[0], a, "a.txt", "a2", 1)
        await async_wait(lambda: waiting_on_lock("%runit_file_save%") == 1)
        waiting = [save(cs[1], b, "b.txt", "b2", 1), save(cs[2], b, "c.txt", "c2", 1)]
        await async_wait(lambda: metric(srv, "runit_db_together_waiting") == 2)
        code = await asyncio.get_running_loop().run_in_executor(None, srv.stop)
        holder.end()
        outcomes = []
        for t in [held] + waiting:
            try:
                outcomes.append(await asyncio.wait_for(t, DEADLINE_S))
            except Exception as e:  # the socket closed with the server
                outcomes.append(type(e).__name__)
        return code, outcomes, a, b

    code, outcomes, a, b = run(go())
    assert code == 0
    # an answer, if any came, is an error; the two waiting were never sent (the
    # held one was: PostgreSQL may finish it once the lock is let go)
    assert all(not isinstance(o, dict) or error_reason(o) == "UNAVAILABLE" for o in outcomes), \
        outcomes
    assert psql("SELECT string_agg(content || version, ',' ORDER BY path) FROM files"
                " WHERE project_id = :'v1'", b) == [["b1,c1"]]
