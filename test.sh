#!/usr/bin/env bash
# Runs Relay's whole test suite on a fresh Debian machine with the .NET SDK: installs what the tests need,
# starts it on 127.0.0.1 only, runs every test project, stops what it started, and prints one closing line
# "N passed, N failed". Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK is required (dotnet not on PATH)" >&2; exit 1; }

# The end-to-end and SDK tests run real Node.js clients (Claude Code, @anthropic-ai/sdk), pinned in these folders.
ensure_node_projects() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "test.sh: installing node and npm (apt-get)"
    { [ "$(id -u)" -eq 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } \
      || { echo "test.sh: node and npm are required (apt-get install nodejs npm)" >&2; exit 1; }
  fi
  local dir
  for dir in "$@"; do
    # npm ci only when the installed tree is missing or older than the lock file.
    if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
      echo "test.sh: npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
    fi
  done
}
ensure_node_projects tests/claude-code tests/codex tests/sdk-ts tests/sdk-js

# The store and scale-out tests start real PostgreSQL and Redis servers of their own (127.0.0.1, free ports,
# folders under RELAY_TEST_RUN_DIR); here they are only installed.
ensure_database_servers() {
  local missing=()
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  # The web console's browser tests drive Debian's Chromium; Playwright's own browser download is not used.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ "${#missing[@]}" -eq 0 ] && return
  echo "test.sh: installing ${missing[*]} (apt-get)"
  { [ "$(id -u)" -eq 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || { echo "test.sh: ${missing[*]} required (apt-get install ${missing[*]})" >&2; exit 1; }
  # Debian's packages start system-wide services where an init system runs; the tests use only their own servers.
  command -v service >/dev/null && { service postgresql stop >/dev/null 2>&1 || true; service redis-server stop >/dev/null 2>&1 || true; }
}
ensure_database_servers

log=$(mktemp -t relay-test.XXXXXX)
export RELAY_TEST_RUN_DIR
RELAY_TEST_RUN_DIR=$(mktemp -d -t relay-test-servers.XXXXXX)
chmod 755 "$RELAY_TEST_RUN_DIR"
# Stops whatever server a test left running (a crashed test host cannot stop its own) and removes their folders.
stop_database_servers() {
  local pidfile pid
  for pidfile in "$RELAY_TEST_RUN_DIR"/pg-*/data/postmaster.pid "$RELAY_TEST_RUN_DIR"/redis-*/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(head -n1 "$pidfile")
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$RELAY_TEST_RUN_DIR"
}
cleanup() { stop_database_servers; rm -f "$log"; }
trap cleanup EXIT

status=0
dotnet test --solution Relay.slnx -c Release "$@" 2>&1 | tee "$log" || status=$?

# One closing line CI can read, summed over every test project.
passed=$(grep -E '^\s+succeeded: [0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -E '^\s+failed: [0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "${passed} passed, ${failed} failed"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
exit "$status"
