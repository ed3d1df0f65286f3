#!/usr/bin/env bash
# Runs the real-browser tests (frontend/e2e) against the real console: the
# demo on simulated platforms, in browser mode, with a throwaway data dir.
# E2E_FILES narrows the run to some files (a space-separated list of paths).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-./modconsole}
tmp=$(mktemp -d)
out="$tmp/out.log"
"$bin" demo --no-open --addr 127.0.0.1:0 --data "$tmp/data" >"$out" 2>"$tmp/err.log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^modconsole: browser mode at //p' "$out" | head -n1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/err.log"; echo "e2e: the demo exited"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$tmp/err.log"; echo "e2e: the demo printed no URL"; exit 1; }
echo "e2e: console at ${url%%\?*}"
status=0
for t in ${E2E_FILES:-frontend/e2e/*.e2e.mjs}; do
  echo "e2e: $t"
  CONSOLE_URL="$url" node "$t" || status=1
done
if [ $status -ne 0 ]; then
  echo "--- console log (tail)"; tail -n 40 "$tmp/err.log"
fi
exit $status
