"""The server that scripts/start started, tried as a newcomer would: the
admin account it printed logs in, and every seeded runtime's template hello
world, then a two-file Go project, run through it. scripts/test runs this
(suite "smoke") when such a server answers, so ../shared/tools/fresh-debian
(scripts/start --detach, then scripts/test) checks a fresh machine's first
runs; alone:

    /usr/bin/python3 tests/smoke/started_server.py [URL] [CREDENTIALS_FILE]

URL defaults to http://127.0.0.1:8080, the credentials to var/admin-credentials.
Exit status 0 when every run printed what it should."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import User, logged_in, result_of, run  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GO_FILES = {
    "go.mod": "module hello\n\ngo 1.19\n",
    "main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println(greet("Go"), add(40, 2))\n}\n',
    "util.go": 'package main\n\nfunc greet(who string) string { return "hello, " + who }\n\n'
               "func add(a, b int) int { return a + b }\n",
}


class Started:
    def __init__(self, url):
        self.ws_url = url.replace("http://", "ws://").rstrip("/") + "/ws"


def credentials(path):
    kv = dict(line.split(": ", 1) for line in open(path).read().splitlines() if ": " in line)
    return kv["username"], kv["password"]


async def main(url, creds):
    name, password = credentials(creds)
    c = await logged_in(Started(url), name, password)
    u = User(c, name, c.user["id"])
    listed = result_of(await c.call("runtime/list"))
    failures = []
    for rt in listed:
        if not rt.get("available", True):
            failures.append(f"{rt['code']}: offered as unavailable ({rt.get('message')})")
            continue
        res = result_of(await c.call("project/create", {"name": f"smoke {rt['code']}",
                                                        "runtime": rt["code"]}))
        pid = res["project"]["id"] if isinstance(res.get("project"), dict) else res["id"]
        out = await u.wait_exit(await u.start(pid), timeout=120)
        ok = out.exit.get("exit_code") == 0 and out.text().strip() == "Hello, world!"
        print(f"  {rt['code']:<22} {'ok' if ok else 'FAILED'}: {out.text().strip()!r}"
              f" ({out.exit.get('reason')})", flush=True)
        if not ok:
            failures.append(f"{rt['code']}: {out.exit} {out.text()!r} {out.text('stderr')!r}")
        result_of(await c.call("project/delete", {"id": pid}))
    _, _, out = await u.run_code("go-1.19", GO_FILES, timeout=120)
    ok = out.text() == "hello, Go 42\n"
    print(f"  {'two-file Go project':<22} {'ok' if ok else 'FAILED'}: {out.text().strip()!r}")
    if not ok:
        failures.append(f"two-file Go: {out.exit} {out.text()!r} {out.text('stderr')!r}")
    if len(listed) < 7:
        failures.append(f"only {len(listed)} runtimes offered: {[r['code'] for r in listed]}")
    return failures


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
    creds = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "var", "admin-credentials")
    failures = run(main(url, creds))
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    sys.exit(1 if failures else 0)
