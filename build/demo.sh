#!/usr/bin/env bash
# The main job: prepare this machine, then run the sample plugin on its bundled images.
# Results go to stdout, logs to stderr; set PYWAGGLE_LOG_DIR to also get a pywaggle run log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Setup and build talk on stderr, so stdout carries only the plugin's results.
bash "$root/build/setup.sh" >&2
cd "$root"
dotnet build samples/ColourClassifier -c Release -nologo -v quiet -clp:NoSummary >&2
exec dotnet samples/ColourClassifier/bin/Release/net10.0/ColourClassifier.dll \
  -input samples/ColourClassifier/data \
  -model artifacts/models/colour-classifier.onnx "$@"
