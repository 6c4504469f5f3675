#!/usr/bin/env bash
# Property-based checks of the HTTP API against its own OpenAPI document: schemathesis
# (from PyPI, in a virtual environment under ~/.cache) sends generated and malformed
# requests to every operation of a fresh `medproof serve`; no answer may be a 5xx, and
# the service must still be up afterwards. Bounded in examples and time.
# Usage: interop/schemathesis.sh path/to/medproof
set -euo pipefail
bin="$(realpath "$1")"
venv="${MEDPROOF_VENV:-$HOME/.cache/medproof-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis==4.32.5
fi
work="$(mktemp -d)"
log="$work/serve.log"
"$bin" serve --data-dir "$work/data" --bind 127.0.0.1:0 --prover-threads 1 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
url=""
for _ in $(seq 1 600); do
  url="$(sed -n 's/^medproof serving on \(http:[^ ]*\)$/\1/p' "$log")"
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "the service did not start" >&2; cat "$log" >&2; exit 1; }
timeout 600 "$venv/bin/schemathesis" run "$url/openapi.json" \
  --checks not_a_server_error --max-examples 50 --seed 1 --no-color
curl -fsS "$url/healthz" >/dev/null || { echo "the service is down after schemathesis" >&2; exit 1; }
echo "schemathesis: no 5xx, the service is up"
