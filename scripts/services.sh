#!/usr/bin/env bash
# Start/stop throwaway Redis and Postgres servers from Debian's packages, on
# loopback only, for the generated projects' tests and containers.
#   scripts/services.sh start [redis|postgres|all]   # prints export lines (eval-able)
#   scripts/services.sh stop  [redis|postgres|all]
#   scripts/services.sh kill  [redis|postgres|all]  # crash it: SIGKILL (Redis), immediate abort (Postgres)
#   scripts/services.sh env                          # prints REDIS_URL / DATABASE_URL
#   scripts/services.sh status
# Ports: REDIS_PORT (18379), PG_PORT (18332); data under SERVICES_DIR
# (/tmp/cas-services). Idempotent: start on a running server is a no-op.
# SERVICES_DURABLE=1: every acknowledged write survives a crash (Postgres fsync and
# synchronous commit on, Redis append-only file fsynced on every write), for fault
# tests that kill the store; the default trades that for speed.
set -euo pipefail

REDIS_PORT="${REDIS_PORT:-18379}"
PG_PORT="${PG_PORT:-18332}"
DIR="${SERVICES_DIR:-/tmp/cas-services}"
DURABLE="${SERVICES_DURABLE:-0}"
PG_USER=agent
PG_DB=agent
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
DATABASE_URL="postgresql://$PG_USER@127.0.0.1:$PG_PORT/$PG_DB"

log() { printf '[services] %s\n' "$*" >&2; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [[ -n $d ]] || { echo "services: postgresql is not installed (apt-get install postgresql)" >&2; exit 1; }
  printf '%s' "$d"
}

# Postgres refuses to run as root: run its tools as the postgres user.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

redis_running() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; }
pg_running() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; }

start_redis() {
  command -v redis-server >/dev/null || { echo "services: redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
  if redis_running; then log "redis already up on 127.0.0.1:$REDIS_PORT"; return; fi
  mkdir -p "$DIR/redis"
  local persistence=(--appendonly no)
  [[ $DURABLE == 1 ]] && persistence=(--appendonly yes --appendfsync always)
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --daemonize yes \
    --save '' "${persistence[@]}" --dir "$DIR/redis" --pidfile "$DIR/redis/redis.pid" \
    --logfile "$DIR/redis/redis.log" >/dev/null
  for _ in $(seq 1 50); do redis_running && break; sleep 0.1; done
  redis_running || { tail -n 20 "$DIR/redis/redis.log" >&2; echo "services: redis did not start" >&2; exit 1; }
  log "redis up on 127.0.0.1:$REDIS_PORT$([[ $DURABLE == 1 ]] && echo ' (durable: appendfsync always)')"
}

kill_redis() {
  local pid
  pid=$(cat "$DIR/redis/redis.pid" 2>/dev/null || true)
  if [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$DIR/redis/redis.pid"
    log "redis killed (SIGKILL)"
  fi
}

stop_redis() {
  if redis_running; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    log "redis stopped"
  fi
}

start_pg() {
  local bin data
  bin=$(pg_bin)
  data="$DIR/postgres"
  if pg_running; then log "postgres already up on 127.0.0.1:$PG_PORT"; return; fi
  mkdir -p "$DIR"
  if [[ ! -s $data/PG_VERSION ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$data"; fi
    chmod 700 "$data"
    as_pg "$bin/initdb" -D "$data" -U "$PG_USER" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || as_pg "$bin/initdb" -D "$data" -U "$PG_USER" --auth=trust --encoding=UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
  fi
  # Loopback TCP only; the unix socket lives in the data dir (not /run/postgresql).
  local persistence="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [[ $DURABLE == 1 ]] && persistence="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $data $persistence" \
    start >/dev/null
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc "select 1 from pg_database where datname='$PG_DB'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  fi
  log "postgres up on 127.0.0.1:$PG_PORT (database $PG_DB, user $PG_USER, trust auth)"
}

# An immediate abort: no checkpoint, the next start replays the WAL (as after a crash).
kill_pg() {
  local data="$DIR/postgres"
  if [[ -s $data/postmaster.pid ]]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    log "postgres killed (immediate abort)"
  fi
}

stop_pg() {
  local data="$DIR/postgres"
  if [[ -s $data/postmaster.pid ]]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    log "postgres stopped"
  fi
}

print_env() {
  case "$1" in
    redis) echo "export REDIS_URL=$REDIS_URL" ;;
    postgres) echo "export DATABASE_URL=$DATABASE_URL" ;;
    all) echo "export REDIS_URL=$REDIS_URL"; echo "export DATABASE_URL=$DATABASE_URL" ;;
  esac
}

cmd="${1:-}"
what="${2:-all}"
case "$what" in redis | postgres | all) ;; *) echo "services: unknown service '$what' (redis, postgres, all)" >&2; exit 2 ;; esac
case "$cmd" in
  start)
    [[ $what == redis || $what == all ]] && start_redis
    [[ $what == postgres || $what == all ]] && start_pg
    print_env "$what"
    ;;
  stop)
    [[ $what == redis || $what == all ]] && stop_redis
    [[ $what == postgres || $what == all ]] && stop_pg
    true
    ;;
  kill)
    [[ $what == redis || $what == all ]] && kill_redis
    [[ $what == postgres || $what == all ]] && kill_pg
    true
    ;;
  env) print_env "$what" ;;
  status)
    redis_running && echo "redis: up ($REDIS_URL)" || echo "redis: down"
    pg_running && echo "postgres: up ($DATABASE_URL)" || echo "postgres: down"
    ;;
  *) echo "usage: scripts/services.sh start|stop|kill|env|status [redis|postgres|all]" >&2; exit 2 ;;
esac
