#!/usr/bin/env bash
# The README's run command: installs what is missing, builds medproof, and runs the demo
# (which starts the HTTP service on a loopback port) with keys and data in ./data (keys
# generated on first start) and the proof bundles in ./out. Extra arguments go to
# `medproof demo`.
#
# It builds with the test profile (opt-level 3, as fast as release for proving) into the
# same cache as `.ci/run`, so that the two commands share one build of RocksDB's C++.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/medproof-target}"
cargo run --profile test -q -p medproof-service --bin medproof -- demo --data-dir data --out out "$@"
