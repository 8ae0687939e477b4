#!/usr/bin/env bash
# `make demo`: starts a local cluster of real processes (JobManager + 2 TaskManagers),
# runs the example job examples/txn_totals.yaml on it, shows its output, then stops the
# cluster. Set SLUICE_DEMO_KEEP=1 to leave the cluster running (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin
WORK=$(mktemp -d /tmp/sluice-demo.XXXXXX)
PORT=${SLUICE_DEMO_PORT:-6123}

"$BIN/sluice" local --taskmanagers 2 --slots 2 --port "$PORT" --ready-file "$WORK/ready.json" \
  --log-dir "$WORK/logs" > "$WORK/local.out" 2>&1 &
LOCAL_PID=$!
cleanup() { kill -TERM "$LOCAL_PID" 2>/dev/null || true; wait "$LOCAL_PID" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 1 300); do
  [ -f "$WORK/ready.json" ] && break
  if ! kill -0 "$LOCAL_PID" 2>/dev/null; then cat "$WORK/local.out"; exit 2; fi
  sleep 0.1
done
[ -f "$WORK/ready.json" ] || { echo "demo: the local cluster did not start"; cat "$WORK/local.out"; exit 2; }
cat "$WORK/local.out"
JM="127.0.0.1:$PORT"

echo
echo "== TaskManagers"
"$BIN/sluice" taskmanagers --jobmanager "$JM"

echo
echo "== Running examples/txn_totals.yaml (file -> filter -> key_by + aggregate -> file)"
rm -rf examples/out/txn_totals
"$BIN/sluice" run examples/txn_totals.yaml --jobmanager "$JM"

echo
echo "== Jobs"
"$BIN/sluice" list --jobmanager "$JM"

echo
echo "== Output (examples/out/txn_totals, last update per card, first 15 cards)"
cat examples/out/txn_totals/part-*.json | python3 -c '
import json, sys
last = {}
for line in sys.stdin:
    row = json.loads(line)
    last[row["card"]] = row
for card in sorted(last)[:15]:
    print(json.dumps(last[card]))
print(f"... {len(last)} cards in total")'

if [ "${SLUICE_DEMO_KEEP:-0}" = "1" ]; then
  echo; echo "Cluster still running at $JM (Ctrl-C stops it)."; wait "$LOCAL_PID"
fi
