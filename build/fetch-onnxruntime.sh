#!/usr/bin/env bash
# Puts the ONNX Runtime CPU libraries (linux-x64 and linux-arm64) under artifacts/onnxruntime/<version>/.
# They come from the npm package onnxruntime-node: `npm pack` downloads the tarball without running
# any install script, and each library is checked against the SHA-256 pinned below.
# Idempotent: when both libraries are present and verified, it does nothing.
set -euo pipefail

version="1.30.0"
declare -A sha256=(
  [linux-x64]="ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"
  [linux-arm64]="1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76"
)
declare -A npm_arch=([linux-x64]=x64 [linux-arm64]=arm64)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/artifacts/onnxruntime/$version"

verified() {
  local rid="$1" file="$dest/$1/libonnxruntime.so.1"
  [[ -f "$file" ]] && [[ "$(sha256sum "$file" | cut -d' ' -f1)" == "${sha256[$rid]}" ]]
}

if verified linux-x64 && verified linux-arm64; then
  echo "onnxruntime $version: present in $dest"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to fetch onnxruntime-node (apt-get install npm)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "onnxruntime $version: fetching onnxruntime-node@$version with npm pack (no scripts run)"
(cd "$work" && npm pack --ignore-scripts --silent "onnxruntime-node@$version" >/dev/null)
tarball="$(ls "$work"/onnxruntime-node-*.tgz)"
for rid in linux-x64 linux-arm64; do
  arch="${npm_arch[$rid]}"
  tar -xzf "$tarball" -C "$work" "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
  mkdir -p "$dest/$rid"
  install -m 0644 "$work/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" "$dest/$rid/libonnxruntime.so.1"
  if ! verified "$rid"; then
    echo "onnxruntime $version: $rid library does not match its pinned SHA-256; refusing to use it" >&2
    rm -f "$dest/$rid/libonnxruntime.so.1"
    exit 1
  fi
  echo "onnxruntime $version: $rid -> $dest/$rid/libonnxruntime.so.1 (sha256 ok)"
done
