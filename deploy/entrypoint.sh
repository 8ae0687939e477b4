#!/bin/sh
# The entrypoint of the Sluice container image (deploy/Dockerfile): one image, three roles.
#
#   jobmanager [ARGS...]   sluice-jobmanager
#   taskmanager [ARGS...]  sluice-taskmanager, registering with $SLUICE_JOBMANAGER_ADDRESS
#   cli ARGS... | sluice ARGS...   the sluice CLI (run, list, info, cancel, ...)
#   help                   this text
#   anything else          executed as given (e.g. bash)
#
# Environment (all optional). A setting comes from the environment only when its variable is
# set, so a configuration file is never overridden behind the user's back; ARGS come last, so
# an explicit --set in ARGS wins over both:
#   SLUICE_JOBMANAGER_ADDRESS  host[:port] of the JobManager. The jobmanager advertises it
#       (jobmanager.address, and jobmanager.rpc.port when a port is given), a taskmanager
#       connects to it, the CLI talks to it (port default 6123).
#   SLUICE_TASKMANAGER_HOST    address a taskmanager advertises to the JobManager and its
#       peers (taskmanager.host; on Kubernetes the pod IP).
#   SLUICE_CONFIG              configuration file (default /etc/sluice/sluice.yaml, used
#       when it exists and ARGS have no --config; when SLUICE_CONFIG is set it must exist).
#   SLUICE_SET                 extra key=value settings, separated by spaces or newlines,
#       each passed as --set key=value (values cannot contain spaces; use the file).
# Container defaults, only when there is no configuration file at all (none in ARGS, none at
# SLUICE_CONFIG or /etc/sluice/sluice.yaml): servers bind to 0.0.0.0 (jobmanager.bind_host,
# taskmanager.bind_host), the jobmanager advertises its host name and a taskmanager the
# address its host name resolves to.
set -eu

usage() {
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
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
jm_port=""
if [ -n "${SLUICE_JOBMANAGER_ADDRESS:-}" ]; then
  case "$SLUICE_JOBMANAGER_ADDRESS" in
    \[*\]:*) jm_host="${SLUICE_JOBMANAGER_ADDRESS%:*}"; jm_port="${SLUICE_JOBMANAGER_ADDRESS##*:}" ;;
    *:*:*) jm_host="$SLUICE_JOBMANAGER_ADDRESS" ;;  # a bare IPv6 address
    *:*) jm_host="${SLUICE_JOBMANAGER_ADDRESS%:*}"; jm_port="${SLUICE_JOBMANAGER_ADDRESS##*:}" ;;
    *) jm_host="$SLUICE_JOBMANAGER_ADDRESS" ;;
  esac
  case "$jm_port" in
    *[!0-9]*) die "SLUICE_JOBMANAGER_ADDRESS=$SLUICE_JOBMANAGER_ADDRESS: the port must be a number" ;;
  esac
fi

# Runs BINARY with --config (when the file exists and ARGS have none), the role's arguments
# (before "--"), the
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
  if [ "$args_config" -eq 0 ] && [ -r "$config" ]; then
    exec "$binary" --config "$config" "$@"
  fi
  exec "$binary" "$@"
}

# Whether the role's ARGS name a configuration file; whether there is any.
args_config=0
for a in "$@"; do
  case "$a" in --config|--config=*) args_config=1 ;; esac
done
has_config() {
  [ "$args_config" -eq 1 ] || [ -r "$config" ]
}

role="${1:-help}"
[ $# -gt 0 ] && shift
case "$role" in
  jobmanager)
    set -- -- "$@"
    if [ -n "$jm_port" ]; then set -- --set "jobmanager.rpc.port=$jm_port" "$@"; fi
    if [ -n "$jm_host" ]; then set -- --set "jobmanager.address=$jm_host" "$@"; fi
    if ! has_config; then
      set -- --set jobmanager.bind_host=0.0.0.0 "$@"
      if [ -z "$jm_host" ]; then
        set -- --set "jobmanager.address=$(cat /proc/sys/kernel/hostname)" "$@"
      fi
    fi
    run_server /usr/local/bin/sluice-jobmanager "$@"
    ;;
  taskmanager)
    set -- -- "$@"
    tm_host="${SLUICE_TASKMANAGER_HOST:-}"
    if [ -z "$tm_host" ] && ! has_config; then
      name="$(cat /proc/sys/kernel/hostname)"
      tm_host="$(getent hosts "$name" | awk '{print $1; exit}')"
      [ -n "$tm_host" ] || die "cannot resolve host name '$name'; set SLUICE_TASKMANAGER_HOST"
    fi
    if [ -n "$tm_host" ]; then set -- --set "taskmanager.host=$tm_host" "$@"; fi
    if ! has_config; then
      set -- --set taskmanager.bind_host=0.0.0.0 "$@"
    fi
    if [ -n "$jm_host" ] && [ -n "$jm_port" ]; then
      set -- --jobmanager "$jm_host:$jm_port" "$@"
    elif [ -n "$jm_host" ]; then  # the port from the configuration (default 6123)
      set -- --set "jobmanager.address=$jm_host" "$@"
    fi
    run_server /usr/local/bin/sluice-taskmanager "$@"
    ;;
  cli|sluice)
    if [ -n "$jm_host" ] && [ -z "${SLUICE_JOBMANAGER:-}" ]; then
      export SLUICE_JOBMANAGER="$jm_host:${jm_port:-6123}"
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
