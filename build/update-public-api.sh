#!/usr/bin/env bash
# Records each package's public surface in its PublicAPI.Unshipped.txt after a deliberate change: one
# full build's RS0016 diagnostics name what is new (added), its RS0017 ones what was removed (dropped);
# the file is kept sorted, so the diff shows exactly what plugin authors gain or lose. The build fails
# on any public change not recorded this way. Nothing has shipped as a release yet, so
# PublicAPI.Shipped.txt holds only its header; at a release, move Unshipped's lines into Shipped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Warnings stay warnings here so that every project builds and reports, not only the first one to fail.
log="$(dotnet build Sdk.sln -nologo -v q --no-incremental -p:TreatWarningsAsErrors=false 2>&1 || true)"
for shipped in src/*/PublicAPI.Shipped.txt; do
  dir="$(dirname "$shipped")"
  project="$root/$dir/$(basename "$dir").csproj"
  unshipped="$dir/PublicAPI.Unshipped.txt"
  mine="$(grep -F "[$project]" <<<"$log" || true)"
  added="$(grep -o "RS0016: Symbol '[^']*'" <<<"$mine" | sed -E "s/^RS0016: Symbol '(.*)'$/\1/" | sort -u || true)"
  removed="$(grep -o "RS0017: Symbol '[^']*'" <<<"$mine" | sed -E "s/^RS0017: Symbol '(.*)'$/\1/" | sort -u || true)"
  {
    echo '#nullable enable'
    { grep -v '^#nullable enable$' "$unshipped" || true; if [ -n "$added" ]; then echo "$added"; fi; } \
      | { if [ -n "$removed" ]; then grep -vxF -f <(echo "$removed") || true; else cat; fi; } \
      | sed '/^$/d' | LC_ALL=C sort -u
  } > "$unshipped.tmp"
  mv "$unshipped.tmp" "$unshipped"
  echo "$(grep -vc '^#nullable' "$unshipped" || true) public API lines ($(grep -c . <<<"$added" || true) added, $(grep -c . <<<"$removed" || true) removed): $unshipped"
done
