"""Issue "Hostile users at the same time": limits that hold under parallel
requests. Login attempts (per name, per address) and sign-ups (per address)
are counted in PostgreSQL when they START, so requests sent all at once - on
many websockets, over HTTP, to several server instances sharing the database
- let at most the limit through to the password check, and refuse the rest
with RATE_LIMITED and retry_after_s.

The name locks here last 10 minutes (RUNIT_LOGIN_LOCK_BASE_MS), so no lock
can expire while a burst is being answered, however slow the machine."""
import asyncio
import collections
import json
import os
import random
import subprocess
import time

from conftest import DB_URL, TEST_PASSWORD, connect, psql, run, signed_in, unique_name

TIMEOUT = 120  # seconds for one answer: 50 argon2id checks on a busy 2-core machine
LOCK_10_MIN = {"RUNIT_LOGIN_LOCK_AFTER": 5, "RUNIT_LOGIN_LOCK_BASE_MS": 600000,
               "RUNIT_LOGIN_LOCK_MAX_MS": 600000}


def loopback_addr():
    """A loopback address of this test's own, its limits forgotten: the
    database outlives test runs."""
    addr = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    psql("DELETE FROM login_attempts WHERE key IN ('login-addr:' || :'v1', 'signup-addr:' || :'v1')",
         addr)
    return addr


async def ws_burst(server, addr, sockets, method, params_list):
    """Open `sockets` websockets from addr, then send every request at once,
    each socket carrying its share pipelined; the answers as
    (reason or "OK", retry_after_s or None), in no particular order."""
    clients = [await connect(server.ws_url, local_addr=(addr, 0)) for _ in range(sockets)]

    async def one(c, share):
        for i, params in enumerate(share):
            await c.ws.send(json.dumps({"jsonrpc": "2.0", "id": i + 1, "method": method,
                                        "params": params}))
        answers = {}
        while len(answers) < len(share):
            m = json.loads(await asyncio.wait_for(c.ws.recv(), TIMEOUT))
            if m.get("id") is not None:
                answers[m["id"]] = m
        out = []
        for m in answers.values():
            if "error" in m:
                data = m["error"]["data"]
                out.append((data["reason"], data.get("retry_after_s")))
            else:
                out.append(("OK", None))
        return out

    try:
        shares = [params_list[i::sockets] for i in range(sockets)]
        results = await asyncio.gather(*(one(c, s) for c, s in zip(clients, shares)))
    finally:
        for c in clients:
            await c.ws.close()
    return [a for r in results for a in r]


async def http_post(server, addr, path, body):
    """POST JSON from addr on a connection of its own; the answer as
    ws_burst gives it. A refusal must carry a Retry-After header equal to
    retry_after_s."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, local_addr=(addr, 0))
    data = json.dumps(body).encode()
    writer.write((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
                  ).encode() + data)
    await writer.drain()
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)).decode()
    lines = head.split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v for k, _, v in (ln.partition(": ") for ln in lines[1:] if ln)}
    payload = json.loads(await reader.readexactly(int(headers["content-length"])))
    writer.close()
    if status == 200:
        return ("OK", None)
    err = payload["error"]
    if err["reason"] == "RATE_LIMITED":
        assert status == 429 and int(headers["retry-after"]) == err["retry_after_s"], (head, err)
    return (err["reason"], err.get("retry_after_s"))


async def http_burst(server, addr, path, bodies):
    return list(await asyncio.gather(*(http_post(server, addr, path, b) for b in bodies)))


class TableHeld:
    """A table held in SHARE mode by a psql session of its own: reads go on,
    writes wait until release(). Requests that write to it pile up at the
    database and then go on at the same instant, as a busy database lines
    them up by chance."""

    def __init__(self, table):
        self.p = subprocess.Popen([os.environ.get("RUNIT_PSQL", "psql"), DB_URL, "-XAtq", "-v",
                                   "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.p.stdin.write(f"BEGIN; LOCK TABLE {table} IN SHARE MODE; SELECT 'held';\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline().strip() == "held"

    def wait_for_waiters(self, n):
        """Until at least n statements wait for a lock in this database."""
        deadline = time.time() + TIMEOUT
        while int(psql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock'")[0][0]) < n:
            assert time.time() < deadline, "the requests never reached the database"
            time.sleep(0.05)

    def release(self):
        if self.p.poll() is None:
            self.p.communicate("COMMIT;\n", timeout=TIMEOUT)


def new_user(server):
    """A user signed up from an address of its own; returns the name."""
    async def go():
        c = await signed_in(server)
        await c.ws.close()
        return c.user["username"]
    return run(go())


def reasons(answers):
    return dict(collections.Counter(r for r, _ in answers))


def assert_refusals_say_when(answers, most_s):
    waits = [s for r, s in answers if r == "RATE_LIMITED"]
    assert waits and all(isinstance(s, int) and 1 <= s <= most_s for s in waits), answers


def attempts_recorded(key):
    return int(psql("SELECT count(*) FROM login_attempts WHERE key = :'v1'", key)[0][0])


# ------------------------------------------------------------------ tests

def test_50_wrong_passwords_at_once_on_10_sockets_reach_the_check_5_times(make_server):
    srv = make_server(**LOCK_10_MIN).start()
    name = new_user(srv)
    addr = loopback_addr()
    # any case of the name is the same name
    tries = [{"username": name if i % 2 else name.upper(), "password": f"wrong password {i}"}
             for i in range(50)]
    answers = run(ws_burst(srv, addr, 10, "auth/login", tries))
    assert reasons(answers) == {"UNAUTHENTICATED": 5, "RATE_LIMITED": 45}, answers
    assert_refusals_say_when(answers, 600)
    # the database saw exactly 5 attempts on the name, all failures
    assert attempts_recorded("login-user:" + name.lower()) == 5
    assert psql("SELECT failed_logins FROM users WHERE username = :'v1'", name) == [["5"]]
    # and it stays locked, the right password included
    answers = run(ws_burst(srv, addr, 1, "auth/login", [{"username": name,
                                                         "password": TEST_PASSWORD}]))
    assert reasons(answers) == {"RATE_LIMITED": 1}
    srv.stop()


def test_two_servers_on_one_database_let_5_wrong_passwords_through_together(make_server):
    one = make_server(**LOCK_10_MIN).start()
    two = make_server(**LOCK_10_MIN).start()
    name = new_user(one)
    addr = loopback_addr()
    tries = [{"username": name, "password": f"wrong password {i}"} for i in range(50)]

    async def both():
        a, b = await asyncio.gather(ws_burst(one, addr, 5, "auth/login", tries[:25]),
                                    ws_burst(two, addr, 5, "auth/login", tries[25:]))
        return a + b
    answers = run(both())
    assert reasons(answers) == {"UNAUTHENTICATED": 5, "RATE_LIMITED": 45}, answers
    assert_refusals_say_when(answers, 600)
    assert attempts_recorded("login-user:" + name.lower()) == 5
    one.stop()
    two.stop()


def test_16_signups_at_once_from_one_address_make_exactly_10_accounts(make_server):
    # a connection for each sign-up: all 16 can be at the database at once
    srv = make_server(RUNIT_SIGNUP_ADDR_MAX=10, RUNIT_DB_POOL=20).start()
    addr = loopback_addr()
    names = [unique_name("burst") for _ in range(16)]
    bodies = [{"username": n, "password": TEST_PASSWORD} for n in names]

    async def both():
        held = TableHeld("login_attempts")
        try:
            burst = asyncio.gather(ws_burst(srv, addr, 8, "auth/signup", bodies[:8]),
                                   http_burst(srv, addr, "/auth/signup", bodies[8:]))
            await asyncio.to_thread(held.wait_for_waiters, 16)
        finally:
            held.release()
        a, b = await burst
        return a + b
    answers = run(both())
    assert reasons(answers) == {"OK": 10, "RATE_LIMITED": 6}, answers
    assert_refusals_say_when(answers, 3600)
    made = psql("SELECT count(*) FROM users WHERE username = ANY(string_to_array(:'v1', ','))",
                ",".join(names))
    assert made == [["10"]]
    assert attempts_recorded("signup-addr:" + addr) == 10
    srv.stop()


def test_30_wrong_logins_at_once_from_one_address_reach_the_check_6_times(make_server):
    # a different name each time (a password spray): only the address limit applies
    srv = make_server(RUNIT_LOGIN_ADDR_MAX=6, RUNIT_LOGIN_ADDR_WINDOW_S=600).start()
    name = new_user(srv)
    addr = loopback_addr()
    tries = [{"username": unique_name("spray"), "password": "guess"} for _ in range(29)]
    tries.append({"username": name, "password": "guess"})

    async def both():
        a, b = await asyncio.gather(ws_burst(srv, addr, 5, "auth/login", tries[:15]),
                                    http_burst(srv, addr, "/auth/login", tries[15:]))
        return a + b
    answers = run(both())
    assert reasons(answers) == {"UNAUTHENTICATED": 6, "RATE_LIMITED": 24}, answers
    assert_refusals_say_when(answers, 600)
    assert attempts_recorded("login-addr:" + addr) == 6
    srv.stop()
