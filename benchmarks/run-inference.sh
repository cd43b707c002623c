#!/usr/bin/env bash
# Overhead benchmark for Edge.Inference: OnnxModel's run paths against ort_bench, a C program calling
# the same libonnxruntime.so file through its C API alone, on a tiny model, a small image model and a
# MobileNetV2-sized one, rounds interleaved; then managed bytes allocated per steady-state run.
#   benchmarks/run-inference.sh [--rounds N (9)] [--threads N (1)] [--tiny-iterations N (200000)]
#                               [--small-iterations N (2000)] [--large-iterations N (20)]
# Each side reports wall time and the calling thread's CPU time (clock_gettime CLOCK_THREAD_CPUTIME_ID),
# and process CPU time to show that with one intra-op and one inter-op thread ORT works on that thread alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch=$(uname -m); [[ $arch == aarch64 ]] && rid=linux-arm64 || rid=linux-x64
[[ -f $root/artifacts/models/mobilenet-v2-random.onnx ]] || /usr/bin/python3 "$root/build/models/make_models.py" "$root/artifacts/models"

out="$root/artifacts/benchmarks"
mkdir -p "$out"
gcc -O2 -Wall -Werror -o "$out/ort_bench" "$root/benchmarks/Edge.Inference.Benchmarks/native/ort_bench.c" -ldl
if ! dotnet build -c Release -v q --nologo "$root/benchmarks/Edge.Inference.Benchmarks" -o "$out/harness" >"$out/build.log"; then
  cat "$out/build.log"; exit 1
fi
# The Microsoft.ML.OnnxRuntime package puts its library here and the .NET side loads it from here; the
# harness checks that the file it loaded is this one before timing anything.
lib="$out/harness/runtimes/$rid/native/libonnxruntime.so"
dotnet "$out/harness/Edge.Inference.Benchmarks.dll" \
  --reference "$out/ort_bench" --library "$lib" --models "$root/artifacts/models" "$@"
