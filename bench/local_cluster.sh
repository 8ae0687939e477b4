# Sourced by the end-to-end benchmarks: starts `sluice local` (a JobManager and TaskManagers
# as real processes) in a fresh $WORK directory and stops it on exit.
#   start_local_cluster TASKMANAGERS SLOTS [--set key=value ...]
# sets WORK, LOCAL_PID, JM (RPC address) and REST (REST address); BIN is build/bin.
#   submit_detached SPEC   prints the job id of SPEC submitted to that cluster
BIN=build/bin

start_local_cluster() {
  local tms=$1 slots=$2
  shift 2
  WORK=$(mktemp -d /tmp/sluice-bench.XXXXXX)
  "$BIN/sluice" local --taskmanagers "$tms" --slots "$slots" --port 0 --set rest.port=0 "$@" \
    --ready-file "$WORK/ready.json" --log-dir "$WORK/logs" > "$WORK/local.out" 2>&1 &
  LOCAL_PID=$!
  trap stop_local_cluster EXIT
  for _ in $(seq 1 300); do [ -f "$WORK/ready.json" ] && break; sleep 0.1; done
  [ -f "$WORK/ready.json" ] || { echo "the local cluster did not start" >&2; cat "$WORK/local.out" >&2; exit 2; }
  JM=$(python3 -c "import json; print(json.load(open('$WORK/ready.json'))['jobmanager'])")
  REST=$(python3 -c "import json; print(json.load(open('$WORK/ready.json'))['rest_address'])")
}

stop_local_cluster() {
  kill -TERM "$LOCAL_PID" 2>/dev/null || true
  wait "$LOCAL_PID" 2>/dev/null || true
  rm -rf "$WORK"
}

# submit_detached SPEC: submits the job spec SPEC to the cluster; prints its job id.
submit_detached() {
  "$BIN/sluice" run "$1" --detached --output json --jobmanager "$JM" 2>&1 |
    python3 -c "import sys, json; t = sys.stdin.read(); print(json.loads(t[t.index('{'):])['job_id'])"
}
