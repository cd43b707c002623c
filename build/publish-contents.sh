#!/usr/bin/env bash
# Packs the SDK, creates a Waggle plugin and an MQTT plugin from the edge-plugin template, publishes
# each for linux-x64 and lists the assemblies and native libraries each one carries, with sizes.
# docs/architecture.md quotes its output: a plugin carries only the packages it registers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d -t edge-contents-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$root"
dotnet restore src/Edge.Templates -nologo -v q >/dev/null
dotnet pack Sdk.sln -c Release -nologo -v q -o "$work/packages" >/dev/null
templates=$(ls "$work"/packages/Edge.Templates.*.nupkg)
dotnet new install "$templates" --debug:custom-hive "$work/hive" >/dev/null
machine_cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"

for publisher in waggle mqtt; do
  project="$work/$publisher-plugin"
  dotnet new edge-plugin -n "$publisher-plugin" -o "$project" --publisher "$publisher" --tests false --skip-restore --debug:custom-hive "$work/hive" >/dev/null
  # Edge.* only from this pack, with a private cache so no older pack of the same version is used.
  sed -e "s|value=\"local-packages\"|value=\"$work/packages\"|" \
      -e "s|<configuration>|<configuration><config><add key=\"globalPackagesFolder\" value=\"$project/.packages\" /></config><fallbackPackageFolders><add key=\"machine\" value=\"$machine_cache\" /></fallbackPackageFolders>|" \
      build/local-feed.nuget.config > "$project/nuget.config"
  dotnet publish "$project" -r linux-x64 -c Release --no-self-contained -nologo -v q -o "$project/publish" >/dev/null
  echo "## $publisher plugin: dotnet publish -r linux-x64 (framework-dependent)"
  (cd "$project/publish" && find . -maxdepth 1 -type f \( -name '*.dll' -o -name '*.so' \) -printf '%f %s\n' | sort \
    | awk '{ printf "%-60s %8.0f KiB\n", $1, $2 / 1024; total += $2 } END { printf "%-60s %8.0f KiB\n", "total", total / 1024 }')
  echo
done
