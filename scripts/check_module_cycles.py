#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a cycle.

A module is one source file (`a/b.rs` and `a/b/mod.rs` are `a::b`). A file uses another
when its code names `crate::x::y` (in `use` lines or paths), `super::y` or `self::y`;
the used module is the longest known module path named. Each crate's `src` directory is
checked on its own. Prints every cycle found and exits with status 1 if there is one.

    python3 scripts/check_module_cycles.py core/src server/src app/src
"""
import re
import sys
from pathlib import Path


def modules(src: Path):
    mods = {}
    for f in src.rglob("*.rs"):
        parts = list(f.relative_to(src).with_suffix("").parts)
        if parts[-1] == "mod":
            parts = parts[:-1]
        if parts in (["lib"], ["main"]):
            parts = []
        mods["::".join(parts)] = f
    return mods


def strip_comments_and_tests(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    # Unit tests may use anything of their crate.
    cut = re.search(r"#\[cfg\(test\)\]\s*mod tests", text)
    return text[: cut.start()] if cut else text


def uses(name: str, text: str, known):
    found = set()
    here = name.split("::") if name else []
    paths = re.findall(r"\b(crate|super|self)((?:::\w+)+)", text)
    # Grouped imports: `use crate::{a, b::c}` names a and b::c.
    for root, group in re.findall(r"\b(crate|super|self)::\{([^}]*)\}", text):
        for item in group.split(","):
            item = item.strip().split(" as ")[0]
            if item:
                paths.append((root, "::" + item.replace("{", "").strip()))
    for root, rest in paths:
        segs = [s for s in rest.split("::") if s]
        if root == "crate":
            base = []
        elif root == "self":
            base = list(here)
        else:
            base = here[:-1]
        full = base + segs
        for n in range(len(full), 0, -1):
            cand = "::".join(full[:n])
            if cand in known:
                if cand != name and not name.startswith(cand + "::") and not cand.startswith(name + "::"):
                    found.add(cand)
                break
    return found


def cycles(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    failed = False
    for src in map(Path, sys.argv[1:]):
        mods = modules(src)
        graph = {m: uses(m, strip_comments_and_tests(f.read_text()), mods) for m, f in mods.items()}
        for comp in cycles(graph):
            failed = True
            print(f"{src}: modules that import each other: {', '.join(comp)}")
            for m in comp:
                print(f"  {m or 'lib'} uses {', '.join(sorted(set(graph[m]) & set(comp)))}")
    if failed:
        sys.exit(1)
    print("no import cycle between modules")


if __name__ == "__main__":
    main()
