#!/usr/bin/env bash
# Publish sizes of samples/ColourClassifier: framework-dependent for linux-x64 and linux-arm64, and
# Native AOT for linux-x64, which it then runs on the sample data. Fails if a publish holds a Windows
# or macOS native library, or if the AOT publish reports a trim/AOT warning.
#   benchmarks/publish-sizes.sh [--before COMMIT]
# --before also publishes COMMIT (framework-dependent only) from a throwaway worktree, for a
# before/after table: there build/fetch-onnxruntime.sh (npm onnxruntime-node) and the model generator
# run first, as that commit's own build expects.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/publish-sizes"
rm -rf "$out"; mkdir -p "$out"

report() { # LABEL DIR
  local label="$1" dir="$2"
  echo "== $label: $(du -sh "$dir" | cut -f1) ($(du -sb "$dir" | cut -f1) bytes), $(find "$dir" -type f | wc -l) files; largest:"
  find "$dir" -type f -printf '%s %P\n' | sort -rn | head -6 | awk '{ printf "   %8.1f MiB  %s\n", $1 / 1048576, $2 }'
  local natives; natives=$(find "$dir" -type f \( -name '*.so' -o -name '*.so.*' -o -name '*.dylib' -o -name '*.dll' \) -printf '%P\n' | sort)
  echo "   native and managed libraries: $(echo "$natives" | tr '\n' ' ')"
  local foreign; foreign=$(find "$dir" -type f \( -name '*.dylib' -o -path '*/runtimes/win-*' -o -path '*/runtimes/osx-*' \
    -o -iname 'onnxruntime*.dll' -o -iname '*onnxruntime_providers*.dll' \) -printf '%P\n')
  if [[ -n $foreign ]]; then echo "   FAIL: Windows/macOS natives in a Linux publish: $foreign" >&2; return 1; fi
}

publish() { # TREE RID DIR [extra args]
  local tree="$1" rid="$2" dir="$3"; shift 3
  dotnet publish "$tree/samples/ColourClassifier" -c Release -r "$rid" -o "$dir" --nologo "$@" >"$dir.log" 2>&1 || { cat "$dir.log"; return 1; }
}

[[ -f $root/artifacts/models/colour-classifier.onnx ]] || /usr/bin/python3 "$root/build/models/make_models.py" "$root/artifacts/models"
for rid in linux-x64 linux-arm64; do
  publish "$root" "$rid" "$out/$rid" --self-contained false
  report "after, framework-dependent $rid" "$out/$rid"
done

publish "$root" linux-x64 "$out/aot-linux-x64" -p:PublishAot=true
if grep -E 'warning (IL|CS|NU)[0-9]+' "$out/aot-linux-x64.log"; then echo "FAIL: the AOT publish reported warnings (above)" >&2; exit 1; fi
report "after, Native AOT linux-x64 (0 trim/AOT warnings)" "$out/aot-linux-x64"
echo "   AOT run on samples/ColourClassifier/data:"
"$out/aot-linux-x64/ColourClassifier" -input "$root/samples/ColourClassifier/data" -model "$root/artifacts/models/colour-classifier.onnx" 2>/dev/null | sed 's/^/   /'

if [[ ${1:-} == --before ]]; then
  commit="$2" old="$(mktemp -d)/sdk"
  git -C "$root" worktree add --detach "$old" "$commit" >/dev/null
  trap 'git -C "$root" worktree remove --force "$old"' EXIT
  (cd "$old" && bash build/fetch-onnxruntime.sh >/dev/null && /usr/bin/python3 build/models/make_models.py artifacts/models >/dev/null)
  for rid in linux-x64 linux-arm64; do
    publish "$old" "$rid" "$out/before-$rid" --self-contained false
    report "before ($commit), framework-dependent $rid" "$out/before-$rid"
  done
fi
