"""Presence: who else has a project open (presence/changed, presence/left,
presence/update)."""
import asyncio
import json

import pytest

from conftest import Server, run
from test_runs import ROOMY, User, SHELL_IMAGE, make_runtime


@pytest.fixture(scope="module")
def server(tmp_path_factory, db_url):
    s = Server(tmp_path_factory.mktemp("presence"), **ROOMY).start()
    yield s
    s.stop()


async def drain(client, method, want, timeout=10):
    loop = asyncio.get_event_loop()
    deadline = loop.time() + timeout
    got = [n["params"] for n in client.notes if n.get("method") == method]
    client.notes = [n for n in client.notes if n.get("method") != method]
    while not want(got):
        m = json.loads(await asyncio.wait_for(client.ws.recv(), deadline - loop.time()))
        if m.get("method") == method:
            got.append(m["params"])
        else:
            client.notes.append(m)
    return got


def test_presence_join_update_leave(server, db_url):
    code = make_runtime(db_url, "t-sh", SHELL_IMAGE, ["sh", "main.sh"])

    async def go():
        a, b = await User.new(server), await User.new(server)
        pid = await a.project(code, {"main.sh": "echo hi\n"})
        r = await a.c.call("project/share", {"id": pid, "username": b.name, "role": "editor"})
        assert "result" in r, r
        assert "result" in await a.c.call("project/open", {"id": pid})
        assert "result" in await b.c.call("project/open", {"id": pid})
        seen_by_a = await drain(a.c, "presence/changed", lambda g: any(p["user"]["username"] == b.name for p in g))
        seen_by_b = await drain(b.c, "presence/changed", lambda g: any(p["user"]["username"] == a.name for p in g))
        # opening again (a client's poll) announces nothing new
        await b.c.call("project/open", {"id": pid})
        assert "result" in await b.c.call("presence/update", {"project": pid, "file": "main.sh"})
        moved = await drain(a.c, "presence/changed", lambda g: any(p.get("file") == "main.sh" for p in g))
        outsider = await User.new(server)
        refused = await outsider.c.call("presence/update", {"project": pid, "file": "x"})
        await b.c.ws.close()
        left = await drain(a.c, "presence/left", lambda g: len(g) >= 1)
        return pid, seen_by_a, seen_by_b, moved, refused, left
    pid, seen_by_a, seen_by_b, moved, refused, left = run(go())
    assert seen_by_a[0]["project"] == pid and seen_by_a[0]["file"] is None
    assert len([p for p in moved if p.get("file") is None]) == 0, moved  # no repeat for the re-open
    assert refused["error"]["data"]["reason"] == "NOT_FOUND"
    assert left[0]["session"] == seen_by_a[0]["session"]
