"""protocol/PROTOCOL.md is the authority: every method in the server's
dispatch tables and every notification the server sends is documented there."""
import glob
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def server_sources(*dirs):
    """Every C file of the server, in all of its layer folders (and dirs)."""
    for path in [p for d in ("server",) + dirs
                 for p in glob.glob(os.path.join(ROOT, d, "**", "*.c"), recursive=True)]:
        with open(path) as f:
            yield path, f.read()


def protocol_doc():
    with open(os.path.join(ROOT, "protocol", "PROTOCOL.md")) as f:
        return f.read()


def test_every_method_is_documented():
    doc = protocol_doc()
    methods = set()
    for _, src in server_sources():
        methods |= set(re.findall(r'\{\s*"([a-z]+(?:/[a-z_]+)+)",\s*PROTO_ROLE_', src))
    assert len(methods) > 40, methods
    missing = sorted(m for m in methods if f"`{m}`" not in doc and not documented_by_pattern(m, doc))
    assert not missing, f"methods missing from protocol/PROTOCOL.md: {missing}"


def documented_by_pattern(method, doc):
    """`admin/runtime/*` in a heading documents admin/runtime/list etc."""
    prefix = method.rsplit("/", 1)[0]
    return f"`{prefix}/*`" in doc


def test_every_notification_is_documented():
    doc = protocol_doc()
    notes = set()
    for _, src in server_sources("protocol"):
        notes |= set(re.findall(r'(?:sess_notify|room_broadcast|broadcast|event|proto_notify(?:_steal)?)\([^;]*?"([a-z]+/[a-z_/]+)"', src))
        # a frame written by hand (proto_notify_log): "method":"run/log" in a C string
        notes |= set(re.findall(r'\\"method\\":\\"([a-z]+/[a-z_/]+)\\"', src))
    assert {"run/log", "run/status", "run/exit", "run/gap", "admin/event"} <= notes, notes
    missing = sorted(n for n in notes if f"`{n}`" not in doc and n not in doc)
    assert not missing, f"notifications missing from protocol/PROTOCOL.md: {missing}"
