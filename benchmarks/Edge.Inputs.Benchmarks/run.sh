#!/usr/bin/env bash
# Input benchmarks, each against a reference measured in the same run on the same machine:
#   1. JPEG decode + resize to 224x224 (frames/s) vs tjbench's decode of the same 1080p image.
#   2. frames/s and managed bytes per frame reading a loopback MJPEG stream served by ffmpeg.
# Needs ffmpeg and tjbench (Debian ffmpeg, libjpeg-turbo-progs; build/setup.sh --test installs them).
#   benchmarks/Edge.Inputs.Benchmarks/run.sh [seconds per measurement, default 5]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${1:-5}"
work="$(mktemp -d)"
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

dotnet build "$here" -c Release -v quiet -nologo >/dev/null
bench="dotnet $here/bin/Release/net10.0/Edge.Inputs.Benchmarks.dll"

image="$work/camera-1080p.jpg"
ffmpeg -v error -f lavfi -i testsrc2=s=1920x1080 -frames:v 1 -q:v 3 -y "$image"

# tjbench: full-size decode to RGB, the limit of the library doing all the work.
tj_fps=$(tjbench "$image" -rgb -benchtime "$seconds" -warmup 1 | awk '/Decompress/ && /Frame rate/ {print $(NF-1); exit}')
tj_scaled_fps=$(tjbench "$image" -rgb -benchtime "$seconds" -warmup 1 -scale 1/4 | awk '/Decompress/ && /Frame rate/ {print $(NF-1); exit}')
ours=$($bench decode "$image" "$seconds")
ours_fps=$(awk '/decode_resize_224_fps/ {print $2}' <<<"$ours")
ours_full=$(awk '/decode_full_fps/ {print $2}' <<<"$ours")

echo "image: 1920x1080 JPEG (ffmpeg testsrc2, q 3), $seconds s per measurement"
printf 'tjbench decode, full size          %8.1f frames/s\n' "$tj_fps"
printf 'tjbench decode, -scale 1/4         %8.1f frames/s\n' "$tj_scaled_fps"
printf 'SDK decode, full size              %8.1f frames/s   (%.2fx tjbench full)\n' "$ours_full" "$(ratio "$ours_full" "$tj_fps")"
printf 'SDK decode + resize to 224x224     %8.1f frames/s   (%.2fx tjbench full, %.2fx tjbench 1/4; target >= 0.85x)\n' \
  "$ours_fps" "$(ratio "$ours_fps" "$tj_fps")" "$(ratio "$ours_fps" "$tj_scaled_fps")"

# MJPEG: a pre-encoded 720p clip served by ffmpeg without re-encoding, so the server is not the limit.
clip="$work/clip.mjpeg"
ffmpeg -v error -f lavfi -i testsrc2=s=1280x720:r=30:d=4 -c:v mjpeg -q:v 4 -f mjpeg -y "$clip"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ffmpeg -v error -stream_loop -1 -f mjpeg -i "$clip" -c:v copy -f mpjpeg -listen 1 "http://127.0.0.1:$port/live" &
server=$!
stream=$($bench mjpeg "http://127.0.0.1:$port/live" "$seconds")
echo "MJPEG over loopback HTTP, 1280x720 parts, decoded at 1/4 scale and resized to 224x224:"
printf '  %s frames/s, %s managed bytes allocated per frame\n' \
  "$(awk '/mjpeg_fps/ {print $2}' <<<"$stream")" "$(awk '/mjpeg_managed_bytes_per_frame/ {print $2}' <<<"$stream")"
