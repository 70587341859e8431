"""Fixtures for the integration tests: real run-it server processes on free
loopback ports, against the real PostgreSQL cluster that scripts/test
started (RUNIT_TEST_DATABASE_URL), and runtimes on the real Docker engine.
The helpers behind them (Server, Client, signed_in, psql, User...) are in
harness.py; they are imported here too, so `from conftest import X` keeps
working."""
import os
import sys

import pytest

# harness.py sits next to this file; tests/attack imports this file under
# other names (integration.conftest), from where harness is not on the path
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# the names test files imported from here before harness.py held them (and
# `from conftest import *` in tests/attack re-exports them with the fixtures)
from harness import (BIN, DB_URL, DEADLINE_S, GENEROUS_AUTH_LIMITS, ROOT,  # noqa: E402,F401
                     RUN_DEADLINE_S, TEST_PASSWORD, Client, Server, add_admin, add_shell_runtime,
                     connect, connect_tracked, free_port, http_get, logged_in, psql, run,
                     run_closing, seed_runtimes, signed_in, unique_name)
import harness  # noqa: E402


@pytest.fixture(scope="session")
def db_url():
    if not DB_URL:
        pytest.fail("RUNIT_TEST_DATABASE_URL is not set: run the tests through scripts/test")
    return DB_URL


@pytest.fixture(scope="module")
def server(tmp_path_factory, db_url):
    """One server for the whole test module, with generous per-address
    sign-up and login limits (harness.GENEROUS_AUTH_LIMITS)."""
    s = Server(tmp_path_factory.mktemp("srv")).start()
    yield s
    s.stop()


@pytest.fixture
def make_server(tmp_path, db_url):
    """make_server(RUNIT_...=value, ...) -> a Server not yet started, with
    these settings over the defaults; stopped at the end of the test if it
    still runs."""
    started = []

    def make(**env):
        s = Server(tmp_path, **env)
        started.append(s)
        return s
    yield make
    # every server of the test: stopped (SIGTERM) if it still runs, checked
    # for sanitizer reports and a crash if it exited by itself; the test fails
    # (after all are stopped) if any was not well
    failed = []
    for s in started:
        if not s.proc:
            continue
        _, problems = s.terminate()
        if problems:
            failed.append(s.describe(problems))
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)


@pytest.fixture(scope="session")
def seeded(db_url):
    """The runtimes of images/recipes.json and the default platform, as
    `run-it seed` makes them (scripts/test seeds too; seeding is idempotent)."""
    return seed_runtimes()


@pytest.fixture(scope="session")
def shell_runtime(db_url):
    """The code of a small runtime that runs main.sh in runit/shell."""
    return add_shell_runtime("t-sh")


# ---- the session's sanitizer summary. tests/attack/conftest.py re-exports
# this file's names: these hooks may be registered twice, and run once.

def _sanitizer_findings():
    """Every server of the session not checked well (stopping, then checking,
    those still running) and every report file in harness.SANITIZER_DIR."""
    findings, reported = [], set()
    for s in harness.started_servers:
        if s.proc is None:
            continue
        was_running, problems = s.terminate()
        if was_running:
            problems = ["still running at the end of the session"] + problems
        if problems:
            findings.append(s.describe(problems))
            reported.add(f"{s.report_prefix}.{s.proc.pid}")
    for path in harness.sanitizer_files():
        if path not in reported:
            findings.append(f"sanitizer report {path}:\n{harness.read_text(path, 4000)}")
    return findings


def pytest_sessionfinish(session, exitstatus):
    if getattr(harness, "summary_done", False):
        return
    harness.summary_done = True
    harness.summary = _sanitizer_findings()
    if harness.summary:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        try:
            os.rmdir(harness.SANITIZER_DIR)  # nothing in it
        except OSError:
            pass


def pytest_terminal_summary(terminalreporter):
    if getattr(harness, "summary_printed", False) or not hasattr(harness, "summary"):
        return
    harness.summary_printed = True
    tr = terminalreporter
    n = len(harness.started_servers)
    if not harness.summary:
        tr.write_line(f"sanitizers: {n} servers checked at exit, no report "
                      f"(LeakSanitizer on)")
        return
    tr.section("sanitizer reports and servers that did not exit well", red=True)
    for f in harness.summary:
        tr.write_line(f[:6000])
        tr.write_line("")
    tr.write_line(f"sanitizers: {len(harness.summary)} findings over {n} servers; "
                  f"the reports are in {harness.SANITIZER_DIR}", red=True)
