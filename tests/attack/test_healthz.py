"""/healthz tells a load balancer the truth about the container platforms
(issue "Hostile users at the same time", smaller truths): "ok" only when
the database answers and so does the platform new runs go to; "degraded"
(200, or 503 with ?strict=1) when only the database does; each enabled
platform listed with its health. The platform tests use a database of their
own, so that turning platforms off does not touch the other tests."""
import asyncio
import json
import os
import subprocess
import time
import urllib.parse

import pytest

from conftest import BIN, TEST_PASSWORD, http_get, logged_in, run_closing, unique_name

DEAD = "unix:///nonexistent-runit.sock"
DOCKER = "unix:///var/run/docker.sock"


def healthz(srv, query=""):
    code, headers, body = http_get(srv.url + "/healthz" + query)
    assert headers["Content-Type"].startswith("application/json")
    return code, json.loads(body)


def wait_health(srv, pred, what, seconds=60):
    """Poll /healthz until pred(code, body); the health probe runs every few
    seconds, and at once after an admin changes a platform."""
    deadline = time.time() + seconds
    while True:
        code, body = healthz(srv)
        if pred(code, body):
            return code, body
        assert time.time() < deadline, f"/healthz never showed {what}: {code} {body}"
        time.sleep(0.2)


def by_name(body):
    return {p["name"]: p for p in body["platforms"]}


def test_a_fresh_server_with_the_real_docker_engine_is_ok(make_server):
    srv = make_server().start()  # Server.wait_ready: /healthz 200
    started = time.time()
    code, body = wait_health(srv, lambda c, b: b["status"] == "ok", "ok")
    print(f"ok {time.time() - started:.2f} s after the first 200")
    assert code == 200 and body["database"] == "up"
    runs_go_to = [p for p in body["platforms"] if p["default"]]
    assert len(runs_go_to) == 1 and runs_go_to[0]["health"] == "up", body
    for p in body["platforms"]:
        assert set(p) == {"name", "health", "default"}  # no endpoints for anyone to read
        assert p["health"] in ("up", "down", "unknown")
    code, strict = healthz(srv, "?strict=1")
    assert code == 200 and strict["status"] == "ok"
    srv.stop()


@pytest.fixture
def own_db(db_url):
    """A database of its own on the test cluster (the server migrates it).
    Ask for it before make_server: its servers are stopped before the drop."""
    name = "runit_hz_" + unique_name("d").replace(".", "_").replace("-", "_").lower()
    admin = lambda sql: subprocess.run(["psql", db_url, "-XAtq", "-v", "ON_ERROR_STOP=1",
                                        "-c", sql], capture_output=True, text=True)
    r = admin(f"CREATE DATABASE {name}")
    assert r.returncode == 0, r.stderr
    yield urllib.parse.urlsplit(db_url)._replace(path="/" + name).geturl()
    # no WITH (FORCE): it may not end an autovacuum worker (a superuser's) on
    # the fresh database, which a plain DROP waits for
    for _ in range(30):
        r = admin(f"DROP DATABASE IF EXISTS {name}")
        if r.returncode == 0:
            return
        time.sleep(1)
    assert r.returncode == 0, r.stderr


def add_admin_in(url):
    name = unique_name("adm")
    subprocess.run([BIN, "user", "add", "--admin", "--password-stdin", name],
                   input=TEST_PASSWORD + "\n", env=dict(os.environ, RUNIT_DATABASE_URL=url),
                   check=True, capture_output=True, text=True)
    return name


def test_degraded_then_ok_as_platforms_come_and_go(own_db, make_server):
    # no platform rows: runs would go to RUNIT_DOCKER_HOST, a socket nobody
    # serves. start() waits for /healthz 200: a server that cannot run code
    # still gets there (the scripts and the tests wait for it)
    srv = make_server(RUNIT_DATABASE_URL=own_db, RUNIT_DOCKER_HOST=DEAD).start()
    code, body = wait_health(srv, lambda c, b: [p["health"] for p in b["platforms"]] == ["down"],
                             "the built-in platform down")
    assert code == 200, body  # degraded is still served: accounts and files work
    assert body["status"] == "degraded" and body["database"] == "up"
    assert body["platforms"] == [{"name": "built-in", "health": "down", "default": True}]
    code, strict = healthz(srv, "?strict=1")
    assert code == 503 and strict["status"] == "degraded"
    assert healthz(srv, "?strict=0")[0] == 200

    admin_name = add_admin_in(own_db)

    async def admin_changes():
        a = await logged_in(srv, admin_name)

        async def call(method, params):
            r = await a.call(method, params)
            assert "result" in r, r
            return r["result"]

    async def wait(pred, what):  # without blocking the admin's websocket
        return await asyncio.to_thread(wait_health, srv, pred, what)

        real = await call("admin/platform/create", {"name": "real-docker", "kind": "docker",
                                                     "endpoint": DOCKER, "is_default": True})
        code, body = await wait(lambda c, b: b["status"] == "ok", "ok on the real engine")
        assert code == 200
        assert body["platforms"] == [{"name": "real-docker", "health": "up", "default": True}]

        # another platform, down, that runs do not go to: still ok, and listed
        dead = await call("admin/platform/create", {"name": "dead-docker", "kind": "docker",
                                                     "endpoint": DEAD})
        code, body = await wait(lambda c, b: by_name(b).get("dead-docker", {}).get("health")
                                == "down", "the second platform down")
        assert code == 200 and body["status"] == "ok"
        assert by_name(body)["real-docker"] == {"name": "real-docker", "health": "up",
                                                "default": True}
        assert by_name(body)["dead-docker"]["default"] is False

        # runs go to the dead one now: degraded
        await call("admin/platform/update", {"id": dead["id"], "is_default": True})
        code, body = await wait(lambda c, b: b["status"] == "degraded", "degraded")
        assert code == 200 and by_name(body)["dead-docker"]["default"] is True
        assert healthz(srv, "?strict=1")[0] == 503

        # back to the real engine, and the dead one deleted: ok, one platform
        await call("admin/platform/update", {"id": real["id"], "is_default": True})
        await call("admin/platform/delete", {"id": dead["id"]})
        code, body = await wait(lambda c, b: b["status"] == "ok" and len(b["platforms"]) == 1,
                                "ok with the dead platform gone")
        assert body["platforms"] == [{"name": "real-docker", "health": "up", "default": True}]
        assert healthz(srv, "?strict=1")[0] == 200

        # disabled platforms are not listed (the default one cannot be disabled)
        await call("admin/platform/create", {"name": "off-docker", "kind": "docker",
                                             "endpoint": DEAD, "enabled": False})
        await call("admin/platform/update", {"id": real["id"], "name": "real-docker-2"})
        code, body = await wait(lambda c, b: "real-docker-2" in by_name(b), "the rename")
        assert [p["name"] for p in body["platforms"]] == ["real-docker-2"]

    run_closing(admin_changes())
    assert srv.proc.poll() is None
    srv.stop()
