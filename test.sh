#!/usr/bin/env bash
# Runs Relay's whole test suite on a fresh Debian machine with the .NET SDK: installs what the tests need,
# starts it on 127.0.0.1 only, runs every test project, stops what it started, and prints one closing line
# "N passed, N failed". Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK is required (dotnet not on PATH)" >&2; exit 1; }

# The Anthropic TypeScript SDK test (tests/sdk-js) needs node and npm; install Debian's only when they are missing.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "test.sh: installing nodejs and npm (apt-get)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "test.sh: node and npm are required for tests/sdk-js" >&2
    exit 1
  fi
fi

log=$(mktemp -t relay-test.XXXXXX)
cleanup() { rm -f "$log"; }
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
