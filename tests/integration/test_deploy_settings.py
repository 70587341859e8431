"""
test_deploy_settings.py - the settings a deployment behind a proxy and
without a shell relies on, against the real server and PostgreSQL:

- RUNIT_TRUSTED_PROXIES: X-Forwarded-For / X-Forwarded-Proto / Forwarded
  name the client (rate limits, the admins' session list, the Secure
  cookie) only when they come from a trusted peer;
- RUNIT_ADMIN_USER + RUNIT_ADMIN_PASSWORD_FILE: the first admin is created
  once, its password never logged, a weak one refused;
- RUNIT_DATABASE_PASSWORD_FILE: the database password from a file.

tests/deploy/run does the same through the Docker image and nginx.
"""
import random
import re
import subprocess
import uuid
from urllib.parse import urlsplit

import pytest

from conftest import BIN, DB_URL, DEADLINE_S, TEST_PASSWORD, connect, run
from test_accounts import loopback_addr, post


def doc_addr():
    """An address of this test's own (IPv6 documentation range), so that the
    per-address limits, kept in the database across runs, start at zero."""
    return "2001:db8::%x:%x" % (random.getrandbits(16), random.getrandbits(16))


def signup(server, source=None, headers=None):
    return post(server, "/auth/signup",
                {"username": "p" + uuid.uuid4().hex[:12], "password": TEST_PASSWORD},
                headers=headers, source=source)


def test_forwarded_for_from_a_trusted_proxy_is_the_client(make_server):
    s = make_server(RUNIT_TRUSTED_PROXIES="127.0.0.1/32", RUNIT_SIGNUP_ADDR_MAX="2").start()
    client = doc_addr()
    # the proxy (127.0.0.1) appends the client to whatever the client sent
    xff = {"X-Forwarded-For": f"203.0.113.9, {client}"}
    codes = [signup(s, "127.0.0.1", xff)[0] for _ in range(3)]
    assert codes == [200, 200, 429], codes
    # another client behind the same proxy has its own budget
    assert signup(s, "127.0.0.1", {"X-Forwarded-For": doc_addr()})[0] == 200
    assert f'"ip":"{client}"' in s.log_text()
    assert '"ip":"203.0.113.9"' not in s.log_text()


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(make_server):
    s = make_server(RUNIT_TRUSTED_PROXIES="127.0.0.1/32", RUNIT_SIGNUP_ADDR_MAX="2").start()
    peer = loopback_addr()
    codes = [signup(s, peer, {"X-Forwarded-For": doc_addr(), "Forwarded": f'for="[{doc_addr()}]"'})[0]
             for _ in range(3)]
    assert codes == [200, 200, 429], codes
    status, headers, _ = signup(s, loopback_addr(), {"X-Forwarded-Proto": "https"})
    assert status == 200 and "Secure" not in headers["Set-Cookie"]


def test_without_trusted_proxies_nothing_forwarded_counts(make_server):
    s = make_server(RUNIT_SIGNUP_ADDR_MAX="1").start()
    peer = loopback_addr()
    codes = [signup(s, peer, {"X-Forwarded-For": doc_addr()})[0] for _ in range(2)]
    assert codes == [200, 429]
    status, headers, _ = signup(s, loopback_addr(), {"X-Forwarded-Proto": "https"})
    assert "Secure" not in headers["Set-Cookie"]


@pytest.mark.parametrize("headers", [{"X-Forwarded-Proto": "https"},
                                     {"X-Forwarded-Proto": "http, https"},
                                     {"Forwarded": "for=192.0.2.1;proto=https"}])
def test_cookie_is_secure_when_the_trusted_proxy_says_https(make_server, headers):
    s = make_server(RUNIT_TRUSTED_PROXIES="127.0.0.0/8").start()
    headers = dict(headers, **{"X-Forwarded-For": doc_addr()} if "Forwarded" not in headers else {})
    status, h, _ = signup(s, loopback_addr(), headers)
    assert status == 200
    assert "; Secure" in h["Set-Cookie"]
    status, h, _ = signup(s, loopback_addr(), {"X-Forwarded-Proto": "http"})
    assert status == 200 and "Secure" not in h["Set-Cookie"]


def test_websocket_session_shows_the_forwarded_client(make_server):
    s = make_server(RUNIT_TRUSTED_PROXIES="127.0.0.1/32")
    # an admin to look at the session list
    name = "adm" + uuid.uuid4().hex[:8]
    out = subprocess.run([BIN, "user", "add", "--admin", name], env=s.env, capture_output=True,
                         text=True, check=True).stdout
    pw = re.search(r"^password: (\S+)$", out, re.M).group(1)
    s.start()
    status, h, _ = post(s, "/auth/login", {"username": name, "password": pw})
    token = h["Set-Cookie"].split(";")[0].split("=", 1)[1]
    client = doc_addr()

    async def go():
        many = [await connect(s.ws_url, extra_headers={"Authorization": f"Bearer {token}",
                                                       "X-Forwarded-For": client})
                for _ in range(3)]
        spoof = await connect(s.ws_url, extra_headers={"Authorization": f"Bearer {token}",
                                                       "X-Forwarded-For": "198.51.100.1"},
                              local_addr=(loopback_addr(), 0))
        for c in many + [spoof]:  # signed in (the token is checked on the way)
            assert (await c.call("session/hello"))["result"]["user"]
        listed = await many[0].call("admin/session/list")
        ips = sorted(x["ip"] for x in listed["result"]["sessions"] if x["username"] == name)
        for c in many + [spoof]:
            await c.ws.close()
        return ips

    ips = run(go())
    assert ips.count(client) == 3, ips
    assert "198.51.100.1" not in ips and len(ips) == 4, ips


def test_trusted_proxies_must_be_cidr_ranges(make_server):
    s = make_server(RUNIT_TRUSTED_PROXIES="nginx.local").start(wait=False)
    assert s.proc.wait(DEADLINE_S) == 2
    assert '"variable":"RUNIT_TRUSTED_PROXIES"' in s.log_text()


# ---- the first admin

def admin_server(make_server, tmp_path, password, name=None):
    pwfile = tmp_path / ("pw-" + uuid.uuid4().hex[:6])
    pwfile.write_text(password + "\n")
    name = name or "boss" + uuid.uuid4().hex[:8]
    return make_server(RUNIT_ADMIN_USER=name, RUNIT_ADMIN_PASSWORD_FILE=str(pwfile)), name, pwfile


def test_first_admin_is_made_once_from_the_password_file(make_server, tmp_path):
    pw = "a long first-admin passphrase " + uuid.uuid4().hex[:6]
    s, name, pwfile = admin_server(make_server, tmp_path, pw)
    s.start()
    status, _, body = post(s, "/auth/login", {"username": name, "password": pw})
    assert status == 200 and body["user"]["role"] == "admin", body
    s.stop()
    assert s.log_text().count('"msg":"first admin created"') == 1
    # again, with the file gone: that admin exists, the file is not read
    pwfile.unlink()
    s.start()
    assert post(s, "/auth/login", {"username": name, "password": pw})[0] == 200
    s.stop()
    log = s.log_text()
    assert log.count('"msg":"first admin created"') == 1
    assert pw not in log


@pytest.mark.parametrize("weak", ["short-pw", "aaaaaaaaaaaaaaaa", "@NAME@", "mypassword12345"])
def test_weak_first_admin_password_stops_the_start(make_server, tmp_path, weak):
    name = "boss" + uuid.uuid4().hex[:8]
    weak = weak.replace("@NAME@", name)
    s, name, _ = admin_server(make_server, tmp_path, weak, name)
    s.start(wait=False)
    assert s.proc.wait(DEADLINE_S) == 2
    log = s.log_text()
    assert '"variable":"RUNIT_ADMIN_PASSWORD_FILE"' in log, log
    assert weak not in log.replace(f'"value":"{name}"', "")
    assert '"listening"' not in log


def test_first_admin_name_of_a_plain_user_stops_the_start(make_server, tmp_path):
    plain = make_server().start()
    status, _, body = signup(plain)
    assert status == 200
    plain.stop()
    s, name, _ = admin_server(make_server, tmp_path, "a long first-admin passphrase",
                              body["user"]["username"])
    s.start(wait=False)
    assert s.proc.wait(DEADLINE_S) == 2
    assert "not an admin" in s.log_text()


def test_admin_user_without_a_password_file_is_a_configuration_error(make_server):
    s = make_server(RUNIT_ADMIN_USER="bossless").start(wait=False)
    assert s.proc.wait(DEADLINE_S) == 2
    assert '"variable":"RUNIT_ADMIN_PASSWORD_FILE"' in s.log_text()


# ---- the database password from a file

def url_without_password():
    u = urlsplit(DB_URL)
    return u._replace(netloc=f"{u.username}@{u.hostname}:{u.port}").geturl(), u.password


def test_database_password_from_a_file(make_server, tmp_path):
    url, pw = url_without_password()
    f = tmp_path / "db_password"
    f.write_text(pw + "\n")
    s = make_server(RUNIT_DATABASE_URL=url, RUNIT_DATABASE_PASSWORD_FILE=str(f)).start()
    s.stop()
    assert pw not in s.log_text()


def test_database_password_file_with_a_wrong_password_fails_without_showing_it(make_server, tmp_path):
    url, _ = url_without_password()
    f = tmp_path / "db_password"
    f.write_text("not-the-password-4711\n")
    s = make_server(RUNIT_DATABASE_URL=url, RUNIT_DATABASE_PASSWORD_FILE=str(f)).start(wait=False)
    assert s.proc.wait(DEADLINE_S) != 0
    assert "not-the-password-4711" not in s.log_text()


def test_database_password_file_and_a_password_in_the_url_is_an_error(make_server, tmp_path):
    f = tmp_path / "db_password"
    f.write_text("x\n")
    s = make_server(RUNIT_DATABASE_PASSWORD_FILE=str(f)).start(wait=False)
    assert s.proc.wait(DEADLINE_S) == 2
    assert '"variable":"RUNIT_DATABASE_PASSWORD_FILE"' in s.log_text()
