#!/usr/bin/env bash
# Prepares a fresh Debian machine for building, running and testing the SDK. Idempotent: a second run
# finds everything in place and changes nothing.
#   build/setup.sh          packages for the build and the main job
#   build/setup.sh --test   also the servers and tools the tests start (mosquitto, ffmpeg, ...)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# What the SDK needs at run time and to generate its sample models.
runtime_packages=(libturbojpeg0 python3-onnx python3-numpy)
# What the test suite starts or compares against (gcc builds a stand-in old ONNX Runtime for the version check;
# python3-pil writes the CMYK JPEGs the decoder is tested on; bubblewrap runs an emitted plugin under its
# Kubernetes manifests' read-only root and volumes).
test_packages=(gcc libc6-dev ffmpeg libonnx-testdata libjpeg-turbo-progs mosquitto mosquitto-clients locales-all libtiff-tools python3-png python3-pil openssl python3-paho-mqtt rabbitmq-server python3-pika curl python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good buildah debootstrap file bubblewrap)

packages=("${runtime_packages[@]}")
[[ "${1:-}" == "--test" ]] && packages+=("${test_packages[@]}")
# npm installs s3rver for the tests.
[[ "${1:-}" == "--test" ]] && ! command -v npm >/dev/null && packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: apt packages present"
fi

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK is required (dotnet not on PATH)" >&2; exit 1; }

# Debian's interpreter: python3-onnx installs there, whatever python3 comes first on PATH.
/usr/bin/python3 "$root/build/models/make_models.py" "$root/artifacts/models"
if [[ "${1:-}" == "--test" ]]; then "$root/build/fetch-s3rver.sh"; fi
