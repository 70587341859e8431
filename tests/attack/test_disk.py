"""A run cannot fill the host's disk (issue "Hostile users at the same
time"). /workspace and /tmp are RAM filesystems capped in bytes and in files
(the runtime's disk_bytes and disk_inodes, or the default_disk_* settings):
a program that tries to write 3 GiB, in files each under the 64 MiB file
limit, and then as many empty files as it can, gets ENOSPC at the caps, and
the free space of Docker's data root moves by no more than the caps. The
files count against the run's memory: past it the run ends with reason oom."""
import asyncio
import json
import subprocess
import time

import pytest

from conftest import add_admin, logged_in, run
from test_runs import SHELL_IMAGE, User, image_present, make_runtime, sql

ROOMY = {"RUNIT_SIGNUP_ADDR_MAX": 1000000, "RUNIT_LOGIN_ADDR_MAX": 1000000}
MIB = 1 << 20
CAP_BYTES = 32 * MIB  # of each of /workspace and /tmp
CAP_INODES = 1000
# Other engineers share this machine and its disk: what they write while the
# test runs moves the free space too. The program tries to write 3 GiB per
# folder; this margin is far below that.
MARGIN = 256 * MIB

# Fill a folder: up to 48 files of 63 MiB (3 GiB), then empty files until the
# folder takes no more (they need no bytes, only inodes). Says where it stopped.
FILL = r"""
fill() {
  i=0
  while [ $i -lt 48 ]; do
    if ! err=$(dd if=/dev/zero of="$1/big$i" bs=1048576 count=63 2>&1); then
      echo "BYTES $1 $i $(echo "$err" | head -n 1)"; break
    fi
    i=$((i+1))
  done
  [ $i -lt 48 ] || echo "BYTES $1 $i no error"
  n=0
  while [ $n -lt 200000 ]; do
    if ! err=$( { true > "$1/s$n"; } 2>&1 ); then
      echo "INODES $1 $n $err"; break
    fi
    n=$((n+1))
  done
}
fill /workspace
fill /tmp
df -k /workspace /tmp | tail -n 2 | awk '{print "DFK", $6, $2, $3}'
df -i /workspace /tmp | tail -n 2 | awk '{print "DFI", $6, $2, $3}'
echo READY
sleep 120
"""


def docker_root():
    r = subprocess.run(["docker", "info", "--format", "{{.DockerRootDir}}"],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def host_free(path):
    """Free bytes of the filesystem of path, as df says."""
    r = subprocess.run(["df", "-B1", "--output=avail", path], capture_output=True, text=True,
                       check=True)
    return int(r.stdout.split()[-1])


def set_disk(db_url, code, disk_bytes, disk_inodes):
    sql(db_url, "UPDATE runtimes SET disk_bytes = nullif(:'v2', '')::bigint,"
        " disk_inodes = nullif(:'v3', '')::integer WHERE code = :'v1'",
        code, "" if disk_bytes is None else disk_bytes,
        "" if disk_inodes is None else disk_inodes)
    return code


@pytest.fixture(scope="module")
def srv(tmp_path_factory, db_url):
    from conftest import Server
    if not image_present(SHELL_IMAGE):
        pytest.fail(f"{SHELL_IMAGE} is missing: scripts/test builds it with images/build")
    sql(db_url, "INSERT INTO platforms (name, kind, endpoint, is_default) SELECT 'local-docker',"
        " 'docker', 'unix:///var/run/docker.sock', true WHERE NOT EXISTS (SELECT 1 FROM platforms)")
    s = Server(tmp_path_factory.mktemp("disk"), **ROOMY).start()
    yield s
    s.stop()


async def read_until(u, rid, marker, seconds=120):
    """The run's stdout until a line that starts with marker (or its exit)."""
    out, deadline = "", time.monotonic() + seconds
    while marker not in out:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {seconds} s: {out[-2000:]}"
        m = json.loads(await asyncio.wait_for(u.c.ws.recv(), left))
        p = m.get("params", {})
        if p.get("run") != rid:
            continue
        if m.get("method") == "run/log":
            out += p["data"]
        elif m.get("method") == "run/exit":
            raise AssertionError(f"the run ended first: {p} {out[-2000:]}")
    return out


def lines_of(out, word):
    return [line.split(" ", 3)[1:] for line in out.splitlines() if line.startswith(word + " ")]


def test_three_gib_of_writes_end_at_the_caps_and_spare_the_host_disk(srv, db_url):
    code = set_disk(db_url, make_runtime(db_url, "t-sh-disk", SHELL_IMAGE, ["sh", "main.sh"],
                                         wall_ms=300000, memory_bytes=512 * MIB),
                    CAP_BYTES, CAP_INODES)
    root = docker_root()

    async def go():
        u = await User.new(srv)
        pid = await u.project(code, {"main.sh": FILL})
        before = host_free(root)
        rid = await u.start(pid)
        out = await read_until(u, rid, "READY")
        during = host_free(root)  # everything written is still there
        await u.c.call("run/stop", {"run": rid})
        done = await u.wait_exit(rid, timeout=60)
        return before, during, out, done
    before, during, out, done = run(go())
    print(f"host free space of {root}: {before} -> {during} bytes "
          f"({(before - during) / MIB:+.1f} MiB used); program said:\n{out}")
    byte_stops = {d: (int(n), why) for d, n, why in lines_of(out, "BYTES")}
    inode_stops = {d: (int(n), why) for d, n, why in lines_of(out, "INODES")}
    dfk = {d: (int(size), int(used)) for d, size, used in lines_of(out, "DFK")}
    dfi = {d: (int(size), int(used)) for d, size, used in lines_of(out, "DFI")}
    for d in ("/workspace", "/tmp"):
        n, why = byte_stops[d]
        assert "No space left on device" in why, out
        assert n <= CAP_BYTES // (63 * MIB), out  # not one 63 MiB file more than fits
        n, why = inode_stops[d]
        assert "No space left on device" in why, out
        assert 0 < n <= CAP_INODES, out
        assert dfk[d][0] == CAP_BYTES // 1024 and dfk[d][1] <= CAP_BYTES // 1024, out
        assert dfi[d][0] == CAP_INODES, out
    assert before - during <= 2 * CAP_BYTES + MARGIN, (before, during)
    assert done.exit["reason"] == "stopped"


def test_files_count_against_the_memory_limit(srv, db_url):
    # a disk cap above the memory limit: the memory limit ends it
    code = set_disk(db_url, make_runtime(db_url, "t-sh-disk-mem", SHELL_IMAGE, ["sh", "main.sh"],
                                         wall_ms=120000, memory_bytes=64 * MIB),
                    256 * MIB, None)

    async def go():
        u = await User.new(srv)
        return await u.run_code(code, {"main.sh": "dd if=/dev/zero of=/workspace/f bs=1048576 "
                                                  "count=200 2>&1 | tail -n 1\nsleep 1\n"},
                                timeout=120)
    _, _, out = run(go())
    assert out.exit["reason"] == "oom", (out.exit, out.text())


def test_admins_set_the_caps_per_runtime_and_by_default(srv, db_url):
    code = set_disk(db_url, make_runtime(db_url, "t-sh-disk-admin", SHELL_IMAGE,
                                         ["sh", "main.sh"]), None, None)
    probe = {"main.sh": "df -k /workspace /tmp | tail -n 2 | awk '{print $2}' | tr '\\n' ' '\n"
                        "df -i /workspace /tmp | tail -n 2 | awk '{print $2}' | tr '\\n' ' '\n"}
    admin = add_admin()
    old = sql(db_url, "SELECT value::text FROM settings WHERE key = 'default_disk_bytes'"), \
        sql(db_url, "SELECT value::text FROM settings WHERE key = 'default_disk_inodes'")

    async def go():
        a = await logged_in(srv, admin)
        u = await User.new(srv)
        pid = await u.project(code, probe)
        bad = [await a.call("admin/runtime/update", {"code": code, "disk_bytes": 1000}),
               await a.call("admin/runtime/update", {"code": code, "disk_inodes": 10}),
               await a.call("admin/settings/set", {"default_disk_bytes": 1 << 40}),
               await a.call("admin/settings/set", {"default_disk_inodes": "many"})]
        own = await a.call("admin/runtime/update", {"code": code, "disk_bytes": 8 * MIB,
                                                      "disk_inodes": 300})
        first = await u.wait_exit(await u.start(pid))
        await a.call("admin/runtime/update", {"code": code, "disk_bytes": None,
                                                "disk_inodes": None})
        try:
            st = await a.call("admin/settings/set", {"default_disk_bytes": 12 * MIB,
                                                       "default_disk_inodes": 500})
            second = await u.wait_exit(await u.start(pid))
        finally:
            await a.call("admin/settings/set", {"default_disk_bytes": int(old[0]),
                                                  "default_disk_inodes": int(old[1])})
        return bad, own, first, st, second
    bad, own, first, st, second = run(go())
    assert [b["error"]["data"]["reason"] for b in bad] == ["INVALID_PARAMS"] * 4, bad
    assert own["result"]["disk_bytes"] == 8 * MIB and own["result"]["disk_inodes"] == 300
    assert first.text().split() == ["8192", "8192", "300", "300"], first.events
    assert st["result"]["settings"]["default_disk_bytes"] == 12 * MIB
    assert second.text().split() == ["12288", "12288", "500", "500"], second.events
