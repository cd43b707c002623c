#!/usr/bin/env bash
# The main job: prepare this machine, then run the sample plugin on its bundled images.
# Results go to stdout, logs to stderr; set PYWAGGLE_LOG_DIR to also get a pywaggle run log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/build/setup.sh"
cd "$root"
dotnet build samples/ColourClassifier -c Release -nologo -v quiet -clp:NoSummary
exec dotnet samples/ColourClassifier/bin/Release/net10.0/ColourClassifier.dll \
  -input samples/ColourClassifier/data \
  -model artifacts/models/colour-classifier.onnx "$@"
