#!/usr/bin/env bash
# Builds an emitted plugin's Dockerfile for real, with no Docker engine and no registry:
#   1. base images from a debootstrapped Debian (from this machine's own apt mirror) plus this
#      machine's .NET (/usr/share/dotnet): a Debian image, an SDK image, an amd64 runtime image, and an
#      arm64 Debian image made with `debootstrap --foreign` (unpacks only, so no emulation);
#   2. `dotnet new edge-plugin` from the packed templates, against the packed Edge.* packages;
#   3. `buildah bud` for linux/amd64, then `buildah run` of the plugin inside it on a sample image;
#   4. `buildah bud` for linux/arm64 (the SDK stage runs on amd64 and cross-publishes, the final stage
#      has no RUN), then checks the image's architecture and the arm64 native libraries inside it;
#   both images must carry Microsoft.ML.OnnxRuntime's libonnxruntime.so for their own platform alone.
# Usage: build/container-test.sh [packages-folder]   (default artifacts/packages; run `dotnet pack Sdk.sln -c Release` first)
# Needs root (buildah's chroot isolation), and apt packages buildah, debootstrap, file (build/setup.sh --test installs them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages="$(cd "${1:-$root/artifacts/packages}" && pwd)"
work="$root/artifacts/container"
# The Debian mirror this machine's apt already uses (EDGE_DEBIAN_MIRROR overrides it).
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
    [[ -f $f ]] && sed -nE 's/^URIs: *([^ ]+\/debian)$/\1/p; s/^deb +(\[[^]]*\] +)?([^ ]+\/debian) .*/\2/p' "$f"
  done | head -1
}
mirror="${EDGE_DEBIAN_MIRROR:-$(apt_mirror || true)}"
[[ -n $mirror ]] || { echo "no Debian mirror found in apt's sources; set EDGE_DEBIAN_MIRROR" >&2; exit 1; }
suite=bookworm
mkdir -p "$work"
bh=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
step() { printf '\n== %s\n' "$*"; }

# --- 1. base images -------------------------------------------------------------------------------
rootfs() { # arch, extra debootstrap options
  local arch=$1; shift
  if [[ ! -f "$work/rootfs-$arch/.done" ]]; then
    step "debootstrap $suite $arch from $mirror $*"
    rm -rf "$work/rootfs-$arch"
    debootstrap --variant=minbase --arch="$arch" --include=ca-certificates,libssl3 "$@" "$suite" "$work/rootfs-$arch" "$mirror" >"$work/debootstrap-$arch.log"
    touch "$work/rootfs-$arch/.done"
  fi
}
image_exists() { "${bh[@]}" inspect --type image "$1" >/dev/null 2>&1; }
# image name, arch, rootfs arch, then a function that fills the mounted root ($1) and configures the container ($2)
make_image() {
  local name=$1 arch=$2 base=$3 fill=$4
  image_exists "$name" && return
  step "base image $name ($arch)"
  local ctr mnt
  ctr=$("${bh[@]}" from --arch "$arch" scratch)
  mnt=$("${bh[@]}" mount "$ctr")
  cp -a "$work/rootfs-$base/." "$mnt/"
  rm -rf "$mnt/debootstrap" "$mnt/.done" "$mnt"/var/cache/apt/archives/*.deb
  "$fill" "$mnt" "$ctr"
  "${bh[@]}" config --arch "$arch" --os linux "$ctr"
  "${bh[@]}" commit -q "$ctr" "$name" >/dev/null
  "${bh[@]}" rm "$ctr" >/dev/null
}
# The build machine's trust store goes into the images that download (NuGet over https): where a proxy
# re-signs traffic with its own CA, the stock Debian bundle would refuse the registry.
trust_host_cas() { cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"; }
fill_debian() { trust_host_cas "$1"; "${bh[@]}" config --cmd /bin/bash "$2"; }
fill_sdk() {
  trust_host_cas "$1"
  mkdir -p "$1/usr/share/dotnet"
  cp -a /usr/share/dotnet/. "$1/usr/share/dotnet/"
  ln -sf /usr/share/dotnet/dotnet "$1/usr/bin/dotnet"
  "${bh[@]}" config --env DOTNET_ROOT=/usr/share/dotnet --env DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    --env DOTNET_NOLOGO=1 --env DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$2"
}
add_app_user() { # the uid Microsoft's .NET images use, so USER 1654 has a name and a home
  echo "app:x:1654:1654::/home/app:/usr/sbin/nologin" >>"$1/etc/passwd"
  echo "app:x:1654:" >>"$1/etc/group"
  mkdir -p "$1/home/app" && chown 1654:1654 "$1/home/app"
}
fill_runtime() {
  mkdir -p "$1/usr/share/dotnet/shared"
  cp -a /usr/share/dotnet/dotnet /usr/share/dotnet/host "$1/usr/share/dotnet/"
  cp -a /usr/share/dotnet/shared/Microsoft.NETCore.App "$1/usr/share/dotnet/shared/"
  ln -sf /usr/share/dotnet/dotnet "$1/usr/bin/dotnet"
  add_app_user "$1"
  "${bh[@]}" config --env DOTNET_ROOT=/usr/share/dotnet --env APP_UID=1654 "$2"
}
# No arm64 .NET runtime is reachable here (the NuGet registry lacks Microsoft.NETCore.App.Runtime.linux-arm64,
# and this machine's runtime is x64), so the arm64 stand-in is Debian arm64 alone: enough to build on
# and to inspect, not to run.
fill_arm64() { add_app_user "$1"; }

rootfs amd64
rootfs arm64 --foreign
make_image localhost/edge-debian:bookworm amd64 amd64 fill_debian
make_image localhost/edge-dotnet-sdk:10.0 amd64 amd64 fill_sdk
make_image localhost/edge-dotnet-runtime:10.0-amd64 amd64 amd64 fill_runtime
make_image localhost/edge-debian-stand-in:bookworm-arm64 arm64 arm64 fill_arm64

# --- 2. the project ---------------------------------------------------------------------------------
step "dotnet new edge-plugin"
templates=$(ls "$packages"/Edge.Templates.*.nupkg)
project="$work/project/container-demo"
hive="$work/hive"
rm -rf "$work/project" "$hive"
dotnet new install "$templates" --debug:custom-hive "$hive" >/dev/null
dotnet new edge-plugin -n container-demo -o "$project" --skip-restore --debug:custom-hive "$hive"
# The packages travel in the build context; everything else restores from the registry inside the build.
mkdir -p "$project/local-packages"
cp "$packages"/Edge.*.nupkg "$project/local-packages/"
cp "$root/build/local-feed.nuget.config" "$project/nuget.config"

build() { # platform, runtime image, tag
  step "buildah bud --platform $1"
  local start=$SECONDS
  # Buildah 1.28 (Debian 12) leaves BUILDPLATFORM unset, so FROM --platform=$BUILDPLATFORM would look
  # for the target's platform; Docker buildx sets it itself.
  "${bh[@]}" bud --isolation chroot --network host --pull=never --platform "$1" \
    --build-arg BUILDPLATFORM="linux/$(dpkg --print-architecture)" --build-arg TARGETVARIANT= \
    --build-arg DOTNET_SDK_IMAGE=localhost/edge-dotnet-sdk:10.0 \
    --build-arg DOTNET_RUNTIME_IMAGE="$2" \
    --build-arg DEBIAN_IMAGE=localhost/edge-debian:bookworm \
    -t "$3" "$project"
  echo "built $3 in $((SECONDS - start)) s"
}

# --- 3. amd64: build and run --------------------------------------------------------------------------
build linux/amd64 localhost/edge-dotnet-runtime:10.0-amd64 localhost/container-demo:amd64
step "buildah run: the plugin inside the amd64 image"
ctr=$("${bh[@]}" from localhost/container-demo:amd64)
"${bh[@]}" copy "$ctr" "$root/samples/ColourClassifier/data/sky.jpg" /tmp/sky.jpg >/dev/null
echo "\$ buildah run container-demo:amd64 -- dotnet container-demo.dll          (its own sample, as the user in USER)"
"${bh[@]}" run --isolation chroot --user 1654 "$ctr" -- dotnet container-demo.dll | tee "$work/run-sample.txt"
echo "\$ buildah run container-demo:amd64 -- dotnet container-demo.dll -input /tmp/sky.jpg"
"${bh[@]}" run --isolation chroot --user 1654 "$ctr" -- dotnet container-demo.dll -input /tmp/sky.jpg | tee "$work/run-sky.txt"
"${bh[@]}" rm "$ctr" >/dev/null
grep -q '^env.classification: red ' "$work/run-sample.txt"
grep -q '^env.classification: blue ' "$work/run-sky.txt"
# The publish names the runtime, so /app holds that platform's ONNX Runtime and no other platform's:
# no runtimes/ tree, no onnxruntime*.dll (the package's build props copy those into x64/arm64 outputs).
only_linux_natives() { # image
  local ctr mnt found
  ctr=$("${bh[@]}" from "$1")
  mnt=$("${bh[@]}" mount "$ctr")
  found=$(cd "$mnt/app" && ls -d runtimes onnxruntime*.dll ./*.dylib 2>/dev/null || true)
  "${bh[@]}" umount "$ctr" >/dev/null
  "${bh[@]}" rm "$ctr" >/dev/null
  [[ -z $found ]] || { echo "$1 carries natives of other platforms: $found" >&2; return 1; }
  echo "$1: /app has libonnxruntime.so for its platform alone"
}
only_linux_natives localhost/container-demo:amd64
"${bh[@]}" inspect --type image --format 'amd64 image: arch={{.OCIv1.Architecture}} user={{.OCIv1.Config.User}} entrypoint={{.OCIv1.Config.Entrypoint}} workdir={{.OCIv1.Config.WorkingDir}}' localhost/container-demo:amd64

# --- 4. arm64: build without emulation, inspect ---------------------------------------------------------
build linux/arm64 localhost/edge-debian-stand-in:bookworm-arm64 localhost/container-demo:arm64
step "arm64 image contents"
arch=$("${bh[@]}" inspect --type image --format '{{.OCIv1.Architecture}}' localhost/container-demo:arm64)
echo "arm64 image: arch=$arch"
[[ "$arch" == arm64 ]]
ctr=$("${bh[@]}" from localhost/container-demo:arm64)
mnt=$("${bh[@]}" mount "$ctr")
file -L "$mnt/app/libonnxruntime.so" "$mnt/app/libonnxruntime_providers_shared.so" "$mnt/app/libturbojpeg.so.0" "$mnt/bin/bash" | sed "s#$mnt##" | tee "$work/arm64-files.txt"
"${bh[@]}" umount "$ctr" >/dev/null
"${bh[@]}" rm "$ctr" >/dev/null
[[ $(grep -c 'ARM aarch64' "$work/arm64-files.txt") -eq 4 ]]
only_linux_natives localhost/container-demo:arm64
step "container test passed"
