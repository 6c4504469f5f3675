#!/usr/bin/env bash
# The README's run command: installs what is missing, builds medproof in release mode,
# and runs the demo with keys and data in ./data (keys generated on first start) and the
# proof bundles in ./out. Extra arguments go to `medproof demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo run --release -q -p medproof-service --bin medproof -- demo --data-dir data --out out "$@"
