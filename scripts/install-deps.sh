#!/usr/bin/env bash
# Installs every Debian 12 package that Sluice's build, tests, benchmarks and demo need.
# Idempotent and fast when everything is present: it asks dpkg first and calls apt only
# for what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libsimdjson-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  librdkafka-dev librocksdb-dev zlib1g-dev libcurl4-openssl-dev libzstd-dev liblz4-dev
  prometheus-cpp-dev libcpp-httplib-dev prometheus
  kcat python3 procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
