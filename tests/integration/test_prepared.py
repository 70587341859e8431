"""Issue 16, first byte: prepared containers per runtime configuration
(run_prep.c) and the files and environment sent down the attached stdin
with "go" (run_build.c). Each run gets exactly its own files and variables
and never another user's; a prepared container serves one run and is never
reused; the pool refills; a runtime change, the setting at 0 and the
server's shutdown drop it; terminals and pipes alike. Real server,
PostgreSQL and Docker engine."""
import asyncio

import pytest

from harness import (RUN_DEADLINE_S, User, add_admin, add_shell_runtime, async_wait_until,
                     docker, logged_in, psql, result_of, run)

# Lists the whole workspace (every path, each file's mode and exact bytes
# between markers) and the whole environment but the container's name.
LISTER = (
    "cd /workspace\n"
    "find . | sort\n"
    "find . -type f | sort | while IFS= read -r f; do\n"
    "  printf '== %s %s\\n' \"$f\" \"$(stat -c %a \"$f\")\"; cat \"$f\"; printf '|end\\n'\n"
    "done\n"
    "find . -mindepth 1 -type d | sort | while IFS= read -r d; do printf 'dir %s %s\\n' \"$d\" \"$(stat -c %a \"$d\")\"; done\n"
    "printf 'multi[%s]\\n' \"$MULTI\"\n"
    "env | grep -v '^HOSTNAME=' | sort\n"
)

ENV_BASE = {"HOME", "PATH", "LANG", "PWD", "OLDPWD", "SHLVL", "TERM"}


def files_of(tag):
    """A project's files: its own marker names and contents, an empty file,
    blank lines, a deep path, a name with a space and a quote."""
    return {
        "main.sh": LISTER,
        f"marker-{tag}.txt": f"I am {tag}\n",
        "blank.txt": f"\n\n{tag}\n\n\n",
        "empty.txt": "",
        f"deep/{tag}/a/b/c/d/e/f.txt": f"deep {tag}",
        "it's here.txt": "quote 'q' \"dq\" $HOME `x`\n",
    }


def env_of(tag):
    return {f"SECRET_{tag.upper()}": f"s3cr3t-{tag}", "SHARED_NAME": f"value of {tag}",
            "MULTI": f"line one of {tag}\nline 'two' $x"}


def expected(files, env):
    """What LISTER prints for exactly these files and variables."""
    dirs, paths = {"."}, set()
    for p in files:
        parts = p.split("/")
        for i in range(1, len(parts)):
            dirs.add("./" + "/".join(parts[:i]))
        paths.add("./" + p)
    out = "".join(p + "\n" for p in sorted(dirs | paths))
    for p in sorted(paths):
        out += f"== {p} 644\n{files[p[2:]]}|end\n"
    for d in sorted(dirs - {"."}):
        out += f"dir {d} 755\n"
    out += f"multi[{env['MULTI']}]\n"
    return out


def check_listing(text, files, env, other_tags):
    text = text.replace("\r\n", "\n")
    want = expected(files, env)
    assert text.startswith(want), (text, want)
    env_lines = text[len(want):]
    names = set()
    for line in env_lines.splitlines():
        if "=" in line and line.split("=", 1)[0].replace("_", "").isalnum():
            names.add(line.split("=", 1)[0])
    for k, v in env.items():
        if "\n" not in v:
            assert f"{k}={v}\n" in env_lines, (k, env_lines)
    mine = set(env)
    assert names - mine <= ENV_BASE, names - mine
    for tag in other_tags:
        assert tag not in text, (tag, text)


async def until(check, what):
    got = await async_wait_until(check, timeout=RUN_DEADLINE_S)
    assert got, what
    return got


def instance_of(server):
    return server.env["RUNIT_INSTANCE"]


def prepared(server, running=True):
    """The ids of the server's prepared containers (running ones)."""
    r = docker("ps", "-q", "--no-trunc", *([] if running else ["-a"]), "--filter",
               f"label=run-it.instance={instance_of(server)}", "--filter", "label=run-it.run=prepared")
    return r.stdout.split()


def container_of(rid):
    return psql("SELECT container_id FROM runs WHERE id = :'v1'", rid)[0][0] or ""


@pytest.fixture(scope="module")
def rt(db_url, seeded):
    return add_shell_runtime("t-prep-sh", wall_ms=60000)  # a loaded machine is slow


def set_prepared(n):
    psql("UPDATE settings SET value = :'v1'::jsonb WHERE key = 'prepared_per_runtime'", str(n))


@pytest.fixture
def srv(make_server):
    set_prepared(1)
    # no per-project warm containers: every run goes through the pool
    return make_server(RUNIT_WARM_CONTAINERS="0").start()


async def new_user_project(server, rt, tag):
    u = await User.new(server, "prep")
    pid = await u.project(rt, files_of(tag))
    r = await u.c.call("env/set", {"project": pid, "vars": env_of(tag)})
    assert "result" in r, r
    return u, pid


async def run_once(u, pid, tty):
    p = {"project": pid}
    if tty:
        p["tty"] = True
    rid = result_of(await u.c.call("run/start", p))["run"]
    return rid, await u.wait_exit(rid)


@pytest.mark.parametrize("tty", [False, True], ids=["pipes", "tty"])
def test_each_run_gets_exactly_its_files_and_env_never_another_users(srv, rt, tty):
    tags = ["alice", "bobby"]

    async def go():
        users = [await new_user_project(srv, rt, t) for t in tags]
        # the first run teaches the pool this configuration
        await run_once(*users[0], tty)
        await until(lambda: prepared(srv), "no prepared container")
        seen, used_prepared = [], 0
        for i in range(10):
            k = i % 2
            (u, pid), tag = users[k], tags[k]
            # a used container may still be listed while it is removed (the
            # run ends on the program's exit, before the container's teardown)
            if i % 4 < 2:  # half the runs wait for the pool; the others go back to back
                await until(lambda: set(prepared(srv)) - set(seen), "the pool was not refilled")
            ready = set(prepared(srv)) - set(seen)
            rid, out = await run_once(u, pid, tty)
            assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 0, (out.exit, out.text("stderr"))
            check_listing(out.text(), files_of(tag), env_of(tag), [t for t in tags if t != tag])
            cid = container_of(rid)
            assert cid and cid not in seen, "a container served two runs"
            seen.append(cid)
            used_prepared += cid in ready
        return used_prepared
    used = run(go())
    # those that waited for it used it; back to back, the pool is not always
    # refilled in time (a run then gets a fresh container: the same check)
    assert used >= 6, used


def test_pool_refills_and_a_prepared_container_is_never_reused(srv, rt):
    async def go():
        u, pid = await new_user_project(srv, rt, "carol")
        await run_once(u, pid, False)
        ids = []
        for _ in range(3):
            ready = await until(lambda: prepared(srv), "no prepared container")
            assert len(ready) == 1, ready  # one per configuration (the setting)
            rid, out = await run_once(u, pid, False)
            assert out.exit["exit_code"] == 0, out.exit
            assert container_of(rid) == ready[0]
            ids.append(ready[0])
            # the used one is removed, never offered again
            await until(lambda: ready[0] not in prepared(srv, running=False), "the used one stays")
        return ids
    ids = run(go())
    assert len(set(ids)) == 3, ids


def test_runtime_change_setting_and_shutdown_drop_prepared_containers(srv, rt, tmp_path):
    async def go():
        u, pid = await new_user_project(srv, rt, "dave")
        await run_once(u, pid, False)
        first = await until(lambda: prepared(srv), "no prepared container")
        name = add_admin()
        admin = await logged_in(srv, name)
        # a runtime changed (here: its memory): the pool goes
        r = await admin.call("admin/runtime/update", {"code": rt, "memory_bytes": 96 << 20})
        assert "result" in r, r
        await until(lambda: not set(first) & set(prepared(srv, running=False)),
                    "the runtime changed, its prepared container stays")
        # the next run makes one for the new limits
        await run_once(u, pid, False)
        second = await until(lambda: prepared(srv), "no prepared container")
        assert not set(first) & set(second)
        mem = docker("inspect", "-f", "{{.HostConfig.Memory}}", second[0]).stdout.strip()
        assert mem == str(96 << 20), mem
        # the setting at 0: none, and none made again
        r = await admin.call("admin/settings/set", {"prepared_per_runtime": 0})
        assert "result" in r, r
        await until(lambda: not prepared(srv, running=False), "the setting is 0, one stays")
        rid, out = await run_once(u, pid, False)
        assert out.exit["exit_code"] == 0
        await asyncio.sleep(1.5)
        assert not prepared(srv, running=False)
        r = await admin.call("admin/settings/set", {"prepared_per_runtime": 1})
        assert "result" in r, r
        await run_once(u, pid, False)
        return await until(lambda: prepared(srv), "no prepared container")
    try:
        left = run(go())
        assert left
        srv.stop()
        assert not prepared(srv, running=False), "the shutdown left prepared containers"
    finally:
        set_prepared(1)
        psql("UPDATE runtimes SET memory_bytes = :'v1' WHERE code = :'v2'", str(128 << 20), rt)


def test_setting_is_checked(srv):
    async def go():
        admin = await logged_in(srv, add_admin())
        bad = await admin.call("admin/settings/set", {"prepared_per_runtime": -1})
        big = await admin.call("admin/settings/set", {"prepared_per_runtime": 9})
        got = result_of(await admin.call("admin/settings/get", {}))
        return bad, big, got
    bad, big, got = run(go())
    assert "error" in bad and "error" in big, (bad, big)
    assert got["settings"]["prepared_per_runtime"] == 1
