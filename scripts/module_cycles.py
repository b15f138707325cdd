#!/usr/bin/env python3
"""Module cycles inside each workspace crate (sibling-level strongly connected components).

For every member of the workspace `Cargo.toml`, the files under its `src/` are mapped to module
paths (`lib.rs`/`main.rs` = the crate root, `foo.rs` or `foo/mod.rs` = `foo`, nested likewise).
Left out: `src/bin/`, `tests.rs` files, `tests/` directories, files of `#[cfg(test)] mod x;`
modules, the bodies of inline `#[cfg(test)] mod x { ... }` blocks, comments and string literals.

Each `crate::...` or `super::...` path (including `use super::*`) in module A's file that reaches
module B is an edge between the two modules at the same nesting level under their common
parent: `a::x` using `crate::b::y::Z` is the edge `a -> b`; `a::x` using `super::y` is
`a::x -> a::y`; a child naming an item of an ancestor (or `use super::*`) is an edge into that
ancestor; an ancestor naming a descendant through `crate::`/`super::` is an edge into its
child on the way. Not edges: `mod` declarations, and `pub use` re-exports by a module of its
own descendants (bare `child::x` paths are not read at all).

Prints one line per crate, `NAME  cycles: [...]`, each cycle with the file:line of its edges,
and exits 1 when any crate has a cycle. `--self-test` checks the script on a made-up workspace.

Usage: module_cycles.py [WORKSPACE_DIR]   (default: the repository this script is in)
       module_cycles.py --self-test
"""

from __future__ import annotations

import glob
import os
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = ()  # the crate root's module path

# ---------------------------------------------------------------------------------------------
# Lexing: blank out comments and literals, keeping every offset and newline where it was.


def _blank(chars: list[str], start: int, end: int) -> None:
    for k in range(start, end):
        if chars[k] != "\n":
            chars[k] = " "


def _is_ident(c: str) -> bool:
    return c.isalnum() or c == "_"


def strip_comments_and_literals(text: str) -> str:
    """`text` with comments, string, byte-string, raw-string and char literals as spaces."""
    chars = list(text)
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            _blank(chars, i, j)
            i = j
            continue
        if c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            _blank(chars, i, j)
            i = j
            continue
        prev = text[i - 1] if i > 0 else ""
        if not _is_ident(prev):
            # Raw strings: r"..", r#".."#, br#".."#, cr#".."#.
            m = re.compile(r'(?:b|c)?r(#*)"').match(text, i)
            if m:
                close = '"' + m.group(1)
                j = text.find(close, m.end())
                j = n if j < 0 else j + len(close)
                _blank(chars, i, j)
                i = j
                continue
            m = re.compile(r'(?:b|c)?"').match(text, i)
            if m:
                j = m.end()
                while j < n and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                j = min(j + 1, n)
                _blank(chars, i, j)
                i = j
                continue
            m = re.compile(r"b?'").match(text, i)
            if m:
                j = m.end()
                if j < n and text[j] == "\\":  # '\n', '\'', '\u{..}'
                    k = text.find("'", j + 2)
                    if k >= 0:
                        _blank(chars, i, k + 1)
                        i = k + 1
                        continue
                elif j + 1 < n and text[j + 1] == "'" and text[j] != "\n":  # 'a'
                    _blank(chars, i, j + 2)
                    i = j + 2
                    continue
                i = j  # a lifetime or a label
                continue
        i += 1
    return "".join(chars)


def _matching_brace(text: str, open_at: int) -> int:
    """The offset just past the `}` that closes the `{` at `open_at` (end of text if none)."""
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


_CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*(?:all\s*\(\s*)?test\b[^\]]*\]")
_ATTR = re.compile(r"\s*#\s*!?\s*\[")
_MOD_AFTER_ATTRS = re.compile(r"\s*(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+(?:r#)?(\w+)\s*([{;])")


def strip_test_modules(text: str) -> tuple[str, list[str]]:
    """Blanks inline `#[cfg(test)] mod x { .. }` blocks; returns the text and the names of
    `#[cfg(test)] mod x;` declarations (files to leave out)."""
    chars = list(text)
    out_of_line: list[str] = []
    for m in _CFG_TEST.finditer(text):
        j = m.end()
        while True:  # other attributes between #[cfg(test)] and the item
            a = _ATTR.match(text, j)
            if not a:
                break
            depth, k = 0, a.end() - 1
            while k < len(text):
                depth += {"[": 1, "]": -1}.get(text[k], 0)
                k += 1
                if depth == 0:
                    break
            j = k
        mod = _MOD_AFTER_ATTRS.match(text, j)
        if not mod:
            continue
        if mod.group(2) == ";":
            out_of_line.append(mod.group(1))
        else:
            _blank(chars, m.start(), _matching_brace(text, mod.end() - 1))
    return "".join(chars), out_of_line


def clean(text: str) -> tuple[str, list[str]]:
    return strip_test_modules(strip_comments_and_literals(text))


# ---------------------------------------------------------------------------------------------
# Paths: every `crate::...` / `super::...` path, with `{..}` groups expanded.

_START = re.compile(r"(?<![\w$:#])(crate|super)\s*::")
_IDENT = re.compile(r"\s*(?:r#)?([A-Za-z_][A-Za-z0-9_]*)")
_SEP = re.compile(r"\s*::")
_USE = re.compile(r"\b(pub\s*(?:\([^)]*\))?\s*)?use\b[^;]*;")
_INLINE_MOD = re.compile(r"\bmod\s+(?:r#)?(\w+)\s*\{")


class Leaf:
    """One path: absolute module-path segments with their offsets; `end` is where it ends."""

    def __init__(self, segs: list[tuple[str, int]], end: int):
        self.segs = segs
        self.end = end


def _parse_tree(text: str, i: int, prefix: list[tuple[str, int]], leaves: list[Leaf]) -> int:
    """Parses a use-tree (or the rest of an expression path) after `::` at `i`."""
    j = i
    while j < len(text) and text[j].isspace():
        j += 1
    if j < len(text) and text[j] == "*":
        leaves.append(Leaf(prefix, j))
        return j + 1
    if j < len(text) and text[j] == "{":
        j += 1
        while True:
            while j < len(text) and (text[j].isspace() or text[j] == ","):
                j += 1
            if j >= len(text) or text[j] == "}":
                return j + 1
            before = j
            j = _parse_tree(text, j, prefix, leaves)
            if j <= before:  # not a path: skip to the group's end
                close = text.find("}", j)
                return len(text) if close < 0 else close + 1
    m = _IDENT.match(text, j)
    if not m:
        if prefix:
            leaves.append(Leaf(prefix, j))
        return j
    name, pos = m.group(1), m.start(1)
    segs = prefix if name == "self" else prefix + [(name, pos)]
    s = _SEP.match(text, m.end())
    if s:
        after = s.end()
        while after < len(text) and text[after].isspace():
            after += 1
        if after < len(text) and text[after] == "<":  # turbofish: the path ends here
            leaves.append(Leaf(segs, pos))
            return after
        return _parse_tree(text, s.end(), segs, leaves)
    leaves.append(Leaf(segs, pos))
    a = re.compile(r"\s+as\s+(?:r#)?\w+").match(text, m.end())
    return a.end() if a else m.end()


def _inline_modules(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), _matching_brace(text, m.end() - 1), m.group(1)) for m in _INLINE_MOD.finditer(text)]


def paths_in(text: str, module: tuple[str, ...]) -> list[tuple[Leaf, bool]]:
    """Every `crate::`/`super::` path of a cleaned file of `module`: (leaf, in a `pub use`)."""
    pub_uses = [(m.start(), m.end()) for m in _USE.finditer(text) if m.group(1)]
    inline = _inline_modules(text)
    out: list[tuple[Leaf, bool]] = []
    for m in _START.finditer(text):
        if re.search(r"\bin\s*$", text[max(0, m.start() - 8) : m.start()]):
            continue  # pub(in crate::x)
        if m.group(1) == "crate":
            base: list[tuple[str, int]] = []
            j = m.end()
        else:
            # `super` is relative to the innermost (inline) module the path is written in.
            here = list(module) + [name for (s, e, name) in inline if s < m.start() < e]
            ups, j = 1, m.end()
            while True:
                s = re.compile(r"\s*super\s*::").match(text, j)
                if not s:
                    break
                ups, j = ups + 1, s.end()
            base = [(name, m.start()) for name in here[: max(0, len(here) - ups)]]
        leaves: list[Leaf] = []
        _parse_tree(text, j, base, leaves)
        in_pub_use = any(s <= m.start() < e for s, e in pub_uses)
        out.extend((leaf, in_pub_use) for leaf in leaves)
    return out


# ---------------------------------------------------------------------------------------------
# Crates: files to modules, edges, strongly connected components.


def module_files(src: Path) -> dict[tuple[str, ...], list[Path]]:
    """Module path -> its file(s) (`lib.rs` and `main.rs` are both the root)."""
    mods: dict[tuple[str, ...], list[Path]] = defaultdict(list)
    for dirpath, dirnames, filenames in os.walk(src):
        rel_dir = Path(dirpath).relative_to(src)
        dirnames[:] = sorted(
            d for d in dirnames if d != "tests" and not (rel_dir == Path(".") and d in ("bin", "benches"))
        )
        for f in sorted(filenames):
            if not f.endswith(".rs") or f == "tests.rs":
                continue
            parts = list(rel_dir.parts) + [f[:-3]]
            if parts[-1] == "mod" or (len(parts) == 1 and parts[0] in ("lib", "main")):
                parts = parts[:-1]
            mods[tuple(parts)].append(Path(dirpath) / f)
    return dict(mods)


def name(module: tuple[str, ...]) -> str:
    return "::".join(module) if module else "crate"


def crate_graph(src: Path):
    """(nodes, edges): edges maps (from, to) to [(file relative to src, line)]."""
    files = module_files(src)
    cleaned = {}
    test_only: set[tuple[str, ...]] = set()
    for module, paths in files.items():
        for p in paths:
            text, tests = clean(p.read_text(encoding="utf-8", errors="replace"))
            cleaned[p] = text
            test_only.update(module + (t,) for t in tests)
    known = {m for m in files if not any(m[: len(t)] == t for t in test_only)}
    known.add(ROOT)
    edges: dict[tuple, list[tuple[str, int]]] = defaultdict(list)
    for a in sorted(known):
        for p in files.get(a, []):
            text = cleaned[p]
            rel = p.relative_to(src).as_posix()
            for leaf, in_pub_use in paths_in(text, a):
                names = tuple(s for s, _ in leaf.segs)
                b = max((names[:k] for k in range(len(names) + 1) if names[:k] in known), key=len)
                if b == a:
                    continue
                k = 0
                while k < min(len(a), len(b)) and a[k] == b[k]:
                    k += 1
                if k == len(a):  # b inside a
                    if in_pub_use:
                        continue  # a re-exports its own descendant
                    frm, to = a, b[: k + 1]
                elif k == len(b):  # a inside b: an edge into the ancestor
                    frm, to = a[: k + 1], b
                else:
                    frm, to = a[: k + 1], b[: k + 1]
                pos = leaf.segs[k][1] if k < len(leaf.segs) else leaf.end
                line = text.count("\n", 0, pos) + 1
                if (rel, line) not in edges[(frm, to)]:
                    edges[(frm, to)].append((rel, line))
    return known, dict(edges)


def tarjan(nodes, succ) -> list[list]:
    """Strongly connected components (iterative Tarjan)."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    sccs: list[list] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(succ.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                sccs.append(comp)
    return sccs


def _where(locs: list[tuple[str, int]]) -> str:
    by_file: dict[str, list[int]] = defaultdict(list)
    for f, line in locs:
        by_file[f].append(line)
    return ", ".join(f"{f}:{','.join(str(x) for x in sorted(lines))}" for f, lines in by_file.items())


def crate_cycles(src: Path) -> list[str]:
    """One `[a, b] (a -> b at a.rs:3; b -> a at b.rs:7)` per cycle of the crate at `src`."""
    nodes, edges = crate_graph(src)
    succ: dict = defaultdict(set)
    for frm, to in edges:
        succ[frm].add(to)
        nodes = nodes | {frm, to}
    out = []
    comps = [sorted(c, key=name) for c in tarjan(nodes, succ) if len(c) > 1]
    for comp in sorted(comps, key=lambda c: [name(m) for m in c]):
        members = set(comp)
        inside = sorted(
            ((f, t) for f, t in edges if f in members and t in members), key=lambda e: (name(e[0]), name(e[1]))
        )
        detail = "; ".join(f"{name(f)} -> {name(t)} at {_where(edges[(f, t)])}" for f, t in inside)
        out.append(f"[{', '.join(name(m) for m in comp)}] ({detail})")
    return out


def workspace_crates(root: Path) -> list[tuple[str, Path]]:
    """(package name, member directory) for each workspace member, in the manifest's order."""
    manifest = (root / "Cargo.toml").read_text(encoding="utf-8")
    try:
        import tomllib

        members = tomllib.loads(manifest).get("workspace", {}).get("members", [])
    except ImportError:  # Python < 3.11
        block = re.search(r"^\s*members\s*=\s*\[(.*?)\]", manifest, re.S | re.M)
        members = re.findall(r'"([^"]+)"', block.group(1)) if block else []
    crates = []
    for pattern in members:
        for d in sorted(glob.glob(str(root / pattern))) or [str(root / pattern)]:
            d = Path(d)
            toml = d / "Cargo.toml"
            if not toml.is_file():
                continue
            pkg = re.search(r'^\[package\][^\[]*?^\s*name\s*=\s*"([^"]+)"', toml.read_text(encoding="utf-8"), re.S | re.M)
            crates.append((pkg.group(1) if pkg else d.name, d))
    return crates


def report(root: Path) -> tuple[list[str], bool]:
    lines, any_cycle = [], False
    for crate, d in workspace_crates(root):
        src = d / "src"
        cycles = crate_cycles(src) if src.is_dir() else []
        any_cycle |= bool(cycles)
        lines.append(f"{crate}  cycles: {' '.join(cycles) if cycles else '[]'}")
    return lines, any_cycle


# ---------------------------------------------------------------------------------------------
# Self-test.

_FAKE = {
    "Cargo.toml": '[workspace]\nmembers = ["cyclic", "acyclic"]\n',
    "cyclic/Cargo.toml": '[package]\nname = "cyclic"\n',
    "cyclic/src/lib.rs": """//! Uses crate::b::nothing in a doc comment.
pub mod a;
pub mod b;
pub mod c;
pub mod deep;
pub use crate::c::Free; // a re-export of a child: no edge
""",
    "cyclic/src/main.rs": "fn main() { let _ = \"crate::a::in_a_string\"; }\n",
    # a -> b (grouped, multi-line use) and b -> a (super::): the cycle [a, b].
    "cyclic/src/a.rs": "use crate::{\n    b::{B1, B2},\n    c::C,\n};\npub struct A;\n",
    "cyclic/src/b.rs": "pub struct B1;\npub struct B2;\npub fn f() -> super::a::A {\n    super::a::A\n}\n",
    # c uses its parent only; the parent only re-exports it: no cycle.
    "cyclic/src/c.rs": """use super::*;
pub struct C;
pub struct Free;
#[cfg(test)]
#[allow(unused)]
mod tests {
    use crate::a::A; // would be c -> a; with a -> c a cycle, but test code is left out
}
""",
    # nested siblings deep::x <-> deep::y; deep::x -> crate::c (crate level: deep -> c).
    "cyclic/src/deep/mod.rs": "pub mod x;\npub mod y;\npub use self::x::X;\n",
    "cyclic/src/deep/x.rs": "use super::y::Y;\npub struct X(crate::c::C);\n",
    "cyclic/src/deep/y.rs": "pub struct Y;\nfn g() -> crate::deep::x::X { todo!() }\n",
    "cyclic/src/deep/tests.rs": "use crate::a::A; // tests.rs is left out\n",
    "cyclic/src/bin/tool.rs": "use crate::a::A; // src/bin is left out\n",
    "acyclic/Cargo.toml": '[package]\nname = "acyclic"\n',
    "acyclic/src/lib.rs": """mod p;
mod q;
pub use crate::q::Q;
pub(crate) use p::*;
const N: char = '"'; // not a string start
fn f<'a>(x: &'a str) -> &'a str { x }
pub const TOP: u8 = 1;
""",
    "acyclic/src/p.rs": "use super::*;\npub fn p() -> u8 { crate::TOP }\n",
    "acyclic/src/q.rs": (
        "use crate::p::p;\npub struct Q;\n"
        "mod inner {\n    use super::Q; // inner's super is q: no edge\n}\n"
        "/* crate::p::p nested /* comment */ still */\n"
        "fn r() -> &'static str { r#\"super::super::x\"# }\n"
    ),
}

_EXPECTED = [
    "cyclic  cycles: [a, b] (a -> b at a.rs:2; b -> a at b.rs:3,4) [deep::x, deep::y] "
    "(deep::x -> deep::y at deep/x.rs:1; deep::y -> deep::x at deep/y.rs:2)",
    "acyclic  cycles: []",
]


def self_test() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, body in _FAKE.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(body, encoding="utf-8")
        lines, any_cycle = report(root)
        failures = []
        if lines != _EXPECTED:
            failures.append("output:\n  got      " + "\n           ".join(lines) + "\n  expected " + "\n           ".join(_EXPECTED))
        if not any_cycle:
            failures.append("the cyclic crate was not reported as cyclic")
        _, edges = crate_graph(root / "acyclic" / "src")
        want = {(("p",), ROOT): [("p.rs", 1), ("p.rs", 2)], (("q",), ("p",)): [("q.rs", 1)]}
        if edges != want:
            failures.append(f"acyclic edges: got {edges}, expected {want}")
        # The acyclic crate on its own exits 0.
        (root / "Cargo.toml").write_text('[workspace]\nmembers = ["acyclic"]\n', encoding="utf-8")
        only, cyc = report(root)
        if only != ["acyclic  cycles: []"] or cyc:
            failures.append(f"acyclic alone: got {only}, cycle={cyc}")
    for f in failures:
        print("self-test FAILED:", f)
    if not failures:
        print("self-test passed")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__.strip().splitlines()[-2].strip(), file=sys.stderr)
        return 2
    root = Path(argv[1]) if len(argv) == 2 else Path(__file__).resolve().parent.parent
    lines, any_cycle = report(root)
    print("\n".join(lines))
    return 1 if any_cycle else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
