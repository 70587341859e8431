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
    for s in started:
        if s.proc and s.proc.poll() is None:
            s.stop()


@pytest.fixture(scope="session")
def seeded(db_url):
    """The runtimes of images/recipes.json and the default platform, as
    `run-it seed` makes them (scripts/test seeds too; seeding is idempotent)."""
    return seed_runtimes()


@pytest.fixture(scope="session")
def shell_runtime(db_url):
    """The code of a small runtime that runs main.sh in runit/shell."""
    return add_shell_runtime("t-sh")
