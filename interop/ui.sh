#!/usr/bin/env bash
# The web page in a real browser (run by .ci/run): a demo's data dir served by
# `medproof serve` on a loopback port, driven by playwright-core (npm) in Debian's
# headless Chromium; see ui.test.mjs for what is checked. MEDPROOF_UI_SHOTS=DIR writes
# the screenshots the README shows (docs/).
# Usage: interop/ui.sh path/to/medproof
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
medproof="$(realpath "${1:?usage: interop/ui.sh path/to/medproof}")"
source "$here/npm-deps.sh"
chrome="${CHROME:-$(command -v chromium || command -v chromium-browser || true)}"
[ -n "$chrome" ] || { echo "no chromium: install Debian's chromium package (scripts/install-deps.sh --with-node does)" >&2; exit 1; }

work="$(mktemp -d)"
"$medproof" demo --data-dir "$work/data" --out "$work/out" --records 4 --proofs 2 >"$work/demo.log"
"$medproof" serve --data-dir "$work/data" --bind 127.0.0.1:0 --prover-threads 1 >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
url=""
for _ in $(seq 1 600); do
  url="$(sed -n 's/^medproof serving on \(http:[^ ]*\)$/\1/p' "$work/serve.log")"
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "the service did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
CHROME="$chrome" MEDPROOF_UI_URL="$url" MEDPROOF_UI_WORK="$work" \
  node --test --test-concurrency=1 --test-reporter=spec "$here/ui.test.mjs"
