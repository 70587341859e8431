"""Live co-editing (collab/*, issue 14): random concurrent edits by two and
then ten clients, half of them on a second server instance, converge to the
text the database holds; a client that was away catches up from its
version (or gets the whole text when too far behind); file/save and other
writers share the version sequence; a viewer's push is FORBIDDEN and a
member removed mid-session stops getting updates at once.

The test clients keep the confirmed text only: each pushes one random edit
(inserts, deletes, replacements, with astral characters, which JavaScript
and the ChangeSets count as two UTF-16 units) on the version it has, and
after a CONFLICT waits for the updates it lacks before it edits again.
ChangeSets are applied here by an implementation of their own (UTF-16 code
units of Python strings), independent of the server's C applier."""
import asyncio
import os
import random
import re
import time

from harness import User, error_reason, http_get, logged_in, psql, result_of, run

# how long the random edits go on: the 30 s of concurrent edits per test
EDIT_S = float(os.environ.get("RUNIT_COLLAB_EDIT_S", "30"))
ROOMY = {"RUNIT_SIGNUP_ADDR_MAX": 1000000, "RUNIT_LOGIN_ADDR_MAX": 1000000}
PIECES = ["a", "b", "xyz", "\n", "é", "€", "😀", "🎉x", "  ", "\U0001F9EA\n"]


# ------------------------------------------------------ UTF-16 ChangeSets

def u16(s):
    return len(s.encode("utf-16-le")) // 2


def apply_changes(doc, changes):
    """doc with the ChangeSet JSON applied, counting UTF-16 units."""
    units = doc.encode("utf-16-le")
    out, at = [], 0
    for part in changes:
        if isinstance(part, int):
            out.append(units[2 * at:2 * (at + part)])
            at += part
        else:
            at += part[0]
            if len(part) > 1:
                out.append("\n".join(part[1:]).encode("utf-16-le"))
    assert at * 2 == len(units), f"ChangeSet of length {at} on a text of {len(units) // 2}"
    return b"".join(out).decode("utf-16-le")


def random_edit(rng, doc):
    """A ChangeSet for one random insertion, deletion or replacement in doc,
    at character boundaries (never inside a surrogate pair)."""
    n = len(doc)
    a = rng.randint(0, n)
    b = min(n, a + rng.choice([0, 0, 1, 2, 5]))
    ins = "".join(rng.choice(PIECES) for _ in range(rng.choice([0, 1, 1, 2, 3])))
    if a == b and not ins:
        ins = rng.choice(PIECES)
    if len(doc) > 3000:  # keep the text small: delete more than is typed
        b, ins = min(n, a + 40), ""
    fa, fb, total = u16(doc[:a]), u16(doc[:b]), u16(doc)
    changes = []
    if fa:
        changes.append(fa)
    changes.append([fb - fa] + ins.split("\n") if ins else [fb - fa])
    if total - fb:
        changes.append(total - fb)
    return changes


# ------------------------------------------------------------ a client

class Editor:
    """One co-editing client on a User's socket: the confirmed text and
    version, updated from collab/update notifications in order."""

    def __init__(self, user, pid, path, seed):
        self.u, self.pid, self.path = user, pid, path
        self.rng = random.Random(seed)
        self.client = f"py-{seed}"
        self.file = self.version = None
        self.doc = ""
        self.pushed = self.accepted = self.conflicts = self.limited = self.pulled = 0

    async def join(self, have=None):
        p = {"project": self.pid, "path": self.path}
        if have is not None:
            p["version"] = have
        res = result_of(await self.u.c.call("collab/join", p))
        self.file = res["file"]
        if "content" in res:
            self.doc, self.version = res["content"], res["version"]
        else:
            self.apply_all(res["updates"])
            assert self.version == res["version"], (self.version, res["version"])
        return res

    def apply_all(self, updates):
        for up in updates:
            self.apply(up)

    def apply(self, up):
        if up.get("reset"):
            self.doc, self.version = up["content"], up["version"]
            return
        if up["version"] <= self.version:
            return
        assert up["version"] == self.version + 1, f"gap: at {self.version}, got {up['version']}"
        self.doc = apply_changes(self.doc, up["changes"])
        self.version = up["version"]

    async def absorb(self):
        """Apply the collab/update notifications that have arrived; pull
        when one is missing."""
        notes = [n for n in self.u.c.notes if n.get("method") == "collab/update"
                 and n["params"].get("file") == self.file]
        self.u.c.notes = [n for n in self.u.c.notes if n not in notes]
        for n in notes:
            up = n["params"]
            if not up.get("reset") and up["version"] > self.version + 1:
                self.pulled += 1
                res = result_of(await self.u.c.call("collab/pull", {"file": self.file,
                                                                    "version": self.version}))
                if "content" in res:
                    self.doc, self.version = res["content"], res["version"]
                else:
                    self.apply_all(res["updates"])
            self.apply(up)

    async def read_a_while(self, seconds):
        try:
            self.u.c.notes.append(await self.u.c.receive(seconds))
        except asyncio.TimeoutError:
            pass

    async def edit_for(self, seconds, pause=(0.1, 0.6)):
        """Push random edits until seconds have passed."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await self.absorb()
            changes = random_edit(self.rng, self.doc)
            r = await self.u.c.call("collab/push", {"file": self.file, "version": self.version,
                                                    "client": self.client, "changes": changes})
            self.pushed += 1
            if "result" in r:
                self.accepted += 1
            elif error_reason(r) == "RATE_LIMITED":  # faster than the limit: slow down
                self.limited += 1
                await self.read_a_while(1 / r["error"]["data"]["per_second"] * 4)
                continue
            else:
                assert error_reason(r) == "CONFLICT", r
                self.conflicts += 1
                await self.settle(r["error"]["data"]["version"])
            await self.read_a_while(self.rng.uniform(*pause))

    async def settle(self, version, timeout=20):
        """Read until the confirmed version is version."""
        end = time.monotonic() + timeout
        while True:
            await self.absorb()
            if self.version >= version:
                return
            assert time.monotonic() < end, f"{self.client} stuck at {self.version} of {version}"
            await self.read_a_while(0.2)


def db_file(pid, path):
    (v, hexed), = psql("SELECT version, encode(convert_to(content, 'UTF8'), 'hex') FROM files "
                       f"WHERE project_id = {int(pid)} AND path = '{path}'")
    return int(v), bytes.fromhex(hexed).decode("utf-8")


async def team(servers, n, shell_runtime, text="hello\nworld\n"):
    """n editors of one new project (the owner first), spread over servers,
    each with the project open and the file joined."""
    owner = await User.new(servers[0])
    pid = await owner.project(shell_runtime, {"main.sh": text})
    users = [owner]
    for i in range(1, n):
        u = await User.new(servers[i % len(servers)])
        result_of(await owner.c.call("project/share", {"id": pid, "username": u.name,
                                                       "role": "editor"}))
        users.append(u)
    eds = []
    for i, u in enumerate(users):
        result_of(await u.c.call("project/open", {"id": pid}))
        ed = Editor(u, pid, "main.sh", seed=1000 * n + i)
        await ed.join()
        eds.append(ed)
    return pid, eds


async def converge(pid, eds):
    """Every editor reaches the database's version; their texts and the
    database's are one."""
    v, content = db_file(pid, "main.sh")
    await asyncio.gather(*(ed.settle(v) for ed in eds))
    v2, content2 = db_file(pid, "main.sh")
    assert (v2, content2) == (v, content), "edits after the end"
    for ed in eds:
        assert ed.version == v, (ed.client, ed.version, v)
        assert ed.doc == content, (ed.client, ed.doc[:200], content[:200])
    return v, content


def random_edits(make_server, shell_runtime, n):
    a = make_server(**ROOMY).start()
    b = make_server(**ROOMY).start()

    async def go():
        pid, eds = await team([a, b], n, shell_runtime)
        start_v = eds[0].version
        pause = (0, 0.04) if n == 2 else (0.1, 0.6)
        await asyncio.gather(*(ed.edit_for(EDIT_S, pause) for ed in eds))
        v, content = await converge(pid, eds)
        return eds, start_v, v, content
    eds, start_v, v, content = run(go())
    accepted = sum(ed.accepted for ed in eds)
    assert v - start_v == accepted, (v, start_v, accepted)  # no edit applied twice or lost
    stats = [(ed.client, ed.accepted, ed.conflicts) for ed in eds]
    # clients on both instances got edits in (the even ones are on the first)
    assert sum(ed.accepted for ed in eds[0::2]) > 0 and sum(ed.accepted for ed in eds[1::2]) > 0
    assert all(ed.accepted > 0 for ed in eds), stats  # nobody starved
    assert sum(ed.conflicts for ed in eds) > 0  # they really edited at the same time
    print(f"{n} clients: {accepted} edits accepted, {sum(ed.conflicts for ed in eds)} "
          f"refused and made again, {sum(ed.limited for ed in eds)} rate-limited and slowed "
          f"down, final text {len(content)} characters; {stats}")


def test_two_clients_on_two_instances_converge(make_server, shell_runtime):
    random_edits(make_server, shell_runtime, 2)


def test_ten_clients_on_two_instances_converge(make_server, shell_runtime):
    random_edits(make_server, shell_runtime, 10)


def test_client_away_catches_up_from_its_version(server, shell_runtime):
    async def go():
        pid, (a, b) = await team([server], 2, shell_runtime)
        await a.edit_for(0.5)
        away_at, away_doc = b.version, None
        await b.settle(a.version)
        away_at, away_doc = b.version, b.doc
        await b.u.c.ws.close()
        a.rng.seed(7)
        await a.edit_for(1.5)
        # back on a new socket, from the version it had
        c = await logged_in(server, b.u.name, User.PASSWORD)
        back = Editor(User(c, b.u.name, b.u.uid), pid, "main.sh", seed=99)
        result_of(await c.call("project/open", {"id": pid}))
        back.doc, back.version = away_doc, away_at
        res = await back.join(have=away_at)
        missed = len(res.get("updates", []))
        v, content = await converge(pid, [a, back])
        # too far behind: more versions than the server remembers (other writers' too)
        psql("DO $$ BEGIN FOR i IN 1..300 LOOP UPDATE files SET content = content || 'z', "
             f"version = version + 1 WHERE project_id = {int(pid)} AND path = 'main.sh'; "
             "END LOOP; END $$")
        v2, content2 = db_file(pid, "main.sh")
        await a.settle(v2)
        late = Editor(User(c, b.u.name, b.u.uid), pid, "main.sh", seed=98)
        late.doc, late.version = content, v
        res2 = await late.join(have=v)
        return missed, away_at, v, res2, content2, a
    missed, away_at, v, res2, content2, a = run(go())
    assert missed == v - away_at > 0
    assert "content" in res2 and "updates" not in res2
    assert res2["content"] == content2 and a.doc == content2


def test_file_save_and_live_edits_share_one_version_sequence(server, shell_runtime):
    async def go():
        pid, (a, b) = await team([server], 2, shell_runtime, text="one\n")
        v0 = a.version
        saved = result_of(await b.u.c.call("file/save", {"project": pid, "path": "main.sh",
                                                         "content": "two 😀\n",
                                                         "base_version": v0}))
        await a.settle(saved["version"])
        after_save = a.doc
        stale = await a.u.c.call("collab/push", {"file": a.file, "version": v0,
                                                 "client": a.client, "changes": [[4, "x"]]})
        ok = await a.u.c.call("collab/push", {"file": a.file, "version": a.version,
                                              "client": a.client,
                                              "changes": [6, [0, "!"], 1]})
        await b.settle(ok["result"]["version"])
        await a.settle(ok["result"]["version"])
        late_save = await b.u.c.call("file/save", {"project": pid, "path": "main.sh",
                                                   "content": "three\n", "base_version": v0})
        return v0, saved, after_save, stale, ok, a, b, late_save, db_file(pid, "main.sh")
    v0, saved, after_save, stale, ok, a, b, late_save, db = run(go())
    assert saved["version"] == v0 + 1 and after_save == "two 😀\n"
    assert error_reason(stale) == "CONFLICT" and stale["error"]["data"]["version"] == v0 + 1
    assert result_of(ok)["version"] == v0 + 2
    assert b.doc == a.doc == "two 😀!\n" == db[1]
    assert error_reason(late_save) == "CONFLICT"


def test_every_file_save_reaches_the_live_editors_of_both_instances(make_server, shell_runtime):
    """file/save is announced after its commit, not inside it (sql/025): each
    of a burst of saves still reaches every live editor, here and on the
    other instance, as its own update, in order (none missed, so none pulled)."""
    a = make_server(**ROOMY).start()
    b = make_server(**ROOMY).start()

    async def go():
        pid, eds = await team([a, b], 3, shell_runtime, text="zero\n")
        saver, v = eds[0].u.c, eds[0].version
        results = []
        for i in range(30):
            res = result_of(await saver.call("file/save", {"project": pid, "path": "main.sh",
                                                          "content": f"save {i} 😀\n",
                                                          "base_version": v}))
            results.append(res)
            v = res["version"]
        await asyncio.gather(*(ed.settle(v) for ed in eds[1:]))
        return v, results, eds, db_file(pid, "main.sh")
    v, results, eds, db = run(go())
    assert db == (v, "save 29 😀\n")
    # the payload the server sends for the save is not part of the answer
    assert all(set(r) == {"path", "version", "size"} for r in results), results[0]
    for ed in eds[1:]:  # one on the saver's instance, one on the other
        assert (ed.version, ed.doc, ed.pulled) == (v, db[1], 0), (ed.client, ed.pulled)


def test_viewer_push_is_forbidden_and_removed_member_stops_at_once(server, shell_runtime):
    async def go():
        owner = await User.new(server)
        viewer, member = await User.new(server), await User.new(server)
        pid = await owner.project(shell_runtime, {"main.sh": "abc\n"})
        result_of(await owner.c.call("project/share", {"id": pid, "username": viewer.name,
                                                       "role": "viewer"}))
        result_of(await owner.c.call("project/share", {"id": pid, "username": member.name,
                                                       "role": "editor"}))
        eds = []
        for i, u in enumerate((owner, viewer, member)):
            result_of(await u.c.call("project/open", {"id": pid}))
            ed = Editor(u, pid, "main.sh", seed=i)
            eds.append((ed, await ed.join()))
        (o, _), (v, vjoin), (m, _) = eds
        refused = await v.u.c.call("collab/push", {"file": v.file, "version": v.version,
                                                   "client": v.client, "changes": [[4, "x"]]})
        first = await o.u.c.call("collab/push", {"file": o.file, "version": o.version,
                                                 "client": o.client, "changes": [4, [0, "d"]]})
        await m.settle(first["result"]["version"])
        await v.settle(first["result"]["version"])
        result_of(await owner.c.call("project/share", {"id": pid, "username": member.name,
                                                       "role": None}))
        m.u.c.notes.clear()
        second = await o.u.c.call("collab/push", {"file": o.file, "version": first["result"]["version"],
                                                  "client": o.client, "changes": [5, [0, "e"]]})
        await v.settle(second["result"]["version"])
        await m.read_a_while(1.0)
        got = [n for n in m.u.c.notes if n.get("method") == "collab/update"]
        lost = [n for n in m.u.c.notes if n.get("method") == "project/changed"]
        after = await m.u.c.call("collab/push", {"file": m.file, "version": m.version,
                                                 "client": m.client, "changes": [5, [0, "f"]]})
        pull = await m.u.c.call("collab/pull", {"file": m.file, "version": 1})
        return vjoin, refused, got, lost, after, pull, v, db_file(pid, "main.sh")
    vjoin, refused, got, lost, after, pull, v, db = run(go())
    assert vjoin["may_edit"] is False
    assert error_reason(refused) == "FORBIDDEN"
    assert got == [], got
    assert [n["params"]["op"] for n in lost] == ["access_lost"]
    assert error_reason(after) == "NOT_FOUND" and error_reason(pull) == "NOT_FOUND"
    assert v.doc == db[1] == "abc\nde"


def test_bad_pushes_get_clear_errors(server, shell_runtime):
    async def go():
        pid, (a,) = await team([server], 1, shell_runtime, text="a😀b")
        c = a.u.c
        base = {"file": a.file, "version": a.version, "client": a.client}
        outs = {
            "short": await c.call("collab/push", {**base, "changes": [3]}),
            "long": await c.call("collab/push", {**base, "changes": [5]}),
            "split": await c.call("collab/push", {**base, "changes": [2, [1], 1]}),
            "not_cs": await c.call("collab/push", {**base, "changes": [{"x": 1}]}),
            "no_file": await c.call("collab/push", {**base, "file": 999999999,
                                                    "changes": [4]}),
            "future": await c.call("collab/push", {**base, "version": a.version + 5,
                                                   "changes": [4]}),
            "not_open": await (await User.new(server)).c.call(
                "collab/join", {"project": pid, "path": "main.sh"}),
            "no_such_path": await c.call("collab/join", {"project": pid, "path": "nope.sh"}),
            "cursor": await c.call("collab/cursor", {"file": a.file, "version": a.version,
                                                     "ranges": [{"anchor": -1, "head": 0}]}),
        }
        big = await c.call("collab/push", {**base, "changes": [4, [0, "x" * 300000]]})
        good = await c.call("collab/push", {**base, "changes": [1, [2, "é"], 1]})
        return outs, big, good, db_file(pid, "main.sh")
    outs, big, good, db = run(go())
    for k in ("short", "long", "split", "not_cs", "cursor"):
        assert error_reason(outs[k]) == "INVALID_PARAMS", (k, outs[k])
    assert "surrogate" in outs["split"]["error"]["message"]
    for k in ("no_file", "not_open", "no_such_path"):
        assert error_reason(outs[k]) == "NOT_FOUND", (k, outs[k])
    assert error_reason(outs["future"]) == "CONFLICT"
    assert error_reason(big) == "TOO_LARGE"
    assert "result" in good and db[1] == "aéb"


def test_checkpoint_keeps_the_text_in_history_and_typing_is_not_every_version(server,
                                                                             shell_runtime):
    async def go():
        pid, (a,) = await team([server], 1, shell_runtime, text="")
        c = a.u.c

        async def type_(s):
            for ch in s:
                result_of(await c.call("collab/push", {"file": a.file, "version": a.version,
                                                       "client": a.client,
                                                       "changes": ([u16(a.doc)] if a.doc else [])
                                                       + [[0, ch]]}))
                await a.settle(a.version + 1)
        await type_("abc")
        kept = result_of(await c.call("collab/checkpoint", {"file": a.file}))
        await type_("de")
        hist = result_of(await c.call("file/history", {"project": pid, "path": "main.sh"}))
        return kept, hist, a
    kept, hist, a = run(go())
    versions = {v["version"]: v for v in hist["versions"]}
    assert kept["version"] == a.version - 2
    assert kept["version"] in versions  # the checkpointed "abc"
    assert a.version - 1 not in versions  # "abcd": one keystroke, not kept
    assert len(hist["versions"]) < a.version


def test_utf16_length_of_a_saved_text_is_javascripts(server):
    """The whole-text ChangeSet a save writes starts with the old text's
    length in UTF-16 code units (024_save_speed.sql counts ASCII without a
    regular expression): as JavaScript's string length, for every kind of text."""
    texts = ["", "plain ascii\n" * 50, "é and ü", "😀", "a😀b\n𝄞 music", "中文 text",
             "mixed é 😀 中\n" * 20]
    for t in texts:
        (n,), = psql("SELECT runit_utf16_len(:'v1')", t)
        assert int(n) == len(t.encode("utf-16-le")) // 2, (t[:20], n)


def test_collab_updates_stay_bounded_whoever_writes(server, shell_runtime):
    """sql/027_collab_bound.sql: every write of a file adds a collab_updates
    row (a save: the whole text), and only live edits used to prune them.
    Saves of a 100 KB text that does not compress, 120 of them: the rows
    stay within 4 x max_file_bytes (plus the ten written between prunes),
    and a live editor still gets every save in order; 1,100 small writes
    keep at most 1,000 rows (plus the hundred between prunes). Before 027
    every row stayed: 120 rows of 100 KB, 1,100 rows."""
    rng = random.Random(27)
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    def rows(fid):
        (n, size), = psql("SELECT count(*), coalesce(sum(pg_column_size(changes)), 0) "
                          f"FROM collab_updates WHERE file_id = {int(fid)}")
        return int(n), int(size)

    async def go():
        pid, (saver, ed) = await team([server], 2, shell_runtime, text="zero\n")
        v = saver.version
        for i in range(120):
            text = f"{i}\n" + "".join(rng.choices(alnum, k=100_000)) + "\n"
            v = result_of(await saver.u.c.call("file/save", {"project": pid, "path": "main.sh",
                                                            "content": text,
                                                            "base_version": v}))["version"]
            if i % 20 == 19:  # the editor keeps up as it goes
                await ed.settle(v)
        await ed.settle(v)
        big = rows(ed.file)
        psql("DO $$ BEGIN FOR i IN 1..1100 LOOP UPDATE files SET content = 'small ' || i, "
             f"version = version + 1 WHERE project_id = {int(pid)} AND path = 'main.sh'; "
             "END LOOP; END $$")
        small = rows(ed.file)
        v2, content2 = db_file(pid, "main.sh")
        late = Editor(saver.u, pid, "main.sh", seed=5)
        res = await late.join()
        return ed, v, text, big, small, v2, content2, res

    ed, v, text, big, small, v2, content2, res = run(go())
    print(f"collab_updates: {big[0]} rows, {big[1]} bytes after 120 saves of 100 KB; "
          f"{small[0]} rows after 1,100 small writes")
    (max_file,), = psql("SELECT value FROM settings WHERE key = 'max_file_bytes'")
    assert (ed.version, ed.doc, ed.pulled) == (v, text, 0)  # every save, in order, none pulled
    assert big[0] <= 30 and big[1] <= 4 * int(max_file) + 10 * 101_000, big
    assert 1000 <= small[0] <= 1100, small
    assert (res["version"], res["content"]) == (v2, content2)


def test_an_open_files_updates_in_memory_stay_bounded(make_server, shell_runtime):
    """collab_file.c keeps a live file's last 256 updates for clients a little
    behind. A save's update replaces the whole text, a string a line: 256 KB
    of empty lines is 262,144 strings, some 20 MB in memory each. 24 such
    saves with an editor joined grew the server by about 1 GB (64 took a
    release build from 15 MB to 1.4 GB); now the updates kept weigh at most
    COLLAB_RING_WEIGHT, a client behind those gets the whole text, and small
    updates are still kept as before."""
    srv = make_server(**ROOMY, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:"
                      "quarantine_size_mb=8").start()

    async def go():
        pid, (saver, ed) = await team([srv], 2, shell_runtime, text="zero\n")
        v = saver.version
        rss0 = srv.rss_kb()
        for i in range(24):
            v = result_of(await saver.u.c.call("file/save", {
                "project": pid, "path": "main.sh", "content": f"{i}" + "\n" * 262_000,
                "base_version": v}))["version"]
            await ed.settle(v)
        rss1 = srv.rss_kb()
        big_v = v
        for i in range(5):
            v = result_of(await saver.u.c.call("file/save", {
                "project": pid, "path": "main.sh", "content": f"small {i}\n",
                "base_version": v}))["version"]
        await ed.settle(v)
        behind = result_of(await ed.u.c.call("collab/pull", {"file": ed.file,
                                                             "version": big_v - 3}))
        near = result_of(await ed.u.c.call("collab/pull", {"file": ed.file,
                                                           "version": big_v}))
        return rss0, rss1, v, big_v, behind, near, ed

    rss0, rss1, v, big_v, behind, near, ed = run(go())
    print(f"RSS {rss0} -> {rss1} kB over 24 saves of 256 KB of empty lines")
    assert ed.doc == "small 4\n" and ed.version == v
    assert rss1 - rss0 < 300 * 1024, (rss0, rss1)
    assert "updates" not in behind and behind["content"] == "small 4\n"
    assert [u["version"] for u in near["updates"]] == list(range(big_v + 1, v + 1))


def test_updates_kept_of_every_open_file_stay_within_their_budget(make_server, shell_runtime):
    """Each open file keeps its last updates for clients a little behind, up
    to 1 MB, whatever the file's size: a 2-byte file written 100 KB in and
    out holds 1 MB, and a user's 100 projects of 200 files could hold 20 GB.
    Now all of them together keep RUNIT_COLLAB_MEMORY (2 MB here; 64 MB by
    default), a file its share: six files written so keep at most 2 MB
    (4.8 MB before), shown by runit_collab_updates_bytes, and a client far
    behind gets the whole text while one a little behind still gets the
    updates."""
    budget = 2 << 20
    srv = make_server(**ROOMY, RUNIT_COLLAB_MEMORY="2m").start()
    paths = [f"f{i}.txt" for i in range(6)]
    big = "y" * 100_000

    async def go():
        u = await User.new(srv)
        pid = await u.project(shell_runtime, {p: "x\n" for p in paths})
        result_of(await u.c.call("project/open", {"id": pid}))
        gauges, last = [], None
        for i, path in enumerate(paths):
            ed = Editor(u, pid, path, seed=i)
            await ed.join()
            v = ed.version
            for _ in range(8):  # 100 KB in, and out again
                for changes in ([2, [0, big]], [2, [100_000]]):
                    result_of(await u.c.call("collab/push", {"file": ed.file, "version": v,
                                                             "client": "t", "changes": changes}))
                    v += 1
            gauges.append(int(re.search(r"^runit_collab_updates_bytes (\d+)$",
                                        http_get(srv.url + "/metrics")[2].decode(),
                                        re.M).group(1)))
            last = (ed.file, v)
        fid, v = last
        far = result_of(await u.c.call("collab/pull", {"file": fid, "version": v - 10}))
        near = result_of(await u.c.call("collab/pull", {"file": fid, "version": v - 2}))
        return gauges, far, near, v

    gauges, far, near, v = run(go())
    print(f"updates kept after each file: {gauges} bytes")
    assert max(gauges) <= budget and gauges[-1] > budget // 2, gauges
    assert "updates" not in far and far["content"] == "x\n" and far["version"] == v
    assert [x["version"] for x in near["updates"]] == [v - 1, v]
