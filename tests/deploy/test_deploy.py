"""
test_deploy.py - the containerised server behind nginx (tests/deploy/run
starts both): the websocket works through the TLS proxy, the session
cookie is Secure when the browser's connection is HTTPS and only then, and
the rate limits and logs see the client address the trusted proxy forwards,
while the same headers from any other peer are ignored.

Clients pick their own loopback source address (127.0.0.N) so that each
one is a distinct "real client"; nginx itself connects from 127.0.0.1, the
one address in RUNIT_TRUSTED_PROXIES.
"""
import asyncio
import http.client
import json
import os
import ssl
import subprocess
import uuid
from urllib.parse import urlsplit

import pytest
import websockets

APP = urlsplit(os.environ.get("RUNIT_DEPLOY_APP", ""))
TLS = urlsplit(os.environ.get("RUNIT_DEPLOY_TLS", ""))
CONTAINER = os.environ.get("RUNIT_DEPLOY_CONTAINER", "")
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(not CONTAINER, reason="run through tests/deploy/run")


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return ctx


def post(url, path, body, source, headers=None):
    """POST JSON from the loopback address source; (status, headers, json)."""
    if url.scheme == "https":
        conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=30,
                                           source_address=(source, 0), context=tls_context())
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30,
                                          source_address=(source, 0))
    data = json.dumps(body).encode()
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    conn.request("POST", path, body=data, headers=h)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    return r.status, r, json.loads(raw) if raw else None


def signup(url, source, headers=None):
    name = "d" + uuid.uuid4().hex[:12]
    return post(url, "/auth/signup", {"username": name, "password": PASSWORD}, source, headers)


def server_log():
    return subprocess.run(["docker", "logs", CONTAINER], capture_output=True, text=True).stderr


def test_session_cookie_is_secure_through_the_tls_proxy():
    status, r, _ = signup(TLS, "127.0.0.21")
    assert status == 200
    cookie = r.getheader("Set-Cookie")
    assert cookie.startswith("runit_session=") and "; Secure" in cookie, cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_session_cookie_is_not_secure_over_plain_http():
    status, r, _ = signup(APP, "127.0.0.22")
    assert status == 200
    assert "Secure" not in r.getheader("Set-Cookie")


def test_forwarded_proto_from_an_untrusted_peer_is_ignored():
    status, r, _ = signup(APP, "127.0.0.23", {"X-Forwarded-Proto": "https",
                                             "Forwarded": "for=192.0.2.1;proto=https"})
    assert status == 200
    assert "Secure" not in r.getheader("Set-Cookie")


def test_rate_limits_count_the_forwarded_client_not_its_spoofed_header():
    # RUNIT_SIGNUP_ADDR_MAX=3: three sign-ups an hour from one client.
    # Each claims another address in X-Forwarded-For; nginx appends the
    # real one (127.0.0.31), which is where the walk from the right stops.
    codes = [signup(TLS, "127.0.0.31", {"X-Forwarded-For": f"203.0.113.{i}"})[0]
             for i in range(4)]
    assert codes == [200, 200, 200, 429], codes
    # another client through the same proxy has its own budget: the limit
    # does not count the proxy's address
    assert signup(TLS, "127.0.0.32")[0] == 200
    log = server_log()
    assert '"ip":"127.0.0.31"' in log
    assert '"ip":"203.0.113.' not in log


def test_forwarded_for_from_an_untrusted_peer_is_ignored():
    # straight to the server from 127.0.0.41: not a trusted proxy, so its
    # X-Forwarded-For does not buy a fresh budget per claimed address
    codes = [signup(APP, "127.0.0.41", {"X-Forwarded-For": f"198.51.100.{i}"})[0]
             for i in range(4)]
    assert codes == [200, 200, 200, 429], codes
    # nor does claiming to be a client that is within its budget help a
    # limited one; claiming a limited client's address does not hurt
    # another one
    assert signup(APP, "127.0.0.41", {"X-Forwarded-For": "127.0.0.42"})[0] == 429
    assert signup(APP, "127.0.0.43", {"X-Forwarded-For": "127.0.0.41"})[0] == 200
    assert '"ip":"198.51.100.' not in server_log()


def login(url, user, password, source):
    status, r, body = post(url, "/auth/login", {"username": user, "password": password}, source)
    assert status == 200, body
    return r.getheader("Set-Cookie").split(";")[0]


async def rpc(ws, i, method, params=None):
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": method,
                              "params": params or {}}))
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if msg.get("id") == i:
            return msg


def test_websocket_through_the_proxy_sees_the_forwarded_client():
    admin = os.environ["RUNIT_DEPLOY_ADMIN"]
    cookie = login(TLS, admin, os.environ["RUNIT_DEPLOY_ADMIN_PASSWORD"], "127.0.0.51")

    async def go():
        uri = f"wss://{TLS.hostname}:{TLS.port}/ws"
        async with websockets.connect(uri, ssl=tls_context(), origin=f"https://{TLS.netloc}",
                                      extra_headers={"Cookie": cookie},
                                      local_addr=("127.0.0.52", 0)) as ws:
            hello = await rpc(ws, 1, "session/hello")
            assert "result" in hello, hello
            listed = await rpc(ws, 2, "admin/session/list")
            assert "result" in listed, listed
            mine = [s for s in listed["result"]["sessions"] if s["username"] == admin]
            assert [s["ip"] for s in mine] == ["127.0.0.52"], listed
            # the socket stays usable: a second round trip
            again = await rpc(ws, 3, "session/hello")
            assert "result" in again

    asyncio.run(go())


def test_websocket_from_another_origin_is_refused_through_the_proxy():
    async def go():
        uri = f"wss://{TLS.hostname}:{TLS.port}/ws"
        with pytest.raises(websockets.exceptions.InvalidStatusCode) as e:
            async with websockets.connect(uri, ssl=tls_context(), origin="https://evil.example",
                                          local_addr=("127.0.0.53", 0)):
                pass
        assert e.value.status_code == 403

    asyncio.run(go())


def test_documented_admin_made_in_the_container_can_log_in():
    cookie = login(TLS, os.environ["RUNIT_DEPLOY_OPS"], os.environ["RUNIT_DEPLOY_OPS_PASSWORD"],
                   "127.0.0.61")
    assert cookie.startswith("runit_session=")
