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
#   BENCH_PUBLISHED reuse the relay/ and bench/ folders of an earlier (kept) run instead of publishing
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
LOG_TAG=bench
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_traps
((CPUS_ALLOWED >= 2)) || log "warning: $PINNING"

DOTNET_SDK="$(dotnet --version)"
DOTNET_RUNTIME="$(dotnet --list-runtimes | awk '/^Microsoft.NETCore.App/ { v = $2 } END { print v }')"
CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- Build ---------------------------------------------------------------------------------------------------------
publish_all "$ROOT"

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
KEY="$(create_key "$WORK/relay.json" bench)"
# The same traffic with a key that has every limit set (none of them reached), to measure what the checks cost:
# a prepaid user, a model allow-list, an address list, rates, concurrency and a daily budget.
"$RELAY" users create bench-user --balance 1000000 --config "$WORK/relay.json" >/dev/null
LIMITED_KEY="$(create_key "$WORK/relay.json" bench-limited --user bench-user --models 'claude-*' --ip 127.0.0.1/32 \
  --rpm 10000000 --tpm 2000000000 --concurrency 1000 --budget 1000000 --budget-period day)"

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
# RELAY_KEY (default: the key without limits) is the key used through Relay.
scenario() {
  local name=$1 label=$2
  shift 2
  log "scenario: $label"
  run_load "$name" "$label" direct "http://127.0.0.1:$UP_PORT" "$UPSTREAM_KEY" --watch-pid "$UP_PID" "$@"
  run_load "$name" "$label" relay "http://127.0.0.1:$RELAY_PORT" "${RELAY_KEY:-$KEY}" --watch-pid "$RELAY_PID" "$@"
}

STREAM_LABEL="streaming ${EVENTS}×${EVENT_GAP_MS} ms"
scenario json-c1 "non-streaming, c=1" --concurrency 1
scenario json-c32 "non-streaming, c=32" --concurrency 32
scenario sse-c1 "$STREAM_LABEL, c=1" --stream --expect-events "$EVENTS" --concurrency 1
scenario sse-c32 "$STREAM_LABEL, c=32" --stream --expect-events "$EVENTS" --concurrency 32
RELAY_KEY="$LIMITED_KEY" scenario json-c1-limits "non-streaming, c=1, key with every limit" --concurrency 1
RELAY_KEY="$LIMITED_KEY" scenario json-c32-limits "non-streaming, c=32, key with every limit" --concurrency 32

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
