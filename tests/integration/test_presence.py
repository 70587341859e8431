"""Presence: who else has a project open (presence/changed, presence/left,
presence/update)."""
from harness import User, run


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
