#!/usr/bin/env bash
# Readies a RustSec advisory-db snapshot for cargo-deny, offline: cargo-deny reads its
# database from <db-path>/advisory-db-<hash of the URL> and asks git for the head commit's
# date (how stale it is). A snapshot without .git is copied there and committed once, dated by
# its newest advisory, so the staleness check measures the snapshot, not the copy.
# Usage: advisory-db.sh SNAPSHOT DB_PATH
set -euo pipefail
src=$1
db_path=$2
dest="$db_path/advisory-db-3157b0e258782691"
if [ ! -d "$src/crates" ]; then
    echo "not a RustSec advisory-db: $src (set ADVISORY_DB)" >&2
    exit 1
fi
stamp="$src/.snapshot-id"
id=$(find "$src/crates" "$src/rust" -type f -name '*.md' | wc -l)-$(du -s "$src/crates" | cut -f1)
if [ -d "$dest/.git" ] && [ "$(cat "$dest/.snapshot-id" 2>/dev/null)" = "$id" ]; then
    exit 0
fi
rm -rf "$dest"
mkdir -p "$db_path"
if [ -d "$src/.git" ]; then
    ln -s "$src" "$dest"
    exit 0
fi
cp -R "$src" "$dest"
newest=$(grep -rhoE '^date = "[0-9]{4}-[0-9]{2}-[0-9]{2}"' "$dest/crates" "$dest/rust" | cut -d'"' -f2 | sort | tail -1)
(
    cd "$dest"
    git init -q
    git add -A
    GIT_AUTHOR_DATE="${newest}T00:00:00Z" GIT_COMMITTER_DATE="${newest}T00:00:00Z" \
        git -c user.name=snapshot -c user.email=snapshot@localhost -c commit.gpgsign=false \
        commit -q -m "RustSec advisory-db snapshot (newest advisory $newest)"
)
echo "$id" > "$dest/.snapshot-id"
echo "advisory-db snapshot from $src, newest advisory $newest"
