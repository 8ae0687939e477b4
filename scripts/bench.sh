#!/usr/bin/env bash
# `make bench`: runs every benchmark and prints their tables.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in build/bench/*_bench; do
  echo "== $(basename "$b")"
  "$b"
  echo
done
echo "== checkpoint_overhead (end to end, real processes)"
bench/checkpoint_overhead.sh
