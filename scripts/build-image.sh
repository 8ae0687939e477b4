#!/usr/bin/env bash
# Builds the Sluice container image from deploy/Dockerfile (`make image`; docs/image.md).
#
# Environment:
#   IMAGE       tag to build (default localhost/sluice:latest)
#   BASE_IMAGE  base of both stages (default: localhost/sluice-base:bookworm, made here by
#               scripts/base-image.sh when missing; debian:bookworm-slim where a registry is
#               reachable)
#   JOBS        compile jobs in the build stage (default 2)
#   BUILD_DIR   the host build directory (default build): the build stage compiles in the
#               same directory, so that its compiles hit the host build's ccache entries
#   CONTAINER_TOOL  podman (default when installed) or docker
#   SLUICE_IMAGE_CCACHE  0 = do not mount the host's ccache directory into the build stage
#               (podman only)
# With podman and a host ccache, the build stage compiles at this checkout's own path with
# the host's ccache directory and settings mounted, so after `make build` it mostly hits.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$(pwd)"

image="${IMAGE:-localhost/sluice:latest}"
base="${BASE_IMAGE:-localhost/sluice-base:bookworm}"
jobs="${JOBS:-2}"
build_dir="${BUILD_DIR:-build}"
case "$build_dir" in
  "$src"/*) build_dir="${build_dir#"$src"/}" ;;
esac
tool="${CONTAINER_TOOL:-$(command -v podman >/dev/null && echo podman || echo docker)}"
command -v "$tool" >/dev/null || { echo "build-image: neither podman nor docker found" >&2; exit 2; }

if [ "$base" = "localhost/sluice-base:bookworm" ]; then
  CONTAINER_TOOL="$tool" bash scripts/base-image.sh "$base"
fi

args=(build -f deploy/Dockerfile -t "$image" --build-arg "BASE_IMAGE=$base"
      --build-arg "SRC_DIR=$src" --build-arg "BUILD_DIR=$build_dir" --build-arg "JOBS=$jobs")
if [ "$tool" = podman ]; then
  # No cgroups/namespaces needed on the build machines (docs/image.md).
  args+=(--isolation chroot)
fi
# (docker build cannot bind-mount a host directory: no ccache there.)
if [ "$tool" = podman ] && [ "${SLUICE_IMAGE_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
  cache_dir="$(ccache -k cache_dir)"
  mkdir -p "$cache_dir"
  args+=(-v "$cache_dir:/ccache"
         --build-arg "CCACHE_BASEDIR=$(ccache -k base_dir)"
         --build-arg "CCACHE_HASHDIR=$(ccache -k hash_dir)"
         --build-arg "CCACHE_MAXSIZE=$(ccache -k max_size)"
         --build-arg "CCACHE_SLOPPINESS=$(ccache -k sloppiness)")
  # ccache hashes these when set; the build stage must see what the host build saw.
  for v in LANG LC_ALL; do
    if [ -n "${!v:-}" ]; then args+=(--build-arg "$v=${!v}"); fi
  done
fi

echo "build-image: $tool ${args[*]} ."
start=$(date +%s)
"$tool" "${args[@]}" .
echo "build-image: $image built in $(( $(date +%s) - start ))s"
