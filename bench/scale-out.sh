#!/usr/bin/env bash
# Relay on a shared store: bash bench/scale-out.sh
#
# Publishes Relay and the harness in Release, starts a fake Anthropic upstream, a PostgreSQL server and a Redis server
# of its own (127.0.0.1, temporary folders), and measures the same load in one run against:
#   direct             the fake upstream itself (the yardstick)
#   sqlite             one Relay on SQLite (the default)
#   postgres           one Relay on PostgreSQL alone
#   postgres+redis     one Relay on PostgreSQL with Redis counters
#   postgres+redis x2  two Relays on the same PostgreSQL and Redis, the connections split evenly between them
# each with a key without limits, one key with every limit (a prepaid user, rates, concurrency, a daily budget) taking
# all the connections, where the shared store does the most work per request and every request of the key takes its
# row lock in turn, and BENCH_MANY_KEYS (16) users' keys with every limit sharing the connections, as on a station. After each configuration it stops its Relays (they write
# their last usage records on the way out) and counts the records against the requests sent.
#
# Pinning: every Relay on CPU 0; the upstream, the load client, PostgreSQL and Redis on CPU 1. Two instances share
# the one core, so the x2 row shows what coordination costs, not what a second machine would add.
#
# Settings (environment): BENCH_DURATION (default 10), BENCH_WARMUP (default 2), BENCH_CONCURRENCY (default 32),
# BENCH_RESULTS (default bench/results/<UTC time>-scale-out), BENCH_KEEP=1, BENCH_PUBLISHED (see bench/run.sh).
# Needs PostgreSQL (apt-get install postgresql) and Redis (apt-get install redis-server).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-2}"
CONCURRENCY="${BENCH_CONCURRENCY:-32}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="${BENCH_RESULTS:-$ROOT/bench/results/$STAMP-scale-out}"
UPSTREAM_KEY="bench-upstream-key"
MANY_KEYS="${BENCH_MANY_KEYS:-16}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/relay-scale-out.XXXXXX")"
chmod 755 "$WORK"
LOG_TAG=scale-out
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_traps
((CPUS_ALLOWED >= 2)) || log "warning: $PINNING"

PG_BIN="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
[[ -x $PG_BIN/postgres ]] || { log "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }
command -v redis-server >/dev/null || { log "Redis is not installed (apt-get install redis-server)"; exit 1; }
# PostgreSQL refuses to run as root.
as_postgres() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
publish_all "$ROOT"

# --- Servers -------------------------------------------------------------------------------------------------------
UP_PORT="$(pick_port)"
"${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" upstream --port "$UP_PORT" --api-key "$UPSTREAM_KEY" \
  --delay-ms 0 --events 20 --event-gap-ms 5 >"$WORK/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_ready "http://127.0.0.1:$UP_PORT/" "$UP_PID" relay-bench-upstream "fake upstream" "$WORK/upstream.log"

PG_PORT="$(pick_port "$UP_PORT")"
mkdir -p "$WORK/pg"
[[ $(id -u) == 0 ]] && chown postgres: "$WORK/pg"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg/data" -U relay -A trust -E UTF8 --no-instructions >"$WORK/initdb.log" 2>&1
# PostgreSQL's durable defaults (fsync, synchronous commit) stay on: this is what a station runs.
cat >>"$WORK/pg/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$WORK/pg'
max_connections = 300
EOF
as_postgres "${PIN_CLIENT[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w start >/dev/null
stop_postgres() { as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true; }
trap 'stop_postgres; bench_cleanup' EXIT
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') on 127.0.0.1:$PG_PORT"

REDIS_PORT="$(pick_port "$UP_PORT" "$PG_PORT")"
"${PIN_CLIENT[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
log "Redis $(redis-server --version | awk '{ sub(/^v=/, "", $3); print $3 }') on 127.0.0.1:$REDIS_PORT"

new_database() { "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U relay "$1"; echo "postgresql://relay@127.0.0.1:$PG_PORT/$1"; }

# --- Runs ----------------------------------------------------------------------------------------------------------
mkdir -p "$WORK/results"
FILES=()
FAILED_RUNS=0
RECORDS=()

# run_load NAME LABEL TARGET KEYS URL...: KEYS is one key, or several separated by spaces (one per connection in turn).
run_load() {
  local name=$1 label=$2 target=$3 keys=$4
  shift 4
  local out="$WORK/results/${name// /-}-$target.json" args=() url key
  for url in "$@"; do args+=(--url "$url"); done
  for key in $keys; do args+=(--key "$key"); done
  if ! "${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" load "${args[@]}" --label "$label" --target "$target" \
    --duration "$DURATION" --warmup "$WARMUP" --concurrency "$CONCURRENCY" --out "$out"; then
    FAILED_RUNS=$((FAILED_RUNS + 1))
  fi
  [[ -f $out ]] && FILES+=("$out")
}

# configuration NAME DATABASE REDIS INSTANCES: Relays on one store; both keys; records counted after they stop.
configuration() {
  local name=$1 database=$2 redis=$3 instances=$4 dir="$WORK/${1// /-}" i port ports=() pids=() urls=() redis_line=""
  mkdir -p "$dir"
  [[ -n $redis ]] && redis_line="\"redis\": \"$redis\","
  cat >"$dir/relay.json" <<EOF
{
  "database": "$database",
  $redis_line
  "providers": { "bench": { "type": "anthropic", "baseUrl": "http://127.0.0.1:$UP_PORT", "apiKey": "$UPSTREAM_KEY" } },
  "models": { "claude-sonnet-4-6": { "routes": ["bench/claude-sonnet-4-6"], "family": "sonnet" } }
}
EOF
  "$RELAY" migrate --config "$dir/relay.json" >/dev/null
  local key limited
  key="$(create_key "$dir/relay.json" plain)"
  "$RELAY" users create bench-user --balance 1000000 --config "$dir/relay.json" >/dev/null
  limited="$(create_key "$dir/relay.json" limited --user bench-user --rpm 10000000 --tpm 2000000000 --concurrency 1000 \
    --budget 1000000 --budget-period day)"
  # A station's usual load: many users, each with a key with every limit, a few connections each.
  local many=() u
  for ((u = 0; u < MANY_KEYS; u++)); do
    "$RELAY" users create "user-$u" --balance 1000000 --config "$dir/relay.json" >/dev/null
    many+=("$(create_key "$dir/relay.json" "limited-$u" --user "user-$u" --rpm 10000000 --tpm 2000000000 --concurrency 1000 \
      --budget 1000000 --budget-period day)")
  done
  for ((i = 0; i < instances; i++)); do
    port="$(pick_port "$UP_PORT" "$PG_PORT" "$REDIS_PORT" "${ports[@]+"${ports[@]}"}")"
    "${NO_PROXY_ENV[@]}" "${PIN_RELAY[@]}" "$RELAY" serve --config "$dir/relay.json" --listen "http://127.0.0.1:$port" \
      >"$dir/relay-$i.log" 2>&1 &
    pids+=("$!")
    PIDS+=("$!")
    ports+=("$port")
    urls+=("http://127.0.0.1:$port")
    wait_ready "http://127.0.0.1:$port/" "$!" '"relay"' "Relay $name #$i" "$dir/relay-$i.log"
  done
  log "configuration: $name ($instances instance(s))"
  run_load "$name-plain" "$name, key without limits" relay "$key" "${urls[@]}"
  run_load "$name-limited" "$name, one key with every limit" relay "$limited" "${urls[@]}"
  run_load "$name-many" "$name, $MANY_KEYS users' keys with every limit" relay "${many[*]}" "${urls[@]}"
  local pid
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  local sent recorded
  sent="$(jq -s '[.[].totalRequests] | add' "$WORK/results/${name// /-}-plain-relay.json" "$WORK/results/${name// /-}-limited-relay.json" "$WORK/results/${name// /-}-many-relay.json")"
  recorded="$("$RELAY" usage --config "$dir/relay.json" 2>&1 | awk '/Total/ { gsub(/,/, ""); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }')"
  RECORDS+=("$name: $recorded usage records for $sent requests")
  grep -hE '(warn|fail|crit):' "$dir"/relay-*.log | head -n 5 >&2 || true
}

run_load direct "upstream directly" direct "$UPSTREAM_KEY" "http://127.0.0.1:$UP_PORT"
configuration sqlite "relay.db" "" 1
configuration postgres "$(new_database relay_pg)" "" 1
configuration postgres+redis "$(new_database relay_pg_redis)" "redis://127.0.0.1:$REDIS_PORT" 1
configuration "postgres+redis x2" "$(new_database relay_pg_redis_2)" "redis://127.0.0.1:$REDIS_PORT/1" 2

# --- Report --------------------------------------------------------------------------------------------------------
mkdir -p "$RESULTS"
cp "${FILES[@]}" "$RESULTS/"
{
  echo "Machine: $(machine_line)"
  echo "Pinning: every Relay on CPU 0; upstream, load client, PostgreSQL and Redis on CPU 1"
  echo "Load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "Each run: ${WARMUP} s warm-up + ${DURATION} s measured, c=$CONCURRENCY non-streaming, closed loop."
  echo
  echo "| run | req/s | p50 ms | p99 ms | errors |"
  echo "|---|---:|---:|---:|---:|"
  jq -r '"| \(.label) | \(.requestsPerSecond) | \(.latency.p50) | \(.latency.p99) | \(.errors) |"' "${FILES[@]}"
  echo
  printf '%s\n' "${RECORDS[@]}"
} >"$RESULTS/table.md"
echo
cat "$RESULTS/table.md"
log "results kept in $RESULTS"
((FAILED_RUNS == 0)) || { log "$FAILED_RUNS run(s) saw errors"; exit 3; }
