#!/usr/bin/env bash
# Fetch throughput of a 200 MB object from a loopback s3rver: Edge.Storage against curl, same run.
# Needs build/setup.sh --test (s3rver, curl). Usage: benchmarks/Edge.Storage.Benchmarks/run.sh [MiB] [rounds]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$root/build/fetch-s3rver.sh" >/dev/null
command -v curl >/dev/null || { echo "curl is needed (build/setup.sh --test installs it)" >&2; exit 1; }
dotnet build -c Release -v q -nologo "$root/benchmarks/Edge.Storage.Benchmarks" >/dev/null
exec dotnet "$root/benchmarks/Edge.Storage.Benchmarks/bin/Release/net10.0/Edge.Storage.Benchmarks.dll" "${1:-200}" "${2:-5}"
