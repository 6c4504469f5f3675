#!/usr/bin/env bash
# The peer figure for REPORT.md: snarkjs 0.7.6 proving medproof's own record-inclusion
# circuit in process (node, its default worker threads), beside medproof's prover in
# the same run.
#
#   bash benches/peers/snarkjs.sh [BIN] [RUNS]
#
# BIN: a `medproof` binary (default: the test-profile build of .ci/run); RUNS: timed
# proofs per prover (default 15, after one warm-up each). The circuit is the one the
# service proves (`medproof ceremony r1cs`), its key a snarkjs .zkey made by `medproof
# ceremony new` from the phase-1 file interop/ceremony.sh keeps in
# ~/.cache/medproof-ceremony, and the witness the demo's example input
# (`medproof ceremony witness`). snarkjs starts from the witness: circom's witness
# generator is not timed (the issue measured it at 25 ms), which flatters snarkjs.
# Every snarkjs proof is verified by snarkjs before the next is timed, so a fast wrong
# answer cannot count. medproof's side is its criterion bench, run after, test profile
# (the build .ci/run made; opt-level 3 as release).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
medproof="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/medproof-target}/debug/medproof}"
runs="${2:-15}"
medproof="$(cd "$(dirname "$medproof")" && pwd)/$(basename "$medproof")"
[ -x "$medproof" ] || { echo "no medproof binary at $medproof: run .ci/run or cargo build first" >&2; exit 2; }
ptau="${MEDPROOF_CEREMONY_DIR:-$HOME/.cache/medproof-ceremony}/p14.ptau"
[ -f "$ptau" ] || { echo "no phase-1 file at $ptau: run interop/ceremony.sh once (it makes it)" >&2; exit 2; }

here="$root/interop"
source "$root/interop/npm-deps.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$medproof" demo --data-dir data --out out --records 4 --proofs 1 --no-forged-access >/dev/null
"$medproof" ceremony witness --data-dir data --input out/prove-input-example.json --out ri.wtns >/dev/null
"$medproof" ceremony new --ptau "$ptau" --statement record-inclusion --out ri.zkey >/dev/null

echo "snarkjs $(node -p "require('$npm_dir/node_modules/snarkjs/package.json').version"), node $(node --version), $(nproc) cores, $runs runs"
node --input-type=module - "$npm_dir" "$runs" <<'JS'
const [npmDir, runs] = process.argv.slice(2);
const snarkjs = await import(`${npmDir}/node_modules/snarkjs/main.js`);
const fs = await import("node:fs");
const zkey = new Uint8Array(fs.readFileSync("ri.zkey"));
const wtns = new Uint8Array(fs.readFileSync("ri.wtns"));
const vk = await snarkjs.zKey.exportVerificationKey(zkey);
const times = [];
let last;
for (let i = 0; i <= Number(runs); i++) {
  const t = performance.now();
  last = await snarkjs.groth16.prove(zkey, wtns);
  if (i > 0) times.push(performance.now() - t);
  if (!(await snarkjs.groth16.verify(vk, last.publicSignals, last.proof))) throw new Error("snarkjs refused its own proof");
}
times.sort((a, b) => a - b);
const med = times[Math.floor(times.length / 2)];
console.log(`snarkjs groth16.prove (record inclusion, from the witness): median ${med.toFixed(1)} ms, min ${times[0].toFixed(1)}, max ${times.at(-1).toFixed(1)} (${times.length} runs)`);
process.exit(0); // snarkjs leaves its worker threads running
JS
echo "medproof's prover, same machine, now:"
cd "$root"
# A failed bench fails the script (its output is shown), rather than printing nothing.
cargo bench -q --profile test -p medproof-benches --bench record_inclusion -- 'record_inclusion/prove(_ark_groth16)?$' \
  >"$work/bench.log" 2>&1 || { cat "$work/bench.log" >&2; exit 1; }
grep -E "^record_inclusion/prove|time:" "$work/bench.log"
