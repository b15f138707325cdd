#!/usr/bin/env bash
# `make audit`: the workspace's and the fuzz workspace's lock files against deny.toml
# (advisories, yanked crates, bans, licences, sources); then proof that the check bites: the
# same check against a copy of the database with a planted advisory for a crate we use must
# fail.
#   audit.sh CARGO_DENY online             cargo-deny fetches the live RustSec database
#   audit.sh CARGO_DENY offline SNAPSHOT   a local snapshot, no network (CI's machines)
# The Makefile chooses (ADVISORY_DB empty: online); scripts/audit_choice_test.sh checks it.
set -euo pipefail
deny=$1
mode=${2:-}
cd "$(dirname "$0")/.."
db_path=.tools/advisory-dbs
case "$mode" in
online)
    offline=()
    # A snapshot readied here by an offline run has no remote to fetch from: let cargo-deny
    # clone the live database in its place.
    live="$db_path/advisory-db-3157b0e258782691"
    if [ -e "$live" ] && ! git -C "$live" remote get-url origin >/dev/null 2>&1; then
        rm -rf "$live"
    fi
    ;;
offline)
    snapshot=${3:?"usage: audit.sh CARGO_DENY offline SNAPSHOT"}
    if [ ! -d "$snapshot" ]; then
        echo "ADVISORY_DB=$snapshot: no such directory (a RustSec advisory-db snapshot; leave ADVISORY_DB empty to fetch the live database)" >&2
        exit 1
    fi
    bash scripts/advisory-db.sh "$snapshot" "$db_path"
    offline=(--offline)
    ;;
*)
    echo "usage: audit.sh CARGO_DENY online | offline SNAPSHOT" >&2
    exit 2
    ;;
esac
check() {
    "$deny" "${offline[@]}" --locked --log-level error "$@" check advisories bans licenses sources
}
for manifest in Cargo.toml fuzz/Cargo.toml; do
    # Offline, cargo-deny reads `cargo metadata` from the local cache: every package, for
    # every target, must be there (a download from the registry, not the advisory database).
    cargo fetch --locked --quiet --manifest-path "$manifest"
    echo "==> cargo deny: $manifest"
    check --manifest-path "$manifest"
done

echo "==> cargo deny self-test: a planted advisory for base64 must fail the check"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/db"
cp -R "$db_path/advisory-db-3157b0e258782691/." "$scratch/db/advisory-db-3157b0e258782691"
mkdir -p "$scratch/db/advisory-db-3157b0e258782691/crates/base64"
cat > "$scratch/db/advisory-db-3157b0e258782691/crates/base64/RUSTSEC-2099-0001.md" <<'ADVISORY'
```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "base64"
date = "2026-01-01"

[versions]
patched = [">= 99.0.0"]
```

# Planted by make audit's self-test

Not a real advisory.
ADVISORY
(
    cd "$scratch/db/advisory-db-3157b0e258782691"
    git add -A
    git -c user.name=selftest -c user.email=selftest@localhost -c commit.gpgsign=false commit -q -m planted
)
sed "s|^db-path = .*|db-path = \"$scratch/db\"|" deny.toml > "$scratch/deny.toml"
if "$deny" --offline --locked --log-level error --config "$scratch/deny.toml" check advisories >"$scratch/out" 2>&1; then
    echo "FAIL: the planted advisory was not reported" >&2
    cat "$scratch/out" >&2
    exit 1
fi
grep -q "RUSTSEC-2099-0001" "$scratch/out" || { cat "$scratch/out" >&2; exit 1; }
echo "ok    the planted advisory fails the check"
