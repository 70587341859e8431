"""Hostile users at the same time: paths that cannot collide or deceive.

A file and a folder of one name ("main.sh" and "main.sh/child") cannot both
be files of a project, whichever comes first and however it is made
(file/create, file/save, file/rename, run/start's buffers, project/fork,
project/create from a template, raw SQL, two server instances at once);
the refusal is INVALID_PATH naming the path it clashes with. "é" spelled
as U+00E9 or as "e" + U+0301 is one file (Unicode NFC). Bidirectional
overrides and zero-width characters are refused. Real server, real
PostgreSQL, real Docker engine, real websocket."""
import asyncio
import json
import subprocess
import time

import pytest

from conftest import (add_admin, logged_in, psql, run_closing, signed_in, unique_name)

SHELL = "shell-busybox-1.35"  # installed by `run-it seed` (scripts/test); template main.sh
NFC = "caf\u00e9.sh"
NFD = "cafe\u0301.sh"
# shown as nothing, or reordering what is shown around them
HIDDEN = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
          "\u2069", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2028", "\u2029",
          "\ufeff"]


def ok(r):
    assert "result" in r, r
    return r["result"]


def refused(r, clash=None):
    """r is an INVALID_PATH error; its message names `clash` when given."""
    assert "error" in r, r
    assert r["error"]["data"]["reason"] == "INVALID_PATH", r
    if clash is not None:
        assert f'"{clash}"' in r["error"]["message"], r
    return r["error"]


async def new_project(c, runtime=SHELL):
    p = ok(await c.call("project/create", {"name": "p " + unique_name(), "runtime": runtime}))
    assert [f["path"] for f in p["files"]] == ["main.sh"], p
    return p["id"]


async def paths(c, pid):
    return [f["path"] for f in ok(await c.call("file/list", {"project": pid}))["files"]]


async def wait_exit(c, run_id, timeout=120):
    """The run's stdout and its run/exit params (generous: a busy machine)."""
    out, deadline = [], time.monotonic() + timeout
    pending, c.notes = c.notes, []
    while True:
        while pending:
            n = pending.pop(0)
            p = n.get("params", {})
            if p.get("run") != run_id:
                c.notes.append(n)
            elif n.get("method") == "run/log":
                out.append(p.get("data", ""))
            elif n.get("method") == "run/exit":
                return "".join(out), p
        left = deadline - time.monotonic()
        assert left > 0, f"no run/exit for run {run_id} in {timeout} s"
        pending.append(json.loads(await asyncio.wait_for(c.ws.recv(), left)))


# ------------------------------------------------------ a file and a folder

def test_file_create_refuses_a_file_and_a_folder_of_one_name_either_way(server):
    async def go():
        a = await signed_in(server)
        pid = await new_project(a)
        # a file first, then a file under it
        err = refused(await a.call("file/create", {"project": pid, "path": "main.sh/child"}),
                      clash="main.sh")
        assert err["data"]["clash"] == "main.sh" and err["data"]["path"] == "main.sh/child"
        assert err["data"]["param"] == "path"
        refused(await a.call("file/create", {"project": pid, "path": "main.sh/deep/er"}),
                clash="main.sh")
        # a folder first, then a file of its name
        ok(await a.call("file/create", {"project": pid, "path": "lib/util.sh", "content": ""}))
        refused(await a.call("file/create", {"project": pid, "path": "lib"}), clash="lib/util.sh")
        # names that only share a prefix are no folder
        ok(await a.call("file/create", {"project": pid, "path": "main.shx/child"}))
        ok(await a.call("file/create", {"project": pid, "path": "li"}))
        assert await paths(a, pid) == ["li", "lib/util.sh", "main.sh", "main.shx/child"]
    run_closing(go())


def test_file_save_names_the_clash_instead_of_creating_anything(server):
    async def go():
        a = await signed_in(server)
        pid = await new_project(a)
        ok(await a.call("file/create", {"project": pid, "path": "lib/util.sh"}))
        r = await a.call("file/save", {"project": pid, "path": "main.sh/child", "content": "x",
                                       "base_version": 1})
        refused(r, clash="main.sh")
        r = await a.call("file/save", {"project": pid, "path": "lib", "content": "x",
                                       "base_version": 1})
        refused(r, clash="lib/util.sh")
        # a path that clashes with nothing is still just missing
        r = await a.call("file/save", {"project": pid, "path": "nope", "content": "x",
                                       "base_version": 1})
        assert r["error"]["data"]["reason"] == "NOT_FOUND", r
        assert await paths(a, pid) == ["lib/util.sh", "main.sh"]
    run_closing(go())


def test_file_rename_refuses_a_file_and_a_folder_of_one_name_either_way(server):
    async def go():
        a = await signed_in(server)
        pid = await new_project(a)
        ok(await a.call("file/create", {"project": pid, "path": "other.sh"}))
        ok(await a.call("file/create", {"project": pid, "path": "lib/util.sh"}))
        err = refused(await a.call("file/rename", {"project": pid, "path": "other.sh",
                                                   "new_path": "main.sh/child"}), clash="main.sh")
        assert err["data"]["param"] == "new_path"
        refused(await a.call("file/rename", {"project": pid, "path": "other.sh", "new_path": "lib"}),
                clash="lib/util.sh")
        assert await paths(a, pid) == ["lib/util.sh", "main.sh", "other.sh"]
        # the renamed file itself is leaving: a file may move under its own name
        ok(await a.call("file/rename", {"project": pid, "path": "main.sh",
                                        "new_path": "main.sh/main.sh"}))
        ok(await a.call("file/rename", {"project": pid, "path": "lib/util.sh", "new_path": "lib"}))
        assert await paths(a, pid) == ["lib", "main.sh/main.sh", "other.sh"]
    run_closing(go())


def test_run_start_buffers_that_clash_are_refused_and_the_project_still_runs(server):
    async def go():
        a = await signed_in(server)
        pid = await new_project(a)
        ok(await a.call("file/create", {"project": pid, "path": "lib/util.sh", "content": ""}))
        # under an existing file, over an existing folder, against each other
        for files, clash in [({"main.sh/child": "x"}, "main.sh"),
                             ({"lib": "x"}, "lib/util.sh"),
                             ({"x": "", "x/y": ""}, "x/y"),
                             ({"main.sh": "echo saved?\n", "q/r/s": "", "q/r": ""}, "q/r")]:
            r = await a.call("run/start", {"project": pid, "files": files})
            err = refused(r, clash=clash)
            assert err["data"]["param"] == "files"
        # nothing was saved, no run was started
        assert await paths(a, pid) == ["lib/util.sh", "main.sh"]
        f = ok(await a.call("file/read", {"project": pid, "path": "main.sh"}))
        assert f["version"] == 1
        # and the next run works (before, every later run failed: "cannot pack")
        run_id = ok(await a.call("run/start", {"project": pid,
                                               "files": {"main.sh": "echo still runs\n"}}))["run"]
        out, end = await wait_exit(a, run_id)
        assert (end["reason"], end.get("exit_code")) == ("exited", 0), (end, out)
        assert "still runs" in out
    run_closing(go())


def test_two_server_instances_creating_a_and_a_slash_b_at_once_exactly_one_wins(make_server):
    """Two sockets on two server instances, the same project, at once."""
    s1 = make_server().start()
    s2 = make_server().start()

    async def go():
        a = await signed_in(s1)
        b = await signed_in(s2)
        pid = await new_project(a)
        ok(await a.call("project/share", {"id": pid, "username": b.user["username"],
                                          "role": "editor"}))
        for i in range(12):
            file, under = f"r{i}", f"r{i}/child"
            first, second = (a, b) if i % 2 else (b, a)
            r1, r2 = await asyncio.gather(
                first.call("file/create", {"project": pid, "path": file, "content": "1"}),
                second.call("file/create", {"project": pid, "path": under, "content": "2"}))
            won = [r for r in (r1, r2) if "result" in r]
            lost = [r for r in (r1, r2) if "error" in r]
            assert len(won) == 1 and len(lost) == 1, (r1, r2)
            winner = won[0]["result"]["path"]
            refused(lost[0], clash=winner)
        listed = await paths(a, pid)
        for i in range(12):
            assert (f"r{i}" in listed) != (f"r{i}/child" in listed), listed
    run_closing(go())


def test_the_database_refuses_a_clash_from_any_writer(server):
    """Raw SQL, as another program or a server instance without the checks."""
    async def go():
        a = await signed_in(server)
        return await new_project(a)
    pid = run_closing(go())
    with pytest.raises(subprocess.CalledProcessError) as e:
        psql("INSERT INTO files (project_id, path, content) VALUES (:'v1', 'main.sh/child', '')", pid)
    assert "RP001" in e.value.stderr or '"main.sh" is a file' in e.value.stderr, e.value.stderr
    with pytest.raises(subprocess.CalledProcessError):  # two rows of one statement
        psql("INSERT INTO files (project_id, path, content) VALUES (:'v1', 'x/y', ''), "
             "(:'v1', 'x', '')", pid)
    with pytest.raises(subprocess.CalledProcessError):  # the file_path domain
        psql("INSERT INTO files (project_id, path, content) VALUES (:'v1', 'a' || chr(8238) || 'b', '')",
             pid)
    # NFD from a raw writer is stored as NFC
    psql("INSERT INTO files (project_id, path, content) VALUES (:'v1', :'v2', '')", pid, NFD)
    assert psql("SELECT path FROM files WHERE project_id = :'v1' ORDER BY path", pid) == \
        [[NFC], ["main.sh"]]


def test_fork_of_a_project_whose_paths_clash_is_refused(server):
    """A project stored before the rule (rows written with the trigger off)."""
    async def go():
        a = await signed_in(server)
        pid = await new_project(a)
        psql("BEGIN; ALTER TABLE files DISABLE TRIGGER USER;"
             " INSERT INTO files (project_id, path, content) VALUES (:'v1', 'main.sh/child', 'x');"
             " ALTER TABLE files ENABLE TRIGGER USER; COMMIT;", pid)
        assert await paths(a, pid) == ["main.sh", "main.sh/child"]
        before = psql("SELECT count(*) FROM projects WHERE owner_id = :'v1'", a.user["id"])
        r = await a.call("project/fork", {"id": pid, "name": "fork"})
        refused(r, clash="main.sh")
        assert psql("SELECT count(*) FROM projects WHERE owner_id = :'v1'", a.user["id"]) == before
        # the owner can still repair the project
        ok(await a.call("file/rename", {"project": pid, "path": "main.sh/child", "new_path": "child"}))
        ok(await a.call("project/fork", {"id": pid, "name": "fork"}))
    run_closing(go())


def test_template_whose_paths_clash_is_refused_by_admins_and_by_project_create(server):
    code = "t-clash-" + unique_name("x")[-12:].lower()
    template = {"main.sh": "echo hi\n", "main.sh/child": ""}
    psql("INSERT INTO runtimes (code, name, language, version, image, run_cmd, entry_file, template)"
         " VALUES (:'v1', :'v1', 'test', '1', 'runit/shell:latest', '[\"sh\", \"main.sh\"]',"
         " 'main.sh', :'v2'::jsonb)", code, json.dumps(template))
    admin = add_admin()

    async def go():
        a = await signed_in(server)
        r = await a.call("project/create", {"name": "from template", "runtime": code})
        refused(r, clash="main.sh")
        assert psql("SELECT count(*) FROM projects WHERE owner_id = :'v1'", a.user["id"]) == [["0"]]
        adm = await logged_in(server, admin)
        for t in (template, {"main.sh": "", "main.sh/x/y": ""}, {NFD: ""}, {"a\u202eb": ""}):
            r = await adm.call("admin/runtime/update", {"code": code, "template": t})
            assert r.get("error", {}).get("data", {}).get("reason") == "INVALID_PARAMS", (t, r)
        r = await adm.call("admin/runtime/update", {"code": code, "entry_file": NFD})
        assert r.get("error", {}).get("data", {}).get("reason") == "INVALID_PARAMS", r
        ok(await adm.call("admin/runtime/update", {"code": code, "template": {"main.sh": "", NFC: ""}}))
    try:
        run_closing(go())
    finally:
        psql("DELETE FROM projects WHERE runtime_id = (SELECT id FROM runtimes WHERE code = :'v1');"
             " DELETE FROM runtimes WHERE code = :'v1'", code)


# ----------------------------------------------------------------- Unicode NFC

def test_e_acute_spelled_two_ways_is_one_file(server):
    async def go():
        a = await signed_in(server)
        pid = await new_project(a)
        r = ok(await a.call("file/create", {"project": pid, "path": NFD, "content": "echo one\n"}))
        assert r["path"] == NFC
        assert await paths(a, pid) == [NFC, "main.sh"]
        r = await a.call("file/create", {"project": pid, "path": NFC, "content": "echo two\n"})
        assert r["error"]["data"]["reason"] == "CONFLICT", r
        # saved, read, renamed and deleted through either spelling
        assert ok(await a.call("file/save", {"project": pid, "path": NFC, "content": "echo 2\n",
                                             "base_version": 1}))["version"] == 2
        f = ok(await a.call("file/read", {"project": pid, "path": NFD}))
        assert (f["path"], f["content"], f["version"]) == (NFC, "echo 2\n", 2)
        assert ok(await a.call("file/save", {"project": pid, "path": NFD, "content": "echo 3\n",
                                             "base_version": 2}))["version"] == 3
        assert await paths(a, pid) == [NFC, "main.sh"]
        # a folder spelled the other way is the same folder
        ok(await a.call("file/create", {"project": pid, "path": "d\u00e9j\u00e0/x"}))
        refused(await a.call("file/create", {"project": pid, "path": "de\u0301ja\u0300"}),
                clash="d\u00e9j\u00e0/x")
        r = ok(await a.call("file/rename", {"project": pid, "path": NFD, "new_path": "n" + NFD}))
        assert r["new_path"] == "n" + NFC
        ok(await a.call("file/delete", {"project": pid, "path": "n" + NFD}))
        assert await paths(a, pid) == ["d\u00e9j\u00e0/x", "main.sh"]
        assert psql("SELECT count(*) FROM files WHERE project_id = :'v1' AND path IS NOT NFC NORMALIZED",
                    pid) == [["0"]]
    run_closing(go())


def test_run_start_buffers_are_saved_under_their_nfc_name(server):
    async def go():
        a = await signed_in(server)
        pid = await new_project(a)
        ok(await a.call("file/create", {"project": pid, "path": NFC, "content": "echo old\n"}))
        # both spellings in one request: which one would win? refused
        r = await a.call("run/start", {"project": pid, "files": {NFC: "echo a\n", NFD: "echo b\n"}})
        refused(r, clash=None)
        assert NFC in r["error"]["message"]
        run_id = ok(await a.call("run/start", {"project": pid, "files": {
            NFD: "echo one file\n", "main.sh": f"sh {NFC}\n"}}))["run"]
        out, end = await wait_exit(a, run_id)
        assert (end["reason"], end.get("exit_code")) == ("exited", 0), (end, out)
        assert "one file" in out
        assert await paths(a, pid) == [NFC, "main.sh"]
        assert ok(await a.call("file/read", {"project": pid, "path": NFC}))["version"] == 2
    run_closing(go())


# ------------------------------------------- bidirectional and invisible characters

def test_bidi_overrides_and_zero_width_characters_are_refused_everywhere(server):
    async def go():
        a = await signed_in(server)
        pid = await new_project(a)
        ok(await a.call("project/open", {"id": pid}))
        for ch in HIDDEN:
            name = f"ma{ch}in.sh"
            err = refused(await a.call("file/create", {"project": pid, "path": name}))
            assert err["data"]["param"] == "path"
            assert "bidirectional" in err["data"]["why"] or "invisible" in err["data"]["why"], err
            refused(await a.call("file/create", {"project": pid, "path": f"dir{ch}/x.sh"}))
            refused(await a.call("file/rename", {"project": pid, "path": "main.sh",
                                                 "new_path": name}))
            refused(await a.call("file/save", {"project": pid, "path": name, "content": "",
                                               "base_version": 1}))
            refused(await a.call("run/start", {"project": pid, "files": {name: ""}}))
            refused(await a.call("presence/update", {"project": pid, "file": name}))
        # the Trojan Source classic: shown as "mainexe.sh"
        refused(await a.call("file/create", {"project": pid, "path": "main\u202ehs.exe"}))
        assert await paths(a, pid) == ["main.sh"]
    run_closing(go())
