#!/usr/bin/env bash
# Installs every Debian 12 package that Sluice's build, tests, benchmarks and demo need.
# Idempotent and fast when everything is present: it asks dpkg first and calls apt only
# for what is missing.
set -euo pipefail

# What compiling the three binaries needs (also the build stage of deploy/Dockerfile, which runs
# `install-deps.sh --build`; CMake finds GTest and benchmark at configure time).
BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libsimdjson-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  librdkafka-dev librocksdb-dev zlib1g-dev libcurl4-openssl-dev libzstd-dev liblz4-dev
  libavro-dev libprotoc-dev libssl-dev
  prometheus-cpp-dev libcpp-httplib-dev
)
# Tests, demo and the container image (podman builds it on a debootstrap base, see
# docs/image.md; as root podman needs no uidmap/slirp4netns/fuse-overlayfs). openssl:
# scripts/dev-certs.sh makes the test certificates.
PACKAGES=(
  "${BUILD_PACKAGES[@]}" git prometheus openssl
  kcat python3 procps
  chromium nodejs
  podman debootstrap
)
if [ "${1:-}" = "--build" ]; then PACKAGES=("${BUILD_PACKAGES[@]}"); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "${1:-}" = "--build" ]; then exit 0; fi

# Node packages of the tests, pinned in each package-lock.json (npm ci installs exactly that;
# needs npm, which Debian ships apart from nodejs when node did not come with it):
#   tests/web     playwright-core drives Debian's chromium for the dashboard's browser test;
#   tests/deploy  kubernetes-models (the Kubernetes API schemas) and yaml validate the
#                 rendered manifests of deploy/k8s.
root="$(cd "$(dirname "$0")/.." && pwd)"
npm_ci() {  # npm_ci DIR PACKAGE: npm ci in DIR unless node_modules/PACKAGE is there
  if [ ! -d "$1/node_modules/$2" ]; then
    if ! command -v npm >/dev/null; then
      $SUDO apt-get install -y -qq --no-install-recommends npm
    fi
    echo "install-deps: npm ci in ${1#$root/} ($2)"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci "$root/tests/web" playwright-core
npm_ci "$root/tests/deploy" kubernetes-models

# kubectl renders the Kubernetes manifests (`kubectl kustomize`). Debian's kubernetes-client
# provides it unless a kubectl is already installed (another version is kept: the manifests
# are written for kustomize v2 and later alike).
if ! command -v kubectl >/dev/null; then
  echo "install-deps: installing kubernetes-client (kubectl)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends kubernetes-client
fi
