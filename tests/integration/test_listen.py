"""A server that cannot listen says so and exits, instead of running deaf,
and frees what it started on the way out (LeakSanitizer on)."""
import json
import socket
import subprocess

from conftest import BIN, DB_URL
from harness import SANITIZER_REPORTS, sanitizer_env


def test_a_taken_port_stops_the_server_with_one_json_line(tmp_path, db_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"RUNIT_LISTEN": f"127.0.0.1:{port}", "RUNIT_DATABASE_URL": DB_URL,
               "RUNIT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
               "RUNIT_INSTANCE": f"test-taken-{port}"}
        env.update(sanitizer_env({}))  # leak detection on, reports on stderr
        r = subprocess.run([BIN, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    for report in SANITIZER_REPORTS:
        assert report not in r.stderr, r.stderr
    lines = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    assert any(x["msg"].startswith("cannot listen") and x.get("port") == port for x in lines), r.stderr
