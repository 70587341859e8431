"""The shared console (issue 14): everyone who may see a project's runs
sees each run as it happens and who started it (run/status "by"); the
project's editors may stop another member's run; only the run's user types
into it (a viewer or an editor who watches gets FORBIDDEN); a viewer may
not stop it (FORBIDDEN); an outsider gets NOT_FOUND."""
from harness import RUN_DEADLINE_S, User, error_reason, result_of, run

ECHO = "while read l; do echo \"got $l\"; done\n"


def test_viewer_watches_but_may_not_type_and_editor_stops_anothers_run(server, shell_runtime):
    async def go():
        owner = await User.new(server)
        editor, viewer, outsider = (await User.new(server), await User.new(server),
                                    await User.new(server))
        pid = await owner.project(shell_runtime, {"main.sh": ECHO})
        for u, role in ((editor, "editor"), (viewer, "viewer")):
            result_of(await owner.c.call("project/share", {"id": pid, "username": u.name,
                                                           "role": role}))
            result_of(await u.c.call("project/open", {"id": pid}))
        rid = await owner.start(pid)
        await owner.wait_state(rid, "running")
        await viewer.wait_state(rid, "running")
        status = [n["params"] for n in viewer.c.notes if n.get("method") == "run/status"
                  and n["params"]["run"] == rid]
        typed = await viewer.c.call("run/stdin", {"run": rid, "data": "from viewer\n"})
        stop_v = await viewer.c.call("run/stop", {"run": rid})
        stop_o = await outsider.c.call("run/stop", {"run": rid})
        typed_e = await editor.c.call("run/stdin", {"run": rid, "data": "from editor\n"})
        typed_o = await outsider.c.call("run/stdin", {"run": rid, "data": "from outside\n"})
        result_of(await owner.c.call("run/stdin", {"run": rid, "data": "from owner\n"}))
        await viewer.wait_output(rid, "got from owner")
        stopped = await editor.c.call("run/stop", {"run": rid})
        out = await viewer.wait_exit(rid, RUN_DEADLINE_S)
        return owner, status, typed, stop_v, stop_o, typed_e, typed_o, stopped, out
    owner, status, typed, stop_v, stop_o, typed_e, typed_o, stopped, out = run(go())
    assert status and all(s["by"] == {"id": owner.uid, "username": owner.name} for s in status)
    assert error_reason(typed) == "FORBIDDEN"
    assert error_reason(stop_v) == "FORBIDDEN"
    assert error_reason(stop_o) == "NOT_FOUND"
    assert error_reason(typed_e) == "FORBIDDEN" and error_reason(typed_o) == "NOT_FOUND"
    assert "result" in stopped
    assert out.text() == "got from owner\n"  # nobody else's input
    assert out.exit["reason"] == "stopped"
