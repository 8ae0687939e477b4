#!/usr/bin/env bash
# The container image test (ctest: image_test, label image). It
#  1. builds the image with `scripts/build-image.sh` (podman, local debootstrap base, the
#     host's ccache mounted), as `make image` does;
#  2. checks the image's configuration (entrypoint, user 9999, ports) and that its file system
#     (`podman image mount`, read-only) holds the three binaries and their libraries but no
#     compiler, build tool, build tree, source tree, -dev package or header;
#  3. runs a cluster from that file system, as a container runtime would without one (no
#     cgroups here): in a private mount namespace, chroot into the image with /proc, /dev,
#     /etc/hosts and writable volumes at /tmp and /var/lib/sluice bind-mounted, as user 9999,
#     through the image's entrypoint: a JobManager and two TaskManagers (one with a config
#     file in its arguments, one on the entrypoint's defaults) on loopback, the CLI
#     submits a datagen -> select -> filter -> key_by -> aggregate -> file job at parallelism 4
#     (a hash exchange between the TaskManagers), and every output row is checked against a
#     brute-force reference; the dashboard must be served.
# Needs root (debootstrap, mount, chroot) and podman; exits 77 (ctest: skipped) without them.
# SLUICE_IMAGE_TEST_KEEP=1 keeps the work directory; SLUICE_TEST_IMAGE names the image.
set -euo pipefail

if [ "${1:-}" = "--inside" ]; then
  inside=1
  shift
else
  inside=0
fi

src="${SLUICE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
image="${SLUICE_TEST_IMAGE:-localhost/sluice:test}"
fail() { echo "image_test: FAIL: $*" >&2; exit 1; }
log() { echo "image_test: $(date -u +%T.%N | cut -c1-12) $*"; }

# ---------------------------------------------------------------------------------------
# Part 3, run inside `unshare --mount`: the cluster from the image's file system.
if [ "$inside" = 1 ]; then
  mnt="$1"
  work="$2"
  mount --make-rprivate /
  mount -t proc proc "$mnt/proc"
  mount --rbind /dev "$mnt/dev"
  mount --bind /etc/hosts "$mnt/etc/hosts"
  mount --bind "$work/tmp" "$mnt/tmp"
  mount --bind "$work/home" "$mnt/var/lib/sluice"

  pids=()
  # A pid of "${pids[@]}" is the subshell of a backgrounded run_chroot: its child is the
  # server (env, chroot, sh and the entrypoint exec into it), so kill both.
  cleanup() {
    for p in "${pids[@]}"; do
      pkill -9 -P "$p" 2>/dev/null || true
      kill -9 "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
  }
  trap cleanup EXIT
  # A process of the image, as the image's user, in its WORKDIR, with a clean environment.
  chroot_bin="$(command -v chroot)"
  in_image() {  # [ENV=VALUE...] -- COMMAND ARGS...: COMMAND of the image, as its user 9999
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/var/lib/sluice "${envs[@]}" \
      "$chroot_bin" --userspec=9999:9999 "$mnt" "$@"
  }
  run_chroot() {  # ENV=... words, then the entrypoint's arguments
    local envs=()
    while [ $# -gt 0 ] && [[ "$1" == *=* ]]; do envs+=("$1"); shift; done
    in_image "${envs[@]}" -- /bin/sh -c 'cd /var/lib/sluice && exec /usr/local/bin/sluice-entrypoint "$@"' entrypoint "$@"
  }
  wait_file() {  # FILE PID: waits up to 30 s for FILE while PID lives
    for _ in $(seq 1 300); do
      [ -s "$1" ] && return 0
      kill -0 "$2" 2>/dev/null || return 1
      sleep 0.1
    done
    return 1
  }
  json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

  # Every binary starts (its shared libraries are all there), as user 9999.
  for b in sluice sluice-jobmanager sluice-taskmanager; do
    in_image -- "/usr/local/bin/$b" --help > "$work/help-$b.txt" 2>&1 \
      || fail "$b --help in the image: $(cat "$work/help-$b.txt")"
  done

  # The JobManager: free ports (SLUICE_JOBMANAGER_ADDRESS with port 0, SLUICE_SET rest.port).
  run_chroot SLUICE_JOBMANAGER_ADDRESS=127.0.0.1:0 "SLUICE_SET=rest.port=0 heartbeat.interval=200ms" \
    jobmanager --ready-file /tmp/jm.ready > "$work/jm.log" 2>&1 &
  pids+=($!)
  wait_file "$work/tmp/jm.ready" "${pids[0]}" || fail "the JobManager did not start: $(cat "$work/jm.log")"
  # (A JobManager without jobmanager.bind_host advertises 0.0.0.0: reach it on loopback.)
  jm="$(json "$work/tmp/jm.ready" rpc_address | sed 's/^0\.0\.0\.0:/127.0.0.1:/')"
  rest="$(json "$work/tmp/jm.ready" rest_address | sed 's/^0\.0\.0\.0:/127.0.0.1:/')"
  log "JobManager from the image: rpc $jm, rest $rest"

  # Two TaskManagers. TaskManager 0 as deploy/k8s starts one: a configuration file in ARGS
  # (3 slots, its host) that the entrypoint must not override. TaskManager 1 with no file:
  # 2 slots, advertising the address the entrypoint resolves from the host name (or
  # SLUICE_TASKMANAGER_HOST where the host name does not resolve).
  printf 'taskmanager:\n  host: 127.0.0.1\n  slots: 3\n' > "$work/home/tm0.yaml"
  chmod 644 "$work/home/tm0.yaml"
  run_chroot SLUICE_JOBMANAGER_ADDRESS="$jm" \
    taskmanager --config /var/lib/sluice/tm0.yaml --ready-file /tmp/tm0.ready \
    --set taskmanager.port=0 > "$work/tm0.log" 2>&1 &
  pids+=($!)
  tm_host_env=()
  if ! getent hosts "$(cat /proc/sys/kernel/hostname)" > /dev/null; then
    tm_host_env=(SLUICE_TASKMANAGER_HOST=127.0.0.1)
  fi
  run_chroot SLUICE_JOBMANAGER_ADDRESS="$jm" "${tm_host_env[@]}" \
    taskmanager --ready-file /tmp/tm1.ready --set taskmanager.port=0 --set taskmanager.slots=2 \
    > "$work/tm1.log" 2>&1 &
  pids+=($!)
  wait_file "$work/tmp/tm0.ready" "${pids[1]}" || fail "TaskManager 0 did not start: $(cat "$work/tm0.log")"
  wait_file "$work/tmp/tm1.ready" "${pids[2]}" || fail "TaskManager 1 did not start: $(cat "$work/tm1.log")"

  # The dashboard (compiled into the JobManager) is served, and both TaskManagers registered.
  python3 - "$rest" <<'EOF' || fail "REST checks (dashboard, 2 TaskManagers, 5 slots) failed"
import json, sys, time, urllib.request
base = "http://" + sys.argv[1]
page = urllib.request.urlopen(base + "/", timeout=10).read().decode()
assert "<html" in page.lower(), "GET / is not the dashboard: " + page[:200]
deadline = time.time() + 30
while True:
    overview = json.load(urllib.request.urlopen(base + "/v1/overview", timeout=10))
    if overview["taskmanagers"]["alive"] == 2 or time.time() > deadline:
        break
    time.sleep(0.1)
assert overview["taskmanagers"]["alive"] == 2, overview
assert overview["slots"]["total"] == 5, overview  # 3 from TaskManager 0's file + 2
EOF

  # The job: N sequence rows, keyed sums across both TaskManagers, written as JSON lines.
  cat > "$work/home/job.yaml" <<'EOF'
name: image-smoke
parallelism: 4
sources:
  - name: gen
    connector: datagen
    count: 200000
    seed: 7
    schema: {g: int64}
    fields: {g: {kind: sequence, min: 0, max: 1000000000}}
operators:
  - name: keyed
    input: gen
    select: {k: "g % 97", v: "(g * 7919) % 1000", g: "g"}
  - name: kept
    input: keyed
    filter: "g % 5 <> 0"
  - name: per_key
    input: kept
    key_by: [k]
    aggregate: {n: "count(*)", total: "sum(v)", top: "max(v)"}
sinks:
  - {name: out, input: per_key, connector: file, path: out, format: json}
EOF
  chmod 644 "$work/home/job.yaml"
  run_chroot SLUICE_JOBMANAGER_ADDRESS="$jm" cli run /var/lib/sluice/job.yaml > "$work/run.log" 2>&1 \
    || fail "sluice run in the image: $(cat "$work/run.log")
JobManager log: $(tail -30 "$work/jm.log")"
  log "job finished: $(tail -1 "$work/run.log")"

  python3 - "$work/home/out" <<'EOF' || fail "the job's output differs from the reference"
import json, os, sys
out = sys.argv[1]
ref = {}
for g in range(200000):
    if g % 5 == 0:
        continue
    k, v = g % 97, (g * 7919) % 1000
    n, total, top = ref.get(k, (0, 0, -1))
    ref[k] = (n + 1, total + v, max(top, v))
parts = sorted(os.listdir(out))
assert parts == ["part-%d.json" % i for i in range(4)], parts
seen, last, rows = {}, {}, 0
for p in parts:
    for line in open(os.path.join(out, p)):
        row = json.loads(line)
        k, n = row["k"], row["n"]
        assert n not in seen.setdefault(k, set()), ("duplicate update", k, n)
        seen[k].add(n)
        if n > last.get(k, (0,))[0]:
            last[k] = (n, row["total"], row["top"])
        rows += 1
expected_rows = sum(r[0] for r in ref.values())
assert rows == expected_rows, (rows, expected_rows)
assert last == ref, "final aggregates differ"
print("image_test: %d rows, %d keys match the reference" % (rows, len(ref)))
EOF
  exit 0
fi

# ---------------------------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v podman > /dev/null || ! command -v debootstrap > /dev/null; then
  echo "image_test: skipped: needs root, podman and debootstrap (scripts/install-deps.sh)"
  exit 77
fi
for tool in python3 unshare chroot; do
  command -v "$tool" > /dev/null || fail "$tool is missing"
done

# Part 1: build (SLUICE_IMAGE_TEST_NO_BUILD=1 tests an image that exists).
start=$(date +%s)
[ -n "${SLUICE_IMAGE_TEST_NO_BUILD:-}" ] || IMAGE="$image" JOBS="${JOBS:-2}" \
  BUILD_DIR="${SLUICE_IMAGE_BUILD_DIR:-build}" bash "$src/scripts/build-image.sh" > "${TMPDIR:-/tmp}/sluice-image-build.log" 2>&1 \
  || { tail -40 "${TMPDIR:-/tmp}/sluice-image-build.log"; fail "the image did not build"; }
[ -n "${SLUICE_IMAGE_TEST_NO_BUILD:-}" ] \
  || grep -E "^(base-image|build-image|ccache in)" "${TMPDIR:-/tmp}/sluice-image-build.log" || true
log "image built in $(( $(date +%s) - start ))s; size $(podman image inspect --format '{{.Size}}' "$image") bytes"

# Part 2: configuration and contents.
[ "$(podman image inspect --format '{{.Config.User}}' "$image")" = "9999:9999" ] || fail "USER is not 9999:9999"
[ "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$image")" = '["/usr/local/bin/sluice-entrypoint"]' ] \
  || fail "unexpected ENTRYPOINT"
ports="$(podman image inspect --format '{{json .Config.ExposedPorts}}' "$image")"
for p in 6123 8081 6124; do [[ "$ports" == *"\"$p/tcp\""* ]] || fail "port $p not exposed: $ports"; done

work="$(mktemp -d "${TMPDIR:-/tmp}/sluice-image-test.XXXXXX")"
mnt="$(podman image mount "$image")"
finish() {
  podman image unmount "$image" > /dev/null 2>&1 || true
  if [ -z "${SLUICE_IMAGE_TEST_KEEP:-}" ]; then rm -rf "$work"; else echo "image_test: kept $work"; fi
}
trap finish EXIT

for b in sluice sluice-jobmanager sluice-taskmanager sluice-entrypoint; do
  [ -x "$mnt/usr/local/bin/$b" ] || fail "/usr/local/bin/$b missing in the image"
done
grep -q '^sluice:x:9999:9999:' "$mnt/etc/passwd" || fail "no user sluice (9999) in the image"
for f in usr/bin/g++ usr/bin/gcc usr/bin/cc usr/bin/c++ usr/bin/cpp usr/bin/ld usr/bin/as \
         usr/bin/cmake usr/bin/ninja usr/bin/make usr/bin/ccache usr/bin/protoc \
         usr/bin/grpc_cpp_plugin src "${src#/}"; do
  if [ -e "$mnt/$f" ] || [ -L "$mnt/$f" ]; then fail "the runtime image holds /$f"; fi
done
leftovers="$(find "$mnt" -xdev \( -name CMakeCache.txt -o -name build.ninja -o -name '*.o' \
  -o -name '*.a' -o -name CMakeLists.txt -o -name '*.cc' \) -print | head -5)"
[ -z "$leftovers" ] || fail "build files in the runtime image: $leftovers"
headers="$(find "$mnt/usr/include" "$mnt/usr/local/include" -type f 2>/dev/null | head -5)"
[ -z "$headers" ] || fail "headers in the runtime image: $headers"
dev_packages="$(awk '/^Package:/{p=$2} /^Status:.* installed$/{if (p ~ /-dev$/) print p}' \
  "$mnt/var/lib/dpkg/status" | head -5)"
[ -z "$dev_packages" ] || fail "-dev packages in the runtime image: $dev_packages"
log "image contents: binaries, user 9999, ports; no compiler, build tree or -dev package"

# Part 3 in a private mount namespace (its mounts vanish with it).
mkdir -p "$work/tmp" "$work/home"
chmod 1777 "$work/tmp"
chown 9999:9999 "$work/home"
start=$(date +%s)
unshare --mount --propagation private bash "$0" --inside "$mnt" "$work"
log "cluster from the image ran the job correctly in $(( $(date +%s) - start ))s"
