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
echo
echo "== checkpoint_size (full vs incremental RocksDB checkpoints as state grows)"
bench/checkpoint_size.sh
echo
echo "== recovery (kill -9 of a TaskManager with 1 GB of RocksDB state; takes ~3 minutes)"
bench/recovery.sh
