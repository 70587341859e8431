"""Smaller truths about a run's row (issue "Hostile users at the same time"):
after the server is killed during a run with output, the next process of
the instance ends the run with reason error and its row agrees with its
stored log (last_seq, output_bytes, a stored run/exit); and a run whose
image is missing is refused before it exists (IMAGE_MISSING), with a
message of ours, not the engine's."""
import json
import uuid

from conftest import connect, run
from test_containers import ROOMY, poll, shell, until_output  # noqa: F401 (fixture)
from test_runs import User, docker, make_runtime, sql

MISSING_IMAGE = "runit/does-not-exist:latest"
# output on both streams, with characters of more than one byte, then it waits
CHATTY = ("i=0; while [ $i -lt 300 ]; do echo \"line $i\"; echo \"é $i\" >&2; i=$((i+1)); done\n"
          "echo END; sleep 100\n")
PRINTED = sum(len(f"line {i}\n") + len(f"é {i}\n".encode()) for i in range(300)) + len("END\n")


def test_after_a_crash_the_row_agrees_with_its_stored_log(make_server, shell, db_url):
    instance = "crash-" + uuid.uuid4().hex[:8]
    first = make_server(RUNIT_INSTANCE=instance, **ROOMY).start()

    async def go():
        u = await User.new(first)
        pid = await u.project(shell, {"main.sh": CHATTY})
        rid = await u.start(pid)
        await until_output(u, rid, "END")
        return u.name, rid
    name, rid = run(go())
    # output is stored as it comes: wait until all of it is, then kill
    assert poll(lambda: sql(db_url, "SELECT coalesce(sum(octet_length(data)), 0) FROM run_logs"
                            " WHERE run_id = :'v1' AND stream IN ('stdout', 'stderr')", rid)
                == str(PRINTED), 30)
    first.kill()
    second = make_server(RUNIT_INSTANCE=instance, **ROOMY).start()
    try:
        assert poll(lambda: sql(db_url, "SELECT state FROM runs WHERE id = :'v1'", rid)
                    == "finished", 30)
        row = sql(db_url, "SELECT reason, exit_code IS NULL, last_seq, output_bytes"
                  " FROM runs WHERE id = :'v1'", rid).split("|")
        stored = sql(db_url, "SELECT max(seq), coalesce(sum(octet_length(data)) FILTER"
                     " (WHERE stream IN ('stdout', 'stderr')), 0) FROM run_logs"
                     " WHERE run_id = :'v1'", rid).split("|")
        last = sql(db_url, "SELECT stream || ' ' || data FROM run_logs"
                   " WHERE run_id = :'v1' ORDER BY seq DESC LIMIT 1", rid).split(" ", 1)

        async def read():  # as the run's user reads it
            c = await connect(second.ws_url)
            assert "result" in await c.call("auth/login", {"username": name,
                                                           "password": "password123"})
            return (await c.call("run/logs", {"run": rid, "from": 1, "limit": 5000}),
                    await c.call("run/get", {"run": rid}))
        logs, got = run(read())
    finally:
        second.stop()
    assert row[:2] == ["error", "t"], row
    assert row[2] == stored[0], (row, stored)  # last_seq: the last stored event
    assert row[3] == stored[1], (row, stored)  # output_bytes: the stored output
    assert int(row[3]) == PRINTED, row
    assert last[0] == "meta", last  # a stored run/exit closes the log
    assert {k: json.loads(last[1])[k] for k in ("reason", "exit_code", "seq")} == {
        "reason": "error", "exit_code": None, "seq": int(row[2])}, last
    end = logs["result"]["chunks"][-1]
    assert end["stream"] == "meta" and end["seq"] == int(row[2]), end
    assert json.loads(end["data"])["reason"] == "error"
    assert got["result"]["last_seq"] == int(row[2]) and got["result"]["exit_code"] is None
    assert got["result"]["output_bytes"] == PRINTED


def test_a_run_whose_image_is_missing_is_refused_with_our_words(make_server, shell, db_url):
    assert docker("image", "inspect", MISSING_IMAGE).returncode != 0, "the image must not exist"
    code = make_runtime(db_url, "t-missing-image", MISSING_IMAGE, ["sh", "main.sh"],
                        image_needed=False)
    srv = make_server(**ROOMY).start()

    async def go():
        u = await User.new(srv)
        pid = await u.project(code, {"main.sh": "echo hi\n"})
        return pid, await u.c.call("run/start", {"project": pid})
    pid, r = run(go())
    err = r["error"]
    msg = err["message"]
    assert err["data"] == {"reason": "IMAGE_MISSING", "image": MISSING_IMAGE,
                           "runtime": code}, err
    assert MISSING_IMAGE in msg and "not installed on the container platform" in msg, msg
    assert "No such image" not in msg, msg  # the engine's words stay in the log
    # refused before the run existed: no row, nothing to clean up
    assert sql(db_url, "SELECT count(*) FROM runs WHERE project_id = :'v1'", pid) == "0"
