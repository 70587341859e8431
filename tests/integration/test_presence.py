"""Presence: who else has a project open (presence/changed, presence/left,
presence/update)."""
import asyncio
import json
import time

from harness import User, connect, run


def test_presence_join_update_leave(server, shell_runtime):
    code = shell_runtime

    async def go():
        a, b = await User.new(server), await User.new(server)
        pid = await a.project(code, {"main.sh": "echo hi\n"})
        r = await a.c.call("project/share", {"id": pid, "username": b.name, "role": "editor"})
        assert "result" in r, r
        assert "result" in await a.c.call("project/open", {"id": pid})
        assert "result" in await b.c.call("project/open", {"id": pid})
        seen_by_a = await a.c.collect_notifications("presence/changed", lambda g: any(p["user"]["username"] == b.name for p in g))
        seen_by_b = await b.c.collect_notifications("presence/changed", lambda g: any(p["user"]["username"] == a.name for p in g))
        # opening again (a client's poll) announces nothing new
        await b.c.call("project/open", {"id": pid})
        assert "result" in await b.c.call("presence/update", {"project": pid, "file": "main.sh"})
        moved = await a.c.collect_notifications("presence/changed", lambda g: any(p.get("file") == "main.sh" for p in g))
        outsider = await User.new(server)
        refused = await outsider.c.call("presence/update", {"project": pid, "file": "x"})
        await b.c.ws.close()
        left = await a.c.collect_notifications("presence/left", lambda g: len(g) >= 1)
        return pid, seen_by_a, seen_by_b, moved, refused, left
    pid, seen_by_a, seen_by_b, moved, refused, left = run(go())
    assert seen_by_a[0]["project"] == pid and seen_by_a[0]["file"] is None
    assert len([p for p in moved if p.get("file") is None]) == 0, moved  # no repeat for the re-open
    assert refused["error"]["data"]["reason"] == "NOT_FOUND"
    assert left[0]["session"] == seen_by_a[0]["session"]


def test_what_one_session_tells_a_room_is_bounded(server, shell_runtime):
    """Each presence event costs every member of the room a frame and the
    other instances a NOTIFY. A project/close of a project never opened told
    the room presence/left (anonymous, no database: 500 closes were 500
    frames to each member); now it tells nothing. presence/update and a
    project/open that joins may happen 10 times a second after 20 at once
    (presence.h), past that RATE_LIMITED with retry_after_s, and the room
    hears of the accepted ones only."""
    async def pipelined(client, calls):
        base = 100_000 + client.next_id
        client.next_id += len(calls)
        for i, (method, params) in enumerate(calls):
            await client.ws.send(json.dumps({"jsonrpc": "2.0", "id": base + i, "method": method,
                                             "params": params}))
        answers = {}
        while len(answers) < len(calls):
            m = await client.receive()
            if "id" in m and m["id"] is not None and m["id"] >= base:
                answers[m["id"]] = m
            else:
                client.notes.append(m)
        return [answers[base + i] for i in range(len(calls))]

    def reasons(answers):
        return [a["error"]["data"]["reason"] if "error" in a else "ok" for a in answers]

    async def heard(watcher):
        """The presence events the watcher got since the last call (everything
        sent before this answer has arrived)."""
        await watcher.c.call("session/hello", {})
        got = [n for n in watcher.c.notes if n.get("method", "").startswith("presence/")]
        watcher.c.notes.clear()
        return got

    async def go():
        owner, watcher, mover = [await User.new(server) for _ in range(3)]
        pid = await owner.project(shell_runtime, {"main.sh": "echo hi\n"})
        assert "result" in await owner.c.call("project/update", {"id": pid, "is_public": True})
        assert "result" in await watcher.c.call("project/open", {"id": pid})
        stranger = await connect(server.ws_url)
        closes = await pipelined(stranger, [("project/close", {"id": pid})] * 500)
        assert "result" in await mover.c.call("project/open", {"id": pid})
        after_closes = await heard(watcher)
        t0 = time.monotonic()
        moves = await pipelined(mover.c, [("presence/update", {"project": pid, "file": f"f{i}.txt"})
                                          for i in range(100)])
        took = time.monotonic() - t0
        after_moves = await heard(watcher)
        cycles = await pipelined(mover.c, [("project/close", {"id": pid}),
                                           ("project/open", {"id": pid})] * 30)
        after_cycles = await heard(watcher)
        await asyncio.sleep(1.2)  # the bucket has two again
        again = [await mover.c.call("project/open", {"id": pid}),
                 await mover.c.call("presence/update", {"project": pid, "file": "main.sh"})]
        return closes, after_closes, moves, took, after_moves, cycles, after_cycles, again

    closes, after_closes, moves, took, after_moves, cycles, after_cycles, again = run(go())
    assert reasons(closes) == ["ok"] * 500
    # the stranger was never there: only the mover's join was heard
    assert [n["method"] for n in after_closes] == ["presence/changed"], after_closes
    accepted = reasons(moves).count("ok")
    # the open took one of the 20; 10 a second come back
    assert 19 <= accepted <= 21 + 10 * took, (accepted, took)
    assert set(reasons(moves)) == {"ok", "RATE_LIMITED"}
    assert all(a["error"]["data"]["retry_after_s"] == 1 for a in moves if "error" in a)
    assert len(after_moves) == accepted, (len(after_moves), accepted)
    # every close of a member is heard, and every open that was let through
    opens = reasons(cycles)[1::2]
    assert reasons(cycles)[0::2] == ["ok"] * 30 and "RATE_LIMITED" in opens, reasons(cycles)
    left = [n for n in after_cycles if n["method"] == "presence/left"]
    joined = [n for n in after_cycles if n["method"] == "presence/changed"]
    assert len(left) == 1 + opens[:-1].count("ok") and len(joined) == opens.count("ok")
    assert reasons(again) == ["ok", "ok"], again
