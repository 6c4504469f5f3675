#!/usr/bin/env bash
# medproof's Solidity verifiers on a real EVM node (run by .ci/run): a demo's proofs of
# each statement, checked by the contracts `medproof export solidity` writes, on anvil
# (from npm), compiled by solc (npm, WebAssembly); see evm.test.mjs for what is checked.
# MEDPROOF_EVM_GAS=FILE keeps the measured gas as JSON (benches/REPORT.md quotes it).
# Usage: interop/evm.sh path/to/medproof
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
medproof="$(realpath "${1:?usage: interop/evm.sh path/to/medproof}")"
source "$here/npm-deps.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A clean ledger: the anchored audit below must pass (the default demo logs a forged access).
"$medproof" demo --data-dir "$work/data" --out "$work/out" --records 4 --proofs 2 --no-forged-access >/dev/null
MEDPROOF="$medproof" MEDPROOF_EVM_WORK="$work" node --test --test-reporter=spec "$here/evm.test.mjs"
