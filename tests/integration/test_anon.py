"""Issue 13: the front door. A session that has not signed in reads public
projects (files, and the latest run's output when the owner made runs
public), gets NOT_FOUND for private ones and UNAUTHENTICATED for every
write; it is cut off when the project is made private while its socket is
open. And prefs/get, prefs/set (the theme kept with the account). Real
server, real PostgreSQL, real Docker for the run."""
import json

import pytest

from harness import (User, connect, error_reason, result_of, run, signed_in)


@pytest.fixture(scope="module")
def srv(server, shell_runtime):
    return server


async def public_project(owner, public=True, files=None):
    pid = await owner.project("t-sh", files or {"main.sh": "echo hello from $0\n",
                                                "lib/util.sh": "x=1\n"})
    result_of(await owner.c.call("project/update", {"id": pid, "is_public": public}))
    return pid


def test_anonymous_session_reads_a_public_projects_files(srv):
    async def go():
        owner = await User.new(srv, "own")
        pid = await public_project(owner)
        anon = await connect(srv.ws_url)
        hello = result_of(await anon.call("session/hello"))
        assert hello["user"] is None
        p = result_of(await anon.call("project/get", {"id": pid}))
        assert p["access"] == "public" and p["public_runs"] is False
        assert sorted(f["path"] for f in p["files"]) == ["lib/util.sh", "main.sh"]
        opened = result_of(await anon.call("project/open", {"id": pid}))
        assert opened["access"] == "public" and opened["watchers"] >= 1
        listed = result_of(await anon.call("file/list", {"project": pid}))["files"]
        assert [f["path"] for f in listed] == ["lib/util.sh", "main.sh"]
        f = result_of(await anon.call("file/read", {"project": pid, "path": "main.sh"}))
        assert f["content"] == "echo hello from $0\n" and f["version"] == 1
        # a save by the owner reaches the visitor's room
        result_of(await owner.c.call("file/save", {"project": pid, "path": "main.sh",
                                                   "content": "echo v2\n", "base_version": 1}))
        note = await anon.next_notification("file/changed")
        assert note["params"]["project"] == pid and note["params"]["path"] == "main.sh"
        f = result_of(await anon.call("file/read", {"project": pid, "path": "main.sh"}))
        assert f["content"] == "echo v2\n"
        assert result_of(await anon.call("project/close", {"id": pid})) == {}
    run(go())


def test_anonymous_session_gets_not_found_for_a_private_project(srv):
    async def go():
        owner = await User.new(srv, "own")
        pid = await public_project(owner, public=False)
        anon = await connect(srv.ws_url)
        for method, params in [("project/get", {"id": pid}), ("project/open", {"id": pid}),
                               ("file/list", {"project": pid}),
                               ("file/read", {"project": pid, "path": "main.sh"}),
                               ("run/latest", {"project": pid}),
                               ("project/get", {"id": pid + 100000})]:
            r = await anon.call(method, params)
            assert error_reason(r) == "NOT_FOUND", (method, r)
            assert r["error"]["message"] in ("no such project",), (method, r)
    run(go())


def test_anonymous_session_cannot_write_or_see_runs(srv):
    async def go():
        owner = await User.new(srv, "own")
        pid = await public_project(owner)
        rid = await owner.start(pid)
        await owner.wait_exit(rid)
        anon = await connect(srv.ws_url)
        writes = [
            ("project/create", {"name": "x", "runtime": "t-sh"}),
            ("project/list", {}),
            ("project/update", {"id": pid, "name": "taken"}),
            ("project/update", {"id": pid, "is_public": False}),
            ("project/delete", {"id": pid}),
            ("project/fork", {"id": pid}),
            ("project/members", {"id": pid}),
            ("project/share", {"id": pid, "username": owner.name, "role": "editor"}),
            ("file/create", {"project": pid, "path": "new.sh", "content": "x"}),
            ("file/save", {"project": pid, "path": "main.sh", "content": "rm -rf /",
                           "base_version": 1}),
            ("file/rename", {"project": pid, "path": "main.sh", "new_path": "m.sh"}),
            ("file/delete", {"project": pid, "path": "main.sh"}),
            ("file/history", {"project": pid, "path": "main.sh"}),
            ("file/restore", {"project": pid, "path": "main.sh", "version": 1,
                              "base_version": 1}),
            ("project/restore", {"project": pid, "run": rid}),
            ("env/get", {"project": pid}),
            ("env/set", {"project": pid, "vars": {"A": "1"}}),
            ("run/start", {"project": pid}),
            ("run/stop", {"run": rid}),
            ("run/stdin", {"run": rid, "data": "x"}),
            ("run/attach", {"run": rid}),
            ("run/logs", {"run": rid}),
            ("run/get", {"run": rid}),
            ("run/history", {"project": pid}),
            ("presence/update", {"project": pid, "file": "main.sh"}),
            ("prefs/get", {}),
            ("prefs/set", {"prefs": {"theme": "dark"}}),
        ]
        for method, params in writes:
            r = await anon.call(method, params)
            assert error_reason(r) == "UNAUTHENTICATED", (method, r)
        # nothing changed
        p = result_of(await owner.c.call("project/get", {"id": pid}))
        assert p["name"] != "taken" and p["is_public"] is True
        assert sorted(f["path"] for f in p["files"]) == ["lib/util.sh", "main.sh"]
        assert all(f["version"] == 1 for f in p["files"])
        assert result_of(await owner.c.call("project/members", {"id": pid}))["members"] == []
    run(go())


def test_latest_run_is_public_only_when_the_owner_says_so(srv):
    async def go():
        owner = await User.new(srv, "own")
        pid = await public_project(owner, files={"main.sh": "echo out-line; echo err-line >&2\n"})
        anon = await connect(srv.ws_url)
        other = await signed_in(srv)
        # no run yet, owner: run null
        r = result_of(await owner.c.call("run/latest", {"project": pid}))
        assert r["run"] is None and r["chunks"] == []
        rid = await owner.start(pid)
        await owner.wait_exit(rid)
        # public_runs off: visitors (signed in or not) are refused, the owner is not
        for c in (anon, other):
            r = await c.call("run/latest", {"project": pid})
            assert error_reason(r) == "FORBIDDEN", r
        mine = result_of(await owner.c.call("run/latest", {"project": pid}))
        assert mine["run"]["run"] == rid
        # on: both visitors read the latest run's output and exit, not its code
        up = result_of(await owner.c.call("project/update", {"id": pid, "public_runs": True}))
        assert up["public_runs"] is True and up["is_public"] is True
        for c in (anon, other):
            r = result_of(await c.call("run/latest", {"project": pid}))
            assert r["run"]["run"] == rid and r["run"]["reason"] == "exited"
            assert r["run"]["exit_code"] == 0 and r["truncated"] is False
            text = {s: "".join(x["data"] for x in r["chunks"] if x["stream"] == s)
                    for s in ("stdout", "stderr")}
            assert "out-line" in text["stdout"] + text["stderr"]
            assert "err-line" in text["stdout"] + text["stderr"]
            meta = [json.loads(x["data"]) for x in r["chunks"] if x["stream"] == "meta"]
            assert meta and meta[-1]["reason"] == "exited"
            assert "files" not in r["run"] and "code_snapshot" not in r["run"]
        # limit pages the chunks
        r = result_of(await anon.call("run/latest", {"project": pid, "limit": 1}))
        assert len(r["chunks"]) == 1 and r["truncated"] is True
        assert error_reason(await anon.call("run/latest", {"project": pid, "limit": 0})) \
            == "INVALID_PARAMS"
        # still not the stored runs themselves
        assert error_reason(await other.call("run/logs", {"run": rid})) == "NOT_FOUND"
        # off again: refused again
        result_of(await owner.c.call("project/update", {"id": pid, "public_runs": False}))
        assert error_reason(await anon.call("run/latest", {"project": pid})) == "FORBIDDEN"
        # private (with public_runs on): not found
        result_of(await owner.c.call("project/update", {"id": pid, "public_runs": True,
                                                        "is_public": False}))
        assert error_reason(await anon.call("run/latest", {"project": pid})) == "NOT_FOUND"
        assert error_reason(await other.call("run/latest", {"project": pid})) == "NOT_FOUND"
    run(go())


def test_anonymous_visitor_is_cut_off_when_the_project_is_made_private(srv):
    async def go():
        owner = await User.new(srv, "own")
        pid = await public_project(owner)
        anon = await connect(srv.ws_url)
        result_of(await anon.call("project/open", {"id": pid}))
        result_of(await owner.c.call("project/update", {"id": pid, "is_public": False}))
        # the room hears of the update first, then the visitor is cut off
        notes = await anon.collect_notifications(
            "project/changed", lambda got: any(n["op"] == "access_lost" for n in got))
        assert notes[-1] == {"project": pid, "op": "access_lost"}, notes
        # nothing more of it reaches the visitor
        result_of(await owner.c.call("file/save", {"project": pid, "path": "main.sh",
                                                   "content": "echo secret\n",
                                                   "base_version": 1}))
        await anon.assert_no_notification("file/changed", wait=1.0)
        assert error_reason(await anon.call("file/read", {"project": pid, "path": "main.sh"})) \
            == "NOT_FOUND"
        assert error_reason(await anon.call("project/open", {"id": pid})) == "NOT_FOUND"
    run(go())


def test_prefs_are_kept_with_the_account(srv):
    async def go():
        u = await User.new(srv, "prf")
        assert result_of(await u.c.call("prefs/get")) == {"prefs": {}}
        assert result_of(await u.c.call("prefs/set", {"prefs": {"theme": "dark"}})) \
            == {"prefs": {"theme": "dark"}}
        # another socket of the same user (log in again) sees it
        from harness import logged_in
        again = await logged_in(srv, u.name, u.password)
        assert result_of(await again.call("prefs/get")) == {"prefs": {"theme": "dark"}}
        for bad in ({"theme": "purple"}, {"theme": 3}, {"font": "big"}):
            r = await u.c.call("prefs/set", {"prefs": bad})
            assert error_reason(r) == "INVALID_PARAMS", r
        assert error_reason(await u.c.call("prefs/set", {})) == "INVALID_PARAMS"
        assert result_of(await u.c.call("prefs/get")) == {"prefs": {"theme": "dark"}}
        assert result_of(await u.c.call("prefs/set", {"prefs": {"theme": None}})) \
            == {"prefs": {}}
        # one user's prefs are not another's
        v = await User.new(srv, "prf")
        assert result_of(await v.c.call("prefs/get")) == {"prefs": {}}
    run(go())
