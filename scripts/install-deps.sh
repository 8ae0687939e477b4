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
  libavro-dev libprotoc-dev libssl-dev openssl
  prometheus-cpp-dev libcpp-httplib-dev prometheus
  kcat python3 procps
  chromium nodejs
)

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

# The dashboard's browser test drives Debian's chromium with npm's playwright-core, pinned in
# tests/web/package-lock.json (npm ci installs exactly that; needs npm, which Debian ships
# apart from nodejs when node did not come with it).
web_tests="$(cd "$(dirname "$0")/.." && pwd)/tests/web"
if [ ! -d "$web_tests/node_modules/playwright-core" ]; then
  if ! command -v npm >/dev/null; then
    $SUDO apt-get install -y -qq --no-install-recommends npm
  fi
  echo "install-deps: npm ci in tests/web (playwright-core)"
  (cd "$web_tests" && npm ci --no-audit --no-fund --loglevel=error)
fi
