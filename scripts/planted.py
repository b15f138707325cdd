"""What the book's check scripts share: a self-test that plants each problem in a copy of a
clean fixture repository and expects the check to find it (and the clean copy to pass), and
the command line (`SCRIPT [ROOT]`, `SCRIPT --self-test`)."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Callable

Check = Callable[[Path], "list[str]"]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def self_test(
    check: Check,
    clean: dict[str, str],
    planted: list[tuple[str, dict[str, str], str]],
    noun: str,
    exactly_one: bool = False,
) -> int:
    """`planted`: (what, the files it changes, a text the problem it causes must hold)."""
    failures = []
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "clean"
        write(root, clean)
        got = check(root)
        if got:
            failures.append(f"the clean repository has {noun}s: {got}")
        for what, change, expect in planted:
            root = Path(d) / re.sub(r"\W+", "-", what)
            write(root, {**clean, **change})
            got = check(root)
            if not any(expect in p for p in got):
                failures.append(f"{what}: expected a {noun} with {expect!r}, got {got}")
            elif exactly_one and len(got) != 1:
                failures.append(f"{what}: expected one {noun}, got {got}")
    for f in failures:
        print("self-test FAILED:", f)
    if not failures:
        print(f"self-test passed: the clean repository passes, {len(planted)} planted {noun}s found")
    return 1 if failures else 0


def main(
    argv: list[str], usage: str, check: Check, run_self_test: Callable[[], int],
    summary: Callable[[Path, list[str]], str],
) -> int:
    if argv[1:] == ["--self-test"]:
        return run_self_test()
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(usage, file=sys.stderr)
        return 2
    root = Path(argv[1]) if len(argv) == 2 else Path(__file__).resolve().parent.parent
    problems = check(root)
    for p in problems:
        print(p)
    print(summary(root, problems))
    return 1 if problems else 0
