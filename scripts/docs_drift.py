#!/usr/bin/env python3
"""The book's configuration and Make target tables, and each crate's module map, checked against
the code (no cargo needed).

Configuration (`docs/configuration.md`): each section's tables must list exactly the
environment variables its code reads, no more, no fewer:

- `## authorizer`, `## secrets-fn`, `## The example login (...)`: the variables the crate's
  configuration reader asks for. Read from the crate's `src/` (test modules left out): the
  string constants of its `mod vars`, and the names given to the shared reader
  (`jwt_session::config::Env`: `.get`, `.required`, `.number`, `.number_or`, `.flag`, `.list`,
  `.problem`), as a string literal or an upper-case constant (resolved across the crates, so
  `jwt_session::revocation::SHARDS_VAR` is `REVOCATION_SHARDS`); and, for a call of a shared
  reader `Type::from_env(..)` defined in `jwt-session/src/`, the names that function reads.
- `## Logging (both functions)`: the variables read directly (`std::env::var("...")`,
  `var_os`) by the functions' crates and the shared library (`authorizer`, `secrets-fn`,
  `examples/*`, `jwt-session`; not the command-line tool under `src/bin/`).

A variable is a table row's first cell's backticked upper-case name (`SIGN_ISSUER`,
`SIGN_AUDIENCE` in one cell are two).

Make targets (`docs/make-targets.md`): the targets of the table's first column (`make NAME`)
must be exactly the `Makefile`'s targets with a `## ` help comment (what `make help` lists).

Module maps: each crate's `src/lib.rs` is the map of its modules (`docs/architecture.md` points
there instead of listing them again): every module it declares, test modules left out, is
named in backticks in its leading `//!` docs.

Prints each difference and exits 1 when there is any. `--self-test` checks the script on a
made-up repository: a clean one passes, and each planted difference is found.

Usage: docs_drift.py [REPO_DIR]   (default: the repository this script is in)
       docs_drift.py --self-test
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import planted  # noqa: E402  (scripts/planted.py: the self-test and command line)

NAME = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
CONST = re.compile(r"\bconst\s+([A-Z][A-Z0-9_]*)\s*:\s*&(?:'static\s+)?str\s*=\s*([^;]+);")
READER = re.compile(
    r"\.(?:get|required|number|number_or|flag|list|problem)\(\s*(?:\"([^\"]*)\"|([A-Za-z_][A-Za-z0-9_:]*))\s*[,)]"
)
DIRECT = re.compile(r"\benv::var(?:_os)?\(\s*\"([^\"]*)\"\s*\)")
SHARED_CALL = re.compile(r"\b([A-Z][A-Za-z0-9]*)::from_env\(")

# Sections of docs/configuration.md: heading -> the crates whose configuration reader it lists
# (None: the variables read directly, with std::env).
SECTIONS = {
    "authorizer": ["authorizer/src"],
    "secrets-fn": ["secrets-fn/src"],
    "The example login (`examples/login`)": ["examples/login/src"],
    "Logging (both functions)": None,
}
DIRECT_DIRS = ["authorizer/src", "secrets-fn/src", "examples", "jwt-session/src"]
SHARED_DIR = "jwt-session/src"


# ---------------------------------------------------------------------------------------------
# Rust sources: comments out, test modules out.


def _skip_string(text: str, i: int) -> int:
    """`text[i]` opens a string literal ("..." or r#"..."#); the index after it."""
    m = re.match(r'r(#*)"', text[i:])
    if m:
        end = text.find('"' + m.group(1), i + len(m.group(0)))
        return len(text) if end < 0 else end + 1 + len(m.group(1))
    j = i + 1
    while j < len(text) and text[j] != '"':
        j += 2 if text[j] == "\\" else 1
    return j + 1


def strip_comments(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j < 0 else j + 2
        elif text[i] == '"' or (
            text[i] == "r" and re.match(r'r#*"', text[i:]) and not (i and text[i - 1].isalnum())
        ):
            j = _skip_string(text, i)
            out.append(text[i:j])
            i = j
        elif text[i] == "'" and re.match(r"'(\\.|[^\\'])'", text[i:]):
            j = i + len(re.match(r"'(\\.|[^\\'])'", text[i:]).group(0))
            out.append(text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _block_end(text: str, open_at: int) -> int:
    """`text[open_at]` is `{`; the index after its matching `}` (strings skipped)."""
    depth, i = 0, open_at
    while i < len(text):
        c = text[i]
        if c == '"' or (c == "r" and re.match(r'r#*"', text[i:]) and not text[i - 1].isalnum()):
            i = _skip_string(text, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def strip_tests(text: str) -> str:
    """Removes every `#[cfg(test)]` item (a module, a function, a `use`)."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]", text)
        if not m:
            return text
        brace, semi = text.find("{", m.end()), text.find(";", m.end())
        if semi >= 0 and (brace < 0 or semi < brace):
            end = semi + 1
        elif brace >= 0:
            end = _block_end(text, brace)
        else:
            end = len(text)
        text = text[: m.start()] + text[end:]


def rust_files(root: Path, rel: str) -> list[Path]:
    base = root / rel
    if not base.exists():
        return []
    return sorted(
        p
        for p in base.rglob("*.rs")
        if "bin" not in p.relative_to(base).parts[:-1]
        and "tests" not in p.relative_to(base).parts[:-1]
        and p.name != "tests.rs"
    )


def source(p: Path) -> str:
    return strip_tests(strip_comments(p.read_text(encoding="utf-8")))


class Code:
    """What the Rust sources of the repository read."""

    def __init__(self, root: Path):
        self.root = root
        self.consts: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        self.shared: dict[str, set[str]] = {}  # Type -> names its from_env reads
        dirs = {d for ds in SECTIONS.values() if ds for d in ds} | set(DIRECT_DIRS)
        for d in sorted(dirs):
            for p in rust_files(root, d):
                for name, value in CONST.findall(source(p)):
                    value = value.strip()
                    lit = re.fullmatch(r'"([^"]*)"', value)
                    if lit:
                        self.consts.setdefault(name, lit.group(1))
                    else:
                        self.aliases.setdefault(name, value.split("::")[-1])
        for p in rust_files(root, SHARED_DIR):
            text = source(p)
            for m in re.finditer(r"\bimpl(?:<[^>]*>)?\s+([A-Z][A-Za-z0-9]*)\s*\{", text):
                body = text[m.end() - 1 : _block_end(text, m.end() - 1)]
                f = re.search(r"\bfn\s+from_env\b[^{]*\{", body)
                if f:
                    fbody = body[f.end() - 1 : _block_end(body, f.end() - 1)]
                    self.shared[m.group(1)] = self._reader_names(fbody)

    def resolve(self, ident: str) -> str | None:
        name = ident.split("::")[-1]
        for _ in range(8):
            if name in self.consts:
                return self.consts[name]
            if name not in self.aliases:
                return None
            name = self.aliases[name]
        return None

    def _reader_names(self, text: str) -> set[str]:
        out = set()
        for lit, ident in READER.findall(text):
            value = lit if lit else (self.resolve(ident) if re.match(r"[A-Z_:a-z]*[A-Z][A-Z0-9_]*$", ident) else None)
            if value and NAME.match(value):
                out.add(value)
        return out

    def config_reads(self, dirs: list[str]) -> dict[str, str]:
        """Name -> the first file:line reading it, through the configuration reader."""
        found: dict[str, str] = {}
        for d in dirs:
            for p in rust_files(self.root, d):
                text = source(p)
                where = str(p.relative_to(self.root))
                for m in re.finditer(r"\bmod\s+vars\s*\{", text):
                    block = text[m.end() - 1 : _block_end(text, m.end() - 1)]
                    for name, _ in CONST.findall(block):
                        value = self.resolve(name)
                        if value and NAME.match(value):
                            found.setdefault(value, where)
                for name in self._reader_names(text):
                    found.setdefault(name, where)
                for m in SHARED_CALL.finditer(text):
                    for name in self.shared.get(m.group(1), ()):
                        found.setdefault(name, f"{where} ({m.group(1)}::from_env)")
        return found

    def direct_reads(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for d in DIRECT_DIRS:
            for p in rust_files(self.root, d):
                for name in DIRECT.findall(source(p)):
                    found.setdefault(name, str(p.relative_to(self.root)))
        return found


# ---------------------------------------------------------------------------------------------
# The pages.


def sections(text: str) -> dict[str, list[str]]:
    """`## ` heading text -> its lines (down to the next `## `), code fences left out."""
    out: dict[str, list[str]] = {}
    current, fence = None, False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        m = re.match(r"^##\s+(.*?)\s*$", line)
        if m:
            current = m.group(1)
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def first_cells(lines: list[str]) -> list[str]:
    """The first cell of every body row of the tables in `lines` (header rows, the ones right
    above a `|---|` line, and the separators left out)."""
    sep = re.compile(r"^\|\s*:?-{3,}")
    cells = []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("|") and not sep.match(line) and not sep.match(following):
            cells.append(line.split("|")[1])
    return cells


def table_names(lines: list[str]) -> set[str]:
    out = set()
    for cell in first_cells(lines):
        out.update(n for n in re.findall(r"`([^`]+)`", cell) if NAME.match(n))
    return out


def check_configuration(root: Path) -> list[str]:
    page = root / "docs" / "configuration.md"
    if not page.is_file():
        return ["docs/configuration.md: missing"]
    secs = sections(page.read_text(encoding="utf-8"))
    code = Code(root)
    problems = []
    documented_anywhere: set[str] = set()
    for heading in secs:
        documented_anywhere |= table_names(secs[heading])
    for heading, dirs in SECTIONS.items():
        if heading not in secs:
            problems.append(f"docs/configuration.md: no section `## {heading}`")
            continue
        listed = table_names(secs[heading])
        read = code.config_reads(dirs) if dirs is not None else code.direct_reads()
        for name in sorted(set(read) - listed):
            problems.append(
                f"docs/configuration.md § {heading}: `{name}` is read ({read[name]}) but not listed"
            )
        for name in sorted(listed - set(read)):
            problems.append(
                f"docs/configuration.md § {heading}: `{name}` is listed but its code does not read it"
            )
    for heading in secs:
        if heading not in SECTIONS and table_names(secs[heading]):
            problems.append(
                f"docs/configuration.md § {heading}: a section the check does not know lists "
                f"variables: {sorted(table_names(secs[heading]))}"
            )
    return problems


def make_help_targets(root: Path) -> set[str]:
    text = (root / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z0-9-]+):.*## ", text, re.M))


def check_make_targets(root: Path) -> list[str]:
    page = root / "docs" / "make-targets.md"
    if not page.is_file():
        return ["docs/make-targets.md: missing"]
    listed = set()
    for cell in first_cells(page.read_text(encoding="utf-8").split("\n")):
        listed.update(re.findall(r"`make ([a-z0-9-]+)", cell))
    targets = make_help_targets(root)
    problems = [
        f"docs/make-targets.md: `make {t}` has a help line in the Makefile but no row"
        for t in sorted(targets - listed)
    ]
    problems += [
        f"docs/make-targets.md: `make {t}` has a row but no Makefile target with a help line"
        for t in sorted(listed - targets)
    ]
    return problems


def check_module_maps(root: Path) -> list[str]:
    """Each crate's `lib.rs` is the map of its modules (docs/architecture.md says so): every
    module it declares (but test modules) is named in its leading `//!` docs."""
    problems = []
    for lib in sorted(list(root.glob("*/src/lib.rs")) + list(root.glob("examples/*/src/lib.rs"))):
        text = lib.read_text(encoding="utf-8")
        lines = text.split("\n")
        docs = "\n".join(l for l in lines if l.startswith("//!"))
        for i, line in enumerate(lines):
            m = re.match(r"\s*(?:pub(?:\(crate\))? )?mod ([a-z_][a-z0-9_]*);", line)
            if not m or m.group(1) == "tests" or (i > 0 and "cfg(test)" in lines[i - 1]):
                continue
            if not re.search(rf"`{m.group(1)}`", docs):
                rel = lib.relative_to(root)
                problems.append(f"{rel}:{i + 1}: module `{m.group(1)}` is not in its module map (the `//!` docs)")
    return problems


def check(root: Path) -> list[str]:
    return check_configuration(root) + check_make_targets(root) + check_module_maps(root)


# ---------------------------------------------------------------------------------------------


CLEAN = {
    "mapped/src/lib.rs": "//! - [`shown`]: a module.\n\npub mod shown;\n#[cfg(test)]\nmod helpers;\nmod tests;\n",
    "authorizer/src/config.rs": '''//! "NOT_READ_COMMENT" in a comment: c.get("COMMENTED")
pub mod vars {
    /// The issuer.
    pub const JWT_ISSUER: &str = "JWT_ISSUER";
    pub const REVOCATION_SHARDS: &str = jwt_session::revocation::SHARDS_VAR;
}
fn token(c: &mut Env) {
    let _ = c.required(JWT_ISSUER, "the issuer");
    let _ = c.number("KEYS_CACHE_TTL_SECONDS", 300, 1, 3600);
    let _ = "{ a brace in a string";
    let _ = FeedShards::from_env(c);
}
#[cfg(test)]
mod tests {
    fn t() { let _ = cfg(&[("ONLY_IN_TESTS", "x")]); let _ = c.get("ONLY_IN_TESTS"); let _ = r#"}"#; }
}
''',
    "authorizer/src/audit.rs": 'fn f() { let _ = std::env::var("AWS_LAMBDA_FUNCTION_NAME"); }\n',
    "secrets-fn/src/config.rs": '''pub mod vars {
    pub const SECRET_ID: &str = "SECRET_ID";
    pub const SIGN_ISSUER: &str = "SIGN_ISSUER";
}
fn read(env: &mut Env) { let _ = env.flag("ALLOW_SYMMETRIC_KEYS"); let _ = FeedShards::from_env(env); }
''',
    "examples/login/src/lib.rs": 'fn c(c: &mut Env) { let _ = c.get("LOGIN_USERS"); let _ = map.get("lower"); }\n',
    "jwt-session/src/revocation.rs": '''pub const SHARDS_VAR: &str = "REVOCATION_SHARDS";
impl FeedShards {
    pub fn from_env<F>(env: &mut crate::config::Env<F>) -> FeedShards {
        let n = env.number(SHARDS_VAR, 8, 1, 64);
        FeedShards(n)
    }
}
''',
    "jwt-session/src/logging.rs": 'fn l() { std::env::var("AWS_LAMBDA_LOG_LEVEL"); std::env::var("RUST_LOG"); }\n',
    "jwt-session/src/bin/tool.rs": 'fn main() { std::env::var("TOOL_ONLY"); }\n',
    "Makefile": "help: ## List\n\t@true\n\ndemo: venv ## Run it\n\t@true\n\nhidden:\n\t@true\n",
    "docs/make-targets.md": "# Make targets\n\n| target | does |\n|---|---|\n| `make help` | lists |\n"
    "| `make demo` | runs |\n",
    "docs/configuration.md": """# Configuration

## authorizer

| variable | meaning | default |
|---|---|---|
| `JWT_ISSUER` | the issuer | required |
| `KEYS_CACHE_TTL_SECONDS` | ttl | `300` |
| `REVOCATION_SHARDS` | shards | `8` |

## secrets-fn

| variable | meaning | default |
|---|---|---|
| `SECRET_ID` | the secret | required |
| `ALLOW_SYMMETRIC_KEYS` | oct keys | `false` |
| `REVOCATION_SHARDS` | shards | `8` |

### The signer

| variable (signer) | meaning | default |
|---|---|---|
| `SIGN_ISSUER` | iss | required |

## The example login (`examples/login`)

| variable | meaning | default |
|---|---|---|
| `LOGIN_USERS` | users | required |

## Logging (both functions)

| variable | meaning | default |
|---|---|---|
| `AWS_LAMBDA_LOG_LEVEL` | level | — |
| `RUST_LOG` | level | `info` |
| `AWS_LAMBDA_FUNCTION_NAME` | function | `authorizer` |

```
| `IN_A_FENCE` | not a row |
```
""",
}

CONF = CLEAN["docs/configuration.md"]
PLANTED = [
    ("a module missing from its crate's module map",
     {"mapped/src/lib.rs": CLEAN["mapped/src/lib.rs"] + "mod hidden;\n"},
     "module `hidden` is not in its module map"),
    ("a variable read but not listed",
     {"authorizer/src/config.rs": CLEAN["authorizer/src/config.rs"].replace(
         'let _ = "{', 'let _ = c.get("JWT_TYPE");\n    let _ = "{')},
     "`JWT_TYPE` is read"),
    ("a variable listed but not read",
     {"docs/configuration.md": CONF.replace("| `SECRET_ID` |", "| `SECRET_GONE` | x | y |\n| `SECRET_ID` |")},
     "`SECRET_GONE` is listed"),
    ("a variable in another function's section",
     {"docs/configuration.md": CONF.replace("| `LOGIN_USERS` | users | required |\n", "").replace(
         "| `SIGN_ISSUER` | iss | required |", "| `SIGN_ISSUER`, `LOGIN_USERS` | iss | required |")},
     "`LOGIN_USERS` is"),
    ("a vars constant through an alias no longer read by the shared reader",
     {"jwt-session/src/revocation.rs": CLEAN["jwt-session/src/revocation.rs"].replace(
         "env.number(SHARDS_VAR, 8, 1, 64)", "8")},
     "`REVOCATION_SHARDS` is listed"),
    ("a direct read not listed",
     {"secrets-fn/src/main.rs": 'fn m() { let _ = std::env::var("AWS_REGION"); }\n'},
     "`AWS_REGION` is read"),
    ("a Make target with help but no row",
     {"Makefile": CLEAN["Makefile"] + "\ndocs: ## The book\n\t@true\n"},
     "`make docs` has a help line"),
    ("a row for a target without help",
     {"docs/make-targets.md": CLEAN["docs/make-targets.md"] + "| `make hidden` | no help |\n"},
     "`make hidden` has a row"),
]


def self_test() -> int:
    return planted.self_test(check, CLEAN, PLANTED, "difference")


def main(argv: list[str]) -> int:
    usage = __doc__.strip().split("\n\n")[-1]
    return planted.main(argv, usage, check, self_test, lambda root, problems: f"drift: configuration and Make target tables, module maps, {len(problems)} difference(s)")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
