#!/usr/bin/env bash
# Checkpoint duration and size as keyed state grows, RocksDB full vs incremental, on a local
# cluster of real processes (JobManager + 2 TaskManagers). The job counts per unique key
# (datagen ids at RATE rows/s, each a new key, so state grows linearly) and checkpoints every
# INTERVAL for SECONDS; then it is canceled and its checkpoint history (REST API) printed
# side by side: the state size each checkpoint references, the bytes it wrote, its duration.
# Usage: bench/checkpoint_size.sh [RATE] [SECONDS] [INTERVAL]
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-150000}
SECONDS_RUN=${2:-30}
INTERVAL=${3:-3s}
. bench/local_cluster.sh
start_local_cluster 2 2

run_mode() {  # $1 incremental true|false; prints the checkpoint history JSON file
  cat > "$WORK/job-$1.yaml" <<YAML
name: checkpoint-size-$1
parallelism: 2
state: {backend: rocksdb, incremental: $1}
checkpointing: {interval: $INTERVAL, dir: $WORK/checkpoints-$1, retained: 1}
sources:
  - name: ids
    connector: datagen
    rows_per_second: $RATE
    schema: {id: int64, amount: float64}
    fields: {id: {kind: sequence, min: 0}, amount: {kind: random, min: 0, max: 100}}
operators:
  - name: per_id
    input: ids
    key_by: [id]
    aggregate: {n: "count(*)", total: "sum(amount)", top: "max(amount)"}
sinks:
  - {name: out, input: per_id, connector: blackhole}
YAML
  local job
  job=$(submit_detached "$WORK/job-$1.yaml")
  echo "incremental=$1: job $job runs ${SECONDS_RUN}s" >&2
  sleep "$SECONDS_RUN"
  curl -s "http://$REST/v1/jobs/$job/checkpoints" > "$WORK/history-$1.json"
  "$BIN/sluice" cancel "$job" --jobmanager "$JM" > /dev/null 2>&1 || true
}

run_mode true
run_mode false

python3 - "$WORK/history-true.json" "$WORK/history-false.json" "$RATE" "$INTERVAL" <<'PY'
import json, sys
inc = [c for c in json.load(open(sys.argv[1]))["history"] if c["status"] == "COMPLETED" and not c["savepoint"]]
full = [c for c in json.load(open(sys.argv[2]))["history"] if c["status"] == "COMPLETED" and not c["savepoint"]]
mib = lambda b: b / 1048576.0
print(f"RocksDB checkpoints as state grows: {sys.argv[3]} new keys/s, every {sys.argv[4]}, parallelism 2")
print(f"{'chk':>4} | {'full: state':>11} {'written':>9} {'duration':>9} | {'incr: state':>11} {'written':>9} {'duration':>9}")
for i in range(max(len(inc), len(full))):
    f = full[i] if i < len(full) else None
    n = inc[i] if i < len(inc) else None
    cell = lambda c: (f"{mib(c['size_bytes']):9.1f}Mi {mib(c['incremental_bytes']):7.1f}Mi {c['duration_ms']:7d}ms"
                      if c else f"{'-':>11} {'-':>9} {'-':>9}")
    print(f"{i + 1:>4} | {cell(f)} | {cell(n)}")
tot = lambda cs, k: sum(c[k] for c in cs)
if inc and full:
    k = min(len(inc), len(full))
    print(f"over the first {k}: written full {mib(tot(full[:k], 'incremental_bytes')):.1f} MiB vs incremental "
          f"{mib(tot(inc[:k], 'incremental_bytes')):.1f} MiB; mean duration full "
          f"{tot(full[:k], 'duration_ms') / k:.0f} ms vs incremental {tot(inc[:k], 'duration_ms') / k:.0f} ms")
PY
