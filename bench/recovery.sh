#!/usr/bin/env bash
# Recovery time: kill -9 of a TaskManager running a keyed RocksDB job with STATE_MB of state
# (local cluster of real processes: a JobManager and 2 TaskManagers with 2 slots each), until
# records flow again. The job keeps several accumulators per unique key (datagen ids,
# unthrottled) and checkpoints every INTERVAL; once a completed checkpoint holds STATE_MB,
# the TaskManager running subtask 0 of the keyed vertex is killed. Polling the REST API
# every 10 ms, the bench prints when the JobManager noticed (job restarting: the heartbeat
# timeout, configurable, excluded from the target), when every task ran again, and when the
# keyed vertex of the new attempt had processed records (its state restored).
# Usage: bench/recovery.sh [STATE_MB] [INTERVAL]
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_MB=${1:-1024}
INTERVAL=${2:-10s}
. bench/local_cluster.sh
start_local_cluster 2 2 --set heartbeat.interval=100ms --set heartbeat.timeout=1s

cat > "$WORK/job.yaml" <<YAML
name: recovery
parallelism: 2
state: {backend: rocksdb}
checkpointing: {interval: $INTERVAL, dir: $WORK/checkpoints, retained: 1}
restart: {strategy: fixed_delay, attempts: 3, delay: 0s}
sources:
  - name: ids
    connector: datagen
    schema: {id: int64, a: float64, b: float64, c: float64}
    fields:
      id: {kind: sequence, min: 0}
      a: {kind: random, min: 0, max: 100}
      b: {kind: random, min: 0, max: 100}
      c: {kind: random, min: 0, max: 100}
operators:
  - name: per_id
    input: ids
    key_by: [id]
    aggregate: {n: "count(*)", sa: "sum(a)", ma: "max(a)", la: "min(a)", sb: "sum(b)",
                mb: "max(b)", lb: "min(b)", sc: "sum(c)", mc: "max(c)", lc: "min(c)", aa: "avg(a)"}
sinks:
  - {name: out, input: per_id, connector: blackhole}
YAML
JOB=$(submit_detached "$WORK/job.yaml")

python3 - "$REST" "$JOB" "$STATE_MB" "$WORK/ready.json" <<'PY'
import json, os, signal, sys, time, urllib.request
rest, job, state_mb, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
get = lambda path: json.load(urllib.request.urlopen(f"http://{rest}{path}", timeout=5))

def latest_size():
    c = get(f"/v1/jobs/{job}/checkpoints").get("latest_completed") or {}
    return c.get("size_bytes", 0) / 1048576.0

start = time.time()
while latest_size() < state_mb:
    time.sleep(1)
    if sys.stderr.isatty():
        sys.stderr.write(f"\rbuilding state: {latest_size():7.1f} / {state_mb:.0f} MiB after {time.time() - start:4.0f}s")
if sys.stderr.isatty():
    sys.stderr.write("\n")
size = latest_size()
detail = get(f"/v1/jobs/{job}")
keyed = next(v for v in detail["vertices"] if v["name"].startswith("per_id"))
sub0 = get(f"/v1/jobs/{job}/vertices/{keyed['id']}")["subtasks"][0]["taskmanager"]
pid = next(tm["pid"] for tm in get("/v1/taskmanagers")["taskmanagers"] if tm["id"] == sub0)
restarts = detail["restarts"]

t_kill = time.time()
os.kill(pid, signal.SIGKILL)
t_detect = t_running = t_flow = None
while t_flow is None and time.time() - t_kill < 120:
    d = get(f"/v1/jobs/{job}")
    now = time.time()
    if t_detect is None and (d["restarts"] > restarts or d["state"] != "running"):
        t_detect = now
    if t_detect is not None and d["restarts"] > restarts and d["state"] == "running":
        if t_running is None and all(v["state"] == "running" for v in d["vertices"]):
            t_running = now
        v = next(v for v in d["vertices"] if v["id"] == keyed["id"])
        if t_running is not None and v["metrics"].get("records_in", 0) > 0:
            t_flow = now
    time.sleep(0.01)
if t_flow is None:
    sys.exit("records did not flow again within 120 s")
print(f"recovery after kill -9 of the TaskManager running subtask 0 of the keyed vertex; "
      f"RocksDB state {size:.0f} MiB in the latest checkpoint, parallelism 2")
print(f"{'event':<64} {'since kill':>10} {'since noticed':>14}")
for name, t in [("JobManager noticed the loss (stream closed or heartbeat timeout)", t_detect),
                ("every task running again (state restored)", t_running),
                ("keyed vertex processed records of the new attempt", t_flow)]:
    print(f"{name:<64} {t - t_kill:9.2f}s {t - t_detect:13.2f}s")
print(f"recovery excluding failure detection: {t_flow - t_detect:.2f} s (target <= 2 s)")
PY
