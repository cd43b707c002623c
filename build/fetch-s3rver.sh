#!/usr/bin/env bash
# Installs s3rver, the S3 server the Edge.Storage tests and benchmarks start on loopback, into
# artifacts/tools/s3rver from the pinned lock file in build/tools/s3rver (npm ci, no install scripts).
# Idempotent: when the installed lock file matches the pinned one, it does nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pinned="$root/build/tools/s3rver"
dest="$root/artifacts/tools/s3rver"

if [[ -x "$dest/node_modules/.bin/s3rver" ]] && cmp -s "$pinned/package-lock.json" "$dest/package-lock.json"; then
  echo "s3rver: present in $dest"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to install s3rver (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
cp "$pinned/package.json" "$pinned/package-lock.json" "$dest/"
(cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --silent)
echo "s3rver: $("$dest/node_modules/.bin/s3rver" --version) -> $dest/node_modules/.bin/s3rver"
