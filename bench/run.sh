#!/usr/bin/env bash
# Relay pass-through benchmark: bash bench/run.sh
#
# Publishes Relay and the harness in Release, starts a fake Anthropic upstream and Relay on 127.0.0.1 (Relay pinned to
# CPU 0; the upstream and the load client pinned to CPU 1), and measures every scenario twice in the same run: DIRECT
# (client -> upstream) and THROUGH RELAY (client -> Relay -> upstream). Prints a Markdown table; see docs/benchmarks.md.
#
# Settings (environment):
#   BENCH_DURATION  measured seconds per run (default 10)
#   BENCH_WARMUP    warm-up seconds before each measurement (default 2)
#   BENCH_RESULTS   where to keep the JSON results and table (default bench/results/<UTC time>)
#   BENCH_KEEP=1    keep the temp folder (published binaries, relay.json, relay.db, logs)
#
# Only 127.0.0.1 is used. Every process started here is stopped on exit, by its own PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-2}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="${BENCH_RESULTS:-$ROOT/bench/results/$STAMP}"
UPSTREAM_KEY="bench-upstream-key"
EVENTS=20
EVENT_GAP_MS=5

WORK="$(mktemp -d "${TMPDIR:-/tmp}/relay-bench.XXXXXX")"
PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Stops one process we started: TERM, up to 10 s to finish (Relay flushes usage records), then KILL.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local kept=()
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  PIDS=("${kept[@]+"${kept[@]}"}")
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$pid"; done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port nothing on 127.0.0.1 answers on. (A race with another program is caught by the start-up check below.)
pick_port() {
  local port i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 30000))
    [[ $port == "${1:-}" ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  log "no free port found on 127.0.0.1"
  return 1
}

# wait_ready URL PID TEXT NAME LOG: the process is alive and URL answers with TEXT in its body.
wait_ready() {
  local url=$1 pid=$2 text=$3 name=$4 logfile=$5 body i
  for ((i = 0; i < 150; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited during start-up; its log:"
      tail -n 40 "$logfile" >&2
      return 1
    fi
    if body="$(curl -sf --noproxy '*' --max-time 1 "$url" 2>/dev/null)" && [[ $body == *"$text"* ]]; then
      return 0
    fi
    sleep 0.2
  done
  log "$name did not answer at $url within 30 s; its log:"
  tail -n 40 "$logfile" >&2
  return 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo "?"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo "?"; }
mib() { [[ $1 =~ ^[0-9]+$ ]] && awk -v kb="$1" 'BEGIN { printf "%.0f MiB", kb / 1024 }' || echo "?"; }

# --- Machine -------------------------------------------------------------------------------------------------------
CPUS_ALLOWED="$(nproc)"
if ((CPUS_ALLOWED >= 2)); then
  PIN_RELAY=(taskset -c 0)
  PIN_CLIENT=(taskset -c 1)
  PINNING="Relay on CPU 0; fake upstream and load client on CPU 1"
else
  PIN_RELAY=()
  PIN_CLIENT=()
  PINNING="NOT pinned: only $CPUS_ALLOWED CPU available, so all processes share it"
  log "warning: $PINNING"
fi
# Only loopback traffic: keep any proxy settings away from the processes under test.
NO_PROXY_ENV=(env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u all_proxy -u ALL_PROXY)

CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
DOTNET_SDK="$(dotnet --version)"
DOTNET_RUNTIME="$(dotnet --list-runtimes | awk '/^Microsoft.NETCore.App/ { v = $2 } END { print v }')"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- Build ---------------------------------------------------------------------------------------------------------
log "publishing Relay and the harness (Release) into $WORK"
if ! dotnet publish "$ROOT/src/Relay" -c Release -o "$WORK/relay" --nologo >"$WORK/publish-relay.log" 2>&1; then
  tail -n 40 "$WORK/publish-relay.log" >&2
  exit 1
fi
if ! dotnet publish "$ROOT/bench/Relay.Bench" -c Release -o "$WORK/bench" --nologo >"$WORK/publish-bench.log" 2>&1; then
  tail -n 40 "$WORK/publish-bench.log" >&2
  exit 1
fi
RELAY="$WORK/relay/relay"
BENCH="$WORK/bench/Relay.Bench"

# --- Fake upstream -------------------------------------------------------------------------------------------------
UP_PORT="$(pick_port)"
"${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" upstream --port "$UP_PORT" --api-key "$UPSTREAM_KEY" \
  --delay-ms 0 --events "$EVENTS" --event-gap-ms "$EVENT_GAP_MS" >"$WORK/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_ready "http://127.0.0.1:$UP_PORT/" "$UP_PID" relay-bench-upstream "fake upstream" "$WORK/upstream.log"
log "$(head -n 1 "$WORK/upstream.log") (pid $UP_PID)"

# --- Relay ---------------------------------------------------------------------------------------------------------
RELAY_PORT="$(pick_port "$UP_PORT")"
cat >"$WORK/relay.json" <<EOF
// Written by bench/run.sh: one anthropic provider, the fake upstream on loopback.
{
  "listen": "http://127.0.0.1:$RELAY_PORT",
  "database": "relay.db",
  "providers": {
    "bench": { "type": "anthropic", "baseUrl": "http://127.0.0.1:$UP_PORT", "apiKey": "$UPSTREAM_KEY" }
  },
  "models": {
    "claude-sonnet-4-6": { "routes": ["bench/claude-sonnet-4-6"], "family": "sonnet" }
  }
}
EOF
KEY="$("$RELAY" keys create --name bench --config "$WORK/relay.json" | tail -n 1)"
if [[ $KEY != sk-relay-* ]]; then
  log "relay keys create did not print a key (got '$KEY')"
  exit 1
fi

"${NO_PROXY_ENV[@]}" "${PIN_RELAY[@]}" "$RELAY" serve --config "$WORK/relay.json" --listen "http://127.0.0.1:$RELAY_PORT" \
  >"$WORK/relay.log" 2>&1 &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
wait_ready "http://127.0.0.1:$RELAY_PORT/" "$RELAY_PID" '"relay"' "Relay" "$WORK/relay.log"
RELAY_RSS_START="$(rss_kb "$RELAY_PID")"
log "Relay listening on http://127.0.0.1:$RELAY_PORT (pid $RELAY_PID, RSS $(mib "$RELAY_RSS_START") at start)"

# --- Scenarios -----------------------------------------------------------------------------------------------------
mkdir -p "$WORK/results"
FILES=()
FAILED_RUNS=0

# run_load NAME LABEL TARGET URL KEY [load options...]
run_load() {
  local name=$1 label=$2 target=$3 url=$4 key=$5
  shift 5
  local out="$WORK/results/$name-$target.json"
  if ! "${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" load --url "$url" --key "$key" --label "$label" --target "$target" \
    --duration "$DURATION" --warmup "$WARMUP" --out "$out" "$@"; then
    FAILED_RUNS=$((FAILED_RUNS + 1))
    log "$target / $label: errors or unfinished requests (see above)"
  fi
  [[ -f $out ]] && FILES+=("$out")
  if ! kill -0 "$RELAY_PID" 2>/dev/null; then
    log "Relay is no longer running; its log:"
    tail -n 40 "$WORK/relay.log" >&2
    exit 1
  fi
}

# scenario NAME LABEL [load options...]: direct first, then through Relay, with the same options.
scenario() {
  local name=$1 label=$2
  shift 2
  log "scenario: $label"
  run_load "$name" "$label" direct "http://127.0.0.1:$UP_PORT" "$UPSTREAM_KEY" --watch-pid "$UP_PID" "$@"
  run_load "$name" "$label" relay "http://127.0.0.1:$RELAY_PORT" "$KEY" --watch-pid "$RELAY_PID" "$@"
}

STREAM_LABEL="streaming ${EVENTS}×${EVENT_GAP_MS} ms"
scenario json-c1 "non-streaming, c=1" --concurrency 1
scenario json-c32 "non-streaming, c=32" --concurrency 32
scenario sse-c1 "$STREAM_LABEL, c=1" --stream --expect-events "$EVENTS" --concurrency 1
scenario sse-c32 "$STREAM_LABEL, c=32" --stream --expect-events "$EVENTS" --concurrency 32

RELAY_RSS_END="$(rss_kb "$RELAY_PID")"
RELAY_HWM="$(hwm_kb "$RELAY_PID")"
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# Stop Relay now (it writes its remaining usage records on the way out) and compare its records with what was sent.
stop_pid "$RELAY_PID"
SENT="?"
if command -v jq >/dev/null; then
  SENT="$(jq -s '[.[] | select(.target == "relay") | .totalRequests] | add' "${FILES[@]}")"
fi
RECORDED="$("$RELAY" usage --config "$WORK/relay.json" 2>&1 | awk '/Total/ { gsub(/,/, ""); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }')"
RELAY_PROBLEMS="$(grep -cE '(warn|fail|crit):' "$WORK/relay.log" || true)"

# --- Report --------------------------------------------------------------------------------------------------------
mkdir -p "$RESULTS"
cp "${FILES[@]}" "$RESULTS/"
TABLE="$("$BENCH" report "${FILES[@]}")"
{
  echo "Machine: $CPUS_ALLOWED CPUs ($CPU_MODEL), $(uname -sr), .NET SDK $DOTNET_SDK, runtime $DOTNET_RUNTIME"
  echo "Pinning: $PINNING"
  echo "Load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER"
  echo "Each run: ${WARMUP} s warm-up + ${DURATION} s measured; closed loop, one keep-alive connection per concurrent client."
  echo
  echo "$TABLE"
  echo
  echo "Relay RSS: $(mib "$RELAY_RSS_START") after start-up, $(mib "$RELAY_RSS_END") after the run, peak $(mib "$RELAY_HWM") (VmRSS / VmHWM)."
  echo "Usage records: $RECORDED written by Relay for $SENT requests sent through it."
  echo "Relay log lines at warn/fail/crit level: $RELAY_PROBLEMS."
} >"$RESULTS/table.md"
if [[ $RELAY_PROBLEMS != 0 ]]; then
  grep -E '(warn|fail|crit):' "$WORK/relay.log" | head -n 20 >"$RESULTS/relay-problems.log"
fi

echo
cat "$RESULTS/table.md"
echo
log "results kept in $RESULTS"
if ((FAILED_RUNS > 0)); then
  log "$FAILED_RUNS run(s) saw errors or unfinished requests"
  exit 3
fi
