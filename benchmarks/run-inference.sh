#!/usr/bin/env bash
# Overhead benchmark for Edge.Inference: our Run against ort_bench, a C program calling the same
# libonnxruntime.so.1 through its C API alone, on a tiny model and a MobileNetV2-sized one, rounds
# interleaved; then managed bytes allocated per steady-state frame. Prints medians and ratios.
#   benchmarks/run-inference.sh [--rounds N (9)] [--threads N (1)] [--tiny-iterations N (200000)] [--large-iterations N (20)]
# Each side reports wall time and the calling thread's CPU time (clock_gettime CLOCK_THREAD_CPUTIME_ID),
# and process CPU time to show that with one intra-op and one inter-op thread ORT works on that thread alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=1.30.0
arch=$(uname -m); [[ $arch == aarch64 ]] && rid=linux-arm64 || rid=linux-x64
lib="$root/artifacts/onnxruntime/$version/$rid/libonnxruntime.so.1"
[[ -f $lib && -f $root/artifacts/models/mobilenet-v2-random.onnx ]] || "$root/build/setup.sh"

out="$root/artifacts/benchmarks"
mkdir -p "$out"
gcc -O2 -Wall -o "$out/ort_bench" "$root/benchmarks/Edge.Inference.Benchmarks/native/ort_bench.c" -ldl
if ! dotnet build -c Release -v q --nologo "$root/benchmarks/Edge.Inference.Benchmarks" -o "$out/harness" >"$out/build.log"; then
  cat "$out/build.log"; exit 1
fi
EDGE_ONNXRUNTIME_PATH="$lib" dotnet "$out/harness/Edge.Inference.Benchmarks.dll" \
  --reference "$out/ort_bench" --library "$lib" --models "$root/artifacts/models" "$@"
