"""Issue 4: projects, files and saving; environment variables; runtimes,
platforms, settings and FAQ as data that admins edit live. Real server, real
PostgreSQL, real websocket."""
import asyncio
import json

import pytest

from harness import (add_admin, async_wait_until, connect, error_reason, logged_in, psql,
                     result_of, run, seed_runtimes, signed_in, unique_name)

PY = "python-3.11"  # a runtime installed by `run-it seed` from images/recipes.json
KIB = 1024


@pytest.fixture(scope="module")
def srv(seeded, server):
    """The module's server, on the runtimes of images/recipes.json."""
    return server


@pytest.fixture(scope="module")
def admin_name(srv):
    return add_admin()


async def new_project(c, name="p", runtime=PY, **kw):
    return result_of(await c.call("project/create", dict(name=name, runtime=runtime, **kw)))


# ------------------------------------------------------------------ projects

def test_project_create_list_get_update_delete(srv):
    async def go():
        a = await signed_in(srv)
        p = await new_project(a, "first project", description="hello")
        assert p["access"] == "owner" and p["is_public"] is False and p["forked_from"] is None
        assert p["runtime"]["code"] == PY and p["runtime"]["enabled"] is True
        # created from the runtime's template files
        rt = [r for r in result_of(await a.call("runtime/list")) if r["code"] == PY][0]
        assert sorted(f["path"] for f in p["files"]) == sorted(rt["template"])
        f = result_of(await a.call("file/read", {"project": p["id"], "path": rt["entry"]}))
        assert f["content"] == rt["template"][rt["entry"]] and f["version"] == 1

        listed = result_of(await a.call("project/list"))["projects"]
        assert [x["id"] for x in listed] == [p["id"]] and listed[0]["access"] == "owner"
        got = result_of(await a.call("project/get", {"id": p["id"]}))
        assert got["name"] == "first project" and got["description"] == "hello"

        up = result_of(await a.call("project/update", {"id": p["id"], "name": "renamed",
                                                         "is_public": True, "description": "d2"}))
        assert (up["name"], up["is_public"], up["description"]) == ("renamed", True, "d2")
        up = result_of(await a.call("project/update", {"id": p["id"], "is_public": False}))
        assert up["name"] == "renamed" and up["is_public"] is False

        assert result_of(await a.call("project/delete", {"id": p["id"]}))["id"] == p["id"]
        assert error_reason(await a.call("project/get", {"id": p["id"]})) == "NOT_FOUND"
        assert result_of(await a.call("project/list"))["projects"] == []
        assert error_reason(await a.call("project/delete", {"id": p["id"]})) == "NOT_FOUND"
    run(go())


def test_project_create_refuses_bad_input(srv):
    async def go():
        a = await signed_in(srv)
        r = await a.call("project/create", {"name": "n" * 5000, "runtime": PY})
        assert error_reason(r) == "TOO_LARGE" and r["error"]["data"]["limit"] == "name_chars"
        assert r["error"]["data"]["max"] == 100
        assert result_of(await a.call("project/create", {"name": "n" * 100, "runtime": PY}))
        assert error_reason(await a.call("project/create", {"name": "n" * 101, "runtime": PY})) == "TOO_LARGE"
        for bad in ["", " lead", "trail ", "tab\there", "nl\nx", "bell\u0007", "c1\u0085"]:
            assert error_reason(await a.call("project/create", {"name": bad, "runtime": PY})) == "INVALID_PARAMS", bad
        assert error_reason(await a.call("project/create", {"name": "x", "runtime": "no-such-rt"})) == "NOT_FOUND"
        assert error_reason(await a.call("project/create", {"name": "x"})) == "INVALID_PARAMS"
        assert error_reason(await a.call("project/create", {"name": 5, "runtime": PY})) == "INVALID_PARAMS"
        r = await a.call("project/create", {"name": "x", "runtime": PY, "description": "d" * 2001})
        assert error_reason(r) == "TOO_LARGE"
        r = await a.call("project/update", {"id": 1, "name": "n" * 5000})
        assert error_reason(r) == "TOO_LARGE"
        # the connection is still fine
        assert len(result_of(await a.call("project/list"))["projects"]) == 1
    run(go())


def test_anonymous_sessions_cannot_touch_projects(srv):
    async def go():
        c = await connect(srv.ws_url)
        for m, params in [("project/create", {"name": "x", "runtime": PY}), ("project/list", {}),
                          ("file/save", {"project": 1, "path": "main.py", "content": "",
                                         "base_version": 1}),
                          ("env/get", {"project": 1})]:
            assert error_reason(await c.call(m, params)) == "UNAUTHENTICATED", m
        # reading works on public projects only (tests/integration/test_anon.py)
        assert error_reason(await c.call("file/read", {"project": 10**12, "path": "main.py"})) \
            == "NOT_FOUND"
        # the public parts answer
        assert isinstance(result_of(await c.call("runtime/list")), list)
        assert "projects" in result_of(await c.call("gallery/list"))
        assert "global" in result_of(await c.call("faq/get"))
    run(go())


# --------------------------------------------------------------------- files

def test_file_create_read_list_rename_delete_save(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        r = result_of(await a.call("file/create", {"project": pid, "path": "src/util/helpers.py",
                                                   "content": "X = 1\n"}))
        assert r == {"path": "src/util/helpers.py", "version": 1, "size": 6}
        result_of(await a.call("file/create", {"project": pid, "path": "empty.txt"}))
        assert error_reason(await a.call("file/create", {"project": pid, "path": "empty.txt"})) == "CONFLICT"
        paths = [f["path"] for f in result_of(await a.call("file/list", {"project": pid}))["files"]]
        assert paths == sorted(["main.py", "src/util/helpers.py", "empty.txt"])
        f = result_of(await a.call("file/read", {"project": pid, "path": "empty.txt"}))
        assert f["content"] == "" and f["size"] == 0

        r = result_of(await a.call("file/rename", {"project": pid, "path": "src/util/helpers.py",
                                                   "new_path": "lib/helpers.py"}))
        assert r["new_path"] == "lib/helpers.py" and r["version"] == 1
        assert error_reason(await a.call("file/read", {"project": pid, "path": "src/util/helpers.py"})) == "NOT_FOUND"
        assert result_of(await a.call("file/read", {"project": pid, "path": "lib/helpers.py"}))["content"] == "X = 1\n"
        r = await a.call("file/rename", {"project": pid, "path": "lib/helpers.py", "new_path": "main.py"})
        assert error_reason(r) == "CONFLICT"
        r = await a.call("file/rename", {"project": pid, "path": "nope.py", "new_path": "x.py"})
        assert error_reason(r) == "NOT_FOUND"

        r = result_of(await a.call("file/save", {"project": pid, "path": "lib/helpers.py",
                                                 "content": "X = 2\n", "base_version": 1}))
        assert r["version"] == 2
        # saving the same content again is a no-op, not a new version
        r = result_of(await a.call("file/save", {"project": pid, "path": "lib/helpers.py",
                                                 "content": "X = 2\n", "base_version": 2}))
        assert r["version"] == 2 and r["unchanged"] is True
        r = await a.call("file/save", {"project": pid, "path": "nope.py", "content": "", "base_version": 1})
        assert error_reason(r) == "NOT_FOUND"
        for bad in [0, -1, "1", None, 1.5]:
            r = await a.call("file/save", {"project": pid, "path": "lib/helpers.py", "content": "",
                                           "base_version": bad})
            assert error_reason(r) == "INVALID_PARAMS", bad

        result_of(await a.call("file/delete", {"project": pid, "path": "lib/helpers.py"}))
        assert error_reason(await a.call("file/delete", {"project": pid, "path": "lib/helpers.py"})) == "NOT_FOUND"
        paths = [f["path"] for f in result_of(await a.call("file/list", {"project": pid}))["files"]]
        assert paths == ["empty.txt", "main.py"]
    run(go())


def test_project_list_shows_the_most_recently_changed_first(srv):
    """Every write of a file touches its project (sql/029_projects_hot.sql
    keeps that, with updated_at out of the owner's index); own and shared
    projects in one order (h_project.c reads them by two indexes)."""
    async def go():
        a = await signed_in(srv)
        ps = [(await new_project(a, f"p{i}"))["id"] for i in range(3)]

        async def order():
            return [x["id"] for x in result_of(await a.call("project/list"))["projects"]]

        assert await order() == ps[::-1]  # newest first
        f = result_of(await a.call("file/read", {"project": ps[0], "path": "main.py"}))
        result_of(await a.call("file/save", {"project": ps[0], "path": "main.py",
                                             "content": "print(1)\n", "base_version": f["version"]}))
        assert await order() == [ps[0], ps[2], ps[1]]
        result_of(await a.call("file/create", {"project": ps[1], "path": "b.txt"}))
        assert await order() == [ps[1], ps[0], ps[2]]
        result_of(await a.call("file/rename", {"project": ps[2], "path": "main.py",
                                               "new_path": "app.py"}))
        assert await order() == [ps[2], ps[1], ps[0]]
        result_of(await a.call("file/delete", {"project": ps[0], "path": "main.py"}))
        assert await order() == [ps[0], ps[2], ps[1]]

        # a project shared with a is listed among a's own, by the same order
        b = await signed_in(srv)
        theirs = (await new_project(b, "theirs"))["id"]
        result_of(await b.call("project/share", {"id": theirs, "username": a.user["username"],
                                                 "role": "editor"}))
        assert await order() == [theirs, ps[0], ps[2], ps[1]]
        result_of(await a.call("file/create", {"project": ps[1], "path": "c.txt"}))
        assert await order() == [ps[1], theirs, ps[0], ps[2]]
        result_of(await a.call("file/create", {"project": theirs, "path": "a.txt"}))
        listed = result_of(await a.call("project/list"))["projects"]
        assert [(x["id"], x["access"]) for x in listed] == [
            (theirs, "editor"), (ps[1], "owner"), (ps[0], "owner"), (ps[2], "owner")]
        assert [x["id"] for x in result_of(await b.call("project/list"))["projects"]] == [theirs]
    run(go())


BAD_PATHS = [
    "../../etc/passwd", "a/../../b", "/abs", "/", "..", ".", "./a", "a/./b", "a/..",
    "a//b", "a/", "a\\b", "..\\..\\x", "a\u0001b", "a\nb", "a\u007fb", "a\u0085b", "",
    "x" * 5000, "x" * 256, "/".join(["d"] * 17),
]


@pytest.mark.parametrize("path", BAD_PATHS, ids=lambda p: repr(p)[:40])
def test_path_rules_give_invalid_path_with_why(srv, path):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        for method, params in [
            ("file/create", {"project": pid, "path": path, "content": "x"}),
            ("file/save", {"project": pid, "path": path, "content": "x", "base_version": 1}),
            ("file/read", {"project": pid, "path": path}),
            ("file/delete", {"project": pid, "path": path}),
            ("file/rename", {"project": pid, "path": "main.py", "new_path": path}),
        ]:
            r = await a.call(method, params)
            assert error_reason(r) == "INVALID_PATH", (method, r)
            assert r["error"]["data"]["why"], r
        files = result_of(await a.call("file/list", {"project": pid}))["files"]
        assert [f["path"] for f in files] == ["main.py"]
    run(go())


def test_nul_in_a_path_is_refused_before_any_method_runs(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        await a.ws.send(json.dumps({"jsonrpc": "2.0", "id": 77, "method": "file/create",
                                    "params": {"project": pid, "path": "a\u0000b", "content": ""}}))
        r = await a.receive()
        assert r["error"]["data"]["reason"] == "PARSE_ERROR", r
        files = result_of(await a.call("file/list", {"project": pid}))["files"]
        assert [f["path"] for f in files] == ["main.py"]
    run(go())


def test_paths_at_the_limits_are_accepted(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        for path in ["x" * 255, "/".join(["d"] * 16), "ünï/日本.txt", ".env", "a..b/c"]:
            result_of(await a.call("file/create", {"project": pid, "path": path, "content": path}))
            assert result_of(await a.call("file/read", {"project": pid, "path": path}))["content"] == path
    run(go())


def test_file_of_256_kib_is_accepted_and_one_byte_more_is_too_large(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        result_of(await a.call("file/create", {"project": pid, "path": "big", "content": "a" * (256 * KIB)}))
        for method, extra in [("file/create", {"path": "big2"}),
                              ("file/save", {"path": "big", "base_version": 1})]:
            r = await a.call(method, dict(project=pid, content="a" * (256 * KIB + 1), **extra))
            assert error_reason(r) == "TOO_LARGE", r
            assert r["error"]["data"]["limit"] == "max_file_bytes"
            assert r["error"]["data"]["max"] == 256 * KIB and r["error"]["data"]["size"] == 256 * KIB + 1
        # multi-byte characters count as bytes
        r = await a.call("file/save", {"project": pid, "path": "big", "content": "é" * (128 * KIB + 1),
                                       "base_version": 1})
        assert error_reason(r) == "TOO_LARGE"
        assert result_of(await a.call("file/read", {"project": pid, "path": "big"}))["version"] == 1
    run(go())


def test_the_201st_file_is_too_large(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]  # one template file
        for i in range(199):
            result_of(await a.call("file/create", {"project": pid, "path": f"f/{i:03}.txt", "content": str(i)}))
        assert len(result_of(await a.call("file/list", {"project": pid}))["files"]) == 200
        r = await a.call("file/create", {"project": pid, "path": "f/200.txt", "content": ""})
        assert error_reason(r) == "TOO_LARGE"
        assert r["error"]["data"]["limit"] == "max_files_per_project" and r["error"]["data"]["max"] == 200
        # deleting one makes room again
        result_of(await a.call("file/delete", {"project": pid, "path": "f/000.txt"}))
        result_of(await a.call("file/create", {"project": pid, "path": "f/200.txt", "content": ""}))
    run(go())


def test_project_total_is_limited_to_2_mib(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        result_of(await a.call("file/delete", {"project": pid, "path": "main.py"}))
        for i in range(8):
            result_of(await a.call("file/create", {"project": pid, "path": f"b{i}", "content": "z" * (256 * KIB)}))
        assert result_of(await a.call("project/get", {"id": pid}))["total_bytes"] == 2 * KIB * KIB
        r = await a.call("file/create", {"project": pid, "path": "one", "content": "1"})
        assert error_reason(r) == "TOO_LARGE" and r["error"]["data"]["limit"] == "max_project_bytes"
        result_of(await a.call("file/save", {"project": pid, "path": "b0", "content": "z" * 100, "base_version": 1}))
        r = await a.call("file/save", {"project": pid, "path": "b0", "content": "z" * (256 * KIB),
                                       "base_version": 2})
        assert result_of(r)["version"] == 3
        r = await a.call("file/create", {"project": pid, "path": "one", "content": "1"})
        assert error_reason(r) == "TOO_LARGE"
    run(go())


# -------------------------------------------------------------------- saving

def test_two_sessions_saving_one_file_at_once_one_wins_no_lost_update(srv):
    async def go():
        a = await signed_in(srv)
        name = a.user["username"]
        a2 = await logged_in(srv, name)
        pid = (await new_project(a))["id"]
        version = 1
        for round_ in range(10):
            ca, cb = f"from A {round_}\n", f"from B {round_}\n"
            ra, rb = await asyncio.gather(
                a.call("file/save", {"project": pid, "path": "main.py", "content": ca, "base_version": version}),
                a2.call("file/save", {"project": pid, "path": "main.py", "content": cb, "base_version": version}))
            wins = [(r, c) for r, c in [(ra, ca), (rb, cb)] if "result" in r]
            losses = [r for r in (ra, rb) if "error" in r]
            assert len(wins) == 1 and len(losses) == 1, (ra, rb)
            won, content = wins[0]
            assert won["result"]["version"] == version + 1
            lost = losses[0]["error"]
            assert lost["data"]["reason"] == "CONFLICT"
            assert lost["data"]["version"] == version + 1 and lost["data"]["content"] == content
            f = result_of(await a.call("file/read", {"project": pid, "path": "main.py"}))
            assert (f["content"], f["version"]) == (content, version + 1)
            version += 1
        # the replaced versions are kept (at most 20)
        rows = psql(f"SELECT count(*) FROM file_versions v JOIN files f ON f.id = v.file_id "
                    f"WHERE f.project_id = {pid}")
        assert int(rows[0][0]) == 10
    run(go())


def test_file_history_is_pruned_to_the_last_20_versions(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        for v in range(1, 31):
            result_of(await a.call("file/save", {"project": pid, "path": "main.py", "content": f"v{v + 1}",
                                                 "base_version": v}))
        rows = psql(f"SELECT min(v.version), max(v.version), count(*) FROM file_versions v "
                    f"JOIN files f ON f.id = v.file_id WHERE f.project_id = {pid}")
        assert rows == [["11", "30", "20"]]
    run(go())


def test_an_acknowledged_save_survives_sigkill(make_server):
    s = make_server().start()

    async def save():
        a = await signed_in(s)
        pid = (await new_project(a))["id"]
        result_of(await a.call("file/save", {"project": pid, "path": "main.py", "content": "durable\n",
                                             "base_version": 1}))
        s.kill()  # SIGKILL right after the acknowledgement
        return a.user["username"], pid
    name, pid = run(save())
    s2 = make_server().start()

    async def check():
        a = await logged_in(s2, name)
        f = result_of(await a.call("file/read", {"project": pid, "path": "main.py"}))
        assert (f["content"], f["version"]) == ("durable\n", 2)
    run(check())


def test_files_put_saves_buffers_with_limits_and_history(srv):
    """runit_files_put(): what run/start can use to save unsaved buffers."""
    async def go():
        a = await signed_in(srv)
        b = await signed_in(srv)
        pid = (await new_project(a))["id"]
        return a.user["id"], b.user["id"], pid, a
    uid, other, pid, _ = run(go())

    def put(user, files):
        return json.loads(psql(f"SELECT runit_files_put({user}, false, {pid}, "
                               f"$j${json.dumps(files)}$j$::jsonb)")[0][0])
    r = put(uid, {"main.py": "print(1)\n", "new/mod.py": "X = 1\n"})
    assert sorted((f["path"], f["version"], f["op"]) for f in r["ok"]["files"]) == \
        [("main.py", 2, "saved"), ("new/mod.py", 1, "created")]
    assert put(uid, {"main.py": "print(1)\n"})["ok"]["files"] == []  # unchanged
    assert put(other, {"main.py": "pwn"})["error"] == "NOT_FOUND"
    r = put(uid, {"big": "x" * (256 * KIB + 1)})
    assert r["error"] == "TOO_LARGE" and r["data"]["limit"] == "max_file_bytes"
    r = put(uid, {f"f{i}": "" for i in range(199)})
    assert r["error"] == "TOO_LARGE" and r["data"]["limit"] == "max_files_per_project"
    assert psql(f"SELECT count(*) FROM file_versions v JOIN files f ON f.id = v.file_id "
                f"WHERE f.project_id = {pid}") == [["1"]]


# ------------------------------------------------------------- rooms, events

def test_file_changed_reaches_the_other_sessions_in_the_project(srv):
    async def go():
        a = await signed_in(srv)
        b = await signed_in(srv)
        pid = (await new_project(a))["id"]
        result_of(await a.call("project/share", {"id": pid, "username": b.user["username"], "role": "viewer"}))
        opened = result_of(await b.call("project/open", {"id": pid}))
        assert opened["id"] == pid and [f["path"] for f in opened["files"]] == ["main.py"]
        assert opened["watchers"] == 1
        assert result_of(await a.call("project/open", {"id": pid}))["watchers"] == 2

        result_of(await a.call("file/save", {"project": pid, "path": "main.py", "content": "print(7)\n",
                                             "base_version": 1}))
        n = (await b.next_notification("file/changed"))["params"]
        assert n["project"] == pid and n["path"] == "main.py" and n["op"] == "saved"
        assert n["version"] == 2 and n["by"]["username"] == a.user["username"]
        await a.assert_no_notification("file/changed")  # not echoed to the saving session

        result_of(await a.call("file/create", {"project": pid, "path": "x.py", "content": ""}))
        assert (await b.next_notification("file/changed"))["params"]["op"] == "created"
        result_of(await a.call("file/rename", {"project": pid, "path": "x.py", "new_path": "y.py"}))
        n = (await b.next_notification("file/changed"))["params"]
        assert (n["op"], n["path"], n["new_path"]) == ("renamed", "x.py", "y.py")
        result_of(await a.call("file/delete", {"project": pid, "path": "y.py"}))
        assert (await b.next_notification("file/changed"))["params"]["op"] == "deleted"
        result_of(await a.call("project/update", {"id": pid, "name": "new name"}))
        n = (await b.next_notification("project/changed"))["params"]
        assert n["op"] == "updated" and n["name"] == "new name"

        result_of(await b.call("project/close", {"id": pid}))
        result_of(await a.call("file/save", {"project": pid, "path": "main.py", "content": "print(8)\n",
                                             "base_version": 2}))
        await b.assert_no_notification("file/changed")

        # a session that closes leaves its rooms; the others still get events
        c = await signed_in(srv)
        result_of(await a.call("project/update", {"id": pid, "is_public": True}))
        result_of(await c.call("project/open", {"id": pid}))
        await b.ws.close()
        result_of(await a.call("file/save", {"project": pid, "path": "main.py", "content": "print(9)\n",
                                             "base_version": 3}))
        assert (await c.next_notification("file/changed"))["params"]["version"] == 4
        result_of(await a.call("project/delete", {"id": pid}))
        assert (await c.next_notification("project/changed"))["params"]["op"] == "deleted"
    run(go())


# -------------------------------------------------------------------- access

def test_another_user_cannot_reach_a_private_project_by_id(srv):
    async def go():
        a = await signed_in(srv)
        b = await signed_in(srv)
        p = await new_project(a, "secret")
        pid = p["id"]
        result_of(await a.call("env/set", {"project": pid, "vars": {"TOKEN": "s3cret"}}))
        missing = pid + 1000000
        calls = [
            ("project/get", {"id": pid}), ("project/open", {"id": pid}),
            ("project/update", {"id": pid, "name": "mine"}), ("project/delete", {"id": pid}),
            ("project/fork", {"id": pid}), ("project/members", {"id": pid}),
            ("project/share", {"id": pid, "username": b.user["username"], "role": "editor"}),
            ("file/list", {"project": pid}), ("file/read", {"project": pid, "path": "main.py"}),
            ("file/save", {"project": pid, "path": "main.py", "content": "pwn", "base_version": 1}),
            ("file/create", {"project": pid, "path": "x", "content": ""}),
            ("file/rename", {"project": pid, "path": "main.py", "new_path": "x"}),
            ("file/delete", {"project": pid, "path": "main.py"}),
            ("env/get", {"project": pid}), ("env/set", {"project": pid, "vars": {"A": "b"}}),
        ]
        for method, params in calls:
            r = await b.call(method, params)
            assert error_reason(r) == "NOT_FOUND", (method, r)
            # exactly what an id that does not exist gets
            guessed = {k: (missing if v == pid else v) for k, v in params.items()}
            r2 = await b.call(method, guessed)
            assert error_reason(r2) == "NOT_FOUND" and r2["error"]["message"] == r["error"]["message"], method
            assert "s3cret" not in json.dumps(r)
        # "run": run/start (the run engine's) answers the same when it is there
        r = await b.call("run/start", {"project": pid})
        assert error_reason(r) in ("NOT_FOUND", "METHOD_NOT_FOUND"), r
        assert pid not in [x["id"] for x in result_of(await b.call("project/list"))["projects"]]
        assert pid not in [x["id"] for x in result_of(await b.call("gallery/list", {"limit": 100}))["projects"]]
        # nothing changed
        f = result_of(await a.call("file/read", {"project": pid, "path": "main.py"}))
        assert f["version"] == 1
        assert result_of(await a.call("project/get", {"id": pid}))["name"] == "secret"
    run(go())


def test_public_projects_are_read_only_to_others(srv):
    async def go():
        a = await signed_in(srv)
        b = await signed_in(srv)
        pid = (await new_project(a, "pub", is_public=True))["id"]
        result_of(await a.call("env/set", {"project": pid, "vars": {"TOKEN": "s3cret"}}))
        g = result_of(await b.call("project/get", {"id": pid}))
        assert g["access"] == "public"
        assert result_of(await b.call("file/read", {"project": pid, "path": "main.py"}))["version"] == 1
        assert result_of(await b.call("project/open", {"id": pid}))["id"] == pid
        for method, params in [
            ("file/save", {"project": pid, "path": "main.py", "content": "x", "base_version": 1}),
            ("file/create", {"project": pid, "path": "x", "content": ""}),
            ("file/delete", {"project": pid, "path": "main.py"}),
            ("project/update", {"id": pid, "is_public": False}), ("project/delete", {"id": pid}),
            ("env/get", {"project": pid}), ("env/set", {"project": pid, "vars": {"A": "b"}}),
            ("project/members", {"id": pid}),
        ]:
            r = await b.call(method, params)
            assert error_reason(r) == "FORBIDDEN", (method, r)
            assert "s3cret" not in json.dumps(r)
    run(go())


def test_collaborators_editor_and_viewer(srv):
    async def go():
        a = await signed_in(srv)
        b = await signed_in(srv)
        bname = b.user["username"]
        pid = (await new_project(a))["id"]
        result_of(await a.call("env/set", {"project": pid, "vars": {"K": "v"}}))
        m = result_of(await a.call("project/share", {"id": pid, "username": bname, "role": "viewer"}))
        assert m["members"][0]["user"]["username"] == bname and m["members"][0]["role"] == "viewer"
        shared = result_of(await b.call("project/list"))["projects"]
        assert [(x["id"], x["access"]) for x in shared] == [(pid, "viewer")]
        assert result_of(await b.call("env/get", {"project": pid}))["vars"] == {"K": "v"}
        r = await b.call("file/save", {"project": pid, "path": "main.py", "content": "x", "base_version": 1})
        assert error_reason(r) == "FORBIDDEN"
        result_of(await a.call("project/share", {"id": pid, "username": bname, "role": "editor"}))
        result_of(await b.call("file/save", {"project": pid, "path": "main.py", "content": "x", "base_version": 1}))
        result_of(await b.call("env/set", {"project": pid, "vars": {"K2": "v2"}}))
        # editors do not own: no delete, no visibility change, no sharing
        assert error_reason(await b.call("project/delete", {"id": pid})) == "FORBIDDEN"
        assert error_reason(await b.call("project/update", {"id": pid, "is_public": True})) == "FORBIDDEN"
        assert error_reason(await b.call("project/share", {"id": pid, "username": a.user["username"],
                                                            "role": "editor"})) == "FORBIDDEN"
        # a private project can only be forked by its owner
        assert error_reason(await b.call("project/fork", {"id": pid})) == "FORBIDDEN"
        members = result_of(await b.call("project/members", {"id": pid}))
        assert members["owner"]["username"] == a.user["username"]
        assert error_reason(await a.call("project/share", {"id": pid, "username": "no-such-user-xyz",
                                                            "role": "viewer"})) == "NOT_FOUND"
        assert error_reason(await a.call("project/share", {"id": pid, "username": bname,
                                                            "role": "owner"})) == "INVALID_PARAMS"
        assert error_reason(await a.call("project/share", {"id": pid, "username": a.user["username"],
                                                            "role": "editor"})) == "CONFLICT"
        result_of(await a.call("project/share", {"id": pid, "username": bname, "role": None}))
        assert error_reason(await b.call("project/get", {"id": pid})) == "NOT_FOUND"
    run(go())


def test_admins_can_read_and_change_any_project_and_it_is_audited(srv, admin_name):
    async def go():
        a = await signed_in(srv)
        adm = await logged_in(srv, admin_name)
        pid = (await new_project(a, "user's"))["id"]
        g = result_of(await adm.call("project/get", {"id": pid}))
        assert g["access"] == "admin"
        result_of(await adm.call("project/update", {"id": pid, "is_public": True}))
        rows = psql(f"SELECT action FROM audit_log WHERE target = 'project:{pid}'")
        assert ["project.update"] in rows
    run(go())


# ---------------------------------------------------------------------- fork

def test_fork_carries_files_but_not_env_vars(srv):
    async def go():
        a = await signed_in(srv)
        b = await signed_in(srv)
        src = await new_project(a, "origin", description="the original")
        sid = src["id"]
        result_of(await a.call("file/create", {"project": sid, "path": "lib/a.py", "content": "A = 1\n"}))
        result_of(await a.call("file/save", {"project": sid, "path": "main.py", "content": "import lib\n",
                                             "base_version": 1}))
        result_of(await a.call("env/set", {"project": sid, "vars": {"SECRET": "x", "OTHER": "y"}}))
        # not public yet: invisible to b
        assert error_reason(await b.call("project/fork", {"id": sid})) == "NOT_FOUND"
        result_of(await a.call("project/update", {"id": sid, "is_public": True}))

        fork = result_of(await b.call("project/fork", {"id": sid}))
        assert fork["forked_from"] == sid and fork["access"] == "owner" and fork["is_public"] is False
        assert fork["name"] == "origin" and fork["owner"]["id"] == b.user["id"]
        assert sorted(f["path"] for f in fork["files"]) == ["lib/a.py", "main.py"]
        for path, content in [("lib/a.py", "A = 1\n"), ("main.py", "import lib\n")]:
            f = result_of(await b.call("file/read", {"project": fork["id"], "path": path}))
            assert (f["content"], f["version"]) == (content, 1)
        assert result_of(await b.call("env/get", {"project": fork["id"]}))["vars"] == {}
        rows = psql(f"SELECT count(*) FROM env_vars WHERE project_id = {fork['id']}")
        assert rows == [["0"]]
        # the fork is independent of its origin
        result_of(await b.call("file/save", {"project": fork["id"], "path": "main.py", "content": "mine",
                                             "base_version": 1}))
        assert result_of(await a.call("file/read", {"project": sid, "path": "main.py"}))["content"] == "import lib\n"
        # own private project, with a new name
        own = result_of(await a.call("project/fork", {"id": fork["forked_from"], "name": "copy"}))
        assert own["name"] == "copy" and own["forked_from"] == sid
        assert error_reason(await b.call("project/fork", {"id": sid, "name": "n" * 5000})) == "TOO_LARGE"
    run(go())


# ------------------------------------------------------------------- gallery

def test_gallery_lists_public_projects_newest_first_with_paging_and_filters(srv):
    async def go():
        a = await signed_in(srv)
        tag = unique_name("g")
        ids = []
        for i in range(3):
            ids.append((await new_project(a, f"{tag} number {i}", is_public=True))["id"])
        await new_project(a, f"{tag} private")
        anon = await connect(srv.ws_url)
        got = result_of(await anon.call("gallery/list", {"q": tag}))
        assert [p["id"] for p in got["projects"]] == ids[::-1] and got["next_cursor"] is None
        assert all("files" not in p and "access" not in p for p in got["projects"])

        page1 = result_of(await anon.call("gallery/list", {"q": tag, "limit": 2}))
        assert [p["id"] for p in page1["projects"]] == [ids[2], ids[1]]
        assert page1["next_cursor"]
        page2 = result_of(await anon.call("gallery/list", {"q": tag, "limit": 2, "cursor": page1["next_cursor"]}))
        assert [p["id"] for p in page2["projects"]] == [ids[0]] and page2["next_cursor"] is None
        byp = result_of(await anon.call("gallery/list", {"q": tag, "limit": 2, "page": 2}))
        assert [p["id"] for p in byp["projects"]] == [ids[0]]

        assert len(result_of(await anon.call("gallery/list", {"q": tag, "language": "python"}))["projects"]) == 3
        assert result_of(await anon.call("gallery/list", {"q": tag, "language": "go"}))["projects"] == []
        assert result_of(await anon.call("gallery/list", {"q": tag + "%"}))["projects"] == []
        assert len(result_of(await anon.call("gallery/list", {"q": tag.upper()}))["projects"]) == 3
        for bad in [{"limit": 0}, {"limit": 101}, {"page": 0}, {"cursor": "garbage"}, {"q": 5}]:
            assert error_reason(await anon.call("gallery/list", bad)) == "INVALID_PARAMS", bad
    run(go())


# ----------------------------------------------------------------------- env

def test_env_vars_validated_limited_and_shown_to_members_only(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        r = result_of(await a.call("env/set", {"project": pid, "vars": {"API_KEY": "k", "_x": "", "DEBUG": "1"}}))
        assert r["vars"] == {"API_KEY": "k", "_x": "", "DEBUG": "1"}
        r = result_of(await a.call("env/set", {"project": pid, "vars": {"DEBUG": None, "API_KEY": "k2"}}))
        assert r["vars"] == {"API_KEY": "k2", "_x": ""}
        assert result_of(await a.call("env/get", {"project": pid}))["vars"] == r["vars"]
        for name in ["PATH", "HOME", "USER", "LD_PRELOAD", "LD_LIBRARY_PATH", "RUNIT_TOKEN",
                     "1ABC", "A-B", "A B", "", "É"]:
            r = await a.call("env/set", {"project": pid, "vars": {name: "v"}})
            assert error_reason(r) == "INVALID_PARAMS", name
        assert error_reason(await a.call("env/set", {"project": pid, "vars": {"A": 5}})) == "INVALID_PARAMS"
        assert error_reason(await a.call("env/set", {"project": pid, "vars": ["A"]})) == "INVALID_PARAMS"
        result_of(await a.call("env/set", {"project": pid, "vars": {"BIG": "v" * 32768}}))
        r = await a.call("env/set", {"project": pid, "vars": {"BIG": "v" * 32769}})
        assert error_reason(r) == "TOO_LARGE" and r["error"]["data"]["limit"] == "env_value_bytes"
        # at most 100 variables, counting those already there (API_KEY, _x, BIG)
        result_of(await a.call("env/set", {"project": pid, "vars": {f"V{i}": "x" for i in range(97)}}))
        r = await a.call("env/set", {"project": pid, "vars": {"V97": "x"}})
        assert error_reason(r) == "TOO_LARGE"
    run(go())


def test_env_var_count_is_limited_to_100(srv):
    async def go():
        a = await signed_in(srv)
        pid = (await new_project(a))["id"]
        result_of(await a.call("env/set", {"project": pid, "vars": {f"V{i}": "x" for i in range(100)}}))
        r = await a.call("env/set", {"project": pid, "vars": {"ONE_MORE": "x"}})
        assert error_reason(r) == "TOO_LARGE" and r["error"]["data"]["limit"] == "max_env_vars"
        r = await a.call("env/set", {"project": pid, "vars": {f"W{i}": "x" for i in range(101)}})
        assert error_reason(r) == "TOO_LARGE"
        # replacing one is fine: still 100
        result_of(await a.call("env/set", {"project": pid, "vars": {"V0": None, "ONE_MORE": "x"}}))
        assert len(result_of(await a.call("env/get", {"project": pid}))["vars"]) == 100
    run(go())


# ------------------------------------------------------------ runtimes, FAQ

def test_runtime_list_and_faq(srv, admin_name):
    async def go():
        a = await signed_in(srv)
        rts = result_of(await a.call("runtime/list"))
        py = [r for r in rts if r["code"] == PY][0]
        for key in ["code", "name", "language", "version", "os", "arch", "description", "entry", "template"]:
            assert key in py, key
        assert py["entry"] in py["template"]
        faq = result_of(await a.call("faq/get", {"runtime": PY}))
        assert isinstance(faq["global"], list) and faq["runtime"]
        assert all(set(x) == {"question", "answer"} for x in faq["runtime"])
        assert error_reason(await a.call("faq/get", {"runtime": "no-such"})) == "NOT_FOUND"

        adm = await logged_in(srv, admin_name)
        before = result_of(await adm.call("admin/settings/get"))["settings"]["global_faq"]
        try:
            new = [{"question": "What is run-it?", "answer": "A place to run code."}]
            result_of(await adm.call("admin/faq/set", {"faq": new}))
            assert result_of(await a.call("faq/get"))["global"] == new
            assert result_of(await a.call("faq/get", {"runtime": PY}))["global"] == new
            for bad in [{"faq": "x"}, {"faq": [{"question": "q"}]},
                        {"faq": [{"question": "q", "answer": "a", "extra": 1}]},
                        {"faq": [{"question": 1, "answer": "a"}]}]:
                assert error_reason(await adm.call("admin/faq/set", bad)) == "INVALID_PARAMS", bad
            assert ["faq.set"] in psql("SELECT action FROM audit_log WHERE action = 'faq.set' LIMIT 1")
        finally:
            result_of(await adm.call("admin/faq/set", {"faq": before}))
    run(go())


def rt_params(code, **kw):
    p = {"code": code, "name": f"Test {code}", "language": "testlang", "version": "1.0",
         "image": "runit/shell:latest", "run_cmd": ["sh", "main.sh"], "entry_file": "main.sh",
         "template": {"main.sh": "echo hi\n"}, "faq": [{"question": "Q?", "answer": "A."}]}
    p.update(kw)
    return p


def test_admin_runtime_create_update_delete_validated_and_audited(srv, admin_name):
    async def go():
        adm = await logged_in(srv, admin_name)
        a = await signed_in(srv)
        code = unique_name("rt").lower()
        r = result_of(await adm.call("admin/runtime/create", rt_params(code, wall_ms=5000)))
        assert r["code"] == code and r["enabled"] is True and r["wall_ms"] == 5000
        assert r["build_cmd"] is None and r["os"] == "linux" and r["projects"] == 0
        rid = r["id"]
        assert error_reason(await adm.call("admin/runtime/create", rt_params(code))) == "CONFLICT"
        for bad in [{"run_cmd": "sh main.sh"}, {"run_cmd": []}, {"run_cmd": ["sh", 1]},
                    {"build_cmd": "make"}, {"image": "Bad Image"}, {"image": "img;rm -rf /"},
                    {"image": ""}, {"entry_file": "../x"}, {"template": {"/abs": ""}},
                    {"template": {"a": 1}}, {"faq": [{"q": 1}]}, {"wall_ms": 1},
                    {"memory_bytes": 10}, {"code": "Upper"}, {"name": ""}, {"shell": "bash"},
                    {"enabled": "yes"}]:
            p = rt_params(unique_name("rt").lower())
            p.update(bad)
            r = await adm.call("admin/runtime/create", p)
            assert error_reason(r) == "INVALID_PARAMS", bad
        r = await adm.call("admin/runtime/create", {"code": unique_name("rt").lower()})
        assert error_reason(r) == "INVALID_PARAMS"

        r = result_of(await adm.call("admin/runtime/update", {"id": rid, "description": "new",
                                                              "build_cmd": ["true"], "memory_bytes": 134217728,
                                                              "network_allowed": True, "os": "busybox"}))
        assert (r["description"], r["build_cmd"], r["memory_bytes"], r["network_allowed"], r["os"]) == \
            ("new", ["true"], 134217728, True, "busybox")
        assert r["wall_ms"] == 5000 and r["name"] == f"Test {code}"  # untouched
        r = result_of(await adm.call("admin/runtime/update", {"code": code, "wall_ms": None, "build_cmd": None}))
        assert r["wall_ms"] is None and r["build_cmd"] is None
        assert error_reason(await adm.call("admin/runtime/update", {"id": rid, "run_cmd": "sh -c x"})) == "INVALID_PARAMS"
        assert error_reason(await adm.call("admin/runtime/update", {"id": rid, "name": None})) == "INVALID_PARAMS"
        assert error_reason(await adm.call("admin/runtime/update", {"id": 999999999, "name": "x"})) == "NOT_FOUND"
        listed = result_of(await adm.call("admin/runtime/list"))["runtimes"]
        assert [x for x in listed if x["id"] == rid][0]["description"] == "new"

        # in use: delete refused, disabling suggested
        p = await new_project(a, runtime=code)
        assert result_of(await a.call("file/read", {"project": p["id"], "path": "main.sh"}))["content"] == "echo hi\n"
        r = await adm.call("admin/runtime/delete", {"id": rid})
        assert error_reason(r) == "CONFLICT" and r["error"]["data"]["projects"] == 1
        assert "disable" in r["error"]["message"]
        result_of(await a.call("project/delete", {"id": p["id"]}))
        assert result_of(await adm.call("admin/runtime/delete", {"code": code}))["id"] == rid
        assert error_reason(await adm.call("admin/runtime/delete", {"id": rid})) == "NOT_FOUND"

        actions = [row[0] for row in psql(
            f"SELECT action FROM audit_log WHERE target = 'runtime:{code}' ORDER BY id")]
        assert actions == ["runtime.create", "runtime.update", "runtime.update", "runtime.delete"]
    run(go())


def test_runtime_disabled_while_a_user_has_its_project_open(srv, admin_name):
    async def go():
        adm = await logged_in(srv, admin_name)
        a = await signed_in(srv)
        code = unique_name("rt").lower()
        result_of(await adm.call("admin/runtime/create", rt_params(code)))
        p = await new_project(a, runtime=code)
        result_of(await a.call("project/open", {"id": p["id"]}))
        assert code in [r["code"] for r in result_of(await a.call("runtime/list"))]

        r = result_of(await adm.call("admin/runtime/update", {"code": code, "enabled": False}))
        assert r["enabled"] is False
        # the project stays readable and editable
        g = result_of(await a.call("project/get", {"id": p["id"]}))
        assert g["runtime"]["enabled"] is False
        assert result_of(await a.call("file/read", {"project": p["id"], "path": "main.sh"}))["content"] == "echo hi\n"
        result_of(await a.call("file/save", {"project": p["id"], "path": "main.sh", "content": "echo 2\n",
                                             "base_version": 1}))
        assert code not in [r["code"] for r in result_of(await a.call("runtime/list"))]
        assert error_reason(await a.call("project/create", {"name": "n", "runtime": code})) == "RUNTIME_DISABLED"
        # the run engine refuses new runs (when it is there)
        r = await a.call("run/start", {"project": p["id"]})
        assert error_reason(r) in ("RUNTIME_DISABLED", "METHOD_NOT_FOUND"), r
        # enabled again: usable again
        result_of(await adm.call("admin/runtime/update", {"code": code, "enabled": True}))
        assert code in [r["code"] for r in result_of(await a.call("runtime/list"))]
        result_of(await a.call("project/delete", {"id": p["id"]}))
        result_of(await adm.call("admin/runtime/delete", {"code": code}))
    run(go())


# ----------------------------------------------------------------- platforms

def test_admin_platforms_create_update_default_delete(srv, admin_name):
    async def go():
        adm = await logged_in(srv, admin_name)
        name = unique_name("plat")
        before = result_of(await adm.call("admin/platform/list"))["platforms"]
        old_default = [p for p in before if p["is_default"]]
        r = result_of(await adm.call("admin/platform/create", {"name": name, "kind": "docker",
                                                               "endpoint": "unix:///tmp/none.sock",
                                                               "options": {"oci_runtime": "runsc"}}))
        pid = r["id"]
        assert (r["kind"], r["options"], r["enabled"], r["is_default"]) == ("docker", {"oci_runtime": "runsc"}, True, False)
        assert error_reason(await adm.call("admin/platform/create", {"name": name, "kind": "docker",
                                                                     "endpoint": "/x"})) == "CONFLICT"
        for bad in [{"kind": "lxc"}, {"endpoint": "ftp://x"}, {"endpoint": "unix://rel"},
                    {"options": "runsc"}, {"options": {"oci_runtime": "runsc;sh"}}, {"name": "-x"},
                    {"is_default": True, "enabled": False}]:
            p = {"name": unique_name("plat"), "kind": "docker", "endpoint": "/var/run/docker.sock"}
            p.update(bad)
            assert error_reason(await adm.call("admin/platform/create", p)) == "INVALID_PARAMS", bad
        r = result_of(await adm.call("admin/platform/update", {"id": pid, "kind": "podman", "options": {}}))
        assert (r["kind"], r["options"], r["name"]) == ("podman", {}, name)
        try:
            r = result_of(await adm.call("admin/platform/update", {"id": pid, "is_default": True}))
            assert r["is_default"] is True
            defaults = [p["name"] for p in result_of(await adm.call("admin/platform/list"))["platforms"] if p["is_default"]]
            assert defaults == [name]
            r = await adm.call("admin/platform/update", {"id": pid, "enabled": False})
            assert error_reason(r) == "CONFLICT"
            assert error_reason(await adm.call("admin/platform/delete", {"id": pid})) == "CONFLICT"
        finally:
            if old_default:
                result_of(await adm.call("admin/platform/update", {"id": old_default[0]["id"], "is_default": True}))
        result_of(await adm.call("admin/platform/update", {"id": pid, "enabled": False}))
        assert result_of(await adm.call("admin/platform/delete", {"name": name}))["id"] == pid
        assert error_reason(await adm.call("admin/platform/delete", {"id": pid})) == "NOT_FOUND"
        # audit rows are written after the reply, on any pool connection: wait, ignore order
        def audited():
            return {row[0] for row in psql(
                f"SELECT action FROM audit_log WHERE target = 'platform:{name}'")}
        await async_wait_until(lambda: "platform.delete" in audited())
        actions = audited()
        assert {"platform.create", "platform.update", "platform.delete"} <= actions, actions
    run(go())


# ------------------------------------------------------------------ settings

def test_admin_settings_take_effect_without_restart(srv, admin_name):
    async def go():
        adm = await logged_in(srv, admin_name)
        a = await signed_in(srv)
        s = result_of(await adm.call("admin/settings/get"))["settings"]
        assert s["max_file_bytes"] == 256 * KIB and s["max_files_per_project"] == 200
        assert s["max_project_bytes"] == 2 * KIB * KIB and s["signup_enabled"] is True
        pid = (await new_project(a))["id"]
        try:
            r = result_of(await adm.call("admin/settings/set", {"max_file_bytes": 1024}))
            assert r["settings"]["max_file_bytes"] == 1024 and r["reloaded"] is True
            r = await a.call("file/create", {"project": pid, "path": "x", "content": "y" * 1025})
            assert error_reason(r) == "TOO_LARGE" and r["error"]["data"]["max"] == 1024
            result_of(await a.call("file/create", {"project": pid, "path": "x", "content": "y" * 1024}))
        finally:
            result_of(await adm.call("admin/settings/set", {"max_file_bytes": 256 * KIB}))
        result_of(await a.call("file/save", {"project": pid, "path": "x", "content": "y" * 2000, "base_version": 1}))
        for bad in [{"no_such": 1}, {"max_file_bytes": "1"}, {"max_file_bytes": 0},
                    {"max_file_bytes": -5}, {"signup_enabled": 1}, {"default_pids": 1},
                    {"global_faq": {"q": 1}}, {}]:
            assert error_reason(await adm.call("admin/settings/set", bad)) == "INVALID_PARAMS", bad
        assert result_of(await adm.call("admin/settings/get"))["settings"]["max_file_bytes"] == 256 * KIB
        rows = psql("SELECT detail->'changes'->>'max_file_bytes' FROM audit_log "
                    "WHERE action = 'settings.set' ORDER BY id DESC LIMIT 2")
        assert rows == [[str(256 * KIB)], ["1024"]]
    run(go())


ADMIN_METHODS = [
    ("admin/runtime/list", {}), ("admin/runtime/create", rt_params("x-forbidden")),
    ("admin/runtime/update", {"code": PY, "enabled": False}), ("admin/runtime/delete", {"code": PY}),
    ("admin/platform/list", {}),
    ("admin/platform/create", {"name": "evil", "kind": "docker", "endpoint": "/x"}),
    ("admin/platform/update", {"id": 1, "endpoint": "/evil"}), ("admin/platform/delete", {"id": 1}),
    ("admin/settings/get", {}), ("admin/settings/set", {"signup_enabled": False}),
    ("admin/faq/set", {"faq": []}),
]


@pytest.mark.parametrize("method,params", ADMIN_METHODS, ids=[m for m, _ in ADMIN_METHODS])
def test_a_non_admin_cannot_call_admin_methods(srv, method, params):
    async def go():
        a = await signed_in(srv)
        r = await a.call(method, params)
        assert error_reason(r) == "FORBIDDEN", r
        anon = await connect(srv.ws_url)
        assert error_reason(await anon.call(method, params)) == "UNAUTHENTICATED"
    run(go())
    # and nothing changed
    assert psql(f"SELECT enabled FROM runtimes WHERE code = '{PY}'") == [["t"]]
    assert psql("SELECT value::text FROM settings WHERE key = 'signup_enabled'") == [["true"]]


# ---------------------------------------------------------------------- seed

def test_seed_is_idempotent_and_keeps_admin_edits(srv, admin_name, tmp_path):
    out = seed_runtimes()
    assert " 0 runtime(s) added, 0 updated" in out, out
    n_before = psql("SELECT count(*) FROM runtimes")
    assert seed_runtimes() == out
    assert psql("SELECT count(*) FROM runtimes") == n_before
    assert psql("SELECT count(*) FROM platforms WHERE is_default") == [["1"]]

    code_a, code_b = unique_name("sa").lower(), unique_name("sb").lower()
    recipes = {"runtimes": [
        {"code": c, "name": f"Seed {c}", "language": "shell", "version": "1", "os": "busybox",
         "arch": "amd64", "image": "runit/shell:latest", "build_command": None,
         "run_command": ["sh", "main.sh"], "entry_file": "main.sh",
         "template": {"main.sh": "echo hello\n"}, "description": "d", "faq": []}
        for c in (code_a, code_b)]}
    f = tmp_path / "recipes.json"
    f.write_text(json.dumps(recipes))
    try:
        assert "2 runtime(s) added, 0 updated, 0 unchanged" in seed_runtimes(f)
        assert "0 runtime(s) added, 0 updated, 2 unchanged" in seed_runtimes(f)

        async def edit():
            adm = await logged_in(srv, admin_name)
            result_of(await adm.call("admin/runtime/update", {"code": code_a, "description": "admin's"}))
        run(edit())
        recipes["runtimes"][0]["description"] = "recipe changed"
        recipes["runtimes"][1]["description"] = "recipe changed"
        f.write_text(json.dumps(recipes))
        out = seed_runtimes(f)
        assert "0 runtime(s) added, 1 updated, 0 unchanged, 1 kept" in out, out
        assert psql(f"SELECT description FROM runtimes WHERE code = '{code_a}'") == [["admin's"]]
        assert psql(f"SELECT description FROM runtimes WHERE code = '{code_b}'") == [["recipe changed"]]
        assert "0 runtime(s) added, 0 updated, 1 unchanged, 1 kept" in seed_runtimes(f)
        # a broken recipe is skipped, not fatal
        recipes["runtimes"].append({"code": "Bad Code"})
        f.write_text(json.dumps(recipes))
        assert "1 skipped" in seed_runtimes(f)
    finally:
        psql(f"DELETE FROM runtimes WHERE code IN ('{code_a}', '{code_b}')")
