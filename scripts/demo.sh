#!/usr/bin/env bash
# `make demo`: the Kafka fraud demo. Starts a local cluster of real processes (JobManager + 2
# TaskManagers) with the embedded Kafka and the built-in schema registry, submits
#   examples/fraud_generator.yaml  card transactions (Avro, registered schema) -> topic txns
#   examples/fraud_alerts.yaml     CEP pattern + sliding-window alert -> topic alerts,
#                                  exactly once (one Kafka transaction per checkpoint)
# and prints the alerts as they are committed, read by kcat (a client Sluice did not write)
# with isolation.level=read_committed. Ctrl-C stops everything cleanly.
# SLUICE_DEMO_SECONDS=N stops by itself after N seconds of alerts (for scripted runs);
# SLUICE_DEMO_PORT and SLUICE_DEMO_REST_PORT pick the JobManager's RPC and REST/dashboard ports
# (default 6123 and 8081; 0 = free ones).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_BIN_DIR:-build/bin}
WORK=$(mktemp -d /tmp/sluice-demo.XXXXXX)
PORT=${SLUICE_DEMO_PORT:-6123}
REST_PORT=${SLUICE_DEMO_REST_PORT:-8081}
SECONDS_TO_RUN=${SLUICE_DEMO_SECONDS:-0}

"$BIN/sluice" local --kafka --taskmanagers 2 --slots 2 --port "$PORT" \
  --set "rest.port=$REST_PORT" --ready-file "$WORK/ready.json" --log-dir "$WORK/logs" \
  > "$WORK/local.out" 2>&1 &
LOCAL_PID=$!
READER_PID=""
cleanup() {
  trap - EXIT INT TERM
  [ -n "$READER_PID" ] && kill "$READER_PID" 2>/dev/null || true
  echo
  echo "demo: stopping the cluster (jobs, embedded Kafka and schema registry)..."
  kill -TERM "$LOCAL_PID" 2>/dev/null || true
  wait "$LOCAL_PID" 2>/dev/null || true
  echo "demo: stopped. Logs are in $WORK/logs"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

for _ in $(seq 1 300); do
  [ -f "$WORK/ready.json" ] && break
  if ! kill -0 "$LOCAL_PID" 2>/dev/null; then cat "$WORK/local.out"; exit 2; fi
  sleep 0.1
done
[ -f "$WORK/ready.json" ] || { echo "demo: the local cluster did not start"; cat "$WORK/local.out"; exit 2; }
grep -v CONFWARN "$WORK/local.out"
ready() { python3 -c "import json,sys; print(json.load(open('$WORK/ready.json')).get('$1', ''))"; }
JM=$(ready jobmanager)
BOOTSTRAP=$(ready kafka_bootstrap)
REGISTRY=$(ready schema_registry_url)
REST=$(ready rest_address)

# Waits until topic $1 exists on the embedded Kafka (the Kafka source reads existing topics).
wait_for_topic() {
  for _ in $(seq 1 600); do
    if kcat -b "$BOOTSTRAP" -L -t "$1" -m 2 2>/dev/null | grep -q "partition 0,"; then return 0; fi
    sleep 0.1
  done
  echo "demo: topic $1 did not appear"; exit 2
}

echo
echo "== Generator: examples/fraud_generator.yaml (datagen -> Avro -> topic txns)"
"$BIN/sluice" run examples/fraud_generator.yaml --detached --jobmanager "$JM"
wait_for_topic txns
echo
echo "== Fraud job: examples/fraud_alerts.yaml (topic txns -> CEP + sliding window -> topic alerts)"
"$BIN/sluice" run examples/fraud_alerts.yaml --detached --jobmanager "$JM"
echo
"$BIN/sluice" list --jobmanager "$JM"
echo
echo "Dashboard:        http://$REST/"
echo "Kafka:            $BOOTSTRAP   (kcat -b $BOOTSTRAP -L)"
echo "Schema registry:  $REGISTRY   (curl $REGISTRY/subjects)"
echo
echo "== Alerts as they are committed (Ctrl-C stops the demo)"
wait_for_topic alerts
kcat -b "$BOOTSTRAP" -C -t alerts -o beginning -u -q -X isolation.level=read_committed \
  -f '%s\n' 2>/dev/null | python3 -u -c '
import json, sys
for line in sys.stdin:
    try:
        a = json.loads(line)
    except ValueError:
        continue
    if a["alert"] == "burst":
        what = "%d large charges within 30 s" % a["value"]
    else:
        what = "a tiny probe, then %.2f from another country" % a["value"]
    print("%-15s card %s  %s  (%s)" % (a["alert"], a["card"], what, a["at"]), flush=True)
' &
READER_PID=$!
if [ "$SECONDS_TO_RUN" -gt 0 ]; then
  sleep "$SECONDS_TO_RUN"
  "$BIN/sluice" list --jobmanager "$JM"
else
  wait "$READER_PID"
fi
