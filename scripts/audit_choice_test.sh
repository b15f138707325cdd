#!/usr/bin/env bash
# The Makefile's choice of advisory database, checked without running cargo-deny (`make -n`):
# with ADVISORY_DB empty, `make audit` lets cargo-deny fetch the live database (a user's
# machine with a network); with ADVISORY_DB set, it reads that snapshot offline and nothing
# else. No path of any particular machine may be chosen by default.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
expect() { # description, make arguments..., then the expected and the forbidden pattern
    local what=$1 want=$2 refuse=$3
    shift 3
    local out
    # Not the calling make's variables either (a command-line ADVISORY_DB travels in MAKEFLAGS).
    out=$(env -u ADVISORY_DB -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n --no-print-directory audit "$@")
    if ! grep -qE -- "$want" <<<"$out" || grep -qE -- "$refuse" <<<"$out"; then
        echo "FAIL  $what: expected /$want/ and not /$refuse/ in:" >&2
        echo "$out" >&2
        fail=1
    else
        echo "ok    $what"
    fi
}
expect "no ADVISORY_DB: cargo-deny fetches the live database" \
    'scripts/audit\.sh .*cargo-deny online$' 'audit\.sh .* offline' ADVISORY_DB=
expect "ADVISORY_DB unset in the environment too: still online" \
    'scripts/audit\.sh .*cargo-deny online$' 'audit\.sh .* offline'
expect "ADVISORY_DB=/some/snapshot: that snapshot, offline" \
    'scripts/audit\.sh .*cargo-deny offline /some/snapshot$' 'audit\.sh .* online$' ADVISORY_DB=/some/snapshot
if grep -nE '/work/|\.\./shared' Makefile $(ls scripts/*.sh | grep -v audit_choice_test); then
    echo "FAIL  a path of this project's own machines in the Makefile or scripts" >&2
    fail=1
fi
exit $fail
