"""Several server instances sharing one PostgreSQL (issue 15): the rooms of
every instance are one (room_relay.c) — presence, file/changed and
project/changed reach the people of a project whichever instance they are
connected to, directly and behind a real load balancer (HAProxy)."""
import asyncio
import json
import re
import shutil
import subprocess
import time

import pytest
import websockets

from conftest import run
from harness import (ROOT, TEST_PASSWORD, User, add_admin, add_shell_runtime, connect, docker,
                     free_port, http_get, logged_in, psql, result_of, signed_in, wait_until)


async def signed_in_as(server, name, password=User.PASSWORD):
    return await logged_in(server, name, password)


async def opened(client, pid):
    return result_of(await client.call("project/open", {"id": pid}))


async def new_project(client, files=None):
    rts = result_of(await client.call("runtime/list"))
    rt = next(r for r in rts if r.get("available", True))["code"]
    p = result_of(await client.call("project/create", {"name": "relay", "runtime": rt}))
    for path, content in (files or {}).items():
        result_of(await client.call("file/create", {"project": p["id"], "path": path,
                                                    "content": content}))
    return p["id"]


async def presence_of(client, who, timeout=20):
    """The next presence/changed about user who (a name)."""
    deadline = time.monotonic() + timeout
    while True:
        n = await client.next_notification("presence/changed",
                                           timeout=max(0.1, deadline - time.monotonic()))
        if n["params"]["user"]["username"] == who:
            return n["params"]


async def shared_project(a, b):
    """(owner on a, editor on b, the owner's new project shared with them)."""
    owner = await signed_in(a)
    member = await signed_in(b)
    pid = await new_project(owner)
    result_of(await owner.call("project/share", {"id": pid, "username": member.user["username"],
                                                 "role": "editor"}))
    return owner, member, pid


def test_room_events_reach_the_members_on_the_other_instance(make_server, seeded):
    a = make_server().start()
    b = make_server().start()

    async def go():
        owner, member, pid = await shared_project(a, b)
        await opened(owner, pid)
        await opened(member, pid)
        # each sees the other, named after the instance it lives on
        seen_by_owner = await presence_of(owner, member.user["username"])
        seen_by_member = await presence_of(member, owner.user["username"])
        assert "/" in seen_by_owner["session"] and "/" in seen_by_member["session"]

        files = result_of(await owner.call("project/get", {"id": pid}))["files"]
        path = files[0]["path"]
        v = files[0]["version"]
        result_of(await owner.call("file/save", {"project": pid, "path": path,
                                                 "content": "saved on a\n", "base_version": v}))
        n = (await member.next_notification("file/changed"))["params"]
        assert (n["op"], n["path"], n["version"]) == ("saved", path, v + 1)
        assert n["by"]["username"] == owner.user["username"]
        await owner.assert_no_notification("file/changed")  # not echoed to its author

        result_of(await member.call("file/create", {"project": pid, "path": "b.txt",
                                                    "content": "from b"}))
        n = (await owner.next_notification("file/changed"))["params"]
        assert (n["op"], n["path"]) == ("created", "b.txt")

        result_of(await member.call("presence/update", {"project": pid, "file": "b.txt"}))
        moved = await presence_of(owner, member.user["username"])
        assert moved["file"] == "b.txt" and moved["session"] == seen_by_owner["session"]

        result_of(await owner.call("project/update", {"id": pid, "name": "renamed on a"}))
        n = (await member.next_notification("project/changed"))["params"]
        assert (n["op"], n["name"]) == ("updated", "renamed on a")

        await member.ws.close()
        left = (await owner.next_notification("presence/left"))["params"]
        assert left["session"] == seen_by_owner["session"]

        # a visitor on b hears the deletion once
        visitor = await signed_in(b)
        result_of(await owner.call("project/update", {"id": pid, "is_public": True}))
        await opened(visitor, pid)
        await presence_of(owner, visitor.user["username"])
        result_of(await owner.call("project/delete", {"id": pid}))
        n = (await visitor.next_notification("project/changed"))["params"]
        if n["op"] == "updated":  # the relayed is_public change reached b after they joined
            assert n["is_public"] is True, n
            n = (await visitor.next_notification("project/changed"))["params"]
        assert n["op"] == "deleted"
        await visitor.assert_no_notification("project/changed", wait=2)
    run(go())


def test_a_burst_of_saves_reaches_the_other_instance_whole_and_in_order(make_server, seeded):
    """Relayed events leave in batches (room_relay.c): 5 clients on a each save
    their own file 30 times at once; a member on b hears all 150 file/changed,
    each file's versions in order."""
    a = make_server().start()
    b = make_server().start()

    async def go():
        owner, member, pid = await shared_project(a, b)
        await opened(member, pid)
        savers = [owner] + [await signed_in_as(a, owner.user["username"], TEST_PASSWORD)
                            for _ in range(4)]
        paths = []
        for i, c in enumerate(savers):
            paths.append(f"f{i}.txt")
            result_of(await c.call("file/create", {"project": pid, "path": paths[-1], "content": ""}))
        for _ in paths:
            await member.next_notification("file/changed")

        async def save(c, path):
            v = 1
            for k in range(30):
                v = result_of(await c.call("file/save", {"project": pid, "path": path,
                                                         "content": f"{k}\n", "base_version": v}))["version"]
        await asyncio.gather(*(save(c, p) for c, p in zip(savers, paths)))
        got = {p: [] for p in paths}
        for _ in range(150):
            n = (await member.next_notification("file/changed", timeout=20))["params"]
            got[n["path"]].append(n["version"])
        assert all(vs == list(range(2, 32)) for vs in got.values()), got
        await member.assert_no_notification("file/changed", wait=1)
    run(go())


def test_a_member_joining_on_one_instance_learns_who_is_on_the_others(make_server, seeded):
    a = make_server().start()
    b = make_server().start()

    async def go():
        owner = await signed_in(a)
        pid = await new_project(owner)
        result_of(await owner.call("project/update", {"id": pid, "is_public": True}))
        await opened(owner, pid)
        result_of(await owner.call("presence/update", {"project": pid, "file": "x"}))
        late = await signed_in(b)
        await opened(late, pid)
        p = await presence_of(late, owner.user["username"])
        assert p["file"] == "x" and p["session"].endswith("/" + p["session"].split("/")[-1])
    run(go())


HAPROXY_CFG = """global
    maxconn 1000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend www
    bind 127.0.0.1:{port}
    default_backend runit
backend runit
    balance roundrobin
    option httpchk GET /healthz
{servers}
"""


@pytest.fixture
def balanced(make_server, tmp_path):
    """Two instances behind HAProxy (round robin, health-checked)."""
    if not shutil.which("haproxy"):
        pytest.fail("haproxy is missing: scripts/test installs it")
    servers = [make_server().start(), make_server().start()]
    port = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(HAPROXY_CFG.format(port=port, servers="\n".join(
        f"    server s{i} 127.0.0.1:{s.port} check inter 500ms" for i, s in enumerate(servers))))
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "haproxy.log", "wb"))
    deadline = time.monotonic() + 20
    while True:
        try:
            code, _, _ = http_get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if code == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None, (tmp_path / "haproxy.log").read_text()
        assert time.monotonic() < deadline, "haproxy did not answer"
        time.sleep(0.1)
    yield f"ws://127.0.0.1:{port}/ws", servers
    proc.terminate()
    proc.wait(10)


def open_websockets(server):
    _, _, body = http_get(server.url + "/metrics")
    return int(re.search(r"^runit_websockets_open (\d+)", body.decode(), re.M).group(1))


def test_two_people_behind_haproxy_on_two_instances_work_together(balanced, seeded):
    url, servers = balanced

    class Via:
        ws_url = url

    async def go():
        one = await signed_in(Via)
        two = await signed_in(Via)
        # round robin put them on different instances
        assert sorted(open_websockets(s) for s in servers) == [1, 1]
        pid = await new_project(one)
        result_of(await one.call("project/share", {"id": pid, "username": two.user["username"],
                                                   "role": "editor"}))
        await opened(one, pid)
        await opened(two, pid)
        await presence_of(one, two.user["username"])
        files = result_of(await two.call("project/get", {"id": pid}))["files"]
        result_of(await two.call("file/save", {"project": pid, "path": files[0]["path"],
                                               "content": "together\n",
                                               "base_version": files[0]["version"]}))
        n = (await one.next_notification("file/changed"))["params"]
        assert n["op"] == "saved" and n["by"]["username"] == two.user["username"]
        got = result_of(await one.call("file/read", {"project": pid, "path": files[0]["path"]}))
        assert got["content"] == "together\n"
    run(go())


def test_the_compose_balancer_spreads_keeps_and_fails_over(make_server, seeded, tmp_path):
    """deploy/haproxy-compose.cfg itself (docker-compose.yml's balancer; the
    replicas' names replaced by loopback ports): new browsers alternate
    between the replicas, its cookie keeps a browser on its replica, the
    websocket passes, and a replica that dies is taken out by the health
    check (its browsers go to the other)."""
    servers = [make_server().start(), make_server().start()]
    port = free_port()
    cfg = open(f"{ROOT}/deploy/haproxy-compose.cfg").read()
    cfg = re.sub(r"\nresolvers docker\n(    .*\n)+", "\n", cfg).replace(" resolvers docker", "")
    cfg = cfg.replace("bind :8080", f"bind 127.0.0.1:{port}")
    # 20000 connections need 40000 descriptors: more than this machine's hard limit
    cfg = re.sub(r"maxconn \d+", "maxconn 1000", cfg)
    for i, s in enumerate(servers, 1):
        assert f"server-{i}:8080" in cfg
        cfg = cfg.replace(f"server-{i}:8080", f"127.0.0.1:{s.port}")
    (tmp_path / "haproxy.cfg").write_text(cfg)
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(tmp_path / "haproxy.cfg")],
                            stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "haproxy.log", "wb"))
    base = f"127.0.0.1:{port}"
    try:
        def up():
            try:
                return http_get(f"http://{base}/haproxy-health", timeout=2)[0] == 200
            except OSError:  # not listening yet
                return False
        assert wait_until(up, timeout=20), (tmp_path / "haproxy.log").read_text()
        # both replicas checked up (rise 2, every 2 s)
        time.sleep(5)
        code, headers, _ = http_get(f"http://{base}/healthz")
        cookie = headers.get("Set-Cookie", "")
        assert code == 200 and re.match(r"RUNIT_REPLICA=s[12];", cookie), cookie
        assert "HttpOnly" in cookie and "Secure" in cookie

        async def go():
            one = await connect(f"ws://{base}/ws")
            two = await connect(f"ws://{base}/ws")
            spread = sorted(open_websockets(s) for s in servers)
            kept = [await connect(f"ws://{base}/ws", extra_headers={"Cookie": "RUNIT_REPLICA=s2"})
                    for _ in range(3)]
            counts = [open_websockets(s) for s in servers]
            # the websocket works through it: sign up and call
            me = await signed_in(type("Via", (), {"ws_url": f"ws://{base}/ws"}))
            listed = result_of(await me.call("runtime/list"))
            servers[1].kill()
            t0 = time.monotonic()
            moved = None
            while time.monotonic() - t0 < 20:
                try:  # refused (503, a reset) until the health check takes s2 out
                    c = await connect(f"ws://{base}/ws",
                                      extra_headers={"Cookie": "RUNIT_REPLICA=s2"})
                    r = await c.call("runtime/list")
                    await c.ws.close()
                except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
                    r = {}
                if "result" in r:
                    moved = time.monotonic() - t0
                    break
                await asyncio.sleep(0.5)
            for c in [one, two, *kept]:
                await c.ws.close()
            return spread, counts, listed, moved
        spread, counts, listed, moved = run(go())
    finally:
        proc.terminate()
        proc.wait(10)
    assert spread == [1, 1]
    assert counts[1] - counts[0] >= 3, counts
    assert listed
    assert moved is not None, "the dead replica's browsers did not move to the other"
    print(f"a dead replica's browsers reach the other {moved:.1f} s after kill -9")


def test_a_killed_instance_is_taken_over_by_another(make_server, shell_runtime):
    """kill -9 of the instance running a run: another instance ends the run
    and removes its container within about 1.25 x RUNIT_INSTANCE_DEAD_S."""
    dead_s = 3
    a = make_server(RUNIT_INSTANCE_DEAD_S=dead_s).start()
    b = make_server(RUNIT_INSTANCE_DEAD_S=dead_s).start()
    label = f"label=run-it.instance={a.env['RUNIT_INSTANCE']}"

    async def go():
        u = await User.new(a)
        pid = await u.project(shell_runtime, {"main.sh": "echo up; sleep 300\n"})
        rid = await u.start(pid)
        await u.wait_output(rid, "up")
        return rid
    rid = run(go())
    assert docker("ps", "-q", "--filter", label).stdout.strip(), "the run's container is not there"
    assert wait_until(lambda: psql("SELECT 1 FROM instances WHERE name = :'v1'",
                                   b.env["RUNIT_INSTANCE"]), timeout=10)
    a.kill()
    t0 = time.monotonic()
    assert wait_until(lambda: psql("SELECT state FROM runs WHERE id = :'v1'", rid)
                      == [["finished"]], timeout=60)
    ended_s = time.monotonic() - t0
    row = psql("SELECT reason, error_message FROM runs WHERE id = :'v1'", rid)
    assert row == [["error", "its server instance stopped answering"]]
    assert wait_until(lambda: not docker("ps", "-aq", "--filter", label).stdout.strip(),
                      timeout=60)
    gone_s = time.monotonic() - t0
    assert not psql("SELECT 1 FROM instances WHERE name = :'v1'", a.env["RUNIT_INSTANCE"])
    assert "took over a dead server instance" in b.log_text()
    print(f"run ended {ended_s:.1f} s and container removed {gone_s:.1f} s after kill -9 "
          f"(dead time {dead_s} s)")


# half way it waits for a line on stdin: the test attaches while it runs,
# however slow the machine
TICKS = ('i=0; while [ $i -lt 40 ]; do echo "tick $i"; i=$((i+1)); '
         '[ $i -eq 20 ] && read go; sleep 0.1; done; echo END\n')
EXPECTED = "".join(f"tick {i}\n" for i in range(40)) + "END\n"


def contiguous(events):
    seqs = [e["params"]["seq"] for e in events if "seq" in e.get("params", {})]
    return seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


def test_live_output_of_a_run_reaches_the_other_instance(make_server, shell_runtime):
    """A run started on instance a: a member on instance b sees it live, in
    order and whole; the run's user, reconnected to b, attaches in the
    middle and gets the rest without a gap."""
    a = make_server().start()
    b = make_server().start()

    async def go():
        owner = await User.new(a)
        member = await User.new(b)
        pid = await owner.project(shell_runtime, {"main.sh": TICKS})
        ok_share = await owner.c.call("project/share", {"id": pid, "username": member.name,
                                                        "role": "viewer"})
        result_of(ok_share)
        await opened(member.c, pid)
        rid = await owner.start(pid)
        await owner.wait_output(rid, "tick 5")
        # the run's user comes back on the other instance, mid-run
        again = User(await signed_in_as(b, owner.name), owner.name, owner.uid)
        await owner.wait_output(rid, "tick 19")
        # what it had seen before the connection dropped; it resumes after that
        before = [n for n in owner.c.notes if n.get("params", {}).get("run") == rid]
        last = max(n["params"]["seq"] for n in before if "seq" in n["params"])
        head = "".join(n["params"]["data"] for n in before if n["method"] == "run/log"
                       and n["params"]["seq"] <= last)
        att = result_of(await again.c.call("run/attach", {"run": rid, "from_seq": last + 1}))
        assert att["live"] is True and att["state"] == "running", att
        result_of(await owner.c.call("run/stdin", {"run": rid, "data": "go\n"}))
        watched = await member.wait_exit(rid, timeout=60)
        resumed = await again.wait_exit(rid, timeout=60)
        mine = await owner.wait_exit(rid, timeout=60)
        return watched, resumed, mine, head, last, owner, pid
    watched, resumed, mine, head, last, owner, pid = run(go())
    # a follower's run/status says who started the run, as the owner's does
    for got in (watched, mine):
        statuses = [e["params"] for e in got.events if e["method"] == "run/status"]
        assert statuses and all(p["by"] == {"id": owner.uid, "username": owner.name}
                                and p["project"] == pid for p in statuses), statuses
    assert mine.text() == EXPECTED
    assert watched.text() == EXPECTED, watched.events[-3:]
    assert not [e for e in watched.events if e["method"] == "run/gap"]
    assert contiguous(watched.events)[0], contiguous(watched.events)[1]
    assert watched.exit["reason"] == mine.exit["reason"] == "exited"
    assert head + resumed.text() == EXPECTED
    assert contiguous(resumed.events)[1][0] == last + 1 and contiguous(resumed.events)[0]
    assert not [e for e in resumed.events if e["method"] == "run/gap"]


def test_a_run_is_stopped_and_cancelled_from_another_instance(make_server, shell_runtime):
    a = make_server().start()
    b = make_server().start()
    admin = add_admin()

    async def go():
        owner = await User.new(a)
        pid = await owner.project(shell_runtime, {"main.sh": "echo up; sleep 300\n"})
        rid = await owner.start(pid)
        await owner.wait_output(rid, "up")
        there = await signed_in_as(b, owner.name)
        result_of(await there.call("run/stop", {"run": rid}))
        stopped = await owner.wait_exit(rid, timeout=60)

        rid2 = await owner.start(pid)
        await owner.wait_output(rid2, "up")
        stranger = await signed_in(b)
        refused = await stranger.call("run/stop", {"run": rid2})
        boss = await signed_in_as(b, admin, password=TEST_PASSWORD)
        result_of(await boss.call("admin/run/cancel", {"run": rid2}))
        cancelled = await owner.wait_exit(rid2, timeout=60)
        return stopped, refused, cancelled
    stopped, refused, cancelled = run(go())
    assert stopped.exit["reason"] == "stopped"
    assert refused["error"]["data"]["reason"] == "NOT_FOUND"
    assert cancelled.exit["reason"] == "cancelled"


def test_admins_see_the_events_of_every_instance(make_server, shell_runtime):
    """An admin connected to instance b sees what happens on instance a —
    a sign-up, a run started and ended, an error (too large for a NOTIFY:
    sent cut), an audited action — once each, numbered in b's own sequence
    without holes; the admin on a sees a's events once (no echo, no loop)."""
    a = make_server().start()
    b = make_server().start()
    admin = add_admin()
    name_a = a.env["RUNIT_INSTANCE"]

    async def go():
        boss_b = await signed_in_as(b, admin, password=TEST_PASSWORD)
        boss_a = await signed_in_as(a, admin, password=TEST_PASSWORD)
        seq_b = result_of(await boss_b.call("admin/subscribe", {}))["seq"]
        seq_a = result_of(await boss_a.call("admin/subscribe", {}))["seq"]
        u = await User.new(a)
        pid = await u.project(shell_runtime, {"main.sh": "echo hi\n"})
        rid = await u.start(pid)
        assert (await u.wait_exit(rid)).exit["reason"] == "exited"
        result_of(await u.c.call("client/error", {"message": "relayed boom", "type": "TypeError",
                                                  "stack": "at x (y.js:1:1)\n" * 900}))
        victim = await User.new(b)
        result_of(await boss_a.call("admin/user/disable", {"id": victim.uid}))

        def mine(evs):
            return [e for e in evs if e["instance"] == name_a and (
                (e["topic"], e["kind"]) == ("user", "signup") and e["data"]["user"] == u.uid
                or e["topic"] == "run" and e["data"].get("run") == rid
                or e["topic"] == "error" and e["data"].get("message") == "relayed boom"
                or (e["topic"], e["kind"]) == ("user", "disable"))]

        def complete(evs):
            kinds = [(e["topic"], e["kind"]) for e in mine(evs)]
            return ("run", "ended") in kinds and ("error", "new") in kinds and \
                ("user", "disable") in kinds
        on_b = await boss_b.collect_notifications("admin/event", complete, timeout=30)
        on_a = await boss_a.collect_notifications("admin/event", complete, timeout=30)
        await asyncio.sleep(2)  # duplicates or echoes would come now
        on_b += await boss_b.collect_notifications("admin/event", lambda _: True)
        on_a += await boss_a.collect_notifications("admin/event", lambda _: True)
        return seq_a, seq_b, on_a, on_b, u, rid
    seq_a, seq_b, on_a, on_b, u, rid = run(go())
    for seq0, evs in ((seq_a, on_a), (seq_b, on_b)):
        assert [e["seq"] for e in evs] == list(range(seq0 + 1, seq0 + 1 + len(evs)))
        ours = [(e["topic"], e["kind"]) for e in evs if e["instance"] == name_a and (
            e["topic"] == "run" and e["data"].get("run") == rid
            or e["topic"] == "user" and e["kind"] in ("signup", "disable")
            or e["topic"] == "error" and e["data"].get("message") == "relayed boom")]
        assert sorted(ours) == sorted([("user", "signup"), ("run", "queued"), ("run", "started"),
                                       ("run", "ended"), ("error", "new"),
                                       ("user", "disable")]), ours
    ended = next(e for e in on_b if e["topic"] == "run" and e["kind"] == "ended")
    assert ended["data"]["user"] == u.uid and ended["data"]["reason"] == "exited"
    err_b = next(e for e in on_b if e["topic"] == "error")
    err_a = next(e for e in on_a if e["topic"] == "error")
    assert "stack" in json.dumps(err_a["data"]) and err_b["data"]["truncated"] is True
    # b's own connections are b's; a's are not relayed
    assert not [e for e in on_b if e["topic"] == "session" and e["instance"] == name_a]
    assert [e for e in on_b if e["topic"] == "session" and e["instance"] != name_a]


MANY = 20
LINES = 'i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); [ $((i % 50)) -eq 0 ] && sleep 0.2; done; echo END\n'
LINES_OUT = "".join(f"line {i}\n" for i in range(300)) + "END\n"


def test_many_watchers_on_another_instance_get_every_byte_in_order(make_server, shell_runtime):
    """20 sessions on instance b watch a run of instance a: each gets the
    whole output, in order, with consecutive seq and no run/gap, and the
    same run/exit."""
    a = make_server().start()
    b = make_server().start()

    async def go():
        owner = await User.new(a)
        pid = await owner.project(shell_runtime, {"main.sh": LINES})
        watchers = []
        for _ in range(MANY):
            w = User(await signed_in_as(b, owner.name), owner.name, owner.uid)
            await opened(w.c, pid)
            watchers.append(w)
        rid = await owner.start(pid)
        mine = await owner.wait_exit(rid, timeout=120)
        seen = await asyncio.gather(*(w.wait_exit(rid, timeout=120) for w in watchers))
        return mine, seen
    mine, seen = run(go())
    assert mine.text() == LINES_OUT
    for i, got in enumerate(seen):
        assert got.text() == LINES_OUT, (i, got.text()[-200:])
        assert not [e for e in got.events if e["method"] == "run/gap"], i
        ok, seqs = contiguous(got.events)
        assert ok and seqs[0] == 1, (i, seqs[:5])
        assert got.exit["reason"] == "exited" and got.exit["seq"] == mine.exit["seq"]


def test_a_dead_instance_restarting_while_another_takes_it_over(make_server, seeded):
    """kill -9 of instance a with three runs, and a restarted (same
    instance name) right when b finds it dead: each run ends once (one
    stored run/exit, one reason), each container is removed, and neither
    server logs an error."""
    dead_s = 2
    # runs that outlive the test's slowest start (the default wall is 10 s)
    long_sh = add_shell_runtime("t-sh-long", wall_ms=600000)
    a = make_server(RUNIT_INSTANCE_DEAD_S=dead_s).start()
    b = make_server(RUNIT_INSTANCE_DEAD_S=dead_s).start()
    label = f"label=run-it.instance={a.env['RUNIT_INSTANCE']}"

    async def go():
        rids = []
        for _ in range(3):
            u = await User.new(a)
            pid = await u.project(long_sh, {"main.sh": "echo up; sleep 300\n"})
            rid = await u.start(pid)
            await u.wait_output(rid, "up")
            rids.append(rid)
        return rids
    rids = run(go())
    # the three runs' containers, and the warm ones a keeps ready
    assert len(docker("ps", "-q", "--filter", label).stdout.split()) >= 3
    assert wait_until(lambda: psql("SELECT 1 FROM instances WHERE name = :'v1'",
                                   b.env["RUNIT_INSTANCE"]), timeout=10)
    a.kill()
    time.sleep(dead_s)  # b's next look finds a dead about now
    a.start()
    ids = ",".join(str(r) for r in rids)
    assert wait_until(lambda: psql(f"SELECT count(*) FROM runs WHERE id IN ({ids}) "
                                   "AND state = 'finished'") == [["3"]], timeout=60)
    assert wait_until(lambda: not docker("ps", "-aq", "--filter", label).stdout.strip(),
                      timeout=60)
    time.sleep(2 * dead_s)  # anything late (a second end, a second removal) would show now
    exits = psql(f"SELECT run_id, count(*) FROM run_logs WHERE run_id IN ({ids}) "
                 "AND stream = 'meta' GROUP BY run_id ORDER BY run_id")
    assert exits == [[str(r), "1"] for r in sorted(rids)], exits
    reasons = psql(f"SELECT reason FROM runs WHERE id IN ({ids})")
    assert all(r == ["error"] for r in reasons), reasons
    # a took its own name back: alive, not reaped again
    assert wait_until(lambda: psql("SELECT 1 FROM instances WHERE name = :'v1'",
                                   a.env["RUNIT_INSTANCE"]), timeout=10)
    for s in (a, b):
        errors = [ln for ln in s.log_text().splitlines() if '"level":"error"' in ln]
        assert not errors, errors[:5]
    print("takeover:", "b" if "took over a dead server instance" in b.log_text() else "a itself")
