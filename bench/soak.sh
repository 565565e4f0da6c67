#!/usr/bin/env bash
# Relay soak: bash bench/soak.sh   (SOAK_MINUTES=1 for a smoke run)
#
# Publishes Relay and the harness in Release, starts a FLAKY fake Anthropic upstream (some 529/500/429 answers, streams
# cut mid-event, 200 with an HTML page, slow first bytes; the rest normal) and Relay with two routes to it, then sends a
# mixed load (half streams) at concurrency 32 for SOAK_MINUTES. Midway it stops Relay with SIGTERM while streams are
# open, checks it drained and exited 0, and starts it again on the same port and database. At the end it checks
# Relay's promises and prints a summary (see the "Soak" section of docs/benchmarks.md):
#   - no 5xx of Relay's own making (a 5xx must be the provider's injected error, or Relay's wrapping of a provider
#     failure: "Provider '…" or "Relay could not reach provider '…");
#   - every stream ends with message_stop or an error event, every JSON answer is whole, nothing hangs;
#   - one usage record in relay.db per request that reached Relay;
#   - both stops exited 0.
# It also reports Relay's RSS after warm-up and at the end, and its open sockets at the end.
#
# Settings (environment):
#   SOAK_MINUTES      how long the load runs (default 10)
#   SOAK_CONCURRENCY  connections sending back to back (default 32)
#   SOAK_FAULTS       the upstream's --faults (default below)
#   SOAK_RESULTS      where to keep the results (default bench/results/<UTC time>-soak)
#   BENCH_KEEP=1      keep the temp folder (binaries, relay.json, relay.db, logs)
#   BENCH_PUBLISHED   reuse the relay/ and bench/ folders of an earlier (kept) run instead of publishing
#
# Only 127.0.0.1 is used. Every process started here is stopped on exit, by its own PID. Exits 1 if an invariant fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MINUTES="${SOAK_MINUTES:-10}"
CONCURRENCY="${SOAK_CONCURRENCY:-32}"
FAULTS="${SOAK_FAULTS:-529=0.03,500=0.03,429=0.03,cut=0.05,html=0.02,slow=0.03}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="${SOAK_RESULTS:-$ROOT/bench/results/$STAMP-soak}"
UPSTREAM_KEY="bench-upstream-key"
EVENTS=20
EVENT_GAP_MS=10
DRAIN_SECONDS=5

WORK="$(mktemp -d "${TMPDIR:-/tmp}/relay-soak.XXXXXX")"
LOG_TAG=soak
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_traps
((CPUS_ALLOWED >= 2)) || log "warning: $PINNING"

DURATION="$(awk -v m="$MINUTES" 'BEGIN { d = int(m * 60); print (d < 20 ? 20 : d) }')"
WARMUP=$((DURATION / 5 < 60 ? DURATION / 5 : 60))
MIDPOINT=$((DURATION / 2))
MACHINE="$(machine_line)"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
now_ms() { date +%s%3N; }

publish_all "$ROOT"

# --- Flaky upstream ------------------------------------------------------------------------------------------------
UP_PORT="$(pick_port)"
"${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" upstream --port "$UP_PORT" --api-key "$UPSTREAM_KEY" \
  --delay-ms 5 --events "$EVENTS" --event-gap-ms "$EVENT_GAP_MS" --faults "$FAULTS" --slow-ms 2000 --retry-after 1 \
  >"$WORK/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_ready "http://127.0.0.1:$UP_PORT/" "$UP_PID" relay-bench-upstream "fake upstream" "$WORK/upstream.log"
log "$(head -n 1 "$WORK/upstream.log") (pid $UP_PID)"

# --- Relay ---------------------------------------------------------------------------------------------------------
RELAY_PORT="$(pick_port "$UP_PORT")"
cat >"$WORK/relay.json" <<JSON
// Written by bench/soak.sh: two providers on the same flaky fake upstream, so failures fall back to the other route.
{
  "listen": "http://127.0.0.1:$RELAY_PORT",
  "database": "relay.db",
  "shutdownDrainSeconds": $DRAIN_SECONDS,
  "providers": {
    "flaky-a": { "type": "anthropic", "baseUrl": "http://127.0.0.1:$UP_PORT", "apiKey": "$UPSTREAM_KEY" },
    "flaky-b": { "type": "anthropic", "baseUrl": "http://127.0.0.1:$UP_PORT", "apiKey": "$UPSTREAM_KEY" }
  },
  "models": {
    "claude-sonnet-4-6": { "routes": ["flaky-a/claude-sonnet-4-6", "flaky-b/claude-sonnet-4-6"], "family": "sonnet" }
  }
}
JSON
KEY="$(create_key "$WORK/relay.json" soak)"

RELAY_STARTS=0
start_relay() {
  RELAY_STARTS=$((RELAY_STARTS + 1))
  "${NO_PROXY_ENV[@]}" "${PIN_RELAY[@]}" "$RELAY" serve --config "$WORK/relay.json" --listen "http://127.0.0.1:$RELAY_PORT" \
    >"$WORK/relay-$RELAY_STARTS.log" 2>&1 &
  RELAY_PID=$!
  PIDS+=("$RELAY_PID")
  wait_ready "http://127.0.0.1:$RELAY_PORT/" "$RELAY_PID" '"relay"' "Relay" "$WORK/relay-$RELAY_STARTS.log"
  log "Relay #$RELAY_STARTS listening on http://127.0.0.1:$RELAY_PORT (pid $RELAY_PID, RSS $(mib "$(rss_kb "$RELAY_PID")"))"
}

# stop_relay: SIGTERM, then wait for it to drain and exit by itself (drain + 20 s at most); sets RELAY_EXIT.
stop_relay() {
  local i
  kill -TERM "$RELAY_PID"
  for ((i = 0; i < (DRAIN_SECONDS + 20) * 10; i++)); do
    kill -0 "$RELAY_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$RELAY_PID" 2>/dev/null; then
    log "Relay did not exit within $((DRAIN_SECONDS + 20)) s of SIGTERM; killing it"
    kill -KILL "$RELAY_PID" 2>/dev/null || true
  fi
  RELAY_EXIT=0
  wait "$RELAY_PID" 2>/dev/null || RELAY_EXIT=$?
  forget_pid "$RELAY_PID"
}

start_relay
RELAY_START_MS="$(now_ms)"

# --- Load, with a restart midway ------------------------------------------------------------------------------------
log "soak: ${DURATION} s at c=$CONCURRENCY, half streams, faults $FAULTS; SIGTERM + restart at ${MIDPOINT} s"
"${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" soak --url "http://127.0.0.1:$RELAY_PORT" --key "$KEY" \
  --concurrency "$CONCURRENCY" --duration "$DURATION" --stream-share 0.5 --expect-events "$EVENTS" \
  --progress "$(((DURATION + 9) / 10))" --out "$WORK/soak.json" >"$WORK/soak-client.log" 2>&1 &
CLIENT_PID=$!
PIDS+=("$CLIENT_PID")
LOAD_START="$(date +%s)"

printf 'seconds\trelay_pid\trss_kb\tfds\ttcp_established\ttcp_to_upstream\n' >"$WORK/relay-samples.tsv"
sample() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(($(date +%s) - LOAD_START))" "$RELAY_PID" "$(rss_kb "$RELAY_PID")" "$(fd_count "$RELAY_PID")" \
    "$(tcp_count "$RELAY_PID")" "$(tcp_count "$RELAY_PID" "$UP_PORT")" >>"$WORK/relay-samples.tsv"
}

RSS_WARM_1="" RSS_WARM_2="" RESTARTED=0 NEXT_SAMPLE=0 RESTART_ELAPSED=0
RSS_BEFORE_STOP="" HWM_1="" UPSTREAM_CONNS_AT_STOP=0 STOP_MS=0 STOPPED_MS=0 RESTART_DONE_MS=0 EXIT_1=-1
while kill -0 "$CLIENT_PID" 2>/dev/null; do
  ELAPSED=$(($(date +%s) - LOAD_START))
  if ((ELAPSED >= NEXT_SAMPLE)); then
    sample
    NEXT_SAMPLE=$((ELAPSED + 10))
  fi
  if [[ -z $RSS_WARM_1 ]] && ((ELAPSED >= WARMUP)); then
    RSS_WARM_1="$(rss_kb "$RELAY_PID")"
    log "Relay #1 RSS after ${WARMUP} s of load: $(mib "$RSS_WARM_1")"
  fi
  if ((RESTARTED == 0 && ELAPSED >= MIDPOINT)); then
    RESTARTED=1
    RSS_BEFORE_STOP="$(rss_kb "$RELAY_PID")"
    HWM_1="$(hwm_kb "$RELAY_PID")"
    UPSTREAM_CONNS_AT_STOP="$(tcp_count "$RELAY_PID" "$UP_PORT")"
    STOP_MS="$(now_ms)"
    log "SIGTERM to Relay #1 (pid $RELAY_PID, RSS $(mib "$RSS_BEFORE_STOP"), $UPSTREAM_CONNS_AT_STOP upstream connections open)"
    stop_relay
    STOPPED_MS="$(now_ms)"
    EXIT_1=$RELAY_EXIT
    log "Relay #1 exited with $EXIT_1 after $(((STOPPED_MS - STOP_MS))) ms; starting it again"
    start_relay
    RESTART_DONE_MS="$(now_ms)"
    RESTART_ELAPSED=$(($(date +%s) - LOAD_START))
  fi
  if ((RESTARTED == 1)) && [[ -z $RSS_WARM_2 ]] && (($(date +%s) - LOAD_START >= RESTART_ELAPSED + WARMUP)); then
    RSS_WARM_2="$(rss_kb "$RELAY_PID")"
    log "Relay #2 RSS after ${WARMUP} s of load: $(mib "$RSS_WARM_2")"
  fi
  sleep 1
done
CLIENT_EXIT=0
wait "$CLIENT_PID" || CLIENT_EXIT=$?
forget_pid "$CLIENT_PID"

# --- End state, then a graceful stop ---------------------------------------------------------------------------------
sleep 2
sample
RSS_END="$(rss_kb "$RELAY_PID")"
HWM_2="$(hwm_kb "$RELAY_PID")"
FDS_END="$(fd_count "$RELAY_PID")"
TCP_END="$(tcp_count "$RELAY_PID")"
TCP_UP_END="$(tcp_count "$RELAY_PID" "$UP_PORT")"
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
stop_relay
EXIT_2=$RELAY_EXIT
STOP_WAIT=100 stop_pid "$UP_PID"

# --- Records -------------------------------------------------------------------------------------------------------
DB="$WORK/relay.db"
q() { sqlite3 -batch -noheader "$DB" "$1"; }
RECORDS="$(q 'SELECT COUNT(*) FROM usage;')"
RECORDS_BY_STATUS="$(q "SELECT status || ' ' || COALESCE(error_type, '-') || ': ' || COUNT(*) FROM usage GROUP BY status, error_type ORDER BY COUNT(*) DESC;")"
IN_FLIGHT_AT_STOP="$(q "SELECT COUNT(*) FROM usage WHERE ts >= $STOP_MS AND ts - duration_ms <= $STOP_MS;")"
STOPPED_BY_DRAIN="$(q "SELECT COUNT(*) FROM usage WHERE error_type = 'relay_stopped';")"
RETRIED="$(q 'SELECT COUNT(*) FROM usage WHERE attempts > 1;')"
FAULTS_DRAWN="$(grep '^faults drawn' "$WORK/upstream.log" | sed 's/^faults drawn: //' || true)"

J() { jq -r "$1" "$WORK/soak.json"; }
SENT="$(J .sent)"
REACHED="$(J .reached)"
REFUSED="$(J .refused)"
NO_ANSWER="$(J .noAnswer)"
RELAY_5XX="$(J .relayOwn5xx)"
VIOLATIONS="$(J .violations)"
UNENDED="$(J '.outcomes["stream: ended without message_stop or error event"] // 0')"
STREAMS="$(J .streams)"
PROBLEM_LINES="$(cat "$WORK"/relay-*.log | grep -cE '(fail|crit):' || true)"

FAILED=()
((RELAY_5XX == 0)) || FAILED+=("$RELAY_5XX 5xx of Relay's own making")
((VIOLATIONS == 0)) || FAILED+=("$VIOLATIONS answers breaking Relay's promises (see outcomes)")
((UNENDED == 0)) || FAILED+=("$UNENDED streams without message_stop or error event")
if ((NO_ANSWER == 0)); then
  ((RECORDS == REACHED)) || FAILED+=("$RECORDS usage records for $REACHED requests that reached Relay")
elif ((RECORDS < REACHED - NO_ANSWER || RECORDS > REACHED)); then
  FAILED+=("$RECORDS usage records for $REACHED requests that reached Relay ($NO_ANSWER of them unanswered)")
fi
((RESTARTED == 1)) || FAILED+=("the load ended before the midway restart")
((EXIT_1 == 0)) || FAILED+=("Relay exited with $EXIT_1 after the midway SIGTERM")
((EXIT_2 == 0)) || FAILED+=("Relay exited with $EXIT_2 after the final SIGTERM")
((CLIENT_EXIT == 0 || CLIENT_EXIT == 3)) || FAILED+=("the soak client exited with $CLIENT_EXIT")

# --- Report --------------------------------------------------------------------------------------------------------
mkdir -p "$RESULTS"
cp "$WORK/soak.json" "$WORK/relay-samples.tsv" "$WORK/upstream.log" "$WORK/soak-client.log" "$RESULTS/"
cat "$WORK"/relay-*.log | grep -E -A3 '(warn|fail|crit):' | head -n 200 >"$RESULTS/relay-problems.log" || true
{
  echo "# Soak $STAMP"
  echo
  echo "Command: SOAK_MINUTES=$MINUTES bash bench/soak.sh"
  echo "Machine: $MACHINE"
  echo "Pinning: $PINNING"
  echo "Load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER"
  echo "Load: ${DURATION} s at c=$CONCURRENCY, half streams ($EVENTS deltas ${EVENT_GAP_MS} ms apart), upstream delay 5 ms, faults $FAULTS"
  echo "Faults drawn by the upstream: ${FAULTS_DRAWN:-?}"
  echo
  echo "Requests sent: $SENT ($STREAMS streams); reached Relay: $REACHED; refused while Relay was down: $REFUSED; no answer: $NO_ANSWER"
  echo
  sed -n '/^answers by status:/,$p' "$WORK/soak-client.log"
  echo
  echo "Usage records in relay.db: $RECORDS (for $REACHED requests that reached Relay); with more than one attempt: $RETRIED"
  echo "Records by status and error type:"
  printf '%s\n' "$RECORDS_BY_STATUS" | sed 's/^/  /'
  echo
  echo "Midway stop: SIGTERM at ${MIDPOINT} s with $UPSTREAM_CONNS_AT_STOP upstream connections open and $IN_FLIGHT_AT_STOP requests in flight;"
  echo "  exited $EXIT_1 after $((STOPPED_MS - STOP_MS)) ms (shutdownDrainSeconds $DRAIN_SECONDS); answering again $((RESTART_DONE_MS - STOP_MS)) ms after the SIGTERM;"
  echo "  requests ended by the drain deadline (relay_stopped): $STOPPED_BY_DRAIN"
  echo "Final stop: exited $EXIT_2"
  echo
  echo "Relay #1 RSS: $(mib "$RSS_WARM_1") after ${WARMUP} s of load, $(mib "$RSS_BEFORE_STOP") at the SIGTERM (peak $(mib "$HWM_1"))"
  echo "Relay #2 RSS: $(mib "${RSS_WARM_2:-?}") after ${WARMUP} s of load, $(mib "$RSS_END") at the end (peak $(mib "$HWM_2"))"
  echo "Relay at the end (2 s after the load): $FDS_END open file descriptors, $TCP_END established TCP sockets ($TCP_UP_END to the upstream)"
  echo "Relay log lines at fail/crit level: $PROBLEM_LINES"
  echo
  if ((${#FAILED[@]} == 0)); then
    echo "All invariants held."
  else
    echo "FAILED:"
    printf '  - %s\n' "${FAILED[@]}"
  fi
} >"$RESULTS/summary.md"

echo
cat "$RESULTS/summary.md"
echo
log "results kept in $RESULTS"
((${#FAILED[@]} == 0)) || exit 1
