"""Issue 7, the rest of the admin's view: /metrics moves as the product is
used (saves, runs, first-byte histogram, frames), can be restricted by token
and address range, the Grafana dashboard names only series the server
exports, and the JSON logs carry request and run context without secrets."""
import json
import os
import re
import subprocess
import time
import uuid

import pytest

from harness import (BIN, DEADLINE_S, ROOT, User, add_shell_runtime, check_prometheus_text, connect,
                     http_get, run)

GRAFANA = os.path.join(ROOT, "docs", "grafana", "run-it.json")
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_VALUE = r'"((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf"({NAME})(?:\{{(.*)\}})? (\S+)")


# ---------------------------------------------------------------- parsing

def parse_labels(text):
    """'a="x",b="y"' -> {"a": "x", "b": "y"}, strictly (no trailing comma)."""
    labels = {}
    pos = 0
    while pos < len(text):
        m = re.compile(rf"({NAME})={LABEL_VALUE}(,|$)").match(text, pos)
        assert m, "bad labels: " + text
        assert m.group(1) not in labels, "label twice: " + text
        labels[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        pos = m.end()
    return labels


def parse_value(v):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    assert re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", v), "bad value: " + v
    return float(v)


def parse_metrics(text):
    """Strict Prometheus text: check_prometheus_text() from the foundation
    tests, then histograms in full (buckets with le ascending and ending in
    +Inf, cumulative, +Inf equal to _count, _sum present), counters never
    negative, no series twice. Returns (types, samples) where samples maps
    (name, frozenset(labels.items())) to the value."""
    check_prometheus_text(text)
    types, samples, order = {}, {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.fullmatch(line)
        assert m, "bad sample: " + line
        name, labels = m.group(1), parse_labels(m.group(2) or "")
        key = (name, frozenset(labels.items()))
        assert key not in samples, "series twice: " + line
        samples[key] = parse_value(m.group(3))
        order.append((name, labels))
    for fam, kind in types.items():
        if kind == "counter":
            for (name, _), v in samples.items():
                if name == fam:
                    assert v >= 0, (fam, v)
        if kind != "histogram":
            continue
        assert not any(n == fam for n, _ in samples), "histogram with a bare sample: " + fam
        groups = {}
        for name, labels in order:
            if name == fam + "_bucket":
                assert "le" in labels, labels
                rest = frozenset((k, v) for k, v in labels.items() if k != "le")
                groups.setdefault(rest, []).append(labels["le"])
        assert groups, "histogram without buckets: " + fam
        for rest, les in groups.items():
            assert les[-1] == "+Inf", (fam, les)
            bounds = [parse_value(x) for x in les]
            assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), (fam, les)
            counts = [samples[(fam + "_bucket", rest | {("le", le)})] for le in les]
            assert counts == sorted(counts), (fam, "buckets not cumulative", counts)
            assert samples[(fam + "_count", rest)] == counts[-1], fam
            assert (fam + "_sum", rest) in samples, fam
    return types, samples


def scrape(server, headers=None):
    code, hdrs, body = http_get(server.url + "/metrics", headers=headers)
    assert code == 200, (code, body)
    assert hdrs["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(body.decode())


def total(samples, name, **want):
    """Sum of the samples of name whose labels include want."""
    return sum(v for (n, labels), v in samples.items()
               if n == name and all((k, str(x)) in labels for k, x in want.items()))


def log_lines(server):
    """The server's JSON log lines (other lines, such as the start-up banner, skipped)."""
    out = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            obj = json.loads(line)  # every JSON-looking line must parse
            assert {"time", "level", "msg"} <= obj.keys(), line
            out.append(obj)
    return out


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def metrics_runtime(db_url):
    """A shell runtime of this module's own: the series labelled with it
    move only with this module's runs."""
    return add_shell_runtime("t-metrics-sh")


# ---------------------------------------------------------------- tests

def test_save_and_run_move_the_counters(server, metrics_runtime):
    async def go():
        u = await User.new(server, "mx")
        pid = await u.project(metrics_runtime, {"main.sh": "echo first\n"})
        _, before = scrape(server)
        sent = [0]
        orig_send = u.c.ws.send

        async def counting_send(msg):
            sent[0] += 1
            await orig_send(msg)
        u.c.ws.send = counting_send

        f = await u.c.call("file/read", {"project": pid, "path": "main.sh"})
        r = await u.c.call("file/save", {"project": pid, "path": "main.sh",
                                         "content": "echo 'hello metrics'\n",
                                         "base_version": f["result"]["version"]})
        assert "result" in r, r
        t0 = time.monotonic()
        rid = await u.start(pid)
        out = await u.wait_exit(rid)
        took = time.monotonic() - t0
        assert out.exit["reason"] == "exited" and out.text() == "hello metrics\n", out.exit
        _, after = scrape(server)
        await u.c.ws.close()
        return before, after, sent[0], out, took

    before, after, sent, out, took = run(go())

    def delta(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    assert delta("runit_file_saves_total") == 1
    assert delta("runit_runs_started_total", runtime="t-metrics-sh") == 1
    assert delta("runit_runs_total", runtime="t-metrics-sh", reason="exited") == 1
    assert delta("runit_runs_total", runtime="t-metrics-sh") == 1  # no other reason moved
    # the run's platform is a label; platforms are bounded, so it is a known name
    plats = {dict(k)["platform"] for (n, k) in after if n == "runit_runs_total"
             and dict(k)["runtime"] == "t-metrics-sh"}
    assert len(plats) == 1 and plats != {"other"}, plats
    assert delta("runit_run_first_byte_seconds_count") == 1
    assert delta("runit_run_queue_wait_seconds_count") == 1
    assert delta("runit_run_duration_seconds_count") == 1
    fb = delta("runit_run_first_byte_seconds_sum")
    # in seconds: no longer than this client saw from run/start to run/exit
    assert 0 < fb <= took, (fb, took)
    # the user is told first_byte_ms from the run's creation: the histogram
    # (from run/start) can only be longer
    assert fb * 1000 >= out.exit["first_byte_ms"] - 1
    assert total(after, "runit_runs_active") == 0
    assert total(after, "runit_containers_active") == 0
    # frames in: exactly what this client sent; out: at least what it read
    assert delta("runit_ws_frames_in_total") == sent == 3
    assert delta("runit_ws_frames_out_total") >= 2 + len(out.events)
    # a first run of its runtime: create, attach and start at least (files go
    # down stdin; the removal may end after run/exit)
    assert delta("runit_platform_api_duration_seconds_count") >= 3
    assert delta("runit_db_query_duration_seconds_count") >= 3


def test_errors_and_logins_by_label(server):
    async def go():
        _, before = scrape(server)
        c = await connect(server.ws_url)
        r = await c.call("project/list")  # anonymous
        assert r["error"]["data"]["reason"] == "UNAUTHENTICATED", r
        r = await c.call("no/such/method")
        assert r["error"]["data"]["reason"] == "METHOD_NOT_FOUND", r
        await c.ws.close()
        _, after = scrape(server)
        return before, after
    before, after = run(go())
    for reason in ("UNAUTHENTICATED", "METHOD_NOT_FOUND"):
        assert total(after, "runit_rpc_errors_total", reason=reason) - \
            total(before, "runit_rpc_errors_total", reason=reason) == 1
    # the three login results are always exported (the accounts code moves them)
    for result in ("ok", "failed", "locked"):
        assert ("runit_logins_total", frozenset({("result", result)})) in after


def test_logins_are_counted_by_result(make_server):
    srv = make_server(RUNIT_LOGIN_LOCK_AFTER=1, RUNIT_LOGIN_LOCK_BASE_MS=60000).start()

    async def go():
        u = await User.new(srv, "li")
        _, before = scrape(srv)
        c = await connect(srv.ws_url)
        ok = await c.call("auth/login", {"username": u.name, "password": u.password})
        bad = await c.call("auth/login", {"username": u.name, "password": "wrong-password"})
        locked = await c.call("auth/login", {"username": u.name, "password": u.password})
        await c.ws.close()
        await u.c.ws.close()
        _, after = scrape(srv)
        return before, after, ok, bad, locked
    before, after, ok, bad, locked = run(go())
    assert "result" in ok and "error" in bad, (ok, bad)
    assert locked["error"]["data"]["reason"] == "RATE_LIMITED", locked
    for result in ("ok", "failed", "locked"):
        assert total(after, "runit_logins_total", result=result) - \
            total(before, "runit_logins_total", result=result) == 1, result
    srv.stop()


def test_metrics_token_is_required_when_set(make_server):
    token = "mt-" + uuid.uuid4().hex
    srv = make_server(RUNIT_METRICS_TOKEN=token).start()
    assert http_get(srv.url + "/metrics")[0] == 401
    assert http_get(srv.url + "/metrics", {"Authorization": "Bearer nope"})[0] == 401
    assert http_get(srv.url + "/metrics", {"Authorization": "Bearer " + token[:-1]})[0] == 401
    assert http_get(srv.url + "/metrics", {"Authorization": token})[0] == 401
    scrape(srv, {"Authorization": "Bearer " + token})
    assert http_get(srv.url + "/healthz")[0] == 200  # only /metrics is guarded
    srv.stop()
    assert token not in srv.log_text()


def test_metrics_allow_list_checks_the_peer_address(make_server):
    srv = make_server(RUNIT_METRICS_ALLOW="10.0.0.0/8").start()
    code, _, body = http_get(srv.url + "/metrics")
    assert code == 403 and b"runit_" not in body
    assert http_get(srv.url + "/healthz")[0] == 200
    srv.stop()
    srv = make_server(RUNIT_METRICS_ALLOW="10.0.0.0/8, 127.0.0.0/8",
                      RUNIT_METRICS_TOKEN="t0k").start()
    scrape(srv, {"Authorization": "Bearer t0k"})
    assert http_get(srv.url + "/metrics")[0] == 401  # both rules hold
    srv.stop()


def test_bad_metrics_allow_is_a_configuration_error(db_url):
    env = {"PATH": os.environ["PATH"], "RUNIT_DATABASE_URL": db_url}
    for bad in ("10.0.0.0/33", "not-a-range", "10.1.0.0/8", "10.0.0.0/8,"):
        r = subprocess.run([BIN, "serve"], capture_output=True, text=True,
                           env={**env, "RUNIT_METRICS_ALLOW": bad}, timeout=DEADLINE_S)
        assert r.returncode != 0, bad
        assert r.stderr.count("\n") == 1 and "RUNIT_METRICS_ALLOW" in r.stderr, r.stderr


def test_malformed_database_url_is_not_echoed():
    """The URL holds the database password: a bad one is refused without
    showing it, even where libpq's own message would quote it."""
    secret = "pw" + uuid.uuid4().hex
    for url in (f"mysql://runit:{secret}@db/runit",
                f"postgresql://runit:{secret}%zz@127.0.0.1:1/runit",
                f"host=127.0.0.1 password {secret}"):
        for cmd in (["serve"], ["migrate"]):
            r = subprocess.run([BIN, *cmd], capture_output=True, text=True, timeout=DEADLINE_S,
                               env={"PATH": os.environ["PATH"], "RUNIT_DATABASE_URL": url})
            assert r.returncode != 0 and "RUNIT_DATABASE_URL" in r.stderr, (url, r.stderr)
            assert r.stderr.count("\n") == 1, r.stderr
            assert secret not in r.stderr + r.stdout, r.stderr


def test_failed_login_is_logged_without_the_password(server):
    password = "pw-" + uuid.uuid4().hex + "-never-logged"
    totp = "9" + str(uuid.uuid4().int)[:7]  # 8 digits: will not turn up by chance
    env_value = "env-" + uuid.uuid4().hex

    async def go():
        u = await User.new(server, "lg")
        c = await connect(server.ws_url)
        r = await c.call("auth/login", {"username": u.name, "password": password, "totp": totp})
        assert "error" in r, r
        r = await c.call("auth/login", {"username": "nobody-" + uuid.uuid4().hex[:8],
                                        "password": password})
        assert "error" in r, r
        await c.ws.close()
        # other secrets that must stay out of the logs: env values, file contents
        r = await u.c.call("project/create", {"name": "secrets", "runtime": "t-metrics-sh"})
        pid = r["result"]["id"] if "id" in r["result"] else r["result"]["project"]["id"]
        r = await u.c.call("env/set", {"project": pid, "vars": {"API_KEY": env_value}})
        assert "result" in r, r
        r = await u.c.call("file/save", {"project": pid, "path": "main.sh",
                                         "content": f"echo {password}\n", "base_version": 999})
        assert r["error"]["data"]["reason"] in ("CONFLICT", "NOT_FOUND"), r
        await u.c.ws.close()
        return u
    u = run(go())
    text = server.log_text()
    for secret in (password, totp, env_value):
        assert secret not in text, secret
    lines = log_lines(server)
    failed = [l for l in lines if l.get("method") == "auth/login" and l["msg"] == "request failed"]
    assert len(failed) >= 2, lines[-10:]
    for l in failed:
        assert l["level"] == "info" and l["reason"] and l["error"], l
        assert re.fullmatch(r"\d+-\d+", l["request_id"]), l
        assert l["ip"] == "127.0.0.1" and "session" in l and "user_id" in l, l
        assert not {"password", "totp", "params", "token"} & l.keys(), l
    # a user error on a signed-in session names the user and the request
    conflict = [l for l in lines if l.get("method") == "file/save" and l.get("user_id") == u.uid]
    assert conflict and conflict[-1]["level"] == "info", lines[-10:]
    # request ids are unique per request
    ids = [l["request_id"] for l in lines if "request_id" in l and l["msg"] == "request failed"]
    assert len(ids) == len(set(ids))


def test_run_logs_carry_run_id_user_and_request(server, metrics_runtime):
    async def go():
        u = await User.new(server, "rl")
        _, rid, out = await u.run_code(metrics_runtime, {"main.sh": "echo logged\n"})
        await u.c.ws.close()
        return u, rid, out
    u, rid, out = run(go())
    assert out.exit["reason"] == "exited"
    lines = log_lines(server)
    started = [l for l in lines if l["msg"] == "run started" and l.get("run_id") == rid]
    ended = [l for l in lines if l["msg"] == "run ended" and l.get("run_id") == rid]
    assert len(started) == 1 and len(ended) == 1, lines[-10:]
    assert started[0]["user_id"] == u.uid and started[0]["method"] == "run/start"
    assert re.fullmatch(r"\d+-\d+", started[0]["request_id"])
    assert ended[0]["user_id"] == u.uid and ended[0]["reason"] == "exited"


def test_internal_errors_log_at_warn_and_user_errors_at_info(server):
    """rpc_fail's level follows the reason: the caller's mistakes are info."""
    async def go():
        u = await User.new(server, "lv")
        r = await u.c.call("project/get", {"id": 2**40})
        await u.c.ws.close()
        return u, r
    u, r = run(go())
    reason = r["error"]["data"]["reason"]
    assert reason in ("NOT_FOUND", "INVALID_PARAMS"), r
    lines = [l for l in log_lines(server)
             if l.get("method") == "project/get" and l.get("user_id") == u.uid]
    assert lines and lines[-1]["level"] == "info" and lines[-1]["reason"] == reason


def test_grafana_dashboard_names_only_exported_series(server, metrics_runtime):
    with open(GRAFANA) as f:
        dash = json.load(f)
    # importable as is: a datasource input, and every panel uses it
    inputs = {i["name"]: i for i in dash["__inputs"]}
    assert inputs["DS_PROMETHEUS"]["type"] == "datasource"
    assert inputs["DS_PROMETHEUS"]["pluginId"] == "prometheus"
    assert dash["title"] and dash["uid"] and dash["schemaVersion"] >= 30
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    exprs = []
    for p in panels:
        assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
        assert p["targets"], p["title"]
        for t in p["targets"]:
            exprs.append((p["title"], t["expr"]))
    for v in dash["templating"]["list"]:
        exprs.append((v["name"], v["definition"]))
    titles = " | ".join(p["title"] for p in panels).lower()
    for want in ("runs per minute", "active runs", "first-byte", "errors", "sessions",
                 "database pool", "platform api latency"):
        assert want in titles, want

    async def one_run():  # so the per-platform series exist whatever ran before
        u = await User.new(server, "gf")
        await u.run_code(metrics_runtime, {"main.sh": "echo grafana\n"})
        await u.c.ws.close()
    run(one_run())
    types, samples = scrape(server)
    exported = set(types) | {n for n, _ in samples}
    hist_parts = {f + s for f, k in types.items() if k == "histogram"
                  for s in ("_bucket", "_sum", "_count")}
    used = set()
    for title, expr in exprs:
        names = set(re.findall(r"\b(runit_[a-zA-Z0-9_:]*)", expr))
        assert names, (title, expr)
        for n in names:
            assert n in exported or n in hist_parts, (title, n)
            if n.endswith("_bucket"):
                assert n in hist_parts, (title, n)
        used |= names
        # labels grouped by must exist on the series
        for by in re.findall(r"by \(([^)]*)\)", expr):
            for label in (x.strip() for x in by.split(",")):
                if label == "le":
                    continue
                assert any(label in dict(k) for (n, k) in samples
                           if n in names or any(n == m + "_bucket" for m in names)), (title, label)
    assert "sum by (reason) (rate(runit_runs_total" in " ".join(e for _, e in exprs)
    assert {"runit_run_first_byte_seconds_bucket", "runit_rpc_errors_total",
            "runit_websockets_open", "runit_runs_active",
            "runit_platform_api_duration_seconds_bucket"} <= used
