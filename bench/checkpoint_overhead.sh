#!/usr/bin/env bash
# End-to-end checkpoint overhead: the same keyed running count (datagen, unthrottled, ROWS rows
# over KEYS keys -> key_by + count/sum -> blackhole) on a local cluster of real processes
# (JobManager + 2 TaskManagers), without checkpoints and with checkpoints every INTERVAL, for
# the heap and RocksDB backends. Runs are interleaved (RUNS rounds) and the best of each is
# reported, as rows/s and as a ratio to the run without checkpoints in the same round set.
# Usage: bench/checkpoint_overhead.sh [ROWS] [KEYS] [INTERVAL] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-3000000}
KEYS=${2:-1000000}
INTERVAL=${3:-1s}
RUNS=${4:-2}
. bench/local_cluster.sh
start_local_cluster 2 2

spec() {  # $1 backend, $2 checkpointing line
  cat > "$WORK/job.yaml" <<YAML
name: checkpoint-overhead
parallelism: 2
state: {backend: $1}
$2
sources:
  - name: numbers
    connector: datagen
    count: $ROWS
    schema: {id: int64}
    fields: {id: {kind: sequence, min: 0}}
operators:
  - name: keyed
    input: numbers
    select: {k: "id % $KEYS", v: "id"}
  - name: sums
    input: keyed
    key_by: [k]
    aggregate: {n: "count(*)", total: "sum(v)"}
sinks:
  - {name: out, input: sums, connector: blackhole}
YAML
}

run_once() {  # prints seconds
  local start end
  start=$(date +%s.%N)
  "$BIN/sluice" run "$WORK/job.yaml" --jobmanager "$JM" > "$WORK/run.out" 2>&1 || { cat "$WORK/run.out" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}

declare -A best
for round in $(seq 1 "$RUNS"); do
  for backend in heap rocksdb; do
    for mode in off on; do
      if [ "$mode" = on ]; then
        spec "$backend" "checkpointing: {interval: $INTERVAL, dir: $WORK/checkpoints}"
      else
        spec "$backend" ""
      fi
      s=$(run_once)
      key="$backend-$mode"
      if [ -z "${best[$key]:-}" ] || python3 -c "import sys; sys.exit(0 if $s < ${best[$key]} else 1)"; then
        best[$key]=$s
      fi
      echo "round $round $key: ${s}s" >&2
    done
  done
done

echo "checkpoint overhead: $ROWS rows, $KEYS keys, parallelism 2, 2 TaskManagers, checkpoints every $INTERVAL, best of $RUNS"
printf "%-9s %-12s %12s %8s\n" backend checkpoints "rows/s" ratio
for backend in heap rocksdb; do
  off=${best[$backend-off]}; on=${best[$backend-on]}
  printf "%-9s %-12s %12.0f %7.0f%%\n" "$backend" off "$(python3 -c "print($ROWS / $off)")" 100
  printf "%-9s %-12s %12.0f %7.0f%%\n" "$backend" "every $INTERVAL" "$(python3 -c "print($ROWS / $on)")" \
    "$(python3 -c "print(100 * $off / $on)")"
done
