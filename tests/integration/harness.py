"""The integration tests' harness: a real run-it server process on a free
loopback port against the PostgreSQL cluster scripts/test started
(RUNIT_TEST_DATABASE_URL), JSON-RPC clients on real websockets, signed-in
users, psql, runtimes on the real Docker engine, and waiting for things to
happen. conftest.py makes pytest fixtures of these; the test files import
the rest from here.

Deadlines are generous on purpose: the tests run on busy 2-core machines
where Docker, PostgreSQL and other suites share the CPU. A deadline only
says how long to wait before calling something lost; a test asserts what
happened (every byte, in order, every run finished), never how fast. Figures
such as latencies and frame counts belong in bench/."""
import asyncio
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
import websockets

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("RUNIT_BIN", os.path.join(ROOT, "build-asan", "server", "run-it"))
DB_URL = os.environ.get("RUNIT_TEST_DATABASE_URL")

DEADLINE_S = 60       # a reply, a notification, a container, a state change
RUN_DEADLINE_S = 120  # one run from run/start to run/exit
SERVER_START_S = 120  # a sanitizer build starting next to busy neighbours

TEST_PASSWORD = "correct horse battery staple"

# Every test client connects from 127.0.0.1 and the database outlives a test
# run, so the per-address limits on sign-ups and failed logins (10 an hour,
# 20 in 10 minutes by default) would trip across tests and runs. Test servers
# get these unless the environment or a test (make_server(RUNIT_...=n))
# says otherwise; test_accounts.py tests the limits from loopback addresses
# of their own.
GENEROUS_AUTH_LIMITS = {"RUNIT_SIGNUP_ADDR_MAX": "1000000", "RUNIT_LOGIN_ADDR_MAX": "1000000"}

# LeakSanitizer runs when a test server exits (SIGTERM ends its loop, it frees
# what it holds and returns from main): leak detection stays on whatever the
# environment says, unless a test passes ASAN_OPTIONS itself, and the only
# leaks it may ignore are the third-party libraries' own, listed one by one
# with the reason in tests/lsan.supp.
#
# The sanitizers write their reports to files (ASAN_OPTIONS log_path) in
# SANITIZER_DIR, a folder of this test session under the test data dir:
# server-PORT.PID for a Server, proc.PID for any other run-it this session
# starts with os.environ (the CLI commands). Server.stop() fails its test
# when its server left a report, did not exit 0 after SIGTERM or had to be
# killed; at the end of the session conftest.py fails the session, with a
# summary, for every report file there and every server not checked so.
LSAN_SUPPRESSIONS = os.path.join(ROOT, "tests", "lsan.supp")
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "LeakSanitizer has encountered a fatal error", "runtime error:")
SANITIZER_DIR = os.path.join(
    os.environ.get("RUNIT_DATA_DIR") or os.path.join(ROOT, "var", "test"), "sanitizer-reports",
    time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}")
STOP_S = 180  # SIGTERM to exit: draining runs (10 s at most), then LeakSanitizer's scan


def sanitizer_env(env, log_path=None):
    """ASAN_OPTIONS with leak detection on and LSAN_OPTIONS with the
    project's suppressions, on top of env's own (later options win); with
    log_path, the reports go to log_path.PID (UBSan's too)."""
    asan = env.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    lsan = env.get("LSAN_OPTIONS", "")
    ubsan = env.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    out = {"ASAN_OPTIONS": asan + ":detect_leaks=1",
           "LSAN_OPTIONS": f"suppressions={LSAN_SUPPRESSIONS}:print_suppressions=0"
                           + (":" + lsan if lsan else "")}
    if log_path:
        out["ASAN_OPTIONS"] += f":log_path={log_path}"
        out["UBSAN_OPTIONS"] = ubsan + f":log_path={log_path}"
    return out


def sanitizer_files(prefix=None):
    """The report files in SANITIZER_DIR (of prefix, a path there, only)."""
    try:
        names = sorted(os.listdir(SANITIZER_DIR))
    except FileNotFoundError:
        return []
    paths = [os.path.join(SANITIZER_DIR, n) for n in names]
    return [p for p in paths if prefix is None or p == prefix or p.startswith(prefix + ".")]


def read_text(path, limit=None):
    with open(path, "rb") as f:
        text = f.read().decode(errors="replace")
    return text if limit is None else text[:limit]


# every run-it this session starts with os.environ reports into SANITIZER_DIR
os.makedirs(SANITIZER_DIR, exist_ok=True)
os.environ.update(sanitizer_env(os.environ, os.path.join(SANITIZER_DIR, "proc")))

# every Server started in this session, for the session's summary (conftest.py)
started_servers = []


# ------------------------------------------------------------ the server

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, headers=None, timeout=DEADLINE_S):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Server:
    """A run-it server process on a free loopback port, its own instance name
    and data directory; env entries (RUNIT_...=value) override the defaults.
    stop() fails the test if the sanitizers reported anything in its log."""

    def __init__(self, tmp, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.env = dict(os.environ)
        for k, v in GENEROUS_AUTH_LIMITS.items():
            self.env.setdefault(k, v)
        self.env.update(sanitizer_env(self.env))
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
        # the sanitizers' reports: SANITIZER_DIR/server-PORT.PID (after a test's
        # own ASAN_OPTIONS too: later options win)
        self.report_prefix = os.path.join(SANITIZER_DIR, f"server-{self.port}")
        self.env.update(sanitizer_env(self.env, self.report_prefix))
        self.err_path = None  # stderr's own file, with start(stderr_apart=True)
        self.err = None
        self.proc = None
        self.killed = False    # kill(): SIGKILL on purpose, no leak check at exit
        self.problems = None   # check()'s findings, once checked

    def start(self, wait=True, stderr_apart=False):
        """Runs `run-it serve`; stdout and stderr go to log_path, or with
        stderr_apart stdout to log_path and stderr to err_path."""
        self.log = open(self.log_path, "ab")
        self.killed, self.problems = False, None
        if stderr_apart:
            self.err_path = self.log_path[:-len(".log")] + ".err.log"
            self.err = open(self.err_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env, stdout=self.log,
                                     stderr=self.err or subprocess.STDOUT)
        started_servers.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=SERVER_START_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log_text()[-3000:]}")
            try:
                code, _, _ = http_get(self.url + "/healthz", timeout=5)
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

    def terminate(self):
        """SIGTERM if it still runs, wait for the exit (LeakSanitizer runs
        then; a kill after STOP_S), and check it: (whether it was still
        running, check()'s problems)."""
        sent_term = False
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            sent_term = True
            try:
                self.proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.problems = [f"did not exit in {STOP_S} s after SIGTERM: killed"]
        self._close_files()
        return sent_term, self.check(sent_term)

    def stop(self):
        """terminate(), and fail the test if the server did not exit 0 on its
        own or the sanitizers reported anything; returns its exit code."""
        _, problems = self.terminate()
        if problems:
            pytest.fail(self.describe(problems), pytrace=False)
        return self.proc.returncode if self.proc else None

    def check(self, sent_term=False):
        """What is wrong with this server's exit, once it has exited (empty
        when all is well): a sanitizer report (its file or its log), an exit
        by a signal, a code other than 0 after our SIGTERM. A server killed
        on purpose (kill()) is only checked for reports. Kept in .problems."""
        if self.problems is not None and not sent_term:
            return self.problems
        problems = list(self.problems or [])
        if self.proc is None or self.proc.returncode is None:
            self.problems = problems
            return problems
        code = self.proc.returncode
        if not self.killed and not problems:
            if code < 0:
                problems.append(f"ended by signal {-code}")
            elif sent_term and code != 0:
                problems.append(f"exited {code} after SIGTERM")
        for path in sanitizer_files(f"{self.report_prefix}.{self.proc.pid}"):
            problems.append(f"sanitizer report {path}:\n{read_text(path, 8000)}")
        text = self.log_text()
        for report in SANITIZER_REPORTS:
            if report in text:
                problems.append("sanitizer report in its log:\n"
                                + text[max(0, text.find(report) - 200):][:8000])
                break
        self.problems = problems
        return problems

    def describe(self, problems):
        tail = self.log_text()[-2000:] if any(not p.startswith("sanitizer") for p in problems) else ""
        return (f"run-it serve (port {self.port}, pid {self.proc.pid if self.proc else '-'}): "
                + "\n".join(problems) + (f"\n--- its log's end:\n{tail}" if tail else ""))

    def _close_files(self):
        if self.proc and not self.log.closed:
            self.log.close()
            if self.err:
                self.err.close()

    def kill(self):
        """SIGKILL on purpose (a crash the test is about): exempt from the
        leak check at exit."""
        self.killed = True
        self.proc.kill()
        self.proc.wait()
        self._close_files()


# ------------------------------------------------------------ clients

class Client:
    """A JSON-RPC client on an asyncio websocket. Notifications that arrive
    while it waits for something else are kept, in order, in .notes."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.notes = []

    async def receive(self, timeout=DEADLINE_S):
        """The next message from the server, parsed."""
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def send(self, method, params=None):
        """Send a request without waiting for its response; its id."""
        self.next_id += 1
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                       "params": params or {}}))
        return self.next_id

    async def answers(self, ids, timeout=DEADLINE_S):
        """The responses to these request ids ({id: message}); what else
        comes meanwhile goes to .notes."""
        got, deadline = {}, time.monotonic() + timeout
        while len(got) < len(ids):
            msg = await self.receive(deadline - time.monotonic())
            if msg.get("id") in ids:
                got[msg["id"]] = msg
            else:
                self.notes.append(msg)
        return got

    async def call(self, method, params=None, timeout=DEADLINE_S):
        """Send a request; its response (what comes before it goes to .notes)."""
        rid = await self.send(method, params)
        return (await self.answers([rid], timeout))[rid]

    async def collect_notifications(self, method, until, timeout=DEADLINE_S):
        """The params of every `method` notification, those in .notes first,
        until until(list) is true; other messages stay in .notes."""
        got = [n["params"] for n in self.notes if n.get("method") == method]
        self.notes = [n for n in self.notes if n.get("method") != method]
        deadline = time.monotonic() + timeout
        while not until(got):
            left = deadline - time.monotonic()
            assert left > 0, f"{method}: not there after {timeout} s; got {got[-10:]}"
            msg = await self.receive(left)
            if msg.get("method") == method:
                got.append(msg["params"])
            else:
                self.notes.append(msg)
        return got

    async def next_notification(self, method, timeout=DEADLINE_S):
        """The next `method` notification (the whole message), from .notes
        or the socket; raises asyncio.TimeoutError after timeout seconds."""
        for i, n in enumerate(self.notes):
            if n.get("method") == method:
                return self.notes.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            msg = await self.receive(max(0.01, deadline - time.monotonic()))
            if msg.get("method") == method:
                return msg
            self.notes.append(msg)

    async def assert_no_notification(self, method, wait=0.5):
        """No `method` notification is here or arrives within wait seconds."""
        assert not [n for n in self.notes if n.get("method") == method], self.notes
        try:
            n = await self.next_notification(method, wait)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"unexpected {method}: {n}")

    async def read_until_closed(self, timeout=DEADLINE_S):
        """Read until the server closes the socket: (every notification, those
        in .notes first; the close code the server sent)."""
        notes = list(self.notes)
        try:
            while True:
                notes.append(await self.receive(timeout))
        except websockets.ConnectionClosed as e:
            return notes, (e.rcvd.code if e.rcvd else None)


_open_clients = []  # opened by connect() in the current run(); run() closes them


async def connect(url, **kw):
    """A Client on a new websocket to url; run() closes it at the end."""
    kw.setdefault("close_timeout", 1)
    kw.setdefault("open_timeout", DEADLINE_S)
    ws = await websockets.connect(url, max_size=64 * 1024 * 1024, **kw)
    c = Client(ws)
    _open_clients.append(c)
    return c


def run(coro):
    """asyncio.run(coro), then close every client connect() opened, in the
    same loop: a websocket left open makes the loop's shutdown wait, and one
    closed with its loop leaves the server a connection without a close."""
    _open_clients.clear()  # any left from a loop of someone else's cannot be closed from this one

    async def main():
        try:
            return await coro
        finally:
            clients = list(_open_clients)
            _open_clients.clear()
            await asyncio.gather(*(asyncio.wait_for(c.ws.close(), 5) for c in clients),
                                 return_exceptions=True)
    return asyncio.run(main())


# the names these had when only some tests closed their clients
connect_tracked = connect
run_closing = run


def result_of(r):
    """The result of a JSON-RPC response that must have succeeded."""
    assert "result" in r, r
    return r["result"]


def error_reason(r):
    """The reason (error.data.reason) of a JSON-RPC response that must have failed."""
    assert "error" in r, r
    return r["error"]["data"]["reason"]


# ------------------------------------------------------------ users

_name_seq = itertools.count()


def unique_name(prefix="u"):
    """A user name no earlier test run has taken: [A-Za-z0-9_.-]{3,32}."""
    return f"{prefix}{os.getpid() % 100000}t{int(time.time() * 1000) % 10**8}n{next(_name_seq)}"[:32]


async def _authenticated(server, method, params):
    c = await connect(server.ws_url)
    r = await c.call(method, params)
    assert "result" in r, r
    c.user = r["result"]["user"]
    c.token = r["result"]["token"]
    return c


async def signed_in(server, name=None, password=TEST_PASSWORD):
    """A Client signed in through auth/signup as a new user; .user is the
    user object, .token the session token."""
    return await _authenticated(server, "auth/signup",
                                {"username": name or unique_name(), "password": password})


async def logged_in(server, name, password=TEST_PASSWORD):
    """A Client signed in through auth/login."""
    return await _authenticated(server, "auth/login", {"username": name, "password": password})


def add_admin(name=None, password=TEST_PASSWORD):
    """Create an admin account with `run-it user add --admin`; returns its name."""
    name = name or unique_name("adm")
    env = dict(os.environ, RUNIT_DATABASE_URL=DB_URL)
    subprocess.run([BIN, "user", "add", "--admin", "--password-stdin", name],
                   input=password + "\n", env=env, check=True, capture_output=True, text=True)
    return name


# ------------------------------------------------------------ the database

def psql(sql, *args):
    """Run one SQL statement against the test database (psql, variables
    :'v1', :'v2'... bound from args); returns the rows as lists of strings."""
    cmd = [os.environ.get("RUNIT_PSQL", "psql"), DB_URL, "-XAtq", "-v", "ON_ERROR_STOP=1",
           "-F", "\t"]
    for i, a in enumerate(args, 1):
        cmd += ["-v", f"v{i}={a}"]
    r = subprocess.run(cmd, input=sql, capture_output=True, text=True, check=True)
    return [line.split("\t") for line in r.stdout.splitlines() if line]


def seed_runtimes(path=None):
    """`run-it seed` (images/recipes.json, or the recipes file at path): the
    runtimes and the default platform. Returns what it printed."""
    env = dict(os.environ, RUNIT_DATABASE_URL=DB_URL)
    p = subprocess.run([BIN, "seed"] + ([str(path)] if path else []), env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


# ------------------------------------------------------------ waiting

def wait_until(check, timeout=DEADLINE_S, interval=0.1):
    """Call check() until it returns something true or timeout seconds have
    passed; returns its last value (the caller asserts on it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


async def async_wait_until(check, timeout=DEADLINE_S, interval=0.1):
    """wait_until() for a coroutine: sleeps without blocking the loop."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(interval)


# ------------------------------------------------------------ Docker and runtimes

SHELL_IMAGE = "runit/shell:latest"
PYTHON_IMAGE = "runit/python:latest"


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True)


def image_present(image):
    return docker("image", "inspect", image).returncode == 0


def add_runtime(code, image, run_cmd, build_cmd=None, image_needed=True, **limits):
    """Insert or update the runtime `code` (small limits unless given: 10 s
    wall, 128 MiB, 64 pids, 1 MiB of output) on the default platform, which
    is made if there is none. Fails the test if the image is not built,
    unless image_needed is False (a test of a missing image)."""
    if image_needed and not image_present(image):
        pytest.fail(f"{image} is missing: scripts/test builds it with images/build")
    psql("INSERT INTO platforms (name, kind, endpoint, is_default) SELECT 'local-docker',"
         " 'docker', 'unix:///var/run/docker.sock', true WHERE NOT EXISTS (SELECT 1 FROM platforms)")
    cols = {"wall_ms": 10000, "memory_bytes": 128 << 20, "pids": 64, "output_bytes": 1 << 20}
    cols.update(limits)
    psql("INSERT INTO runtimes (code, name, language, version, image, run_cmd, build_cmd, entry_file,"
         " template, wall_ms, memory_bytes, pids, output_bytes)"
         " VALUES (:'v1', :'v1', 'test', '1', :'v2', :'v3'::jsonb, nullif(:'v4', '')::jsonb, 'main',"
         " '{}', :'v5', :'v6', :'v7', :'v8')"
         " ON CONFLICT (code) DO UPDATE SET image = EXCLUDED.image, run_cmd = EXCLUDED.run_cmd,"
         " build_cmd = EXCLUDED.build_cmd, wall_ms = EXCLUDED.wall_ms, enabled = true,"
         " memory_bytes = EXCLUDED.memory_bytes, pids = EXCLUDED.pids,"
         " output_bytes = EXCLUDED.output_bytes",
         code, image, json.dumps(run_cmd), json.dumps(build_cmd) if build_cmd else "",
         cols["wall_ms"], cols["memory_bytes"], cols["pids"], cols["output_bytes"])
    return code


def add_shell_runtime(code="t-sh", **limits):
    """A runtime that runs main.sh with sh in runit/shell; see add_runtime()."""
    return add_runtime(code, SHELL_IMAGE, ["sh", "main.sh"], **limits)


# ------------------------------------------------------------ runs

class User:
    """A signed-in user's client with helpers for projects and runs: .c is
    the Client, .name and .uid the user's name and id, .password its
    password (PASSWORD: tests written against test_runs.User log in with it)."""

    PASSWORD = "password123"

    def __init__(self, client, name, uid):
        self.c, self.name, self.uid = client, name, uid
        self.password = self.PASSWORD

    @classmethod
    async def new(cls, server, prefix="u"):
        c = await signed_in(server, unique_name(prefix), cls.PASSWORD)
        return cls(c, c.user["username"], c.user["id"])

    async def project(self, runtime, files):
        """A new project of runtime holding exactly these files; its id."""
        res = result_of(await self.c.call("project/create", {"name": "p " + uuid.uuid4().hex[:6],
                                                             "runtime": runtime}))
        pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res.get("id")
        assert isinstance(pid, int), res
        # replace the template with exactly these files
        listing = await self.c.call("file/list", {"project": pid})
        for f in listing["result"].get("files", []):
            await self.c.call("file/delete", {"project": pid, "path": f["path"]})
        for path, content in files.items():
            result_of(await self.c.call("file/create", {"project": pid, "path": path,
                                                        "content": content}))
        return pid

    async def start(self, pid, files=None):
        """run/start; the run's id."""
        p = {"project": pid}
        if files is not None:
            p["files"] = files
        return result_of(await self.c.call("run/start", p))["run"]

    def _take_events(self, run_id):
        events = [n for n in self.c.notes if n.get("params", {}).get("run") == run_id]
        self.c.notes = [n for n in self.c.notes if n.get("params", {}).get("run") != run_id]
        return events

    async def _read_run_until(self, run_id, done, timeout, what):
        """Read until done(events of run_id) is true; those events go back to
        .notes (in order) for wait_exit() and the like."""
        events = self._take_events(run_id)
        deadline = time.monotonic() + timeout
        try:
            while not done(events):
                left = deadline - time.monotonic()
                assert left > 0, f"{what} for run {run_id}: not in {timeout} s: {events[-5:]}"
                msg = await self.c.receive(left)
                if msg.get("params", {}).get("run") == run_id:
                    events.append(msg)
                else:
                    self.c.notes.append(msg)
        finally:
            self.c.notes.extend(events)
        return events

    async def wait_output(self, run_id, text, timeout=RUN_DEADLINE_S):
        """Read this run's notifications until its stdout so far contains text."""
        def seen(events):
            return text in "".join(e["params"]["data"] for e in events
                                   if e["method"] == "run/log" and e["params"]["stream"] == "stdout")
        await self._read_run_until(run_id, seen, timeout, repr(text))

    async def wait_state(self, run_id, state, timeout=RUN_DEADLINE_S):
        """Read this run's notifications until run/status says state (or it ended)."""
        def reached(events):
            return any(e["method"] == "run/exit" or
                       (e["method"] == "run/status" and e["params"]["state"] == state)
                       for e in events)
        await self._read_run_until(run_id, reached, timeout, f"state {state}")

    async def wait_exit(self, run_id, timeout=RUN_DEADLINE_S):
        """Collect this run's notifications until run/exit."""
        def ended(events):
            return any(e["method"] == "run/exit" for e in events)
        await self._read_run_until(run_id, ended, timeout, "run/exit")
        return Outcome(self._take_events(run_id))

    async def collect(self, seconds):
        """Read notifications for a while (they land in self.c.notes)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.c.notes.append(await self.c.receive(left))
            except asyncio.TimeoutError:
                break

    async def run_code(self, runtime, files, timeout=RUN_DEADLINE_S):
        """A new project with these files, run once: (project id, run id, Outcome)."""
        pid = await self.project(runtime, files)
        rid = await self.start(pid)
        return pid, rid, await self.wait_exit(rid, timeout)


class Outcome:
    """A finished run's notifications: .logs (run/log params), .exit
    (run/exit params), .states (run/status states, in order). Checks that
    the sequence numbers only grow."""

    def __init__(self, events):
        self.events = events
        self.logs = [e["params"] for e in events if e["method"] == "run/log"]
        self.exit = next(e["params"] for e in events if e["method"] == "run/exit")
        self.states = [e["params"]["state"] for e in events if e["method"] == "run/status"]
        seqs = [e["params"]["seq"] for e in events if "seq" in e.get("params", {})]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), seqs

    def text(self, stream="stdout"):
        return "".join(l["data"] for l in self.logs if l["stream"] == stream)


# ------------------------------------------------------------ /metrics

def check_prometheus_text(text):
    """A strict reading of the text exposition format: every sample belongs to
    a family declared by HELP and TYPE, names and labels are well formed."""
    declared = {}
    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    for line in text.splitlines():
        if line.startswith("# HELP "):
            m = re.fullmatch(rf"# HELP ({name_re}) .+", line)
            assert m, line
        elif line.startswith("# TYPE "):
            m = re.fullmatch(rf"# TYPE ({name_re}) (counter|gauge|histogram|summary|untyped)", line)
            assert m, line
            assert m.group(1) not in declared, "TYPE twice: " + line
            declared[m.group(1)] = m.group(2)
        else:
            m = re.fullmatch(rf'({name_re})(\{{({name_re}="[^"\\]*"(,{name_re}="[^"\\]*")*)?\}})? (-?[0-9.e+]+|NaN|\+Inf|-Inf)', line)
            assert m, "bad sample line: " + line
            base = re.sub(r"_(bucket|sum|count)$", "", m.group(1))
            assert m.group(1) in declared or base in declared, "undeclared: " + line
            if declared.get(m.group(1)) == "counter":
                assert m.group(1).endswith("_total"), line


# a container's wait in an engine call (DockerProxy's hold_waits)
WAIT_CALL = re.compile(rb"^POST \S*/containers/[0-9a-f]+/wait", re.M)


class DockerProxy:
    """A unix socket that forwards to the Docker engine's: a platform that the
    test can make unreachable (stop) and reachable again (start). Every byte
    goes both ways (hijacked attaches included); with hold_waits a
    container's wait is never answered (an engine whose wait does not come,
    a fault the real engine does not show on demand)."""

    def __init__(self, path, target="/var/run/docker.sock", hold_waits=False):
        self.path, self.target, self.hold_waits = path, target, hold_waits
        self.lsock, self.conns, self.lock = None, [], threading.Lock()

    def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(self.path)
        self.lsock.listen(64)
        threading.Thread(target=self._accept, args=(self.lsock,), daemon=True).start()
        return self

    def _accept(self, lsock):
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                u.connect(self.target)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            held = []  # set once this connection asked for a wait (hold_waits)
            threading.Thread(target=self._pipe, args=(c, u, held, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, held, False), daemon=True).start()

    def _pipe(self, a, b, held, asks):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if asks and self.hold_waits and WAIT_CALL.search(d):
                    held.append(1)
                if not (held and not asks):
                    b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        """Refuse new connections and cut the open ones."""
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
