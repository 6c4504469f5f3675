#!/usr/bin/env bash
# Interop checks against the JavaScript ZK tooling (run by .ci/run):
#  - the snarkjs export of a demo proof verifies with `snarkjs groth16 verify`, and the
#    same export with one public input changed does not;
#  - `medproof hash poseidon` equals circomlibjs's Poseidon on random inputs.
# Usage: interop/check.sh [path/to/medproof]   (default: builds the release binary)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
medproof="${1:-}"
if [ -z "$medproof" ]; then
  (cd "$root" && cargo build --release -q -p medproof-service)
  target="$(cd "$root" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
  medproof="$target/release/medproof"
fi

# The npm packages live outside the clone (a cache); versions are pinned in package.json.
npm_dir="${MEDPROOF_NPM_DIR:-$HOME/.cache/medproof-npm}"
mkdir -p "$npm_dir"
cp "$here/package.json" "$npm_dir/package.json"
if [ ! -x "$npm_dir/node_modules/.bin/snarkjs" ] || [ ! -d "$npm_dir/node_modules/circomlibjs" ]; then
  (cd "$npm_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
snarkjs="$npm_dir/node_modules/.bin/snarkjs"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$medproof" demo --data-dir data --out out --records 4 --proofs 2 >/dev/null
"$medproof" export snarkjs out/record-inclusion-1.json --data-dir data --out sj >/dev/null
(cd sj && "$snarkjs" groth16 verify verification_key.json public.json proof.json) | grep -q "OK"
echo "snarkjs: exported proof verifies"
# Negative twin: one public input (the binding) replaced by another field element.
node -e 'const f=process.argv[1];const fs=require("fs");const p=JSON.parse(fs.readFileSync(f));p[2]=(BigInt(p[2])+1n).toString();fs.writeFileSync(f,JSON.stringify(p))' sj/public.json
if (cd sj && "$snarkjs" groth16 verify verification_key.json public.json proof.json) | grep -q "OK"; then
  echo "snarkjs accepted a tampered public input" >&2
  exit 1
fi
echo "snarkjs: tampered public input rejected"

cp "$here/poseidon.mjs" "$npm_dir/poseidon.mjs"
node "$npm_dir/poseidon.mjs" "$medproof"
