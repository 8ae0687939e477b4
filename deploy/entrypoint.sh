#!/bin/sh
# The entrypoint of the Sluice container image (deploy/Dockerfile): one image, three roles.
#
#   jobmanager [ARGS...]   sluice-jobmanager, serving on all interfaces
#   taskmanager [ARGS...]  sluice-taskmanager, registering with $SLUICE_JOBMANAGER_ADDRESS
#   cli ARGS... | sluice ARGS...   the sluice CLI (run, list, info, cancel, ...)
#   help                   this text
#   anything else          executed as given (e.g. bash)
#
# Environment (all optional; ARGS come last, so an explicit --set in ARGS wins):
#   SLUICE_JOBMANAGER_ADDRESS  host[:port] of the JobManager (default port 6123). The
#       jobmanager advertises it (jobmanager.address, jobmanager.rpc.port), the taskmanager
#       connects to it, the CLI talks to it. Default: the jobmanager advertises its host
#       name, the others use localhost:6123.
#   SLUICE_TASKMANAGER_HOST    address a taskmanager advertises to the JobManager and its
#       peers (taskmanager.host; on Kubernetes the pod IP). Default: this host's address
#       (getent hosts $(hostname)).
#   SLUICE_CONFIG              configuration file (default /etc/sluice/sluice.yaml, used
#       when it exists; when SLUICE_CONFIG is set the file must exist).
#   SLUICE_SET                 extra key=value settings, separated by spaces or newlines,
#       each passed as --set key=value (values cannot contain spaces; use the file).
# The servers bind to 0.0.0.0 (jobmanager.bind_host, taskmanager.bind_host; binaries without
# these keys: the JobManager gets jobmanager.address=0.0.0.0, a TaskManager binds its
# taskmanager.host).
set -eu

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
  echo "sluice-entrypoint: $*" >&2
  exit 2
}

config="${SLUICE_CONFIG:-/etc/sluice/sluice.yaml}"
if [ -n "${SLUICE_CONFIG:-}" ] && [ ! -r "$config" ]; then
  die "SLUICE_CONFIG=$config is not a readable file"
fi

jm_host=""
jm_port="6123"
if [ -n "${SLUICE_JOBMANAGER_ADDRESS:-}" ]; then
  case "$SLUICE_JOBMANAGER_ADDRESS" in
    \[*\]:*) jm_host="${SLUICE_JOBMANAGER_ADDRESS%:*}"; jm_port="${SLUICE_JOBMANAGER_ADDRESS##*:}" ;;
    *:*:*) jm_host="$SLUICE_JOBMANAGER_ADDRESS" ;;  # a bare IPv6 address
    *:*) jm_host="${SLUICE_JOBMANAGER_ADDRESS%:*}"; jm_port="${SLUICE_JOBMANAGER_ADDRESS##*:}" ;;
    *) jm_host="$SLUICE_JOBMANAGER_ADDRESS" ;;
  esac
  case "$jm_port" in
    ''|*[!0-9]*) die "SLUICE_JOBMANAGER_ADDRESS=$SLUICE_JOBMANAGER_ADDRESS: the port must be a number" ;;
  esac
fi

# Runs BINARY with --config (when the file exists), the role's arguments (before "--"), the
# SLUICE_SET settings, then the user's ARGS (after "--"), so the last --set of a key wins.
# (POSIX sh has no arrays: each argument is taken from the front and appended at the back.)
run_server() {
  binary="$1"
  shift
  n=$#
  seen_separator=0
  while [ "$n" -gt 0 ]; do
    a="$1"
    shift
    n=$((n - 1))
    if [ "$a" = "--" ] && [ "$seen_separator" -eq 0 ]; then
      seen_separator=1
      set -f  # SLUICE_SET is split on blanks, never globbed
      for kv in ${SLUICE_SET:-}; do
        case "$kv" in
          ?*=*) set -- "$@" --set "$kv" ;;
          *) die "SLUICE_SET: '$kv' is not key=value" ;;
        esac
      done
      set +f
    else
      set -- "$@" "$a"
    fi
  done
  if [ -r "$config" ]; then
    exec "$binary" --config "$config" "$@"
  fi
  exec "$binary" "$@"
}

# Whether the binaries know configuration key $1 (bind_host came after the first image).
knows_key() {
  /usr/local/bin/sluice config-docs 2>/dev/null | grep -q "^| \`$1\` |"
}

role="${1:-help}"
[ $# -gt 0 ] && shift
case "$role" in
  jobmanager)
    host="${jm_host:-$(cat /proc/sys/kernel/hostname)}"
    if knows_key jobmanager.bind_host; then
      set -- --set jobmanager.bind_host=0.0.0.0 --set "jobmanager.address=$host" -- "$@"
    else  # binaries without bind_host: bind (and advertise) every interface
      set -- --set jobmanager.address=0.0.0.0 -- "$@"
    fi
    run_server /usr/local/bin/sluice-jobmanager --set "jobmanager.rpc.port=$jm_port" "$@"
    ;;
  taskmanager)
    tm_host="${SLUICE_TASKMANAGER_HOST:-}"
    if [ -z "$tm_host" ]; then
      name="$(cat /proc/sys/kernel/hostname)"
      tm_host="$(getent hosts "$name" | awk '{print $1; exit}')"
      [ -n "$tm_host" ] || die "cannot resolve host name '$name'; set SLUICE_TASKMANAGER_HOST"
    fi
    if knows_key taskmanager.bind_host; then
      set -- --set taskmanager.bind_host=0.0.0.0 -- "$@"
    else
      set -- -- "$@"
    fi
    run_server /usr/local/bin/sluice-taskmanager --jobmanager "${jm_host:-localhost}:$jm_port" \
      --set "taskmanager.host=$tm_host" "$@"
    ;;
  cli|sluice)
    if [ -n "$jm_host" ] && [ -z "${SLUICE_JOBMANAGER:-}" ]; then
      export SLUICE_JOBMANAGER="$jm_host:$jm_port"
    fi
    exec /usr/local/bin/sluice "$@"
    ;;
  help|-h|--help)
    usage
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
