#!/usr/bin/env bash
# Starts, stops and reports the AWS emulator that the localstack stack and its integration suite
# (test/integration) deploy to, on loopback: moto server (from PyPI, free) or LocalStack (Docker;
# recent versions need LOCALSTACK_AUTH_TOKEN, passed through when set).
#
#   scripts/emulator.sh start|stop|status [moto|localstack]
#
# The emulator is the argument, else $EMULATOR, else moto. It answers on 127.0.0.1:$EMULATOR_PORT
# (default 4566, LocalStack's port, so AWS_ENDPOINT_URL's default fits both); `start` prints the
# variables the suite reads. State (pidfile, log) lives under $EMULATOR_DIR (default
# /tmp/zero-to-millions-emulator); give each concurrent user (a test run, a CI job) its own.
set -euo pipefail

readonly HOST=127.0.0.1
readonly PORT=${EMULATOR_PORT:-4566}
readonly STATE_DIR=${EMULATOR_DIR:-/tmp/zero-to-millions-emulator}
readonly TIMEOUT=${EMULATOR_TIMEOUT:-90}
readonly MOTO_REQUIREMENT='moto[server]>=5,<6'
readonly LOCALSTACK_IMAGE=${LOCALSTACK_IMAGE:-localstack/localstack:latest}
readonly LOCALSTACK_CONTAINER=zero-to-millions-localstack-$PORT
readonly MOTO_PIDFILE=$STATE_DIR/moto-$PORT.pid
readonly MOTO_LOG=$STATE_DIR/moto-$PORT.log

log() { echo "emulator: $*"; }
die() {
  echo "emulator: error: $*" >&2
  exit 1
}

usage() {
  echo "usage: scripts/emulator.sh start|stop|status [moto|localstack]" >&2
  exit 2
}

endpoint() { echo "http://$HOST:$PORT"; }

answers() { curl -fs -o /dev/null --max-time 2 "$1"; }

# Polls URL until it answers, for at most $TIMEOUT seconds; gives up at once when the command
# given after it (a liveness check) fails.
wait_for() {
  local url=$1 deadline=$((SECONDS + TIMEOUT))
  shift
  until answers "$url"; do
    "$@" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

print_env() {
  log "$1 answers at $(endpoint); for the integration suite:"
  echo "export AWS_ENDPOINT_URL=$(endpoint) EMULATOR=$1"
}

# Prints the pid of the moto this script started on $PORT, if it runs.
moto_pid() {
  local pid
  [[ -r $MOTO_PIDFILE ]] || return 1
  read -r pid <"$MOTO_PIDFILE"
  grep -qaF moto.server "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

start_moto() {
  if moto_pid >/dev/null; then
    print_env moto
    return
  fi
  if ! python3 -c 'import moto.server' 2>/dev/null; then
    log "installing $MOTO_REQUIREMENT with pip"
    python3 -m pip install --quiet "$MOTO_REQUIREMENT"
  fi
  mkdir -p "$STATE_DIR"
  # The stack's ECS execution role attaches an AWS-managed policy, which moto loads only when asked;
  # certificates are issued at once instead of after moto's default minute.
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=0 \
    setsid python3 -u -m moto.server -H "$HOST" -p "$PORT" </dev/null >>"$MOTO_LOG" 2>&1 &
  local pid=$!
  echo "$pid" >"$MOTO_PIDFILE"
  # Liveness is the pid itself: until setsid has exec'd python, its command line does not name moto
  # yet, and on a busy machine the first probe can come before that.
  wait_for "$(endpoint)/moto-api/data.json" kill -0 "$pid" || {
    tail -n 20 "$MOTO_LOG" >&2
    die "moto did not start at $(endpoint); log: $MOTO_LOG"
  }
  print_env moto
}

# Says "stopped" only once the process is gone (a busy machine can take seconds to unwind moto),
# and fails after $TIMEOUT seconds rather than claim it.
stop_moto() {
  local pid deadline=$((SECONDS + TIMEOUT))
  if pid=$(moto_pid); then
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do
      ((SECONDS < deadline)) || die "moto (pid $pid) did not stop within ${TIMEOUT}s"
      sleep 0.1
    done
    log "moto stopped"
  fi
  rm -f "$MOTO_PIDFILE"
}

require_docker() {
  command -v docker >/dev/null || die "LocalStack runs in Docker, which is not installed; use moto instead (scripts/emulator.sh start moto)"
  docker info >/dev/null 2>&1 || die "the Docker daemon does not answer (docker info); start it, or use moto instead"
}

start_localstack() {
  require_docker
  if [[ -z ${LOCALSTACK_AUTH_TOKEN:-} ]]; then
    log "LOCALSTACK_AUTH_TOKEN is not set: recent LocalStack images refuse to start without one"
  fi
  if ! docker container inspect "$LOCALSTACK_CONTAINER" >/dev/null 2>&1; then
    # Only the loopback port is published; the token goes in from the environment, never argv.
    docker run --detach --name "$LOCALSTACK_CONTAINER" --publish "$HOST:$PORT:4566" \
      --env LOCALSTACK_AUTH_TOKEN "$LOCALSTACK_IMAGE" >/dev/null
  fi
  wait_for "$(endpoint)/_localstack/health" localstack_running || {
    docker logs --tail 20 "$LOCALSTACK_CONTAINER" >&2 || true
    die "LocalStack did not start at $(endpoint)"
  }
  print_env localstack
}

localstack_running() {
  [[ $(docker container inspect --format '{{.State.Running}}' "$LOCALSTACK_CONTAINER" 2>/dev/null) == true ]]
}

stop_localstack() {
  require_docker
  if docker container inspect "$LOCALSTACK_CONTAINER" >/dev/null 2>&1; then
    docker rm --force "$LOCALSTACK_CONTAINER" >/dev/null
    log "LocalStack stopped"
  fi
}

status() {
  local emulator=$1 probe
  [[ $emulator == moto ]] && probe=/moto-api/data.json || probe=/_localstack/health
  if answers "$(endpoint)$probe"; then
    log "$emulator answers at $(endpoint)"
  else
    log "$emulator does not answer at $(endpoint)"
    return 1
  fi
}

main() {
  (($# >= 1 && $# <= 2)) || usage
  local command=$1 emulator=${2:-${EMULATOR:-moto}}
  [[ $emulator == moto || $emulator == localstack ]] || usage
  case $command in
    start | stop) "${command}_${emulator}" ;;
    status) status "$emulator" ;;
    *) usage ;;
  esac
}

main "$@"
