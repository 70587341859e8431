"""Issue 12, "nothing offered that cannot run": every seeded runtime's
template hello world runs through the real server (all seven images exist:
scripts/test builds them), so does a two-file Go project; a runtime whose
image the platform lacks is listed unavailable and refused with
IMAGE_MISSING, also when the image goes away while sockets are open; an
admin's build (images/build for a test tag, never runit/*:latest) makes
it available, with its progress on the dashboard; a pull fails cleanly;
only admins may do either. And the seeded global FAQ answers something."""
import asyncio
import json
import os
import time

import pytest

from harness import (TEST_PASSWORD, User, add_admin, add_runtime, connect, docker, error_reason,
                     free_port, logged_in, psql, result_of, run, seed_runtimes)

SEEDED = ["shell-busybox-1.35", "python-3.11", "go-1.19", "node-18", "ruby-3.1", "java-17",
          "c-gcc-12"]
# a tag of our own: the tests create and remove only these, never runit/*:latest
TAG = f"itest-{os.getpid()}"


def recipes():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "images", "recipes.json")
    with open(root) as f:
        return json.load(f)


async def runtimes(c):
    return {r["code"]: r for r in result_of(await c.call("runtime/list"))}


async def listed_as(c, code, available, timeout=20):
    """Wait until runtime/list says code is (un)available; its entry."""
    deadline = time.monotonic() + timeout
    while True:
        rt = (await runtimes(c)).get(code)
        if rt and rt["available"] == available:
            return rt
        assert time.monotonic() < deadline, f"{code} not available={available} in {timeout} s: {rt}"
        await asyncio.sleep(0.3)


async def many_at_once(c, calls):
    """Send every (method, params) before reading any answer; the answers in order."""
    ids = []
    for method, params in calls:
        c.next_id += 1
        ids.append(c.next_id)
        await c.ws.send(json.dumps({"jsonrpc": "2.0", "id": c.next_id, "method": method,
                                    "params": params}))
    got = {}
    while len(got) < len(ids):
        msg = await c.receive()
        if msg.get("id") in ids:
            got[msg["id"]] = msg
        else:
            c.notes.append(msg)
    return [got[i] for i in ids]


@pytest.fixture
def own_image():
    """runit/shell:<test tag> names to use; each is removed afterwards (they are ours)."""
    made = []

    def name(suffix):
        made.append(f"runit/shell:{TAG}-{suffix}")
        return made[-1]
    yield name
    for image in made:
        docker("image", "rm", "-f", image)
        psql("UPDATE runtimes SET enabled = false WHERE image = :'v1'", image)


def test_every_seeded_runtime_runs_its_template_hello_world(server, seeded):
    async def go():
        u = await User.new(server)
        listed = await runtimes(u.c)
        assert set(SEEDED) <= set(listed), listed.keys()
        for code in SEEDED:
            rt = await listed_as(u.c, code, True)
            assert rt["reason"] is None and "image" not in rt, rt
        outs = {}
        for code in SEEDED:  # one after another: 2 cores, and Java and Go compile
            res = result_of(await u.c.call("project/create", {"name": f"hello {code}",
                                                              "runtime": code}))
            pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
            rid = await u.start(pid)
            outs[code] = await u.wait_exit(rid, timeout=60)
        # every runtime is "present" once looked at
        now = await runtimes(u.c)
        assert all(now[c]["image_state"] == "present" for c in SEEDED), now
        return outs
    outs = run(go())
    for code, out in outs.items():
        assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 0, (code, out.exit,
                                                                               out.text("stderr"))
        assert out.text() == "Hello, world!\n", (code, out.text(), out.text("stderr"))


def test_a_two_file_go_project_runs(server, seeded):
    files = {
        "go.mod": "module hello\n\ngo 1.19\n",
        "main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n'
                   '\tfmt.Println(greet("Go"), add(40, 2))\n}\n',
        "util.go": 'package main\n\nfunc greet(who string) string { return "hello, " + who }\n\n'
                   "func add(a, b int) int { return a + b }\n",
    }

    async def go():
        u = await User.new(server)
        return await u.run_code("go-1.19", files, timeout=60)
    _, _, out = run(go())
    assert out.exit["reason"] == "exited" and out.exit["exit_code"] == 0, (out.exit,
                                                                           out.text("stderr"))
    assert out.text() == "hello, Go 42\n"


def test_a_missing_image_is_listed_unavailable_and_refused(server, own_image):
    image = own_image("never")
    code = add_runtime(f"t-img-missing-{os.getpid()}", image, ["sh", "main.sh"],
                       image_needed=False)
    admin = add_admin()

    async def go():
        u = await User.new(server)
        rt = await listed_as(u.c, code, False)
        pids = [await u.project(code, {"main.sh": "echo hi\n"}) for _ in range(3)]
        # many at once, each with unsaved buffers: all refused, nothing saved
        answers = await many_at_once(u.c, [
            ("run/start", {"project": p, "files": {"main.sh": "echo changed\n"}}) for p in pids])
        saved = result_of(await u.c.call("file/read", {"project": pids[0], "path": "main.sh"}))
        a = await logged_in(server, admin, TEST_PASSWORD)
        snap = result_of(await a.call("admin/subscribe"))
        listed = result_of(await a.call("admin/image/list"))
        return rt, answers, saved, snap, listed
    rt, answers, saved, snap, listed = run(go())
    assert rt["reason"] == "IMAGE_MISSING" and rt["image_state"] == "missing", rt
    assert "build or pull" in rt["message"] and "image" not in rt, rt
    for r in answers:
        assert error_reason(r) == "IMAGE_MISSING", r
        assert r["error"]["data"] == {"reason": "IMAGE_MISSING", "image": image, "runtime": code}
        msg = r["error"]["message"]
        assert image in msg and "No such image" not in msg and "docker" not in msg.lower(), msg
    assert saved["content"] == "echo hi\n", saved  # refused before anything was saved
    assert psql("SELECT count(*) FROM runs r JOIN projects p ON p.id = r.project_id"
                " WHERE p.runtime_id = (SELECT id FROM runtimes WHERE code = :'v1')",
                code) == [["0"]]
    for images in (snap["images"], listed["images"]):
        mine = [i for i in images if i["image"] == image]
        assert mine and mine[0]["state"] == "missing" and mine[0]["job"] is None, images
        assert {"image": "runit/go:latest", "state": "present", "job": None} in images, images


def test_an_image_removed_while_sockets_are_open_becomes_unavailable(server, own_image):
    image = own_image("removed")
    assert docker("tag", "runit/shell:latest", image).returncode == 0
    code = add_runtime(f"t-img-removed-{os.getpid()}", image, ["sh", "main.sh"])
    admin = add_admin()

    async def go():
        u = await User.new(server)
        a = await logged_in(server, admin, TEST_PASSWORD)
        result_of(await a.call("admin/subscribe"))
        await listed_as(u.c, code, True)
        pid = await u.project(code, {"main.sh": "echo still here\n"})
        first = await u.wait_exit(await u.start(pid))
        # only our tag goes: runit/shell:latest keeps the image itself
        assert docker("image", "rm", image).returncode == 0
        rt = await listed_as(u.c, code, False)
        refused = await u.c.call("run/start", {"project": pid})
        events = await a.collect_notifications(
            "admin/event", lambda got: any(e["topic"] == "image" and e["kind"] == "missing"
                                           and e["data"]["image"] == image for e in got))
        # and back: the image made again is found at the next round
        assert docker("tag", "runit/shell:latest", image).returncode == 0
        await listed_as(u.c, code, True)
        again = await u.wait_exit(await u.start(pid))
        return first, rt, refused, events, again
    first, rt, refused, events, again = run(go())
    assert first.text() == "still here\n" and again.text() == "still here\n"
    assert rt["reason"] == "IMAGE_MISSING"
    assert error_reason(refused) == "IMAGE_MISSING"
    assert any(e["kind"] == "missing" for e in events)


def test_an_admin_builds_a_missing_image_and_it_becomes_available(server, own_image):
    image = own_image("built")
    assert docker("image", "inspect", image).returncode != 0
    code = add_runtime(f"t-img-build-{os.getpid()}", image, ["sh", "main.sh"],
                       image_needed=False)
    admin = add_admin()

    async def go():
        u = await User.new(server)
        a = await logged_in(server, admin, TEST_PASSWORD)
        await listed_as(u.c, code, False)
        # users may not build or pull, anonymous sessions even less
        forbidden = [await u.c.call(m, {"image": image})
                     for m in ("admin/image/build", "admin/image/pull", "admin/image/list")]
        anon = await (await connect(server.ws_url)).call("admin/image/build", {"image": image})
        bad = [await a.call("admin/image/build", {"image": i})
               for i in ("python:3", "runit/Shell:x", "runit/shell", "", "runit/shell:-x")]
        result_of(await a.call("admin/subscribe"))
        started = await a.call("admin/image/build", {"image": image})
        twice = await a.call("admin/image/build", {"image": image})
        other = await a.call("admin/image/build", {"image": f"runit/python:{TAG}-other"})
        t0 = time.monotonic()
        events = await a.collect_notifications(
            "admin/event", lambda got: any(e["topic"] == "image" and e["kind"] == "done"
                                           for e in got), timeout=120)
        took = time.monotonic() - t0
        rt = await listed_as(u.c, code, True)
        pid = await u.project(code, {"main.sh": "echo built here\n"})
        out = await u.wait_exit(await u.start(pid))
        return forbidden, anon, bad, started, twice, other, events, took, rt, out
    forbidden, anon, bad, started, twice, other, events, took, rt, out = run(go())
    assert [error_reason(r) for r in forbidden] == ["FORBIDDEN"] * 3, forbidden
    assert error_reason(anon) == "UNAUTHENTICATED"
    assert [error_reason(r) for r in bad] == ["INVALID_PARAMS"] * 5, bad
    assert result_of(started) == {"image": image, "op": "build", "state": "started"}
    assert error_reason(twice) == "CONFLICT" and error_reason(other) == "CONFLICT"
    mine = [e for e in events if e["topic"] == "image" and e["data"].get("image") == image]
    kinds = [e["kind"] for e in mine]
    assert kinds[0] == "started" and kinds[-1] == "done", kinds
    lines = [e["data"]["line"] for e in mine if e["kind"] == "progress"]
    assert any("building shell" in l for l in lines), lines
    assert any(f"runit/shell:{TAG}-built" in l and "ready" in l for l in lines), lines
    done = mine[-1]["data"]
    assert done["ok"] is True and done["error"] is None and done["op"] == "build", done
    assert rt["image_state"] == "present" and rt["reason"] is None
    assert out.text() == "built here\n", (out.exit, out.text("stderr"))
    # the shared image was not touched
    assert docker("image", "inspect", "runit/shell:latest").returncode == 0


def test_a_build_without_a_recipe_and_a_pull_without_a_registry_fail_cleanly(server):
    admin = add_admin()
    nosuch = f"runit/nosuchrecipe:{TAG}"
    # a registry on loopback that is not there: the pull fails at once
    unreachable = f"127.0.0.1:{free_port()}/runit/shell:{TAG}"

    async def go():
        a = await logged_in(server, admin, TEST_PASSWORD)
        result_of(await a.call("admin/subscribe"))
        results = {}
        for method, image in (("admin/image/build", nosuch), ("admin/image/pull", unreachable)):
            result_of(await a.call(method, {"image": image}))
            events = await a.collect_notifications(
                "admin/event", lambda got: any(e["topic"] == "image" and e["kind"] == "done"
                                               and e["data"]["image"] == image for e in got),
                timeout=60)
            results[image] = [e for e in events if e["topic"] == "image"
                              and e["data"].get("image") == image][-1]["data"]
        alive = result_of(await a.call("admin/image/list"))
        return results, alive
    results, alive = run(go())
    built = results[nosuch]
    assert built["ok"] is False and "unknown image 'nosuchrecipe'" in built["error"], built
    pulled = results[unreachable]
    assert pulled["ok"] is False and pulled["error"].startswith("the pull failed"), pulled
    assert all(i["job"] is None for i in alive["images"]), alive
    assert docker("image", "inspect", unreachable).returncode != 0


def test_the_seeded_global_faq_answers_something_and_admins_edit_it(server, seeded):
    faq = recipes()["global_faq"]
    topics = {"limits": "memory", "time-outs": "10 seconds", "privacy": "private",
              "shortcuts": "Ctrl+Enter", "input": "standard input"}
    text = json.dumps(faq)
    for what, word in topics.items():
        assert word in text, (what, word)
    admin = add_admin()
    before = psql("SELECT value::text, updated_by IS NULL FROM settings WHERE key = 'global_faq'")

    async def go():
        a = await logged_in(server, admin, TEST_PASSWORD)
        seen = result_of(await a.call("faq/get", {"runtime": "python-3.11"}))
        edited = [{"question": "Is this edited?", "answer": "Yes, by an admin."}] + seen["global"]
        result_of(await a.call("admin/faq/set", {"faq": edited}))
        after_edit = result_of(await a.call("faq/get"))
        print(seed_runtimes())  # seeding again keeps the admin's FAQ
        await asyncio.sleep(0.5)
        after_seed = result_of(await a.call("faq/get"))
        result_of(await a.call("admin/faq/set", {"faq": seen["global"]}))
        return seen, edited, after_edit, after_seed
    seen, edited, after_edit, after_seed = run(go())
    if before[0][1] == "t":  # not edited by an earlier test run: the seeded one
        assert seen["global"] == faq, seen
    assert seen["runtime"] and len(seen["global"]) >= 5
    assert after_edit["global"] == edited and after_seed["global"] == edited
