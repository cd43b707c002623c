#!/usr/bin/env bash
# Prepares this machine (apt packages, generated models, test servers) and runs every test.
# Prints one closing line "tests: N passed, N failed, N skipped" and exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/build/setup.sh" --test
cd "$root"
# The package layering (no cycles, Hosting free of platforms) is checked before any test runs.
python3 build/package-graph.py --check
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
# A hung test fails the run with a dump instead of eating CI's whole time budget.
dotnet test Sdk.sln -nologo --blame-hang-timeout 15m 2>&1 | tee "$log" || status=$?
summary=$(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\1 \2 \3/' \
  | awk '{f+=$1; p+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped", p, f, s}')
echo "tests: ${summary:-0 passed, 0 failed, 0 skipped}"
exit "$status"
