#!/usr/bin/env python3
"""Internal links of the README, the changelog and the book (`docs/`), checked offline.

Read: `README.md`, `CHANGELOG.md` and every `docs/**/*.md`. Outside code fences and inline
code, every markdown link `[text](target)` whose target has no scheme (`https:`, `mailto:`...)
must name an existing file or directory, relative to the page (from a page of the book, one
inside `docs/`: the book is built from that folder alone); a `#anchor` on a markdown target
(or alone, for the page itself) must be the id of one of its headings, made as GitHub and mdBook
make them: the heading's text lower-cased, each whitespace character a `-`, every character
that is not alphanumeric, `-` or `_` dropped, `-1`, `-2`... appended to repeats. Every
`{{#include FILE:ANCHOR}}` must name an existing file holding `ANCHOR: ANCHOR` and
`ANCHOR_END: ANCHOR` lines. And the book's table of contents, `docs/SUMMARY.md`, must name
every page in `docs/` and nothing else: a page not listed, or an entry whose file is missing,
is an error.

Prints one line per problem (`file:line: what`) and exits 1 when there is any.
`--self-test` checks the script on a made-up repository: a clean one passes, and each kind of
problem planted in it is found.

Usage: check_links.py [REPO_DIR]   (default: the repository this script is in)
       check_links.py --self-test
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import planted  # noqa: E402  (scripts/planted.py: the self-test and command line)

CODE_CITE = re.compile(r"\b(docs/[A-Za-z0-9_./-]+\.md)\b")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INCLUDE = re.compile(r"\{\{#include\s+([^}:\s]+)(?::([A-Za-z0-9_-]+))?\s*\}\}")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside code fences, with inline code blanked (line numbers from 1)."""
    out, fence = [], None
    for n, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * len(m.group(1))
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is None:
            out.append((n, re.sub(r"(`+)(.+?)\1", lambda c: " " * len(c.group(0)), line)))
    return out


def prose_text(text: str) -> str:
    """The text with code fences and inline code blanked (lines and offsets kept)."""
    kept = dict(prose_lines(text))
    return "\n".join(kept.get(n, "") for n in range(1, text.count("\n") + 2))


def slug(heading: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    out = []
    for ch in text:
        if ch.isalnum() or ch in "-_":
            out.append(ch.lower())
        elif ch.isspace():
            out.append("-")
    return "".join(out)


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    ids = set()
    for _, line in _heading_lines(text):
        base = slug(line)
        n = seen.get(base, 0)
        seen[base] = n + 1
        ids.add(base if n == 0 else f"{base}-{n}")
    return ids


def _heading_lines(text: str):
    fence = None
    for n, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * len(m.group(1))
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is None:
            h = HEADING.match(line)
            if h:
                yield n, h.group(2)


def pages(root: Path) -> list[Path]:
    files = [root / "README.md", root / "CHANGELOG.md"]
    files += sorted((root / "docs").rglob("*.md"))
    return [f for f in files if f.is_file()]


def check(root: Path) -> list[str]:
    problems: list[str] = []
    cache: dict[Path, str] = {}

    def read(p: Path) -> str:
        if p not in cache:
            cache[p] = p.read_text(encoding="utf-8")
        return cache[p]

    def rel(p: Path) -> str:
        try:
            return str(p.resolve().relative_to(root.resolve()))
        except ValueError:
            return str(p)

    for page in pages(root):
        prose = prose_text(read(page))

        def at(m: re.Match) -> int:
            return prose.count("\n", 0, m.start()) + 1

        for m in INCLUDE.finditer(prose):
            n = at(m)
            target = (page.parent / m.group(1)).resolve()
            if not target.is_file():
                problems.append(f"{rel(page)}:{n}: include of a missing file: {m.group(1)}")
            elif m.group(2):
                body = read(target)
                marks = [
                    mark
                    for mark in ("ANCHOR", "ANCHOR_END")
                    if not re.search(rf"\b{mark}:\s*{re.escape(m.group(2))}\b", body)
                ]
                if marks:
                    problems.append(
                        f"{rel(page)}:{n}: {m.group(1)} has no "
                        + " and no ".join(f"`{mark}: {m.group(2)}`" for mark in marks)
                    )
        for m in LINK.finditer(prose):
            n = at(m)
            target = m.group(1)
            if SCHEME.match(target) or target.startswith("//"):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page.resolve()
            if not dest.exists():
                if page.name != "SUMMARY.md" or page.parent.name != "docs":
                    problems.append(f"{rel(page)}:{n}: link to a missing file: {target}")
                continue  # a contents entry without its page: reported below
            book = (root / "docs").resolve()
            if book in page.resolve().parents and book not in dest.parents:
                problems.append(f"{rel(page)}:{n}: link out of the book (docs/): {target}")
                continue
            if anchor and dest.is_file() and dest.suffix == ".md":
                if anchor not in anchors(read(dest)):
                    problems.append(
                        f"{rel(page)}:{n}: no heading `#{anchor}` in {rel(dest)}: {target}"
                    )

    # Code comments name the page that states a rule (`docs/revocation.md`): it must exist.
    for src in sorted(root.glob("*/**/*.rs")):
        if any(part in ("target", ".venv", "node_modules") for part in src.parts):
            continue
        for n, line in enumerate(read(src).splitlines(), 1):
            for m in CODE_CITE.finditer(line):
                if not (root / m.group(1)).is_file():
                    problems.append(f"{rel(src)}:{n}: cites a missing page: {m.group(1)}")

    summary = root / "docs" / "SUMMARY.md"
    if not summary.is_file():
        problems.append("docs/SUMMARY.md: missing")
        return problems
    listed = set()
    for n, line in prose_lines(read(summary)):
        for m in LINK.finditer(line):
            target = m.group(1).partition("#")[0]
            if SCHEME.match(target) or not target:
                continue
            dest = (summary.parent / target).resolve()
            listed.add(dest)
            if not dest.is_file():
                # The same problem as a missing link target, said as a contents entry.
                problems.append(f"docs/SUMMARY.md:{n}: an entry whose page is missing: {target}")
    for page in sorted((root / "docs").rglob("*.md")):
        if page.resolve() != summary.resolve() and page.resolve() not in listed:
            problems.append(f"{rel(page)}: not in docs/SUMMARY.md")
    return problems


# ---------------------------------------------------------------------------------------------


CLEAN = {
    "README.md": "# Title\n\n<!-- ANCHOR: pic -->\npicture\n<!-- ANCHOR_END: pic -->\n\n"
    "See [the keys](docs/keys.md#a-rotation-walked-through), [Reason codes](docs/reasons.md),\n"
    "[itself](#title) and [a site](https://example.com/x.md#nowhere).\n",
    "src/lib.rs": "// The rule (docs/keys.md).\n",
    "CHANGELOG.md": "# Changelog\n\n[Route rules](docs/keys.md#route-rules-and-scp)\n",
    "docs/SUMMARY.md": "# Summary\n\n- [Keys](keys.md)\n- [Reason codes](reasons.md)\n",
    "docs/keys.md": "# Keys and rotation\n\n{{#include ../README.md:pic}}\n\n"
    "## A rotation, walked through\n\n## Route rules and `scp`\n\n"
    "## The key request (authorizer → secrets-fn)\n\n## Twice\n\n## Twice\n\n"
    "```\n[not a link](nowhere.md)\n## not a heading\n```\n\n"
    "Inline code is not a link: `[x](nowhere.md)`. [Back](reasons.md#bad_aud),\n"
    "[arrow](#the-key-request-authorizer--secrets-fn), [second](#twice-1).\n",
    "docs/reasons.md": "# Reason codes\n\n## `bad_aud`\n\n[up](keys.md#keys-and-rotation)\n",
}

PLANTED = [
    ("a code comment citing a missing page",
     {"src/lib.rs": "// The rule (docs/gone.md).\n"},
     "cites a missing page: docs/gone.md"),
    ("a link to a missing file", {"docs/keys.md": CLEAN["docs/keys.md"] + "[x](gone.md)\n"},
     "link to a missing file: gone.md"),
    ("an anchor with no heading",
     {"README.md": CLEAN["README.md"] + "[x](docs/reasons.md#bad-aud)\n"},
     "no heading `#bad-aud`"),
    ("an anchor in the page itself",
     {"docs/reasons.md": CLEAN["docs/reasons.md"] + "[x](#nowhere)\n"},
     "no heading `#nowhere`"),
    ("a repeated heading's second id", {"docs/keys.md": CLEAN["docs/keys.md"] + "[x](#twice-2)\n"},
     "no heading `#twice-2`"),
    ("a heading inside a code fence",
     {"docs/keys.md": CLEAN["docs/keys.md"] + "[x](#not-a-heading)\n"},
     "no heading `#not-a-heading`"),
    ("a page not in SUMMARY.md", {"docs/orphan.md": "# Orphan\n"}, "docs/orphan.md: not in docs/SUMMARY.md"),
    ("a SUMMARY.md entry without its page",
     {"docs/SUMMARY.md": CLEAN["docs/SUMMARY.md"] + "- [Gone](gone.md)\n"},
     "an entry whose page is missing: gone.md"),
    ("an include of a missing anchor",
     {"docs/keys.md": CLEAN["docs/keys.md"] + "{{#include ../README.md:nope}}\n"},
     "has no `ANCHOR: nope`"),
    ("an include of a missing file",
     {"docs/keys.md": CLEAN["docs/keys.md"] + "{{#include ../NOPE.md:pic}}\n"},
     "include of a missing file"),
    ("a link out of the book",
     {"docs/reasons.md": CLEAN["docs/reasons.md"] + "[x](../CHANGELOG.md)\n"},
     "link out of the book"),
    ("a broken link whose text wraps a line",
     {"docs/keys.md": CLEAN["docs/keys.md"] + "[a\nwrapped](#nowhere-else)\n"},
     "no heading `#nowhere-else`"),
    ("a broken link in the changelog",
     {"CHANGELOG.md": CLEAN["CHANGELOG.md"] + "[x](docs/keys.md#route-rules-and-)\n"},
     "no heading `#route-rules-and-`"),
]


def self_test() -> int:
    return planted.self_test(check, CLEAN, PLANTED, "problem", exactly_one=True)


def main(argv: list[str]) -> int:
    usage = __doc__.strip().split("\n\n")[-1]
    return planted.main(argv, usage, check, self_test, lambda root, problems: f"links: {len(pages(root))} files checked, {len(problems)} problem(s)")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
