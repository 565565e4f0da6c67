# Shared by bench/run.sh, bench/soak.sh and bench/memory.sh (source it; it defines functions and a few variables).
#
# Before sourcing, a script sets LOG_TAG (its name in log lines) and WORK (its temp folder). Every process it starts
# goes into PIDS; the exit trap installed by bench_traps stops them by PID, then deletes WORK unless BENCH_KEEP=1.
#
#   BENCH_PUBLISHED=DIR  reuse DIR/relay and DIR/bench from an earlier publish (e.g. a kept temp folder) instead of
#                        publishing again

PIDS=()

log() { printf '[%s %s] %s\n' "${LOG_TAG:-bench}" "$(date +%H:%M:%S)" "$*" >&2; }

# Stops one process we started: TERM, up to STOP_WAIT tenths of a second to finish (default 100: Relay flushes usage
# records), then KILL. Sets STOPPED_STATUS to its exit status (143 after TERM if it did not handle it, 137 after KILL).
stop_pid() {
  local pid=$1 i limit=${STOP_WAIT:-100}
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  STOPPED_STATUS=0
  wait "$pid" 2>/dev/null || STOPPED_STATUS=$?
  forget_pid "$pid"
}

# Removes a PID from the exit trap's list (the process has already been waited for).
forget_pid() {
  local kept=() p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do [[ $p == "$1" ]] || kept+=("$p"); done
  PIDS=("${kept[@]+"${kept[@]}"}")
}

bench_cleanup() {
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

bench_traps() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# A port nothing on 127.0.0.1 answers on, other than the ones given, below the kernel's ephemeral range: a port in
# that range may be the local end of some outgoing connection (thousands of them in bench/memory.sh), which a probe
# cannot see but which makes the bind fail. (A race with another program is caught by the start-up check.)
pick_port() {
  local port i taken low
  low="$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  ((low > 12000)) || low=32768
  for ((i = 0; i < 200; i++)); do
    port=$((10000 + RANDOM % (low - 10000)))
    for taken in "$@"; do [[ $port == "$taken" ]] && continue 2; done
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
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# tcp_count PID [PORT]: established TCP sockets of PID (with PORT: those whose remote end is PORT on loopback; .NET's
# dual-mode sockets show it as [::ffff:127.0.0.1]:PORT).
tcp_count() {
  local pid=$1 port=${2:-}
  ss -Htnp state established 2>/dev/null \
    | awk -v pid="pid=$pid," -v port="$port" 'index($0, pid) && (port == "" || $4 ~ (":" port "$")) { n++ } END { print n + 0 }'
}

# --- Machine and processes -----------------------------------------------------------------------------------------
CPUS_ALLOWED="$(nproc)"
if ((CPUS_ALLOWED >= 2)); then
  PIN_RELAY=(taskset -c 0)
  PIN_CLIENT=(taskset -c 1)
  PINNING="Relay on CPU 0; fake upstream and load client on CPU 1"
else
  PIN_RELAY=()
  PIN_CLIENT=()
  PINNING="NOT pinned: only $CPUS_ALLOWED CPU available, so all processes share it"
fi
# Only loopback traffic: keep any proxy settings away from the processes under test.
NO_PROXY_ENV=(env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u all_proxy -u ALL_PROXY)

machine_line() {
  local cpu_model runtime
  cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  runtime="$(dotnet --list-runtimes | awk '/^Microsoft.NETCore.App/ { v = $2 } END { print v }')"
  echo "$CPUS_ALLOWED CPUs ($cpu_model), $(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), $(uname -sr), .NET SDK $(dotnet --version), runtime $runtime"
}

# publish_all ROOT: publishes Relay and the harness (Release) into WORK, or reuses BENCH_PUBLISHED; sets RELAY and BENCH.
publish_all() {
  local root=$1 dir
  if [[ -n ${BENCH_PUBLISHED:-} ]]; then
    dir="$BENCH_PUBLISHED"
    log "reusing the binaries in $dir"
  else
    dir="$WORK"
    log "publishing Relay and the harness (Release) into $WORK"
    if ! dotnet publish "$root/src/Relay" -c Release -o "$WORK/relay" --nologo >"$WORK/publish-relay.log" 2>&1; then
      tail -n 40 "$WORK/publish-relay.log" >&2
      return 1
    fi
    if ! dotnet publish "$root/bench/Relay.Bench" -c Release -o "$WORK/bench" --nologo >"$WORK/publish-bench.log" 2>&1; then
      tail -n 40 "$WORK/publish-bench.log" >&2
      return 1
    fi
  fi
  RELAY="$dir/relay/relay"
  BENCH="$dir/bench/Relay.Bench"
  [[ -x $RELAY && -x $BENCH ]] || { log "no relay or Relay.Bench executable under $dir"; return 1; }
}

# create_key CONFIG NAME: prints a new Relay key made with `relay keys create`.
create_key() {
  local key config=$1 name=$2
  shift 2
  key="$("$RELAY" keys create --name "$name" --config "$config" "$@" | tail -n 1)"
  if [[ $key != sk-relay-* ]]; then
    log "relay keys create did not print a key (got '$key')"
    return 1
  fi
  echo "$key"
}
