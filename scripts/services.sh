#!/usr/bin/env bash
# Starts, stops and reports the real services the app's service-backed tests run against, on loopback
# and without Docker: a PostgreSQL primary, a streaming hot standby of it, redis and the moto AWS
# emulator. The interface (ports, .services/env and its variables) is fixed by docs/CONTRACT.md,
# "Local services for tests". Install the binaries first with scripts/install-services.sh.
#
# State (data, pidfiles, logs) lives under $SERVICES_DIR (default /tmp/zero-to-millions-services).
# $SERVICES_TIMEOUT (default 60) bounds, in seconds, each wait for a service to become ready.
#
# Sharding: the primary is physical shard 0; shard1 and shard2 are two more PostgreSQL instances (each
# its own initdb, ports 55434 and 55435, or $SERVICES_SHARD1_PORT / $SERVICES_SHARD2_PORT), exported as
# TEST_DATABASE_SHARD_URLS. `start shards` starts only those two.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO_ROOT
readonly ENV_FILE=$REPO_ROOT/.services/env
# Absolute, because PostgreSQL's tools run from / (see pg) and the script re-runs itself (run_locked).
STATE_DIR=$(realpath -m "${SERVICES_DIR:-/tmp/zero-to-millions-services}")
readonly STATE_DIR
readonly TIMEOUT=${SERVICES_TIMEOUT:-60}
readonly HOST=127.0.0.1
# Ports and credentials, shared with docker-compose.yml.
# shellcheck source=../.env
source "$REPO_ROOT/.env"

# PostgreSQL refuses to run as root, so everything under PG_DIR belongs to the postgres user.
readonly PG_DIR=$STATE_DIR/postgres
readonly PG_SOCKET_DIR=$PG_DIR/run
readonly PRIMARY_DATA=$PG_DIR/primary
readonly REPLICA_DATA=$PG_DIR/replica
readonly SHARD1_DATA=$PG_DIR/shard1
readonly SHARD2_DATA=$PG_DIR/shard2
readonly REDIS_DIR=$STATE_DIR/redis
readonly MOTO_DIR=$STATE_DIR/moto

readonly SERVICES=(postgres replica shard1 shard2 redis moto) # start order; stop goes in reverse
readonly SHARDS=(shard1 shard2)
declare -rA PORT=(
  [postgres]=$LOCAL_POSTGRES_PORT [replica]=$LOCAL_REPLICA_PORT [redis]=$LOCAL_REDIS_PORT [moto]=$LOCAL_MOTO_PORT
  [shard1]=${SERVICES_SHARD1_PORT:-55434} [shard2]=${SERVICES_SHARD2_PORT:-55435}
)
declare -rA DATA=([shard1]=$SHARD1_DATA [shard2]=$SHARD2_DATA)
declare -rA LOG=(
  [postgres]=$PG_DIR/primary.log [replica]=$PG_DIR/replica.log
  [shard1]=$PG_DIR/shard1.log [shard2]=$PG_DIR/shard2.log
  [redis]=$REDIS_DIR/redis.log [moto]=$MOTO_DIR/moto.log
)
# The first line of a pidfile is the pid; postmaster.pid follows that convention too.
declare -rA PIDFILE=(
  [postgres]=$PRIMARY_DATA/postmaster.pid [replica]=$REPLICA_DATA/postmaster.pid
  [shard1]=$SHARD1_DATA/postmaster.pid [shard2]=$SHARD2_DATA/postmaster.pid
  [redis]=$REDIS_DIR/redis.pid [moto]=$MOTO_DIR/moto.pid
)
# A word of the process's command line, so that a stale pidfile whose pid was reused does not count.
declare -rA PROCESS=(
  [postgres]=bin/postgres [replica]=bin/postgres [shard1]=bin/postgres [shard2]=bin/postgres
  [redis]=redis-server [moto]=moto.server
)

log() { echo "services: $*"; }
die() {
  echo "services: error: $*" >&2
  exit 1
}

usage() {
  echo "usage: scripts/services.sh start|stop|restart|status [postgres|replica|shard1|shard2|shards|redis|moto|all]"
  echo "       scripts/services.sh env   (prints what start writes to .services/env; starts nothing)"
  echo "  start writes $ENV_FILE; stop all removes it."
}

usage_error() {
  echo "services: $*" >&2
  usage >&2
  exit 2
}

# --- processes ---------------------------------------------------------------------------------------

# Prints the pid of NAME if it is running.
service_pid() {
  local name=$1 pid
  [[ -r ${PIDFILE[$name]} ]] || return 1
  read -r pid <"${PIDFILE[$name]}" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  grep -qaF -- "${PROCESS[$name]}" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# Logs are appended to across starts (history helps when a service died during a test run), so a
# failed start shows only what its own attempt logged: from the size the log had before it.
declare -A LOG_OFFSET=()
mark_log() { LOG_OFFSET[$1]=$(stat -c %s "${LOG[$1]}" 2>/dev/null || echo 0); }

start_failed() {
  local name=$1 reason=$2
  echo "services: error: $name (port ${PORT[$name]}) $reason; log: ${LOG[$name]}" >&2
  [[ -r ${LOG[$name]} ]] &&
    tail -c "+$((${LOG_OFFSET[$name]:-0} + 1))" "${LOG[$name]}" | tail -n 20 | sed 's/^/  | /' >&2
  exit 1
}

# True if PID exists and is not a zombie (a dead process not yet reaped keeps its /proc entry).
alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) } # the state follows "(command name) "
  [[ ${stat%% *} != Z ]]
}

# Polls the command given after NAME until it succeeds; fails at once if NAME's process died (its log
# says why) and after $TIMEOUT seconds otherwise. Liveness is judged by pid alone: a process just
# spawned may not have exec'd its program yet, so service_pid's command-line check would miss it.
wait_ready() {
  local name=$1 deadline=$((SECONDS + TIMEOUT)) pid
  shift
  read -r pid <"${PIDFILE[$name]}"
  until "$@" >/dev/null 2>&1; do
    alive "$pid" || start_failed "$name" "exited while starting"
    ((SECONDS < deadline)) || start_failed "$name" "was not ready after ${TIMEOUT}s"
    sleep 0.2
  done
}

# Runs a command detached in its own session, so that it outlives this script and signals sent to the
# caller's process group (Ctrl-C, a CI step's cleanup). A non-interactive shell's background job is no
# process group leader, so setsid needs no fork and $! is the service's own pid.
spawn() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"${LOG[$name]}" 2>&1 &
  echo "$!" >"${PIDFILE[$name]}"
}

# SIGTERM, then SIGKILL if the process is still there after 10 seconds.
kill_service() {
  local name=$1 pid=$2 deadline=$((SECONDS + 10))
  kill "$pid" 2>/dev/null || true
  while service_pid "$name" >/dev/null; do
    ((SECONDS < deadline)) || kill -KILL "$pid" 2>/dev/null || true
    sleep 0.1
  done
  rm -f "${PIDFILE[$name]}"
}

# --- PostgreSQL ----------------------------------------------------------------------------------------

# Debian installs each major under /usr/lib/postgresql/<major>/bin; use the newest one present.
newest_pg_bindir() {
  local initdb
  initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  [[ -x $initdb ]] && dirname "$initdb"
}
PG_BIN=$(newest_pg_bindir) || PG_BIN=
readonly PG_BIN

# Runs a PostgreSQL tool as the postgres user, from / so that it has a working directory it may read.
pg() {
  [[ -n $PG_BIN ]] || die "no PostgreSQL under /usr/lib/postgresql; run scripts/install-services.sh"
  local tool=$1
  shift
  (cd / && runuser -u postgres -- "$PG_BIN/$tool" "$@")
}

# Superuser session over the unix socket (peer authentication: no password needed).
psql_admin() {
  local port=$1
  shift
  pg psql -X -q -At -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$port" -U postgres -d postgres "$@"
}

prepare_pg_dirs() {
  mkdir -p "$PG_SOCKET_DIR"
  chown postgres:postgres "$PG_DIR" "$PG_SOCKET_DIR"
  (cd / && runuser -u postgres -- test -w "$PG_SOCKET_DIR") ||
    die "the postgres user cannot write $PG_SOCKET_DIR; put SERVICES_DIR where it can"
}

# Settings appended after initdb's, so they win; the replica inherits them with its base backup.
append_primary_settings() {
  cat >>"$1/postgresql.conf" <<EOF

# --- scripts/services.sh ---
port = ${2:-${PORT[postgres]}}
listen_addresses = '$HOST'
unix_socket_directories = '$PG_SOCKET_DIR'
wal_level = replica
max_wal_senders = 5
# Lets a replica that tests stopped for a while catch up when it is started again.
wal_keep_size = '256MB'
hot_standby = on
# Throwaway test data: durability is not worth the fsyncs. synchronous_commit stays on: without fsync
# it costs next to nothing, and it sends each commit to the replica at once rather than on the WAL
# writer's next round (up to 200ms later), which keeps replica lag small for read-after-write tests.
fsync = off
EOF
}

write_pg_hba() {
  cat >"$1/pg_hba.conf" <<EOF
# TYPE  DATABASE     USER        ADDRESS       METHOD
local   all          postgres                  peer
host    all          all         $HOST/32  scram-sha-256
host    replication  $LOCAL_REPLICATION_USER  $HOST/32  scram-sha-256
EOF
}

# initdb into a scratch directory that is renamed only once configured, so an interrupted first start
# leaves nothing half-made behind.
init_primary() {
  local scratch=$PRIMARY_DATA.new
  log "postgres: initdb $PRIMARY_DATA (PostgreSQL $(basename "$(dirname "$PG_BIN")"))"
  rm -rf "$scratch" "$REPLICA_DATA" # a replica of an older primary cannot follow a new one
  pg initdb -D "$scratch" -U postgres -E UTF8 --no-locale --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  append_primary_settings "$scratch"
  write_pg_hba "$scratch"
  mv "$scratch" "$PRIMARY_DATA"
}

# Idempotent, and run on every start of the primary, so a first start interrupted after initdb is
# completed by the next one. The database's owner may create tables in its public schema.
provision_primary() {
  # Names and passwords go in as psql variables (:'x' quotes a literal, :"x" an identifier); \gexec
  # runs the statements the SELECTs build.
  psql_admin "${1:-${PORT[postgres]}}" -v user="$LOCAL_DB_USER" -v password="$LOCAL_DB_PASSWORD" \
    -v replicator="$LOCAL_REPLICATION_USER" -v replicator_password="$LOCAL_REPLICATION_PASSWORD" \
    -v db="$LOCAL_DB_NAME" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user')
\gexec
-- The password-rotation test creates (and drops) a throwaway login role of its own.
ALTER ROLE :"user" CREATEROLE;
SELECT format('CREATE ROLE %I LOGIN REPLICATION PASSWORD %L', :'replicator', :'replicator_password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'replicator')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
SQL
  # The cross-region cache test pauses the replica's replay for a moment (function privileges are
  # per database, and the replica replays this grant). On the instance just provisioned: a shard
  # started alone must not need the primary.
  psql_admin "${1:-${PORT[postgres]}}" -d "$LOCAL_DB_NAME" -v user="$LOCAL_DB_USER" <<'SQL'
GRANT EXECUTE ON FUNCTION pg_wal_replay_pause(), pg_wal_replay_resume() TO :"user";
SQL
}

# -R writes primary_conninfo (with the password given here) and standby.signal into the copy.
clone_replica() {
  local scratch=$REPLICA_DATA.new
  log "replica: pg_basebackup from $HOST:${PORT[postgres]}"
  rm -rf "$scratch"
  pg pg_basebackup -D "$scratch" -R -X stream -c fast \
    -d "host=$HOST port=${PORT[postgres]} user=$LOCAL_REPLICATION_USER password=$LOCAL_REPLICATION_PASSWORD application_name=replica"
  echo "port = ${PORT[replica]}" >>"$scratch/postgresql.conf"
  mv "$scratch" "$REPLICA_DATA"
}

pg_start() {
  local name=$1 data=$2
  pg pg_ctl -D "$data" -l "${LOG[$name]}" -w -t "$TIMEOUT" start >/dev/null ||
    start_failed "$name" "did not start (pg_ctl)"
  wait_ready "$name" "$PG_BIN/pg_isready" -q -h "$HOST" -p "${PORT[$name]}"
}

replica_streaming() {
  [[ $(psql_admin "${PORT[replica]}" -c 'SELECT status FROM pg_stat_wal_receiver') == streaming ]]
}

start_postgres() {
  prepare_pg_dirs
  [[ -d $PRIMARY_DATA ]] || init_primary
  pg_start postgres "$PRIMARY_DATA"
  provision_primary
}

# The standby is cloned from the primary and streams from it, so the primary comes up first.
start_replica() {
  service_pid postgres >/dev/null || start_service postgres
  prepare_pg_dirs
  [[ -d $REPLICA_DATA ]] || clone_replica
  pg_start replica "$REPLICA_DATA"
  wait_ready replica replica_streaming
}

# A further physical shard: a primary of its own (no replica), provisioned like the first one.
init_shard() {
  local name=$1 scratch=${DATA[$1]}.new
  log "$name: initdb ${DATA[$name]}"
  rm -rf "$scratch"
  pg initdb -D "$scratch" -U postgres -E UTF8 --no-locale --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  append_primary_settings "$scratch" "${PORT[$name]}"
  write_pg_hba "$scratch"
  mv "$scratch" "${DATA[$name]}"
}

start_shard() {
  local name=$1
  prepare_pg_dirs
  [[ -d ${DATA[$name]} ]] || init_shard "$name"
  pg_start "$name" "${DATA[$name]}"
  provision_primary "${PORT[$name]}"
}
start_shard1() { start_shard shard1; }
start_shard2() { start_shard shard2; }
stop_shard1() { pg pg_ctl -D "$SHARD1_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null; }
stop_shard2() { pg pg_ctl -D "$SHARD2_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null; }

stop_postgres() { pg pg_ctl -D "$PRIMARY_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null; }
stop_replica() { pg pg_ctl -D "$REPLICA_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null; }

# --- redis and moto ------------------------------------------------------------------------------------

# redis-cli has no timeout of its own; one hung probe must not outlast the overall wait.
redis_answers() { [[ $(timeout 2 redis-cli -h "$HOST" -p "${PORT[redis]}" ping) == PONG ]]; }

# No persistence: test data is throwaway. spawn daemonizes it rather than --daemonize, whose first
# process exits at once and leaves the daemon's pid unknown until it writes its pidfile; with the pid
# known from the start, wait_ready notices at once when it dies (e.g. the port is taken).
start_redis() {
  mkdir -p "$REDIS_DIR"
  spawn redis redis-server --bind "$HOST" --port "${PORT[redis]}" --save '' --appendonly no \
    --dir "$REDIS_DIR" --daemonize no
  wait_ready redis redis_answers
}

moto_answers() { curl -fsS -o /dev/null --max-time 2 "http://$HOST:${PORT[moto]}/moto-api/"; }

# python3 -m moto.server is what the moto_server script runs; the module form does not depend on
# pyenv's shims having been rehashed after pip installed moto.
start_moto() {
  mkdir -p "$MOTO_DIR"
  spawn moto python3 -u -m moto.server -H "$HOST" -p "${PORT[moto]}"
  wait_ready moto moto_answers
}

stop_redis() { kill_service redis "$1"; }
stop_moto() { kill_service moto "$1"; }

# --- commands ------------------------------------------------------------------------------------------

# True if something accepts connections on PORT (bash's /dev/tcp connects; nothing is sent).
port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

start_service() {
  local name=$1 pid
  if pid=$(service_pid "$name"); then
    log "$name: already running (pid $pid)"
    return
  fi
  # Otherwise the readiness probe would be answered by that other process (e.g. one left running
  # when its state directory was deleted) and a service that failed to start would pass for ready.
  port_in_use "${PORT[$name]}" &&
    die "$name: port ${PORT[$name]} is taken by a process not started from $STATE_DIR; stop it first"
  mark_log "$name"
  "start_$name"
  log "$name: ready on $HOST:${PORT[$name]} (pid $(service_pid "$name"))"
}

stop_service() {
  local name=$1 pid
  if ! pid=$(service_pid "$name"); then
    log "$name: not running"
    return
  fi
  "stop_$name" "$pid"
  log "$name: stopped"
}

status_service() {
  local name=$1 state=running pid
  pid=$(service_pid "$name") || state=stopped pid=-
  printf '%-8s %-7s port %-5s pid %s\n' "$name" "$state" "${PORT[$name]}" "$pid"
}

# Written whole and renamed, so a test run reading it never sees half a file. AWS_DEFAULT_REGION is for
# Python's boto3 (handy for poking at moto), which does not read AWS_REGION.
env_lines() {
  local login="$LOCAL_DB_USER:$LOCAL_DB_PASSWORD"
  cat <<EOF
export TEST_DATABASE_URL=postgres://$login@$HOST:${PORT[postgres]}/$LOCAL_DB_NAME
export TEST_DATABASE_READ_URLS=postgres://$login@$HOST:${PORT[replica]}/$LOCAL_DB_NAME
export TEST_DATABASE_SHARD_URLS=postgres://$login@$HOST:${PORT[shard1]}/$LOCAL_DB_NAME,postgres://$login@$HOST:${PORT[shard2]}/$LOCAL_DB_NAME
export TEST_REDIS_URL=redis://$HOST:${PORT[redis]}
export TEST_AWS_ENDPOINT_URL=http://$HOST:${PORT[moto]}
export AWS_ACCESS_KEY_ID=$LOCAL_AWS_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$LOCAL_AWS_SECRET_ACCESS_KEY
export AWS_REGION=$LOCAL_AWS_REGION
export AWS_DEFAULT_REGION=$LOCAL_AWS_REGION
EOF
}

write_env_file() {
  mkdir -p "$(dirname "$ENV_FILE")"
  env_lines >"$ENV_FILE.new"
  mv "$ENV_FILE.new" "$ENV_FILE"
}

start_all() {
  local name
  for name; do start_service "$name"; done
  write_env_file
}

stop_all() {
  local i
  for ((i = $#; i >= 1; i--)); do stop_service "${!i}"; done
}

# Two callers starting or stopping at once (parallel test runs) would race on the same data
# directories, so the script re-runs itself under flock(1), which queues them. flock holds the lock
# itself and -o keeps its descriptor from the script: the services started would otherwise inherit it
# and keep the lock taken for as long as they run. Every wait inside is bounded, so a holder lets go.
run_locked() {
  mkdir -p "$STATE_DIR"
  SERVICES_SH_LOCKED=1 exec flock -o "$STATE_DIR/.lock" "$BASH" "${BASH_SOURCE[0]}" "$@"
}

main() {
  case ${1:-} in
    -h | --help) usage && exit 0 ;;
    env) env_lines && exit 0 ;;
    start | stop | restart | status) ;;
    '') usage_error "missing command" ;;
    *) usage_error "unknown command '$1'" ;;
  esac
  (($# <= 2)) || usage_error "unexpected argument '$3'"
  local command=$1 target=${2:-all} services
  case $target in
    all) services=("${SERVICES[@]}") ;;
    postgres | replica | shard1 | shard2 | redis | moto) services=("$target") ;;
    shards) services=("${SHARDS[@]}") ;;
    *) usage_error "unknown service '$target'" ;;
  esac

  if [[ $command == status ]]; then
    local name
    for name in "${services[@]}"; do status_service "$name"; done
    return
  fi
  if [[ -n ${SERVICES_SH_LOCKED:-} ]]; then
    unset SERVICES_SH_LOCKED # not to be inherited by the services
  else
    run_locked "$@"
  fi
  case $command in
    start) start_all "${services[@]}" ;;
    stop) stop_all "${services[@]}" ;;
    restart) stop_all "${services[@]}" && start_all "${services[@]}" ;;
  esac
  if [[ $command == stop && $target == all ]]; then rm -f "$ENV_FILE"; fi
}

main "$@"
