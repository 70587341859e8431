"""A file's versions and a past run's code, restorable (issue 18):
file/history, file/read with a version, file/restore, project/restore, and
the admins' settings file_versions_kept and file_versions_max_age_s,
against the real server, PostgreSQL and Docker engine."""
import asyncio

import pytest

from harness import (RUN_DEADLINE_S, User, add_admin, error_reason, logged_in, psql, result_of,
                     run, signed_in)


def set_settings(server, **values):
    async def go():
        admin = await logged_in(server, add_admin())
        r = await admin.call("admin/settings/set", values)
        assert result_of(r)["reloaded"] is True, r
        return result_of(r)["settings"]
    return run(go())


@pytest.fixture
def kept5(server):
    """file_versions_kept = 5 (earlier versions) for the test, then the default again."""
    set_settings(server, file_versions_kept=5)
    yield 5
    set_settings(server, file_versions_kept=20, file_versions_max_age_s=31536000)


async def project_with(c, files, runtime="t-sh"):
    r = result_of(await c.call("project/create", {"name": "hist", "runtime": runtime}))
    pid = r["id"]
    for f in r["files"]:
        result_of(await c.call("file/delete", {"project": pid, "path": f["path"]}))
    for path, content in files.items():
        result_of(await c.call("file/create", {"project": pid, "path": path, "content": content}))
    return pid


async def history(c, pid, path, **kw):
    return result_of(await c.call("file/history", {"project": pid, "path": path, **kw}))


async def all_versions(c, pid, path, limit=7):
    """Every version of file/history, page by page."""
    out, before = [], None
    while True:
        p = {"limit": limit}
        if before is not None:
            p["before"] = before
        h = await history(c, pid, path, **p)
        out += h["versions"]
        if h["next"] is None:
            return out
        assert h["next"] == h["versions"][-1]["version"]
        before = h["next"]


def content_of(i):
    # exact bytes: multi-byte characters, blank lines, trailing spaces
    return f"print({i})  \n\n# é ☃ {i}\t\n" + ("x" * i)


def test_twenty_five_saves_keep_exactly_the_configured_number(server, shell_runtime, kept5):
    async def go():
        c = await signed_in(server)
        pid = await project_with(c, {"main.sh": content_of(0)})
        v = 1
        for i in range(1, 26):
            v = result_of(await c.call("file/save", {"project": pid, "path": "main.sh",
                                                     "content": content_of(i),
                                                     "base_version": v}))["version"]
        assert v == 26
        # the current version and exactly 5 earlier ones
        vs = await all_versions(c, pid, "main.sh", limit=2)
        assert [x["version"] for x in vs] == [26, 25, 24, 23, 22, 21]
        assert vs[0]["current"] is True and not any(x["current"] for x in vs[1:])
        for x in vs:
            assert x["by"] == {"id": c.user["id"], "username": c.user["username"]}
            assert x["size"] == len(content_of(x["version"] - 1).encode())
            assert isinstance(x["saved_at"], str)
        # the rows are gone, not only hidden
        rows = psql("SELECT count(*) FROM file_versions v JOIN files f ON f.id = v.file_id"
                    " WHERE f.project_id = :'v1'", pid)
        assert rows == [["5"]]
        for x in vs:
            r = result_of(await c.call("file/read", {"project": pid, "path": "main.sh",
                                                     "version": x["version"]}))
            assert r["content"] == content_of(x["version"] - 1)
            assert r["version"] == x["version"] and r["current"] == x["current"]
        for gone in (1, 20, 27):
            r = await c.call("file/read", {"project": pid, "path": "main.sh", "version": gone})
            assert error_reason(r) == "NOT_FOUND", r
            assert r["error"]["data"]["current"] == 26
        # an admin raises the number: versions already deleted do not come back,
        # the next saves are kept; lowering it deletes at once
        return c, pid
    c, pid = run(go())
    set_settings(server, file_versions_kept=7)

    async def more():
        c2 = await logged_in(server, c.user["username"])
        v = 26
        for i in range(26, 30):
            v = result_of(await c2.call("file/save", {"project": pid, "path": "main.sh",
                                                      "content": content_of(i),
                                                      "base_version": v}))["version"]
        vs = await all_versions(c2, pid, "main.sh")
        assert [x["version"] for x in vs] == [30, 29, 28, 27, 26, 25, 24, 23]
        return c2
    run(more())
    set_settings(server, file_versions_kept=2)
    rows = psql("SELECT v.version FROM file_versions v JOIN files f ON f.id = v.file_id"
                " WHERE f.project_id = :'v1'", pid)
    assert sorted(rows) == [["28"], ["29"]]


def test_max_age_hides_and_deletes_old_versions(server, shell_runtime, kept5):
    async def go():
        c = await signed_in(server)
        pid = await project_with(c, {"a.sh": "1"})
        for i, base in ((2, 1), (3, 2), (4, 3)):
            result_of(await c.call("file/save", {"project": pid, "path": "a.sh",
                                                 "content": str(i), "base_version": base}))
        # version 1 stopped being current two hours ago
        psql("UPDATE file_versions SET replaced_at = now() - interval '2 hours'"
             " WHERE version = 1 AND file_id = (SELECT id FROM files WHERE project_id = :'v1')",
             pid)
        assert [x["version"] for x in await all_versions(c, pid, "a.sh")] == [4, 3, 2, 1]
        return c, pid
    c, pid = run(go())
    set_settings(server, file_versions_max_age_s=3600)

    async def after():
        c2 = await logged_in(server, c.user["username"])
        assert [x["version"] for x in await all_versions(c2, pid, "a.sh")] == [4, 3, 2]
        r = await c2.call("file/read", {"project": pid, "path": "a.sh", "version": 1})
        assert error_reason(r) == "NOT_FOUND"
    run(after())
    assert psql("SELECT count(*) FROM file_versions WHERE version = 1 AND file_id ="
                " (SELECT id FROM files WHERE project_id = :'v1')", pid) == [["0"]]


def test_restore_makes_a_new_version_and_keeps_the_replaced_text(server, shell_runtime):
    async def go():
        c = await signed_in(server)
        other = await signed_in(server)
        pid = await project_with(c, {"main.sh": "echo one\n"})
        result_of(await c.call("file/save", {"project": pid, "path": "main.sh",
                                             "content": "echo two\n", "base_version": 1}))
        result_of(await c.call("file/save", {"project": pid, "path": "main.sh",
                                             "content": "echo three\n", "base_version": 2}))
        watcher = await logged_in(server, c.user["username"])
        result_of(await watcher.call("project/open", {"id": pid}))
        r = result_of(await c.call("file/restore", {"project": pid, "path": "main.sh",
                                                    "version": 1, "base_version": 3}))
        assert r == {"path": "main.sh", "version": 4, "size": 9, "restored_from": 1}
        note = (await watcher.next_notification("file/changed"))["params"]
        assert note["op"] == "saved" and note["version"] == 4 and note["restored_from"] == 1
        assert note["by"]["id"] == c.user["id"]
        cur = result_of(await c.call("file/read", {"project": pid, "path": "main.sh"}))
        assert cur["content"] == "echo one\n" and cur["version"] == 4
        pre = result_of(await c.call("file/read", {"project": pid, "path": "main.sh",
                                                   "version": 3}))
        assert pre["content"] == "echo three\n"
        vs = await all_versions(c, pid, "main.sh")
        assert [x["version"] for x in vs] == [4, 3, 2, 1]
        # a stale base is a CONFLICT with the current state, as file/save's
        r = await c.call("file/restore", {"project": pid, "path": "main.sh", "version": 2,
                                          "base_version": 3})
        assert error_reason(r) == "CONFLICT"
        assert r["error"]["data"]["version"] == 4 and r["error"]["data"]["content"] == "echo one\n"
        # restoring what is there is no new version
        r = result_of(await c.call("file/restore", {"project": pid, "path": "main.sh",
                                                    "version": 1, "base_version": 4}))
        assert r["unchanged"] is True and r["version"] == 4
        # limits are file/save's
        result_of(await c.call("file/save", {"project": pid, "path": "main.sh",
                                             "content": "z", "base_version": 4}))
        psql("UPDATE settings SET value = '100' WHERE key = 'max_file_bytes'")
        try:
            psql("UPDATE file_versions SET content = repeat('y', 200) WHERE version = 2 AND"
                 " file_id = (SELECT id FROM files WHERE project_id = :'v1')", pid)
            r = await c.call("file/restore", {"project": pid, "path": "main.sh", "version": 2,
                                              "base_version": 5})
            assert error_reason(r) == "TOO_LARGE" and r["error"]["data"]["limit"] == "max_file_bytes"
        finally:
            psql("UPDATE settings SET value = '262144' WHERE key = 'max_file_bytes'")
        # bad input
        for bad in ({"project": pid, "path": "main.sh", "version": 0, "base_version": 5},
                    {"project": pid, "path": "main.sh", "version": 1},
                    {"project": pid, "path": "main.sh", "version": "1", "base_version": 5}):
            assert error_reason(await c.call("file/restore", bad)) == "INVALID_PARAMS"
        r = await c.call("file/restore", {"project": pid, "path": "../x", "version": 1,
                                          "base_version": 5})
        assert error_reason(r) == "INVALID_PATH"
        r = await c.call("file/restore", {"project": pid, "path": "main.sh", "version": 99,
                                          "base_version": 5})
        assert error_reason(r) == "NOT_FOUND"
        r = await c.call("file/history", {"project": pid, "path": "nope.sh"})
        assert error_reason(r) == "NOT_FOUND"
        r = await c.call("file/history", {"project": pid, "path": "main.sh", "limit": 201})
        assert error_reason(r) == "INVALID_PARAMS"
        # someone else: a private project does not exist for them
        for m, p in (("file/history", {"project": pid, "path": "main.sh"}),
                     ("file/read", {"project": pid, "path": "main.sh", "version": 1}),
                     ("file/restore", {"project": pid, "path": "main.sh", "version": 1,
                                       "base_version": 5})):
            r = await other.call(m, p)
            assert error_reason(r) == "NOT_FOUND", (m, r)
            assert r["error"]["message"] == "no such project"
    run(go())


def test_viewer_reads_history_but_cannot_restore_and_public_visitors_see_none(server, shell_runtime):
    async def go():
        c = await signed_in(server)
        viewer = await signed_in(server)
        visitor = await signed_in(server)
        pid = await project_with(c, {"main.sh": "echo a\n"})
        result_of(await c.call("file/save", {"project": pid, "path": "main.sh",
                                             "content": "echo b\n", "base_version": 1}))
        rid = await User(c, c.user["username"], c.user["id"]).start(pid)
        result_of(await c.call("project/share", {"id": pid, "username": viewer.user["username"],
                                                 "role": "viewer"}))
        assert [x["version"] for x in await all_versions(viewer, pid, "main.sh")] == [2, 1]
        r = await viewer.call("file/restore", {"project": pid, "path": "main.sh", "version": 1,
                                               "base_version": 2})
        assert error_reason(r) == "FORBIDDEN"
        prev = result_of(await viewer.call("project/restore", {"project": pid, "run": rid,
                                                               "preview": True}))
        r = await viewer.call("project/restore", {"project": pid, "run": rid,
                                                  "base_versions": prev["base_versions"]})
        assert error_reason(r) == "FORBIDDEN"
        # public: the current files are readable, the history is not
        result_of(await c.call("project/update", {"id": pid, "is_public": True}))
        result_of(await visitor.call("file/read", {"project": pid, "path": "main.sh"}))
        for m, p in (("file/history", {"project": pid, "path": "main.sh"}),
                     ("file/read", {"project": pid, "path": "main.sh", "version": 1}),
                     ("project/restore", {"project": pid, "run": rid, "preview": True})):
            assert error_reason(await visitor.call(m, p)) == "FORBIDDEN", m
        # a viewer demoted while the socket is open cannot read it any more
        result_of(await c.call("project/update", {"id": pid, "is_public": False}))
        result_of(await c.call("project/share", {"id": pid, "username": viewer.user["username"],
                                                 "role": None}))
        r = await viewer.call("file/history", {"project": pid, "path": "main.sh"})
        assert error_reason(r) == "NOT_FOUND"
    run(go())


def test_restore_a_runs_code_adds_changes_and_removes_to_match(server, shell_runtime):
    async def go():
        u = await User.new(server)
        c = u.c
        snap = {"main.sh": "echo snap\n", "lib/a.sh": "A=1\n", "same.txt": "same\n"}
        pid = await project_with(c, snap)
        rid = await u.start(pid)
        out = await u.wait_exit(rid, RUN_DEADLINE_S)
        assert out.text() == "snap\n"
        # afterwards: one changed, one removed, two added (one where a folder was)
        result_of(await c.call("file/save", {"project": pid, "path": "main.sh",
                                             "content": "echo later\n", "base_version": 1}))
        result_of(await c.call("file/delete", {"project": pid, "path": "lib/a.sh"}))
        result_of(await c.call("file/create", {"project": pid, "path": "new.sh", "content": "n"}))
        result_of(await c.call("file/create", {"project": pid, "path": "lib", "content": "L"}))
        watcher = await logged_in(server, u.name, u.password)
        result_of(await watcher.call("project/open", {"id": pid}))
        prev = result_of(await c.call("project/restore", {"project": pid, "run": rid,
                                                          "preview": True}))
        assert prev["added"] == ["lib/a.sh"]
        assert prev["changed"] == ["main.sh"]
        assert prev["removed"] == ["lib", "new.sh"]
        assert prev["unchanged"] == 1
        assert prev["base_versions"] == {"main.sh": 2, "lib": 1, "new.sh": 1, "same.txt": 1}
        # nothing changed by the preview
        assert len(result_of(await c.call("file/list", {"project": pid}))["files"]) == 4
        r = result_of(await c.call("project/restore", {"project": pid, "run": rid,
                                                       "base_versions": prev["base_versions"]}))
        assert {(f["path"], f["op"], f["version"]) for f in r["files"]} == {
            ("lib", "deleted", 1), ("new.sh", "deleted", 1),
            ("lib/a.sh", "created", 1), ("main.sh", "saved", 3)}
        files = result_of(await c.call("file/list", {"project": pid}))["files"]
        got = {}
        for f in files:
            got[f["path"]] = result_of(await c.call("file/read", {"project": pid,
                                                                  "path": f["path"]}))["content"]
        assert got == snap
        # main.sh's pre-restore text is in its history
        pre = result_of(await c.call("file/read", {"project": pid, "path": "main.sh",
                                                   "version": 2}))
        assert pre["content"] == "echo later\n"
        notes = await watcher.collect_notifications("file/changed", lambda n: len(n) >= 4)
        assert {(n["path"], n["op"]) for n in notes} == {
            ("lib", "deleted"), ("new.sh", "deleted"), ("lib/a.sh", "created"),
            ("main.sh", "saved")}
        assert all(n["run"] == rid for n in notes)
        # the same base again: the project changed meanwhile
        r = await c.call("project/restore", {"project": pid, "run": rid,
                                             "base_versions": prev["base_versions"]})
        assert error_reason(r) == "CONFLICT"
        assert r["error"]["data"]["base_versions"] == {"main.sh": 3, "lib/a.sh": 1,
                                                       "same.txt": 1}
        # a run of another project, an unknown run, bad base_versions
        other = await project_with(c, {"x.sh": "x"})
        r = await c.call("project/restore", {"project": other, "run": rid, "preview": True})
        assert error_reason(r) == "NOT_FOUND"
        r = await c.call("project/restore", {"project": pid, "run": 2**52, "preview": True})
        assert error_reason(r) == "NOT_FOUND"
        for bad in ({"project": pid, "run": rid},
                    {"project": pid, "run": rid, "base_versions": {"main.sh": "3"}},
                    {"project": pid, "run": rid, "base_versions": []}):
            assert error_reason(await c.call("project/restore", bad)) == "INVALID_PARAMS"
        stranger = await signed_in(server)
        r = await stranger.call("project/restore", {"project": pid, "run": rid, "preview": True})
        assert error_reason(r) == "NOT_FOUND"
    run(go())


def test_a_restore_racing_a_save_gets_one_conflict(server, shell_runtime):
    async def go():
        a = await signed_in(server)
        b = await logged_in(server, a.user["username"])
        pid = await project_with(a, {"main.sh": "v1"})
        result_of(await a.call("file/save", {"project": pid, "path": "main.sh",
                                             "content": "v2", "base_version": 1}))
        v = 2
        for round_ in range(10):
            # the version before is not this content, so the restore changes it
            v = result_of(await a.call("file/save", {"project": pid, "path": "main.sh",
                                                     "content": f"pre {round_}",
                                                     "base_version": v}))["version"]
            base = result_of(await a.call("file/read", {"project": pid, "path": "main.sh"}))
            old = result_of(await a.call("file/read", {"project": pid, "path": "main.sh",
                                                       "version": v - 1}))["content"]
            restore, save = await asyncio.gather(
                a.call("file/restore", {"project": pid, "path": "main.sh", "version": v - 1,
                                        "base_version": base["version"]}),
                b.call("file/save", {"project": pid, "path": "main.sh",
                                     "content": f"save {round_}", "base_version": base["version"]}))
            won = [r for r in (restore, save) if "result" in r]
            lost = [r for r in (restore, save) if "error" in r]
            assert len(won) == 1 and len(lost) == 1, (restore, save)
            assert error_reason(lost[0]) == "CONFLICT"
            assert lost[0]["error"]["data"]["version"] == base["version"] + 1
            cur = result_of(await a.call("file/read", {"project": pid, "path": "main.sh"}))
            assert cur["version"] == base["version"] + 1
            assert cur["content"] == (old if "result" in restore else f"save {round_}")
            v = cur["version"]
    run(go())


def test_a_project_restore_racing_a_save_gets_one_conflict(server, shell_runtime):
    async def go():
        u = await User.new(server)
        b = await logged_in(server, u.name, u.password)
        pid = await project_with(u.c, {"main.sh": "echo 0\n"})
        rid = await u.start(pid)
        await u.wait_exit(rid)
        v = 1
        outcomes = set()
        for i in range(1, 9):
            v = result_of(await u.c.call("file/save", {"project": pid, "path": "main.sh",
                                                       "content": f"echo {i}\n",
                                                       "base_version": v}))["version"]
            prev = result_of(await u.c.call("project/restore", {"project": pid, "run": rid,
                                                                "preview": True}))
            restore, save = await asyncio.gather(
                u.c.call("project/restore", {"project": pid, "run": rid,
                                             "base_versions": prev["base_versions"]}),
                b.call("file/save", {"project": pid, "path": "main.sh",
                                     "content": f"echo s{i}\n", "base_version": v}))
            assert ("result" in restore) != ("result" in save), (restore, save)
            loser = save if "result" in restore else restore
            assert error_reason(loser) == "CONFLICT"
            outcomes.add("restore" if "result" in restore else "save")
            v += 1
            cur = result_of(await u.c.call("file/read", {"project": pid, "path": "main.sh"}))
            assert cur["version"] == v
        # both orders happened at least once is likely but not certain; one
        # winner per round is what must hold
        assert outcomes
    run(go())


def test_settings_are_checked(server):
    async def go():
        admin = await logged_in(server, add_admin())
        for bad in ({"file_versions_kept": 0}, {"file_versions_kept": 1001},
                    {"file_versions_max_age_s": 10}, {"file_versions_kept": "5"}):
            assert error_reason(await admin.call("admin/settings/set", bad)) == "INVALID_PARAMS"
        s = result_of(await admin.call("admin/settings/get", {}))["settings"]
        assert s["file_versions_kept"] == 20 and s["file_versions_max_age_s"] == 31536000
    run(go())
