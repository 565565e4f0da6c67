#!/usr/bin/env bash
# Relay memory and sockets after many long streams: bash bench/memory.sh
#
# Publishes Relay and the harness in Release, starts the fake upstream with slow streams (MEM_STREAM_SECONDS deltas,
# one per second) and Relay, then, for each of MEM_ROUNDS rounds, opens MEM_STREAMS concurrent streams through Relay
# at once and watches Relay for MEM_WATCH_SECONDS after they end: RSS (VmRSS), open file descriptors and established
# TCP sockets (all, and those to the upstream) every MEM_SAMPLE_SECONDS. After the last round, if dotnet-gcdump is
# found, it takes a GC heap dump, which forces a full blocking GC, and samples once more: what is left then is not
# garbage waiting for a collection. With dotnet-counters found, the runtime's GC counters are recorded too.
# See "Memory after many streams" in docs/benchmarks.md.
#
# Settings (environment):
#   MEM_STREAMS          concurrent streams per round (default 1000)
#   MEM_STREAM_SECONDS   length of each stream in seconds (default 30)
#   MEM_WATCH_SECONDS    how long to watch after the streams end (default 180)
#   MEM_SAMPLE_SECONDS   sampling interval (default 10)
#   MEM_ROUNDS           rounds of streams (default 2; a leak grows with every round, a pool does not)
#   MEM_RELAY_ENV        extra environment for Relay, e.g. "DOTNET_GCConserveMemory=7 DOTNET_GCgen0size=0x400000"
#   MEM_LABEL            a name for this run's results folder (default: plain)
#   MEM_RESULTS          where to keep the results (default bench/results/<UTC time>-memory-<label>)
#   DOTNET_TOOLS         folder holding dotnet-gcdump / dotnet-counters (default: PATH, then ~/.dotnet/tools)
#   BENCH_KEEP=1, BENCH_PUBLISHED=DIR  as in bench/run.sh
#
# Needs: Linux (/proc), ss, jq, taskset, curl.
#
# Only 127.0.0.1 is used. Every process started here is stopped on exit, by its own PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STREAMS="${MEM_STREAMS:-1000}"
STREAM_SECONDS="${MEM_STREAM_SECONDS:-30}"
WATCH="${MEM_WATCH_SECONDS:-180}"
EVERY="${MEM_SAMPLE_SECONDS:-10}"
ROUNDS="${MEM_ROUNDS:-2}"
LABEL="${MEM_LABEL:-plain}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="${MEM_RESULTS:-$ROOT/bench/results/$STAMP-memory-$LABEL}"
UPSTREAM_KEY="bench-upstream-key"
read -r -a RELAY_ENV <<<"${MEM_RELAY_ENV:-}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/relay-memory.XXXXXX")"
LOG_TAG=memory
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_traps

find_tool() {
  local dir
  for dir in "${DOTNET_TOOLS:-}" "$HOME/.dotnet/tools"; do
    [[ -n $dir && -x $dir/$1 ]] && { echo "$dir/$1"; return 0; }
  done
  command -v "$1" || true
}
GCDUMP="$(find_tool dotnet-gcdump)"
COUNTERS="$(find_tool dotnet-counters)"

publish_all "$ROOT"

UP_PORT="$(pick_port)"
"${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" upstream --port "$UP_PORT" --api-key "$UPSTREAM_KEY" \
  --delay-ms 0 --events "$STREAM_SECONDS" --event-gap-ms 1000 >"$WORK/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_ready "http://127.0.0.1:$UP_PORT/" "$UP_PID" relay-bench-upstream "fake upstream" "$WORK/upstream.log"

RELAY_PORT="$(pick_port "$UP_PORT")"
cat >"$WORK/relay.json" <<JSON
// Written by bench/memory.sh: one anthropic provider, the fake upstream on loopback.
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
JSON
KEY="$(create_key "$WORK/relay.json" memory)"
"${NO_PROXY_ENV[@]}" "${RELAY_ENV[@]}" "${PIN_RELAY[@]}" "$RELAY" serve --config "$WORK/relay.json" \
  --listen "http://127.0.0.1:$RELAY_PORT" >"$WORK/relay.log" 2>&1 &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
wait_ready "http://127.0.0.1:$RELAY_PORT/" "$RELAY_PID" '"relay"' "Relay" "$WORK/relay.log"
RSS_START="$(rss_kb "$RELAY_PID")"
log "Relay pid $RELAY_PID, RSS $(mib "$RSS_START") after start-up; environment: ${MEM_RELAY_ENV:-(none)}"

if [[ -n $COUNTERS ]]; then
  "$COUNTERS" collect -p "$RELAY_PID" --counters System.Runtime,Microsoft.AspNetCore.MemoryPool --refresh-interval "$EVERY" --format csv \
    -o "$WORK/counters.csv" >"$WORK/counters.log" 2>&1 &
  COUNTERS_PID=$!
  PIDS+=("$COUNTERS_PID")
fi

# A short warm-up, so the starting point is a Relay that has served requests (JIT, pools, SQLite), not a cold one.
"${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" load --url "http://127.0.0.1:$RELAY_PORT" --key "$KEY" \
  --concurrency 4 --duration 5 --warmup 1 --out "$WORK/warmup.json" >"$WORK/warmup.log" 2>&1 || true
sleep 2
RSS_WARM="$(rss_kb "$RELAY_PID")"
log "RSS $(mib "$RSS_WARM") after a 6 s warm-up (non-streaming, c=4)"

# RssAnon is the process's own memory (GC heap, native heap, stacks); the rest of VmRSS is mapped files (code).
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo "?"; }
printf 'round\tphase\tseconds\trss_kb\trss_anon_kb\tthreads\tfds\ttcp_established\ttcp_to_upstream\n' >"$WORK/samples.tsv"
sample() { # ROUND PHASE SECONDS
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(rss_kb "$RELAY_PID")" "$(status_kb "$RELAY_PID" RssAnon)" \
    "$(status_kb "$RELAY_PID" Threads)" "$(fd_count "$RELAY_PID")" "$(tcp_count "$RELAY_PID")" "$(tcp_count "$RELAY_PID" "$UP_PORT")" \
    | tee -a "$WORK/samples.tsv" >&2
}
sample 0 warm 0

LOAD_FAILED=0
ROUND_LINE=()
for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round: $STREAMS concurrent streams of ${STREAM_SECONDS} s"
  "${NO_PROXY_ENV[@]}" "${PIN_CLIENT[@]}" "$BENCH" load --url "http://127.0.0.1:$RELAY_PORT" --key "$KEY" --stream \
    --target relay --label "$STREAMS streams of ${STREAM_SECONDS} s" \
    --expect-events "$STREAM_SECONDS" --concurrency "$STREAMS" --per-connection 1 --duration "$STREAM_SECONDS" --warmup 0 \
    --timeout $((STREAM_SECONDS * 3)) \
    --out "$WORK/round-$round.json" >"$WORK/round-$round.log" 2>&1 &
  LOAD_PID=$!
  PIDS+=("$LOAD_PID")
  T0="$(date +%s)"
  while kill -0 "$LOAD_PID" 2>/dev/null; do
    sleep "$EVERY"
    kill -0 "$LOAD_PID" 2>/dev/null && sample "$round" streaming $(($(date +%s) - T0))
  done
  # The load's exit code also wants answers inside its window, which streams as long as the window never are: read its JSON.
  wait "$LOAD_PID" || true
  forget_pid "$LOAD_PID"
  ROUND_LINE[round]="$(jq -r '"\(.totalRequests) streams sent, \(.errors) errors, \(.unfinished) unfinished"' "$WORK/round-$round.json" 2>/dev/null || echo "no result")"
  [[ ${ROUND_LINE[round]} == "$STREAMS streams sent, 0 errors, 0 unfinished" ]] || LOAD_FAILED=$((LOAD_FAILED + 1))
  log "round $round: ${ROUND_LINE[round]}"
  T0="$(date +%s)"
  sample "$round" after 0
  for ((t = EVERY; t <= WATCH; t += EVERY)); do
    sleep $((T0 + t - $(date +%s) > 0 ? T0 + t - $(date +%s) : 0))
    sample "$round" after "$t"
  done
done

RSS_BEFORE_GC="$(rss_kb "$RELAY_PID")"
RSS_AFTER_GC="?"
if [[ -n $GCDUMP ]]; then
  log "forcing a full GC with a heap dump ($GCDUMP)"
  "$GCDUMP" collect -p "$RELAY_PID" -o "$WORK/relay.gcdump" >"$WORK/gcdump.log" 2>&1 || log "dotnet-gcdump failed: $(tail -n 3 "$WORK/gcdump.log")"
  sample "$ROUNDS" after-gc 0
  sleep "$EVERY"
  sample "$ROUNDS" after-gc "$EVERY"
  RSS_AFTER_GC="$(rss_kb "$RELAY_PID")"
  "$GCDUMP" report "$WORK/relay.gcdump" 2>/dev/null | head -n 40 >"$WORK/gcdump-top.txt" || true
fi
HWM="$(hwm_kb "$RELAY_PID")"
if [[ -n ${COUNTERS_PID:-} ]]; then
  stop_pid "$COUNTERS_PID"
  # One row per reading: the runtime's and Kestrel's view of the memory, in MiB.
  awk -F, 'NR > 1 {
      t = substr($1, 12); if (!(t in seen)) { seen[t] = 1; order[++n] = t }
      mb = $5 / 1048576
      if ($3 ~ /^dotnet.process.memory.working_set/) ws[t] = mb
      else if ($3 ~ /^dotnet.gc.last_collection.memory.committed_size/) committed[t] = mb
      else if ($3 ~ /^dotnet.gc.last_collection.heap.size/) heap[t] += mb
      else if ($3 ~ /^dotnet.gc.last_collection.heap.fragmentation.size/) frag[t] += mb
      else if ($3 ~ /^aspnetcore.memory_pool.pooled/) pooled[t] = mb
      else if ($3 ~ /^dotnet.gc.collections.*gen2/) gen2[t] = $5
    }
    END {
      print "time\tworking_set_mib\tgc_committed_mib\tgc_heap_mib\tgc_fragmentation_mib\tkestrel_pooled_mib\tgen2_gcs"
      for (i = 1; i <= n; i++) { t = order[i]; if (ws[t] > 0) printf "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\n", t, ws[t], committed[t], heap[t], frag[t], pooled[t], gen2[t] + 0 }
    }' "$WORK/counters.csv" >"$WORK/counters.tsv" || true
fi

mkdir -p "$RESULTS"
cp "$WORK/samples.tsv" "$WORK"/round-*.json "$RESULTS/"
for f in counters.csv counters.tsv gcdump-top.txt; do [[ -f $WORK/$f ]] && cp "$WORK/$f" "$RESULTS/"; done
{
  echo "# Memory after many streams $STAMP ($LABEL)"
  echo
  echo "Machine: $(machine_line)"
  echo "Relay environment: ${MEM_RELAY_ENV:-(none)}"
  echo "$ROUNDS round(s) of $STREAMS concurrent streams of ${STREAM_SECONDS} s, then ${WATCH} s watched; samples every ${EVERY} s"
  echo "RSS: $(mib "$RSS_START") after start-up, $(mib "$RSS_WARM") after warm-up, peak $(mib "$HWM"), $(mib "$RSS_BEFORE_GC") at the end, $(mib "$RSS_AFTER_GC") after a forced full GC"
  for ((round = 1; round <= ROUNDS; round++)); do echo "round $round: ${ROUND_LINE[round]}"; done
  [[ -f $WORK/gcdump-top.txt ]] && echo "Live GC heap after the forced GC: $(awk '/GC Heap bytes/ { print $1 }' "$WORK/gcdump-top.txt") bytes"
  echo
  column -t -s $'\t' "$WORK/samples.tsv"
  if [[ -s $WORK/counters.tsv ]]; then
    echo
    column -t -s $'\t' "$WORK/counters.tsv"
  fi
} >"$RESULTS/summary.md"
cat "$RESULTS/summary.md"
log "results kept in $RESULTS"
((LOAD_FAILED == 0)) || exit 3
