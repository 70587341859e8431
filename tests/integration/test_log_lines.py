"""Every line run-it writes to stderr is a JSON log line (README, "Metrics,
dashboard and logs"): a server at work, through a database outage and back,
and the commands that stop at start-up (configuration errors, a database
that does not answer, a command's mistakes). stdout keeps the text for
people, such as the `listening on` line."""
import asyncio
import json
import re
import socket
import subprocess
import threading
import time
import urllib.parse

from conftest import BIN, DB_URL, ROOT, connect, free_port, http_get, run
from test_runs import ROOMY

LEVELS = {"debug", "info", "warn", "error"}


def json_lines(text):
    """Every line of text as a log object; fails on the first that is not."""
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
        assert isinstance(obj, dict), line
        assert {"time", "level", "msg"} <= obj.keys(), line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["time"]), line
        assert obj["level"] in LEVELS and isinstance(obj["msg"], str) and obj["msg"], line
        out.append(obj)
    return out


def wait_for(predicate, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Relay:
    """A loopback TCP relay to the test's PostgreSQL that a test can cut
    (listening socket and every connection closed: the database is gone for
    the server) and restore, without touching the cluster other tests use."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.port = free_port()
        self.lock = threading.Lock()
        self.socks = []
        self.listener = None

    def up(self):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(32)
        self.listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def down(self):
        ls, self.listener = self.listener, None
        if ls:
            self._close(ls)  # shutdown first: it wakes the thread in accept()
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            self._close(s)

    @staticmethod
    def _close(s):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def _accept(self, ls):
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                if self.listener is not ls:  # cut meanwhile
                    self._close(client)
                    self._close(upstream)
                    return
                self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def url_via(port):
    """DB_URL with its host and port replaced by 127.0.0.1:port."""
    u = urllib.parse.urlsplit(DB_URL)
    assert u.scheme in ("postgresql", "postgres") and u.hostname, "expected a URL in DB_URL"
    user = u.netloc.rsplit("@", 1)[0] + "@" if "@" in u.netloc else ""
    return urllib.parse.urlunsplit(u._replace(netloc=f"{user}127.0.0.1:{port}"))


def msgs(lines):
    return [l["msg"] for l in lines]


def test_a_server_at_work_and_through_a_database_outage_logs_only_json(make_server, db_url):
    u = urllib.parse.urlsplit(db_url)
    relay = Relay(u.hostname, u.port or 5432)
    relay.up()
    srv = make_server(RUNIT_DATABASE_URL=url_via(relay.port), RUNIT_LOG_LEVEL="debug", **ROOMY)
    try:
        srv.start(stderr_apart=True)
        name = "log" + str(free_port())

        async def work():
            c = await connect(srv.ws_url)
            r = await c.call("auth/signup", {"username": name, "password": "password123"})
            assert "result" in r, r
            r = await c.call("no/such/method")
            assert "error" in r, r
            r = await c.call("project/get", {"id": 2**40})
            assert "error" in r, r
            await c.ws.send("{not json")
            await asyncio.sleep(0.2)
            await c.ws.close()
            c = await connect(srv.ws_url)
            r = await c.call("auth/login", {"username": name, "password": "wrong password 1"})
            assert "error" in r, r
            await c.ws.close()
        run(work())
        assert http_get(srv.url + "/metrics")[0] == 200
        assert http_get(srv.url + "/no-such-page")[0] == 404

        # the database goes away: the pool says so once, and once it is back
        relay.down()
        wait_for(lambda: "database connection lost; reconnecting" in msgs(json_lines(srv.stderr_text())),
                 "the pool to report the outage")

        async def login_while_down():
            c = await connect(srv.ws_url)
            r = await c.call("auth/login", {"username": name, "password": "password123"},
                             timeout=30)
            await c.ws.close()
            return r
        r = run(login_while_down())
        assert r["error"]["data"]["reason"] == "UNAVAILABLE", r
        relay.up()
        wait_for(lambda: "database connected again" in msgs(json_lines(srv.stderr_text())),
                 "the pool to report the database back")
        wait_for(lambda: http_get(srv.url + "/healthz")[0] == 200, "/healthz to be 200 again")
    finally:
        assert srv.stop() == 0
        relay.down()

    lines = json_lines(srv.stderr_text())
    seen = msgs(lines)
    for expected in ("listening", "database connection lost; reconnecting",
                     "database connected again", "request failed", "stopping"):
        assert expected in seen, (expected, seen[-20:])
    lost = [l for l in lines if l["msg"] == "database connection lost; reconnecting"]
    assert len(lost) == 1 and lost[0]["level"] == "error" and lost[0]["error"], lost
    assert any(l.get("reason") == "UNAVAILABLE" and l["level"] == "warn" for l in lines), seen
    assert "password123" not in srv.stderr_text() and "wrong password" not in srv.stderr_text()
    # stdout holds the one line for people, nothing else
    assert re.fullmatch(r"run-it \S+ listening on http://127\.0\.0\.1:\d+\n", srv.stdout_text()), \
        srv.stdout_text()


def check_refused(cmd, env, *, stdin=None):
    """Runs a run-it command that must fail; returns its stderr as log objects."""
    r = subprocess.run([BIN, *cmd], capture_output=True, text=True, env=env, input=stdin,
                       timeout=60)
    assert r.returncode != 0, (cmd, r.stdout, r.stderr)
    lines = json_lines(r.stderr)
    assert any(l["level"] == "error" for l in lines), (cmd, lines)
    return lines


def test_start_up_failures_are_json_lines(db_url, tmp_path):
    base = {"PATH": "/usr/bin:/bin", "RUNIT_DATA_DIR": str(tmp_path),
            "RUNIT_INSTANCE": f"test-log-{free_port()}"}
    # configuration: one line that names the variable; a secret's value never shown
    for var, val in [("RUNIT_LISTEN", "nope"), ("RUNIT_MAX_FRAME", "12x"),
                     ("RUNIT_LOG_LEVEL", "loud"), ("RUNIT_METRICS_TOKEN", "t" * 201)]:
        env = {**base, "RUNIT_DATABASE_URL": "postgresql://x@127.0.0.1:1/x", var: val}
        lines = check_refused(["serve"], env)
        assert len(lines) == 1 and lines[0]["variable"] == var, lines
        assert lines[0]["msg"] == "configuration error" and lines[0]["error"], lines
        assert (val in lines[0]["value"]) == (var != "RUNIT_METRICS_TOKEN"), lines
    lines = check_refused(["migrate"], base)
    assert len(lines) == 1 and lines[0]["variable"] == "RUNIT_DATABASE_URL", lines
    lines = check_refused(["serve"], {**base, "RUNIT_DATABASE_URL": db_url,
                                      "RUNIT_SECRET_KEY": "not-hex-" + "s3cr3t"})
    assert [l for l in lines if l.get("variable") == "RUNIT_SECRET_KEY"], lines
    assert "s3cr3t" not in json.dumps(lines), lines

    # a database that does not answer: the server stops before it listens
    closed = free_port()
    for cmd in (["serve"], ["migrate"], ["seed", f"{ROOT}/images/recipes.json"]):
        lines = check_refused(cmd, {**base, "RUNIT_DATABASE_URL":
                                    f"postgresql://runit:pw@127.0.0.1:{closed}/runit"})
        assert lines[-1]["msg"] == "cannot connect to the database", lines
        assert "refused" in lines[-1]["error"].lower(), lines

    # the other commands' mistakes
    env = {**base, "RUNIT_DATABASE_URL": db_url}
    assert check_refused(["frobnicate"], env)[0]["command"] == "frobnicate"
    check_refused(["user", "add"], env)
    check_refused(["user", "add", "--password-stdin", "logx" + str(closed)], env, stdin="short\n")
    lines = check_refused(["seed", str(tmp_path / "missing.json")], env)
    assert lines[0]["path"].endswith("missing.json"), lines
