"""Error monitoring (server/core/errmon.c): browser errors (client/error)
and the server's own internal errors (LOG_ERROR lines, INTERNAL answers)
reach the admins' list and live events, scrubbed of secrets, grouped and
rate limited; with RUNIT_SENTRY_DSN they arrive at a Sentry-compatible
receiver (here a Python http.server on loopback) as well-formed envelopes,
and a receiver that never answers does not slow the server down."""
import http.server
import json
import re
import socket
import threading
import time
import uuid

import pytest

from harness import (DEADLINE_S, add_admin, connect, error_reason, http_get, logged_in, psql,
                     result_of, run, signed_in, wait_until)


class Receiver:
    """A loopback HTTP server that keeps every POST: (path, headers, body)."""

    def __init__(self):
        got = self.got = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                got.append((self.path, dict(self.headers), self.rfile.read(n)))
                body = json.dumps({"id": "x"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def parse_envelope(body):
    """(header, item header, event) of a one-item envelope; checks its framing."""
    text = body.decode()
    header_line, rest = text.split("\n", 1)
    item_line, rest = rest.split("\n", 1)
    header, item = json.loads(header_line), json.loads(item_line)
    payload = rest.encode()
    assert item["type"] == "event", item
    assert payload[:item["length"]] == payload.rstrip(b"\n"), (item, payload[-20:])
    event = json.loads(payload[:item["length"]])
    return header, item, event


def metric(server, name, **labels):
    _, _, body = http_get(server.url + "/metrics")
    sel = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search(rf"^{re.escape(name)}{re.escape('{' + sel + '}') if sel else ''} (\S+)$",
                  body.decode(), re.M)
    return float(m.group(1)) if m else None


def rows(marker):
    return psql("SELECT source, type, message, context::text, count, instance,"
                " coalesce(user_id::text, '') FROM errors WHERE message LIKE '%' || :'v1' || '%'"
                " ORDER BY id", marker)


async def admin_client(server):
    admin = await logged_in(server, add_admin())
    result_of(await admin.call("admin/subscribe", {}))
    return admin


async def error_events(admin, kind, until):
    notes = await admin.collect_notifications(
        "admin/event", lambda got: until([n for n in got if n["topic"] == "error"
                                          and n["kind"] == kind]))
    return [n for n in notes if n["topic"] == "error" and n["kind"] == kind]


def test_browser_error_is_listed_live_and_stored_without_secrets(server):
    marker = uuid.uuid4().hex[:12]

    async def go():
        admin = await admin_client(server)
        user = await signed_in(server)
        r = await user.call("client/error", {
            "message": f"TypeError: x is undefined {marker}", "type": "TypeError",
            "kind": "error", "route": "#/p/7?token=hunter2secret&x=1",
            "url": "http://127.0.0.1/assets/main.js", "line": 12, "column": 5,
            "user_agent": "Mozilla/5.0 test",
            "stack": "TypeError: x\n    at f (main.js:12:5)\nAuthorization: Bearer sekret123abc",
            "frames": [{"function": "f", "filename": "main.js", "lineno": 12, "colno": 5}]})
        assert result_of(r) == {}
        evs = await error_events(admin, "new", lambda e: any(marker in x["data"]["message"]
                                                               for x in e))
        ev = next(x["data"] for x in evs if marker in x["data"]["message"])
        assert ev["source"] == "browser" and ev["type"] == "TypeError" and ev["count"] == 1
        assert ev["user_id"] == user.user["id"]
        assert ev["instance"] == server.env["RUNIT_INSTANCE"]
        assert ev["context"]["route"].startswith("#/p/7?token=[Filtered]")
        assert ev["context"]["frames"][0]["lineno"] == 12
        text = json.dumps(ev)
        assert "hunter2secret" not in text and "sekret123abc" not in text, text
        assert user.user["username"] not in text
        listed = result_of(await admin.call("admin/error/list", {"limit": 100}))
        assert listed["partial"] is False
        mine = [e for e in listed["errors"] if marker in e["message"]]
        assert len(mine) == 1 and mine[0]["id"] == ev["id"], listed["errors"][:3]
        return ev

    run(go())
    stored = rows(marker)
    assert len(stored) == 1, stored
    assert "hunter2secret" not in stored[0][3] and "sekret123abc" not in stored[0][3]


def test_repeats_are_counted_not_stored_again(server):
    marker = uuid.uuid4().hex[:12]

    async def go():
        admin = await admin_client(server)
        anon = await connect(server.ws_url)  # signed out: allowed too
        for i in range(5):
            # the digits differ: still one error
            r = await anon.call("client/error", {"message": f"boom {marker} at {i}00 ms"})
            assert result_of(r) == {}
        new = await error_events(admin, "new", lambda e: any(marker in x["data"]["message"]
                                                               for x in e))
        key = next(x["data"]["event_id"] for x in new if marker in x["data"]["message"])
        rep = await error_events(admin, "repeat", lambda e: any(
            x["data"]["event_id"] == key and x["data"]["count"] == 5 for x in e))
        assert rep

    run(go())
    assert wait_until(lambda: rows(marker) and rows(marker)[0][4] == "5"), rows(marker)
    assert len(rows(marker)) == 1
    assert rows(marker)[0][6] == ""  # nobody was signed in


def test_client_error_is_size_and_rate_limited(server):
    async def go():
        c = await connect(server.ws_url)
        assert error_reason(await c.call("client/error", {"message": "x" * 2001})) == "TOO_LARGE"
        assert error_reason(await c.call("client/error", {"message": "m", "stack": "s" * 16001})) \
            == "TOO_LARGE"
        assert error_reason(await c.call("client/error", {"message": "m", "frames": [{}] * 51})) \
            == "TOO_LARGE"
        assert error_reason(await c.call("client/error", {})) == "INVALID_PARAMS"
        assert error_reason(await c.call("client/error", {"message": "m", "line": "x"})) \
            == "INVALID_PARAMS"
        oks = 0
        for i in range(12):
            r = await c.call("client/error", {"message": f"limit test {uuid.uuid4().hex}"})
            if "result" in r:
                oks += 1
            else:
                assert error_reason(r) == "RATE_LIMITED"
        assert oks == 10  # per session and minute
        # the server is fine and still answers this session
        assert "result" in await c.call("session/hello", {"client": "t"})

    run(go())


def test_server_internal_errors_are_collected(server):
    async def go():
        admin = await admin_client(server)
        r = await admin.call("admin/error/test", {"kind": "internal"})
        assert error_reason(r) == "INTERNAL"
        assert result_of(await admin.call("admin/error/test", {"kind": "log"})) == {}
        assert error_reason(await admin.call("admin/error/test", {"kind": "x"})) \
            == "INVALID_PARAMS"
        evs = await error_events(admin, "new", lambda e: {x["data"]["type"] for x in e
                                                          if "admin/error/test" in
                                                          x["data"]["message"]} >= {"INTERNAL", ""})
        internal = next(x["data"] for x in evs if x["data"]["type"] == "INTERNAL")
        assert internal["source"] == "server"
        assert internal["context"]["method"] == "admin/error/test"
        assert re.match(r"^\d+-\d+$", internal["context"]["request_id"])
        logged = next(x["data"] for x in evs if x["data"]["type"] == "")
        assert logged["message"] == "error monitoring test (admin/error/test)"
        assert logged["user_id"] == admin.user["id"]
        user = await signed_in(server)
        assert error_reason(await user.call("admin/error/list", {})) == "FORBIDDEN"
        assert error_reason(await user.call("admin/error/test", {"kind": "log"})) == "FORBIDDEN"

    run(go())
    assert metric(server, "runit_errors_total", source="server") >= 2
    assert metric(server, "runit_errors_total", source="browser") is not None


def test_errors_reach_sentry_as_envelopes(make_server):
    rx = Receiver()
    try:
        server = make_server(RUNIT_SENTRY_DSN=f"http://pubkey123@127.0.0.1:{rx.port}/42",
                             RUNIT_SENTRY_ENVIRONMENT="test").start()
        marker = uuid.uuid4().hex[:12]

        async def go():
            admin = await logged_in(server, add_admin())
            assert error_reason(await admin.call("admin/error/test", {"kind": "internal"})) \
                == "INTERNAL"
            r = await admin.call("client/error", {
                "message": f"RangeError: bad {marker} password=opensesame", "type": "RangeError",
                "route": "#/admin", "stack": "RangeError\n    at g (app.js:3:9)",
                "frames": [{"function": "g", "filename": "app.js", "lineno": 3, "colno": 9},
                           {"function": "main", "filename": "app.js", "lineno": 1, "colno": 1}]})
            assert result_of(r) == {}
            return admin.user["id"]

        uid = run(go())
        def ours():
            events = [parse_envelope(body)[2] for _, _, body in list(rx.got)]
            c_ev = [e for e in events if e.get("tags", {}).get("method") == "admin/error/test"]
            js = [e for e in events if marker in json.dumps(e)]
            return (c_ev[0], js[0]) if c_ev and js else None

        assert wait_until(ours), rx.got
        c_ev, js = ours()
        for path, headers, body in rx.got:  # every envelope, ours and any other error's
            assert path == "/api/42/envelope/"
            auth = headers.get("X-Sentry-Auth", "")
            assert auth.startswith("Sentry ") and "sentry_version=7" in auth, auth
            assert "sentry_key=pubkey123" in auth and "sentry_client=run-it/" in auth, auth
            assert headers.get("Content-Type") == "application/x-sentry-envelope"
            header, item, event = parse_envelope(body)
            assert re.fullmatch(r"[0-9a-f]{32}", header["event_id"])
            assert header["event_id"] == event["event_id"]
            assert header["dsn"] == f"http://pubkey123@127.0.0.1:{rx.port}/42"
            assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", header["sent_at"])
            assert event["level"] == "error" and event["release"].startswith("run-it@")
            assert event["server_name"] == server.env["RUNIT_INSTANCE"]
            assert event["environment"] == "test"
        for event in (c_ev, js):
            assert event["user"] == {"id": str(uid)}
        assert c_ev["platform"] == "c" and js["platform"] == "javascript"
        assert c_ev["logger"] == "run-it.server"
        assert c_ev["exception"]["values"][0]["type"] == "INTERNAL"
        assert c_ev["tags"]["method"] == "admin/error/test"
        exc = js["exception"]["values"][0]
        assert exc["type"] == "RangeError" and marker in exc["value"]
        assert "opensesame" not in json.dumps(js)
        # Sentry wants the outermost frame first
        assert [f["function"] for f in exc["stacktrace"]["frames"]] == ["main", "g"]
        assert js["tags"]["route"] == "#/admin"
        assert wait_until(lambda: metric(server, "runit_sentry_reports_total", result="sent") >= 2)
        server.stop()
    finally:
        rx.close()


def test_unreachable_sentry_does_not_slow_the_server(make_server):
    # a listening socket that never accepts: connections hang until curl's timeout
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    try:
        port = hole.getsockname()[1]
        server = make_server(RUNIT_SENTRY_DSN=f"http://k@127.0.0.1:{port}/1").start()

        async def go():
            clients = [await connect(server.ws_url) for _ in range(4)]
            for i, c in enumerate(clients):
                for j in range(8):
                    assert "result" in await c.call("client/error",
                                                    {"message": f"hang {i} {j} {uuid.uuid4()}x"})
            worst = 0
            for _ in range(20):
                t = time.monotonic()
                assert "result" in await clients[0].call("session/hello", {"client": "t"})
                worst = max(worst, time.monotonic() - t)
            return worst

        worst = run(go())
        # each report waits for curl's 3 s connect timeout (30 of them queued);
        # a loop that waited with them would take that long for some answer
        assert worst < 2.5, worst
        code, _, _ = http_get(server.url + "/healthz", timeout=5)
        assert code == 200
        assert wait_until(lambda: (metric(server, "runit_sentry_reports_total", result="failed")
                                   or 0) >= 1, timeout=DEADLINE_S)
        server.stop()
        lines = [json.loads(x) for x in server.log_text().splitlines() if x.startswith("{")]
        # a failed report is a warning (once a minute), never an error that would be reported
        assert [x for x in lines if "Sentry" in x.get("msg", "") and x["level"] == "warn"]
        assert not [x for x in lines if "Sentry" in x.get("msg", "") and x["level"] == "error"]
    finally:
        hole.close()


@pytest.mark.parametrize("dsn", ["ftp://k@127.0.0.1/1", "http://127.0.0.1/1",
                                 "http://topsecretkey@127.0.0.1/notanumber",
                                 "http://topsecretkey@127.0.0.1:99999/1"])
def test_an_invalid_dsn_stops_the_start(make_server, dsn):
    server = make_server(RUNIT_SENTRY_DSN=dsn)
    server.start(wait=False)
    assert server.proc.wait(DEADLINE_S) != 0
    server.log.close()
    lines = [json.loads(x) for x in server.log_text().splitlines() if x.startswith("{")]
    err = [x for x in lines if x.get("msg") == "configuration error"]
    assert err and err[0]["variable"] == "RUNIT_SENTRY_DSN", lines
    assert "topsecretkey" not in server.log_text()
