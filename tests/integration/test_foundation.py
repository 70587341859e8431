"""Issue 2: the server skeleton over a real websocket, against real PostgreSQL."""
import asyncio
import json
import os
import re
import socket
import subprocess
import threading
import time

import pytest
import websockets

from harness import (BIN, DEADLINE_S, ROOT, check_prometheus_text, connect, http_get, run,
                     wait_until)
from rawws import Closed, RawWS


def test_hello_names_server_and_anonymous_user(server):
    async def go():
        c = await connect(server.ws_url)
        r = await c.call("session/hello", {"client": "pytest/1"})
        await c.ws.close()
        return r
    r = run(go())
    assert r["jsonrpc"] == "2.0" and r["id"] == 1
    assert r["result"]["server"]["name"] == "run-it"
    assert r["result"]["user"] is None
    assert r["result"]["limits"]["max_frame"] == 1024 * 1024


def test_unknown_method_is_32601_with_reason(server):
    ws = RawWS("127.0.0.1", server.port)
    r = ws.call_raw('{"jsonrpc":"2.0","id":"x1","method":"no/such","params":{}}')
    assert r["id"] == "x1"
    assert r["error"]["code"] == -32601
    assert r["error"]["data"]["reason"] == "METHOD_NOT_FOUND"
    ws.close()


@pytest.mark.parametrize("frame,code,reason", [
    (b'{"jsonrpc":"2.0","id":1,', -32700, "PARSE_ERROR"),
    (b'\xff\xfe{"a":1}', -32700, "INVALID_UTF8"),
    (b'{"jsonrpc":"2.0","id":1,"method":"session/hello","params":{"client":"\xc0\xaf"}}', -32700, "INVALID_UTF8"),
    (b'{"jsonrpc":"2.0","id":1,"method":"session/hello","params":' + b'[' * 100 + b']' * 100 + b'}', -32700, "TOO_DEEP"),
    (b'{"jsonrpc":"2.0","id":1,"id":2,"method":"session/hello"}', -32700, "DUPLICATE_KEY"),
    (b'{"jsonrpc":"2.0","id":1,"method":"session/hello","params":{"n":123456789012345678901234567890}}', -32700, "NUMBER_TOO_LARGE"),
    (b'{"jsonrpc":"2.0","id":1,"method":"session/hello","params":{"n":1e400}}', -32700, "NUMBER_TOO_LARGE"),
    (b'[{"jsonrpc":"2.0","id":1,"method":"session/hello"}]', -32600, "BATCH_UNSUPPORTED"),
    (b'{"jsonrpc":"1.0","id":1,"method":"session/hello"}', -32600, "INVALID_REQUEST"),
    (b'{"jsonrpc":"2.0","id":1,"method":"session/hello","params":{"client":5}}', -32602, "INVALID_PARAMS"),
    (b'"just a string"', -32600, "INVALID_REQUEST"),
])
def test_bad_frames_get_a_clear_error_and_the_socket_stays_up(server, frame, code, reason):
    ws = RawWS("127.0.0.1", server.port)
    ws.send_text(frame)
    r = ws.recv_json()
    assert r["error"]["code"] == code, r
    assert r["error"]["data"]["reason"] == reason, r
    assert r["error"]["message"]
    # the same socket still works
    ok = ws.call_raw('{"jsonrpc":"2.0","id":99,"method":"session/hello","params":{}}')
    assert ok["id"] == 99 and "result" in ok
    ws.close()


def test_oversize_frame_is_refused_without_a_crash(make_server):
    srv = make_server(RUNIT_MAX_FRAME="64k").start()
    ws = RawWS("127.0.0.1", srv.port)
    big = '{"jsonrpc":"2.0","id":1,"method":"session/hello","params":{"client":"' + "a" * 70000 + '"}}'
    r = ws.call_raw(big)
    assert r["error"]["data"]["reason"] == "TOO_LARGE"
    # exactly at the limit is parsed (and then refused for the long client name, not the size)
    pad = 64 * 1024 - len('{"jsonrpc":"2.0","id":2,"method":"session/hello","params":{"x":""}}')
    at = '{"jsonrpc":"2.0","id":2,"method":"session/hello","params":{"x":"' + "b" * pad + '"}}'
    assert len(at) == 64 * 1024
    r = ws.call_raw(at)
    assert r["id"] == 2 and "result" in r, r
    ws.close()
    srv.stop()


def test_fragmented_message_is_reassembled(server):
    ws = RawWS("127.0.0.1", server.port)
    msg = b'{"jsonrpc":"2.0","id":5,"method":"session/hello","params":{"client":"frag"}}'
    ws.send_frame(0x1, msg[:10], fin=False)
    ws.send_frame(0x0, msg[10:30], fin=False)
    ws.send_frame(0x0, msg[30:], fin=True)
    r = ws.recv_json()
    assert r["id"] == 5 and "result" in r
    ws.close()


def test_binary_message_is_refused(server):
    ws = RawWS("127.0.0.1", server.port)
    ws.send_frame(0x2, b'{"jsonrpc":"2.0","id":5,"method":"session/hello"}')
    r = ws.recv_json()
    assert r["error"]["data"]["reason"] == "INVALID_REQUEST"
    ws.close()


def test_notification_from_client_gets_no_response(server):
    ws = RawWS("127.0.0.1", server.port)
    ws.send_text('{"jsonrpc":"2.0","method":"session/hello","params":{}}')
    r = ws.call_raw('{"jsonrpc":"2.0","id":7,"method":"session/hello","params":{}}')
    assert r["id"] == 7  # the first response on the wire answers the request, not the notification
    ws.close()


def test_burst_of_1000_frames_answered_in_order(server):
    async def go():
        ws = await websockets.connect(server.ws_url)
        frames = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "session/hello", "params": {}})
                  for i in range(1000)]
        for f in frames:
            await ws.send(f)
        ids = []
        while len(ids) < 1000:
            ids.append(json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))["id"])
        await ws.close()
        return ids
    assert run(go()) == list(range(1000))


def test_200_concurrent_connections(server):
    async def one(i):
        c = await connect(server.ws_url)
        r = await c.call("session/hello", {"client": f"c{i}"})
        return c, r

    async def go():
        pairs = await asyncio.gather(*(one(i) for i in range(200)))
        ok = sum(1 for _, r in pairs if "result" in r)
        sessions = {r["result"]["session"] for _, r in pairs}
        await asyncio.gather(*(c.ws.close() for c, _ in pairs))
        return ok, len(sessions)
    ok, distinct = run(go())
    assert ok == 200 and distinct == 200


def test_client_that_never_reads_is_dropped_and_memory_stays_bounded(make_server):
    srv = make_server(RUNIT_OUT_QUEUE_BYTES="256k").start()
    rss0 = srv.rss_kb()
    ws = RawWS("127.0.0.1", srv.port, rcvbuf=4096)
    req = b'{"jsonrpc":"2.0","id":1,"method":"session/hello","params":{}}'
    sent = 0
    dropped = False
    ws.sock.settimeout(5)
    try:
        for _ in range(300000):  # ~20 MB of requests, far more than the queue and socket buffers
            ws.send_frame(0x1, req)
            sent += 1
    except socket.timeout:
        pass  # the server is busy with the backlog: see below whether it cut us off
    except OSError:
        dropped = True  # reset or broken pipe: cut off
    if not dropped:
        # the server must cut us off: reading ends in EOF or a reset, not an endless stream
        deadline = time.monotonic() + 60
        ws.sock.settimeout(5)
        while time.monotonic() < deadline:
            try:
                if not ws.sock.recv(1 << 20):
                    dropped = True
                    break
            except socket.timeout:
                continue
            except OSError:
                dropped = True
                break
    rss1 = srv.rss_kb()
    print(f"never-reading client: sent {sent} frames; server RSS {rss0} kB -> {rss1} kB")
    assert dropped
    assert rss1 - rss0 < 64 * 1024, (rss0, rss1)
    # another client is served normally
    other = RawWS("127.0.0.1", srv.port)
    assert "result" in other.call_raw('{"jsonrpc":"2.0","id":1,"method":"session/hello"}')
    other.close()
    _, _, body = http_get(srv.url + "/metrics")
    assert re.search(rb"^runit_ws_slow_consumer_closes_total [1-9]", body, re.M), body
    srv.stop()


def test_flood_of_bad_frames_does_not_starve_another_client(make_server):
    srv = make_server(RUNIT_MAX_FRAME="16k").start()
    stop = threading.Event()
    outcome = {}

    def flood():
        ws = RawWS("127.0.0.1", srv.port)
        n = 0
        try:
            while not stop.is_set():
                ws.send_frame(0x1, b"\xff" * 100 if n % 3 == 0 else b"{" * 50 if n % 3 == 1 else b"x" * 20000)
                n += 1
                while True:  # read what has arrived, without blocking
                    ws.sock.settimeout(0)
                    try:
                        ws.recv_frame()
                    except (BlockingIOError, TimeoutError, OSError):
                        break
                ws.sock.settimeout(5)
        except (OSError, Closed):
            outcome["flooder_closed"] = True
        outcome["sent"] = n

    t = threading.Thread(target=flood)
    t.start()
    latencies = []
    try:
        for i in range(20):
            other = RawWS("127.0.0.1", srv.port)
            t0 = time.monotonic()
            r = other.call_raw('{"jsonrpc":"2.0","id":1,"method":"session/hello"}')
            latencies.append((time.monotonic() - t0) * 1000)
            assert "result" in r
            other.close()
            time.sleep(0.05)
    finally:
        stop.set()
        t.join(DEADLINE_S)
    latencies.sort()
    print(f"hello latency during flood: median {latencies[10]:.1f} ms, max {latencies[-1]:.1f} ms; "
          f"flooder sent {outcome.get('sent')} frames, closed={outcome.get('flooder_closed', False)}")
    assert srv.proc.poll() is None
    srv.stop()


def test_healthz_follows_the_database_without_a_restart(make_server, db_url):
    srv = make_server().start()
    code, headers, body = http_get(srv.url + "/healthz")
    assert code == 200 and json.loads(body)["database"] == "up"
    env = dict(os.environ)
    pg = lambda fn: subprocess.run(["bash", "-c", f"source {ROOT}/scripts/lib/pg.sh && {fn}"],
                                   env=env, check=True, capture_output=True)

    def healthz_once_it_says(status, timeout):
        """GET /healthz until it answers status or timeout seconds pass; the last answer."""
        answer = None

        def says():
            nonlocal answer
            answer = http_get(srv.url + "/healthz")
            return answer[0] == status
        wait_until(says, timeout, interval=0.2)
        return answer

    pg("pg_stop")
    try:
        code, _, body = healthz_once_it_says(503, DEADLINE_S)
        assert code == 503 and json.loads(body)["database"] == "down"
        # the websocket keeps working while the database is away
        ws = RawWS("127.0.0.1", srv.port)
        assert "result" in ws.call_raw('{"jsonrpc":"2.0","id":1,"method":"session/hello"}')
        ws.close()
    finally:
        pg("pg_start")
    code, _, body = healthz_once_it_says(200, 2 * DEADLINE_S)
    assert code == 200, body
    assert srv.proc.poll() is None
    srv.stop()


def test_metrics_is_prometheus_text_and_counts_frames(server):
    code, headers, body = http_get(server.url + "/metrics")
    assert code == 200
    assert headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    before = int(re.search(r"^runit_ws_frames_in_total (\d+)$", text, re.M).group(1))
    ws = RawWS("127.0.0.1", server.port)
    for i in range(3):
        ws.call_raw('{"jsonrpc":"2.0","id":%d,"method":"session/hello"}' % i)
    ws.call_raw('{"jsonrpc":"2.0","id":9,"method":"nope"}')
    ws.close()
    text = http_get(server.url + "/metrics")[2].decode()
    after = int(re.search(r"^runit_ws_frames_in_total (\d+)$", text, re.M).group(1))
    assert after - before == 4
    assert re.search(r'^runit_rpc_errors_total\{reason="METHOD_NOT_FOUND"\} [1-9]', text, re.M)
    assert re.search(r'^runit_build_info\{version="[0-9.]+"\} 1$', text, re.M)
    assert re.search(r"^runit_db_pool_in_use \d+$", text, re.M)
    assert re.search(r"^runit_websockets_open \d+$", text, re.M)
    check_prometheus_text(text)


def test_static_placeholder_page_is_served(server):
    code, headers, body = http_get(server.url + "/")
    assert code == 200 and b"run-it" in body
    assert headers["Content-Type"].startswith("text/html")


def test_websocket_only_on_ws_path(server):
    with pytest.raises(ConnectionRefusedError):
        RawWS("127.0.0.1", server.port, path="/other")


def test_foreign_origin_cannot_open_a_socket(server):
    with pytest.raises(ConnectionRefusedError):
        RawWS("127.0.0.1", server.port, headers={"Origin": "http://evil.example"})
    ok = RawWS("127.0.0.1", server.port, headers={"Origin": server.url})
    assert "result" in ok.call_raw('{"jsonrpc":"2.0","id":1,"method":"session/hello"}')
    ok.close()


def test_cli_help_version_and_bad_config():
    r = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and re.fullmatch(r"run-it \d+\.\d+\.\d+\n", r.stdout)
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "serve" in r.stdout and "migrate" in r.stdout
    env = {"PATH": os.environ["PATH"]}
    r = subprocess.run([BIN, "serve"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "RUNIT_DATABASE_URL" in r.stderr
    for var, val in [("RUNIT_LISTEN", "nope"), ("RUNIT_LISTEN", "127.0.0.1:99999"),
                     ("RUNIT_MAX_FRAME", "12x"), ("RUNIT_LOG_LEVEL", "loud"),
                     ("RUNIT_DOCKER_HOST", "tcp://1.2.3.4:2375")]:
        r = subprocess.run([BIN, "serve"], capture_output=True, text=True,
                           env={**env, "RUNIT_DATABASE_URL": "postgresql://x@127.0.0.1:1/x", var: val})
        assert r.returncode != 0, (var, val)
        assert r.stderr.count("\n") == 1 and var in r.stderr, (var, val, r.stderr)
    r = subprocess.run([BIN, "frobnicate"], capture_output=True, text=True)
    assert r.returncode == 2


def test_migrate_twice_is_a_no_op(db_url):
    env = {**os.environ, "RUNIT_DATABASE_URL": db_url}
    r1 = subprocess.run([BIN, "migrate"], capture_output=True, text=True, env=env)
    r2 = subprocess.run([BIN, "migrate"], capture_output=True, text=True, env=env)
    assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr, r2.stderr)
    assert "applied" not in r2.stdout


def test_user_add_creates_an_account_once(db_url):
    env = {**os.environ, "RUNIT_DATABASE_URL": db_url}
    name = f"cli{os.getpid()}"
    r = subprocess.run([BIN, "user", "add", name], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^password: \S{12,}$", r.stdout, re.M)
    r = subprocess.run([BIN, "user", "add", name], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "taken" in r.stderr
    r = subprocess.run([BIN, "user", "add", "--password-stdin", "x"], input="short\n",
                       capture_output=True, text=True, env=env)
    assert r.returncode != 0
