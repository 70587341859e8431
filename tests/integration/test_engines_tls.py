"""Issue 15: an engine reached over TCP with TLS client certificates
(README "Several engines", sql/022_platform_tls.sql).

A real dockerd this module starts (scripts/lib/platforms.sh
tls_engine_ensure): --tlsverify on tcp://127.0.0.1:23760, its own CA,
server and client certificates (made with the openssl CLI), its own data
root and network namespace. Checked: a platform row with the three PEMs
(made through admin/platform/create) runs code there over HTTPS: output
streams, stdin arrives, the exit code is right, run/stop stops it; an
engine that does not trust our client certificate, or whose certificate we
do not trust, is down with a readable reason and runs go to the other
engine; tcp:// without certificates is TLS_REQUIRED; a PEM that does not
parse, or a key of another certificate, is TLS_INVALID; the key is stored
sealed and is in no admin answer, no audit row and no server log."""
import os
import subprocess

import pytest

from harness import (DEADLINE_S, ROOT, User, add_admin, add_shell_runtime, error_reason,
                     logged_in, psql, result_of, run, wait_until)

PORT = 23760
ENDPOINT = f"tcp://127.0.0.1:{PORT}"
TLS_DIR = "/run/runit-tls"
PKI = TLS_DIR + "/pki"
NAME = "t-tls"


def platforms_sh(fn):
    env = dict(os.environ, RUNIT_PLATFORM_IMAGES="runit/shell:latest", RUNIT_TLS_DIR=TLS_DIR,
               RUNIT_TLS_PORT=str(PORT))
    r = subprocess.run(["bash", "-c", f"source {ROOT}/scripts/lib/platforms.sh && {fn}"],
                       env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"{fn}: {r.stdout}{r.stderr}"


def read(path):
    with open(path) as f:
        return f.read()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pems(tmp_path_factory):
    """The engine's PKI (ca, cert, key) and, made here, a CA the engine does
    not know with a client certificate of its own (other_ca, other_cert,
    other_key)."""
    platforms_sh("tls_engine_ensure")
    d = tmp_path_factory.mktemp("other-pki")
    ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    openssl("genpkey", *ec, "-out", "ca-key.pem", cwd=d)
    openssl("req", "-x509", "-new", "-key", "ca-key.pem", "-days", "2", "-subj", "/CN=other CA",
            "-out", "ca.pem", cwd=d)
    openssl("genpkey", *ec, "-out", "key.pem", cwd=d)
    openssl("req", "-new", "-key", "key.pem", "-subj", "/CN=stranger", "-out", "c.csr", cwd=d)
    (d / "ext").write_text("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", "c.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
            "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", "cert.pem", cwd=d)
    return {"ca": read(f"{PKI}/ca.pem"), "cert": read(f"{PKI}/client-cert.pem"),
            "key": read(f"{PKI}/client-key.pem"), "other_ca": read(d / "ca.pem"),
            "other_cert": read(d / "cert.pem"), "other_key": read(d / "key.pem")}


def tls_docker(*args):
    return subprocess.run(["docker", "-H", ENDPOINT, "--tlsverify", "--tlscacert",
                           f"{PKI}/ca.pem", "--tlscert", f"{PKI}/client-cert.pem", "--tlskey",
                           f"{PKI}/client-key.pem", *args], capture_output=True, text=True)


def row(pid):
    r = psql("SELECT coalesce(up::text, 'null'), health_error FROM platforms WHERE id = :'v1'",
             pid)
    return r[0] if r else None


@pytest.fixture(scope="module")
def admin(server):
    name = add_admin()
    return name


async def admin_call(server, name, method, params):
    adm = await logged_in(server, name)
    try:
        return await adm.call(method, params)
    finally:
        await adm.ws.close()


def call(server, name, method, params):
    return run(admin_call(server, name, method, params))


@pytest.fixture(scope="module")
def engines(server, admin, pems):
    """The TLS platform (made through the API) as the default and only other
    enabled engine besides the shared one (disabled while the module runs, so
    runs go to the TLS engine); {tls, local, rt}."""
    rt = add_shell_runtime("t-tls-sh", wall_ms=300000)
    local = int(psql("SELECT id FROM platforms WHERE is_default")[0][0])
    others = [r[0] for r in psql("SELECT id FROM platforms WHERE enabled AND NOT is_default")]
    psql("DELETE FROM platforms WHERE name LIKE 't-tls%'")
    made = call(server, admin, "admin/platform/create",
                {"name": NAME, "kind": "docker", "endpoint": ENDPOINT, "tls_ca": pems["ca"],
                 "tls_cert": pems["cert"], "tls_key": pems["key"]})
    tls = result_of(made)["id"]
    for o in others:
        psql("UPDATE platforms SET enabled = false WHERE id = :'v1'", o)
    psql("UPDATE platforms SET is_default = false WHERE id = :'v1'", local)
    psql("UPDATE platforms SET is_default = true WHERE id = :'v1'", tls)
    psql("UPDATE platforms SET enabled = false WHERE id = :'v1'", local)
    yield {"tls": tls, "local": local, "rt": rt, "made": made}
    psql("UPDATE platforms SET enabled = true WHERE id = :'v1'", local)
    psql("UPDATE platforms SET is_default = false WHERE is_default")
    psql("UPDATE platforms SET is_default = true WHERE id = :'v1'", local)
    psql("DELETE FROM platforms WHERE name LIKE 't-tls%'")
    for o in others:
        psql("UPDATE platforms SET enabled = true WHERE id = :'v1'", o)
    platforms_sh("tls_engine_stop")


def plat_of(rid):
    return int(psql("SELECT coalesce(platform_id, 0) FROM runs WHERE id = :'v1'", rid)[0][0])


def test_a_run_on_the_tls_engine_streams_takes_stdin_and_exits(server, engines):
    """Output streams over the hijacked attach, stdin goes through the second
    attach connection, the exit code comes back; the container was on the TLS
    engine (its label there) and is gone afterwards."""
    e = engines
    assert wait_until(lambda: row(e["tls"])[0] == "true", timeout=DEADLINE_S), row(e["tls"])

    async def go():
        u = await User.new(server)
        pid = await u.project(e["rt"], {"main.sh": 'echo "hello over tls"; read x;'
                                        ' echo "got $x"; exit 7\n'})
        rid = await u.start(pid)
        await u.wait_output(rid, "hello over tls")
        on_engine = tls_docker("ps", "-q", "--filter", f"label=run-it.run={rid}").stdout.strip()
        await u.c.call("run/stdin", {"run": rid, "data": "typed words\n"})
        return rid, on_engine, await u.wait_exit(rid)
    rid, on_engine, out = run(go())
    assert on_engine, "no container of the run on the TLS engine"
    assert plat_of(rid) == e["tls"]
    assert "hello over tls" in out.text() and "got typed words" in out.text(), out.text()
    assert out.exit["exit_code"] == 7 and out.exit["reason"] == "exited", out.exit
    assert wait_until(lambda: not tls_docker("ps", "-aq", "--filter",
                                             f"label=run-it.run={rid}").stdout.strip(),
                      timeout=DEADLINE_S), "the run's container was not removed"


def test_a_terminal_run_on_the_tls_engine(server, engines):
    """With a TTY (what the IDE asks for): one raw stream over the attach,
    isatty() true, typed input echoed and read."""
    e = engines
    assert wait_until(lambda: row(e["tls"])[0] == "true", timeout=DEADLINE_S)

    async def go():
        u = await User.new(server)
        pid = await u.project(e["rt"], {"main.sh": 'test -t 1 && echo isatty; echo ready;'
                                        ' read x; echo "tty got $x"\n'})
        res = result_of(await u.c.call("run/start", {"project": pid, "tty": True}))
        rid = res["run"]
        await u.wait_output(rid, "ready")
        await u.c.call("run/stdin", {"run": rid, "data": "words\n"})
        return rid, await u.wait_exit(rid)
    rid, out = run(go())
    assert plat_of(rid) == e["tls"]
    text = out.text()
    assert "isatty\r\n" in text and "tty got words\r\n" in text, repr(text)
    assert out.exit["exit_code"] == 0 and out.exit["reason"] == "exited", out.exit


def test_a_run_on_the_tls_engine_stops(server, engines):
    e = engines
    assert wait_until(lambda: row(e["tls"])[0] == "true", timeout=DEADLINE_S)

    async def go():
        u = await User.new(server)
        pid = await u.project(e["rt"], {"main.sh": "echo up; sleep 300\n"})
        rid = await u.start(pid)
        await u.wait_output(rid, "up")
        result_of(await u.c.call("run/stop", {"run": rid}))
        return rid, await u.wait_exit(rid, timeout=60)
    rid, out = run(go())
    assert plat_of(rid) == e["tls"]
    assert out.exit["reason"] == "stopped", out.exit


def make_bad(server, admin, name, ca, cert, key):
    r = call(server, admin, "admin/platform/create",
             {"name": name, "kind": "docker", "endpoint": ENDPOINT, "tls_ca": ca,
              "tls_cert": cert, "tls_key": key})
    return result_of(r)["id"]


def test_an_engine_that_refuses_our_certificate_is_down_and_runs_go_elsewhere(
        server, admin, engines, pems):
    """A client certificate of a CA the engine does not know, and an engine
    certificate our CA did not sign: both platforms are down with a reason
    that names TLS; with them and the shared engine enabled, a run goes to
    the shared engine."""
    e = engines
    stranger = make_bad(server, admin, "t-tls-stranger", pems["ca"], pems["other_cert"],
                        pems["other_key"])
    distrust = make_bad(server, admin, "t-tls-distrust", pems["other_ca"], pems["cert"],
                        pems["key"])
    def default_to(on, off):  # the default platform is always enabled
        psql("UPDATE platforms SET enabled = true WHERE id = :'v1'", on)
        psql("UPDATE platforms SET is_default = false WHERE id = :'v1'", off)
        psql("UPDATE platforms SET is_default = true WHERE id = :'v1'", on)
        psql("UPDATE platforms SET enabled = false WHERE id = :'v1'", off)
    try:
        default_to(e["local"], e["tls"])
        for p in (stranger, distrust):
            assert wait_until(lambda: row(p)[0] == "false", timeout=DEADLINE_S), row(p)
        why_stranger, why_distrust = row(stranger)[1], row(distrust)[1]
        print("client certificate refused:", why_stranger)
        print("engine certificate not trusted:", why_distrust)
        # TLS 1.3: the refusal comes as an alert, or as a reset before it is read
        assert ("TLS handshake failed (does the engine trust tls_cert?" in why_stranger or
                "TLS connection closed (does the engine trust tls_cert?" in why_stranger)
        assert ENDPOINT[6:] in why_stranger
        assert "TLS handshake failed (the engine's certificate is not signed by tls_ca" \
            in why_distrust and "certificate problem" in why_distrust

        async def go():
            u = await User.new(server)
            return await u.run_code(e["rt"], {"main.sh": "echo elsewhere\n"})
        _, rid, out = run(go())
        assert out.text() == "elsewhere\n" and out.exit["reason"] == "exited", out.exit
        assert plat_of(rid) == e["local"]
    finally:
        psql("DELETE FROM platforms WHERE id IN (:'v1', :'v2')", stranger, distrust)
        default_to(e["tls"], e["local"])


def test_tcp_without_certificates_is_tls_required(server, admin, engines):
    e = engines
    for ep in (ENDPOINT, "https://127.0.0.1:2376", "http://127.0.0.1:2375"):
        r = call(server, admin, "admin/platform/create",
                 {"name": "t-tls-bare", "kind": "docker", "endpoint": ep})
        assert error_reason(r) == "TLS_REQUIRED", r
        assert "tls_ca" in r["error"]["message"], r
    assert not psql("SELECT id FROM platforms WHERE name = 't-tls-bare'")
    # a unix platform moved to tcp:// without its certificates: refused, unchanged
    made = result_of(call(server, admin, "admin/platform/create",
                          {"name": "t-tls-unix", "kind": "docker",
                           "endpoint": "unix:///run/runit-tls/none.sock", "enabled": False}))
    r = call(server, admin, "admin/platform/update", {"id": made["id"], "endpoint": ENDPOINT})
    assert error_reason(r) == "TLS_REQUIRED", r
    assert psql("SELECT endpoint FROM platforms WHERE id = :'v1'", made["id"]) == \
        [["unix:///run/runit-tls/none.sock"]]
    # removing the certificates of a tcp:// platform: refused too
    r = call(server, admin, "admin/platform/update",
             {"id": e["tls"], "tls_ca": None, "tls_cert": None, "tls_key": None})
    assert error_reason(r) == "TLS_REQUIRED", r
    assert psql("SELECT tls_key_enc IS NOT NULL FROM platforms WHERE id = :'v1'",
                e["tls"]) == [["t"]]


def test_bad_pem_is_tls_invalid(server, admin, engines, pems):
    cases = [
        ({"tls_ca": "garbage", "tls_cert": pems["cert"], "tls_key": pems["key"]}, "tls_ca"),
        ({"tls_ca": pems["ca"], "tls_cert": "-----BEGIN CERTIFICATE-----\nAAAA\n"
          "-----END CERTIFICATE-----\n", "tls_key": pems["key"]}, "tls_cert"),
        ({"tls_ca": pems["ca"], "tls_cert": pems["cert"], "tls_key": "not a key"}, "tls_key"),
        # a key of another certificate
        ({"tls_ca": pems["ca"], "tls_cert": pems["cert"], "tls_key": pems["other_key"]},
         "does not belong"),
        # not all three
        ({"tls_ca": pems["ca"], "tls_cert": pems["cert"]}, "go together"),
    ]
    for tls, said in cases:
        r = call(server, admin, "admin/platform/create",
                 {"name": "t-tls-bad", "kind": "docker", "endpoint": ENDPOINT, **tls})
        assert error_reason(r) == "TLS_INVALID", (said, r)
        assert said in r["error"]["message"], (said, r)
    assert not psql("SELECT id FROM platforms WHERE name = 't-tls-bad'")
    # on update too, and the row keeps its material
    r = call(server, admin, "admin/platform/update",
             {"id": engines["tls"], "tls_ca": pems["ca"], "tls_cert": pems["cert"],
              "tls_key": pems["other_key"]})
    assert error_reason(r) == "TLS_INVALID", r


def test_the_key_is_sealed_and_never_answered(server, admin, engines, pems):
    """Not in create's or list's answer (tls_key_set says it is there), not
    in the audit log, not in the server's log; stored sealed (no PEM text in
    the column), and an update with new PEMs seals it again (a new nonce)."""
    e = engines
    # the key's own bytes: past the ASN.1 header every P-256 key shares
    body = "".join(pems["key"].strip().splitlines()[1:-1])[40:100]

    def no_key(text):
        bad = [line[:300] for line in text.splitlines()
               if body[:30] in line or body[-30:] in line or "tls_key_enc" in line
               or "tls_key_nonce" in line]
        assert not bad, bad
    made = e["made"]
    no_key(str(made))
    assert result_of(made)["tls_key_set"] is True and "tls_key" not in result_of(made)
    listed = call(server, admin, "admin/platform/list", {})
    no_key(str(listed))
    mine = [p for p in result_of(listed)["platforms"] if p["id"] == e["tls"]][0]
    assert mine["tls_key_set"] is True and mine["tls_ca"] == pems["ca"]
    others = [p for p in result_of(listed)["platforms"] if p["id"] == e["local"]][0]
    assert others["tls_key_set"] is False and others["tls_ca"] is None
    nonce0 = psql("SELECT encode(tls_key_nonce, 'hex') FROM platforms WHERE id = :'v1'",
                  e["tls"])[0][0]
    stored = psql("SELECT encode(tls_key_enc, 'escape') FROM platforms"
                  " WHERE id = :'v1'", e["tls"])[0][0]
    assert "PRIVATE KEY" not in stored and body[:20] not in stored, stored
    upd = call(server, admin, "admin/platform/update",
               {"id": e["tls"], "tls_ca": pems["ca"], "tls_cert": pems["cert"],
                "tls_key": pems["key"]})
    no_key(str(upd))
    assert result_of(upd)["tls_key_set"] is True
    assert psql("SELECT encode(tls_key_nonce, 'hex') FROM platforms WHERE id = :'v1'",
                e["tls"])[0][0] != nonce0
    audit = "\n".join(r[0] for r in psql(
        "SELECT detail::text FROM audit_log WHERE action LIKE 'platform.%'"))
    assert "tls_key" in audit  # that it changed is recorded...
    no_key(audit.replace('"tls_key": true', ""))  # ...not what it is
    no_key(server.log_text())
    # nor any other key sent in this module (test_bad_pem's): no PKCS#8 P-256 key at all
    assert "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0w" not in server.log_text()
    # still up with the key sealed again
    assert wait_until(lambda: row(e["tls"])[0] == "true", timeout=DEADLINE_S), row(e["tls"])
