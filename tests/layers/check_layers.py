#!/usr/bin/env python3
"""check_layers.py BUILD_DIR - fail when a server file calls or includes
upward across the layers of docs/architecture.md, or when files call each
other in a circle.

Layers, lowest first (a file's layer is its folder):
  0 protocol/, platforms/       1 server/base/      2 server/core/
  3 server/domain/              4 server/handlers/  5 server/web/
  6 server/*.c (main, app, the commands: the composition root)
Calls come from the symbol table (nm) of each object file of the build;
includes from the #include "..." lines of each source and header. A call
or include may go to the same layer or below. Within a layer, no two files
may reach each other through calls (a circle, two files included).
"""
import collections, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAYERS = [("protocol/", 0), ("platforms/", 0), ("server/base/", 1), ("server/core/", 2),
          ("server/domain/", 3), ("server/handlers/", 4), ("server/web/", 5), ("server/", 6)]
NAMES = {0: "low (protocol, platforms)", 1: "base", 2: "core", 3: "domain", 4: "handlers",
         5: "web", 6: "top"}


def layer_of(rel):
    for prefix, n in LAYERS:
        if rel.startswith(prefix):
            return n
    return None


def sources():
    out = []
    for top in ("protocol", "platforms", "server"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            out += [os.path.relpath(os.path.join(d, f), ROOT) for f in files
                    if f.endswith((".c", ".h"))]
    return sorted(out)


def check_includes(errors):
    files = sources()
    by_name = collections.defaultdict(list)
    for f in files:
        by_name[os.path.basename(f)].append(f)
    for f in files:
        me = layer_of(f)
        for line in open(os.path.join(ROOT, f), encoding="utf-8"):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            targets = by_name.get(os.path.basename(m.group(1)), [])
            if len(targets) > 1:
                errors.append(f"{f}: includes {m.group(1)}, a name two files share: {targets}")
            for t in targets:
                if layer_of(t) > me:
                    errors.append(f"{f} ({NAMES[me]}) includes {t} ({NAMES[layer_of(t)]}): upward")


def objects(build):
    out = {}
    for d, _, files in os.walk(build):
        if "/tests/" in d + "/" or "CMakeFiles" not in d:
            continue
        for f in files:
            if not f.endswith(".c.o"):
                continue
            path = os.path.join(d, f)
            rel_dir = os.path.relpath(d, build).split(os.sep)[0]  # server, platforms, protocol
            sub = path.split(".dir/", 1)[1][:-2]  # domain/room.c
            src = os.path.join(rel_dir, sub)
            if os.path.exists(os.path.join(ROOT, src)):
                out[src] = path
    return out


def check_calls(build, errors):
    objs = objects(build)
    if len(objs) < 20:
        errors.append(f"{build}: found only {len(objs)} object files; build first")
        return
    defs, undef = {}, collections.defaultdict(set)
    for src, path in objs.items():
        for line in subprocess.run(["nm", path], capture_output=True, text=True,
                                   check=True).stdout.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBRC":
                defs[p[2]] = src
            elif len(p) == 2 and p[0] == "U":
                undef[src].add(p[1])
    graph = collections.defaultdict(set)
    for src, syms in undef.items():
        for sym in sorted(syms):
            to = defs.get(sym)
            if not to or to == src:
                continue
            graph[src].add(to)
            if layer_of(to) > layer_of(src):
                errors.append(f"{src} ({NAMES[layer_of(src)]}) calls {sym} in {to} "
                              f"({NAMES[layer_of(to)]}): upward")
    # circles: strongly connected components of more than one file
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    for comp in comps:
        errors.append("files that call each other in a circle: " + " ".join(comp))
    return len(objs)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    errors = []
    check_includes(errors)
    n = check_calls(sys.argv[1], errors)
    for e in errors:
        print("layers: " + e)
    print(f"layers: {n} object files, {len(sources())} sources checked: "
          f"{'0 problems' if not errors else str(len(errors)) + ' problems'}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
