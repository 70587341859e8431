"""Fixtures for the integration tests: a real run-it server process on a free
loopback port, against the real PostgreSQL cluster that scripts/test started
(RUNIT_TEST_DATABASE_URL), plus small clients."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import websockets

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("RUNIT_BIN", os.path.join(ROOT, "build-asan", "server", "run-it"))
DB_URL = os.environ.get("RUNIT_TEST_DATABASE_URL")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, headers=None, timeout=5):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Server:
    def __init__(self, tmp, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.env = dict(os.environ)
        self.env.update({
            "RUNIT_LISTEN": f"127.0.0.1:{self.port}",
            "RUNIT_DATABASE_URL": DB_URL,
            "RUNIT_DATA_DIR": str(tmp),
            "RUNIT_UI_DIR": os.path.join(ROOT, "ui", "dist"),
            "RUNIT_LOG_LEVEL": "info",
            # each test server is its own instance: at start a server removes the
            # containers and ends the runs of its instance name (reconciliation)
            "RUNIT_INSTANCE": f"test-{self.port}",
        })
        self.env.update({k: str(v) for k, v in env.items()})
        self.log_path = os.path.join(str(tmp), f"server-{self.port}.log")
        self.err_path = None  # stderr's own file, with start(stderr_apart=True)
        self.err = None
        self.proc = None

    def start(self, wait=True, stderr_apart=False):
        """Runs `run-it serve`; stdout and stderr go to log_path, or with
        stderr_apart stdout to log_path and stderr to err_path."""
        self.log = open(self.log_path, "ab")
        if stderr_apart:
            self.err_path = self.log_path[:-len(".log")] + ".err.log"
            self.err = open(self.err_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env, stdout=self.log,
                                     stderr=self.err or subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log_text()[-3000:]}")
            try:
                code, _, _ = http_get(self.url + "/healthz", timeout=1)
                if code == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server not healthy in time: " + self.log_text()[-3000:])

    def log_text(self):
        """All the server wrote: stdout and stderr."""
        return self.stdout_text() + (self.stderr_text() if self.err_path else "")

    def stdout_text(self):
        """stdout (and stderr too, unless started with stderr_apart)."""
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stderr_text(self):
        """stderr alone (start(stderr_apart=True))."""
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
            if self.err:
                self.err.close()
        text = self.log_text()
        assert "ERROR: AddressSanitizer" not in text, text[-5000:]
        assert "runtime error:" not in text, text[-5000:]
        return self.proc.returncode if self.proc else None

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        if self.err:
            self.err.close()


@pytest.fixture(scope="session")
def db_url():
    if not DB_URL:
        pytest.fail("RUNIT_TEST_DATABASE_URL is not set: run the tests through scripts/test")
    return DB_URL


@pytest.fixture(scope="module")
def server(tmp_path_factory, db_url):
    s = Server(tmp_path_factory.mktemp("srv")).start()
    yield s
    s.stop()


@pytest.fixture
def make_server(tmp_path, db_url):
    started = []

    def make(**env):
        s = Server(tmp_path, **env)
        started.append(s)
        return s
    yield make
    for s in started:
        if s.proc and s.proc.poll() is None:
            s.stop()


class Client:
    """A JSON-RPC client on an asyncio websocket."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.notes = []

    async def call(self, method, params=None, timeout=10):
        self.next_id += 1
        rid = self.next_id
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                       "params": params or {}}))
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if msg.get("id") == rid:
                return msg
            self.notes.append(msg)


async def connect(url, **kw):
    kw.setdefault("close_timeout", 1)
    ws = await websockets.connect(url, max_size=64 * 1024 * 1024, **kw)
    return Client(ws)


def run(coro):
    return asyncio.run(coro)


# ---- helpers for tests that need signed-in users (test_projects.py) ----

import itertools as _itertools

_name_seq = _itertools.count()
TEST_PASSWORD = "correct horse battery staple"
_opened = []  # clients made by the helpers below; run_closing() closes them


async def connect_tracked(url, **kw):
    """connect(), and closed by run_closing() at the end."""
    c = await connect(url, **kw)
    _opened.append(c)
    return c


def run_closing(coro):
    """run(coro), then close every client the helpers opened, in the same
    loop: a websocket left open makes the loop's shutdown wait seconds."""
    async def wrapper():
        try:
            return await coro
        finally:
            clients = list(_opened)
            _opened.clear()
            for c in clients:
                try:
                    await asyncio.wait_for(c.ws.close(), 2)
                except Exception:
                    pass
    return asyncio.run(wrapper())


def unique_name(prefix="u"):
    """A user name no earlier test run has taken: [A-Za-z0-9_.-]{3,32}."""
    return f"{prefix}{os.getpid() % 100000}t{int(time.time() * 1000) % 10**8}n{next(_name_seq)}"[:32]


async def signed_in(server, name=None, password=TEST_PASSWORD):
    """A Client signed in through auth/signup as a new user; .user is the
    user object, .token the session token. The server must allow enough
    sign-ups per address (RUNIT_SIGNUP_ADDR_MAX)."""
    c = await connect_tracked(server.ws_url)
    name = name or unique_name()
    r = await c.call("auth/signup", {"username": name, "password": password})
    assert "result" in r, r
    c.user = r["result"]["user"]
    c.token = r["result"]["token"]
    return c


def add_admin(name=None, password=TEST_PASSWORD):
    """Create an admin account with `run-it user add --admin`; returns its name."""
    name = name or unique_name("adm")
    env = dict(os.environ, RUNIT_DATABASE_URL=DB_URL)
    subprocess.run([BIN, "user", "add", "--admin", "--password-stdin", name],
                   input=password + "\n", env=env, check=True, capture_output=True, text=True)
    return name


async def logged_in(server, name, password=TEST_PASSWORD):
    """A Client signed in through auth/login."""
    c = await connect_tracked(server.ws_url)
    r = await c.call("auth/login", {"username": name, "password": password})
    assert "result" in r, r
    c.user = r["result"]["user"]
    c.token = r["result"]["token"]
    return c


# ---- accounts (issue 3) ----

# Every test client connects from 127.0.0.1 and the database outlives a test
# run, so the per-address limits on sign-ups and failed logins (10 an hour,
# 20 in 10 minutes by default) would trip across tests and runs. Test servers
# get generous ones unless a test passes its own to make_server();
# test_accounts.py tests the limits from loopback addresses of their own.
os.environ.setdefault("RUNIT_SIGNUP_ADDR_MAX", "1000000")
os.environ.setdefault("RUNIT_LOGIN_ADDR_MAX", "1000000")


def psql(sql, *args):
    """Run one SQL statement against the test database (psql, variables
    :'v1', :'v2'... bound from args); returns the rows as lists of strings."""
    cmd = [os.environ.get("RUNIT_PSQL", "psql"), DB_URL, "-XAtq", "-v", "ON_ERROR_STOP=1",
           "-F", "\t"]
    for i, a in enumerate(args, 1):
        cmd += ["-v", f"v{i}={a}"]
    r = subprocess.run(cmd, input=sql, capture_output=True, text=True, check=True)
    return [line.split("\t") for line in r.stdout.splitlines() if line]
