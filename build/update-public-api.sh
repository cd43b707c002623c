#!/usr/bin/env bash
# Records each package's public surface in its PublicAPI.Unshipped.txt after a deliberate change:
# adds what is new (RS0016) and drops what was removed (RS0017), then sorts, so the diff shows exactly
# what plugin authors gain or lose. The build fails on any public change not recorded this way.
# Nothing has shipped as a release yet, so PublicAPI.Shipped.txt holds only its header; at a release,
# move Unshipped's lines into Shipped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
for shipped in src/*/PublicAPI.Shipped.txt; do
  dir="$(dirname "$shipped")"
  project="$dir/$(basename "$dir").csproj"
  unshipped="$dir/PublicAPI.Unshipped.txt"
  [ -f "$unshipped" ] || printf '#nullable enable\n' > "$unshipped"
  dotnet format analyzers "$project" --diagnostics RS0016 RS0017 --severity info -v q
  { echo '#nullable enable'; { grep -v "^#nullable enable$" "$unshipped" || true; } | LC_ALL=C sort -u; } > "$unshipped.tmp"
  mv "$unshipped.tmp" "$unshipped"
  echo "$(grep -vc "^#nullable" "$unshipped" || true) public API lines: $unshipped"
done
