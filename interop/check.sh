#!/usr/bin/env bash
# Interop checks against the JavaScript ZK tooling (run by .ci/run):
#  - the snarkjs export of a demo proof of each statement verifies with `snarkjs groth16
#    verify`, and the record-inclusion export with one public input changed does not;
#  - `medproof hash poseidon` equals circomlibjs's Poseidon on random inputs;
#  - circomlibjs recomputes the root of the demo ledger's record and consent paths
#    (`medproof ledger path`) from their 4-ary siblings;
#  - snarkjs reads `medproof ceremony r1cs` of every statement with medproof's counts,
#    and `snarkjs wtns check` accepts a demo record's witness against it and refuses the
#    witness with one value changed, or against another statement's system;
#  - interop/tlog.py (Python, from the C2SP specifications) checks the demo ledger served
#    as a transparency log: the checkpoint's signature and key id, the tiles and entry
#    bundles, the root from the entries, and a `medproof witness` cosignature;
#  - `medproof ceremony check-ptau` accepts snarkjs's phase-1 files (contributed, closed
#    by a beacon, prepared for phase 2) with the response hashes snarkjs prints, and
#    refuses one with no contribution, a changed challenge, a point off the curve or two
#    powers swapped.
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
source "$here/npm-deps.sh"
snarkjs="$npm_dir/node_modules/.bin/snarkjs"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$medproof" demo --data-dir data --out out --records 4 --proofs 2 >/dev/null
# Every statement's proof from the service's prover verifies (the fixed-base tables or,
# while they are being built, ark-groth16's prover: the same proof for the same r and s).
for b in access-0 claim record-inclusion-1; do
  "$medproof" export snarkjs "out/$b.json" --data-dir data --out sj >/dev/null
  (cd sj && "$snarkjs" groth16 verify verification_key.json public.json proof.json) | grep -q "OK" \
    || { echo "snarkjs refused the demo's $b proof" >&2; exit 1; }
done
echo "snarkjs: exported proofs of the three statements verify"
# Negative twin: one public input (the binding) replaced by another field element.
node -e 'const f=process.argv[1];const fs=require("fs");const p=JSON.parse(fs.readFileSync(f));p[2]=(BigInt(p[2])+1n).toString();fs.writeFileSync(f,JSON.stringify(p))' sj/public.json
if (cd sj && "$snarkjs" groth16 verify verification_key.json public.json proof.json) | grep -q "OK"; then
  echo "snarkjs accepted a tampered public input" >&2
  exit 1
fi
echo "snarkjs: tampered public input rejected"

# circom's formats: the constraint systems and a witness, read by snarkjs.
for s in record-inclusion access-authorization claim-compliance; do
  ours="$("$medproof" ceremony r1cs --statement "$s" --out "$s.r1cs")"
  theirs="$("$snarkjs" r1cs info "$s.r1cs" 2>&1 | sed 's/\x1b\[[0-9;]*m//g')"
  n="$(echo "$ours" | sed -E 's/.*: ([0-9]+) constraints.*/\1/')"
  echo "$theirs" | grep -q "# of Constraints: $n\$" || { echo "snarkjs reads another constraint count for $s: $theirs" >&2; exit 1; }
  inputs="$(echo "$ours" | sed -E 's/.*constraints, ([0-9]+) public inputs.*/\1/')"
  echo "$theirs" | grep -q "# of Public Inputs: $inputs\$" || { echo "snarkjs reads other public inputs for $s" >&2; exit 1; }
done
"$medproof" ceremony witness --data-dir data --input out/prove-input-example.json --out ri.wtns
wtns_check() { "$snarkjs" wtns check "$1" "$2" 2>&1 | grep -q "WITNESS IS CORRECT"; }
wtns_check record-inclusion.r1cs ri.wtns
echo "snarkjs: medproof's .r1cs of each statement reads with its counts; a witness checks"
# Negative twins: wire 1 (the root) changed by one; the witness against another system.
python3 -c 'import sys;b=bytearray(open(sys.argv[1],"rb").read());b[76+32]^=1;open(sys.argv[2],"wb").write(b)' ri.wtns bad.wtns
if wtns_check record-inclusion.r1cs bad.wtns || wtns_check access-authorization.r1cs ri.wtns; then
  echo "snarkjs accepted a tampered witness, or a witness of another statement" >&2
  exit 1
fi
echo "snarkjs: a tampered witness and another statement's system are refused"

# Phase 1: snarkjs's .ptau files read and check.
"$snarkjs" powersoftau new bn128 4 p0.ptau >/dev/null
"$snarkjs" powersoftau contribute p0.ptau p1.ptau --name=interop -e="medproof interop" >/dev/null
"$snarkjs" powersoftau prepare phase2 p1.ptau pf.ptau >/dev/null
"$snarkjs" powersoftau beacon p1.ptau p2.ptau 0a0b0c0d 10 -n=beacon >/dev/null
for f in p1 p2 pf; do "$medproof" ceremony check-ptau "$f.ptau" >/dev/null; done
"$medproof" ceremony check-ptau pf.ptau --power 2 | grep -q "up to 2^2 (ceremony power 4)"
# Each contribution's response hash is the one snarkjs printed when it contributed.
"$snarkjs" powersoftau verify p2.ptau 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | tr -d ' \t' > sj-verify.txt
hashes=$("$medproof" ceremony check-ptau p2.ptau | sed -n 's/.*response hash \([0-9a-f]\{128\}\)$/\1/p')
[ "$(echo "$hashes" | wc -w)" = 2 ] || { echo "check-ptau did not list the 2 contributions' response hashes" >&2; exit 1; }
for h in $hashes; do
  tr -d '\n' < sj-verify.txt | grep -q "$h" || { echo "response hash $h is not snarkjs's" >&2; exit 1; }
done
echo "ptau: snarkjs's phase-1 files (contributed, beacon, prepared) pass medproof's checks, with snarkjs's response hashes"
# A file with no contribution (its secrets are the generators), and one whose first
# contribution's next challenge was changed (the beacon's proofs no longer answer it).
python3 - <<'PY'
b = bytearray(open("p2.ptau", "rb").read())
at = 12
while True:
    kind = int.from_bytes(b[at:at + 4], "little"); size = int.from_bytes(b[at + 4:at + 12], "little")
    if kind == 7: break
    at += 12 + size
b[at + 12 + 4 + 448 + 768 + 216] ^= 1  # contribution 1's next challenge
open("rechallenged.ptau", "wb").write(b)
PY
for f in p0 rechallenged; do
  set +e; "$medproof" ceremony check-ptau "$f.ptau" >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" = 1 ] || { echo "check-ptau gave $rc for $f.ptau, not 1" >&2; exit 1; }
done
# Negative twins: tauG1[5].x changed (off the curve); tauG1[5] and tauG1[6] swapped.
python3 - <<'PY'
b = bytearray(open("pf.ptau", "rb").read())
o = 12 + 12 + 44 + 12  # tauG1's points
c = bytearray(b); c[o + 64 * 5 + 7] ^= 1; open("off.ptau", "wb").write(c)
s = bytearray(b); s[o + 320:o + 384], s[o + 384:o + 448] = b[o + 384:o + 448], b[o + 320:o + 384]
open("swapped.ptau", "wb").write(s)
PY
for f in off swapped; do
  set +e; "$medproof" ceremony check-ptau "$f.ptau" >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" = 1 ] || { echo "check-ptau gave $rc for $f.ptau, not 1" >&2; exit 1; }
done
echo "ptau: no contribution, a changed challenge, a point off the curve and two swapped powers are refused"

cp "$here/poseidon.mjs" "$here/merkle.mjs" "$npm_dir/"
node "$npm_dir/poseidon.mjs" "$medproof"
node "$npm_dir/merkle.mjs" "$medproof" "$work/data"

# The transparency log, checked from the C2SP specifications by a script that shares no
# code with medproof (Python's `cryptography` for Ed25519): the demo ledger served over
# HTTP, its checkpoint's signature and key id, its root recomputed from the entries, and
# a witness's cosignature.
venv="${MEDPROOF_VENV:-$HOME/.cache/medproof-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import cryptography' 2>/dev/null || "$venv/bin/pip" install -q cryptography==48.0.0
log_field() { "$medproof" ledger log --data-dir data | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).$1))"; }
# Past one tile: heartbeats (a checkpoint entry each) until the log holds over 256
# entries, so that a full entry bundle and a level-1 tile are read too.
for _ in $(seq "$(log_field size)" 260); do
  "$medproof" ledger heartbeat --data-dir data --max-age 0 >/dev/null
done
vkey="$(log_field verifier_key)"
"$medproof" serve --data-dir data --bind 127.0.0.1:0 --no-prover >serve.log 2>&1 &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
url=""
for _ in $(seq 1 600); do
  url="$(sed -n 's/^medproof serving on \(http:[^ ]*\)$/\1/p' serve.log)"
  [ -n "$url" ] && break
  kill -0 "$serve_pid" 2>/dev/null || { cat serve.log >&2; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "the service did not start" >&2; cat serve.log >&2; exit 1; }
# A witness follows the served log and cosigns its checkpoint; the script checks the
# cosignature from the tlog-cosignature specification.
"$medproof" witness key --key w.key --name witness.example/ci >w.vkey 2>/dev/null
"$medproof" witness follow --key w.key --name witness.example/ci --dir w --log-key "$vkey" --url "$url" --once >/dev/null
"$venv/bin/python" "$here/tlog.py" "$url" "$vkey" "$(cat data/ledger.pub)" --witness "$(cat w.vkey)" w/checkpoint
# Negative twin: the same log under another key's verifier key is refused.
other="$(echo "$vkey" | cut -d+ -f1)+00000000+$(echo "$vkey" | cut -d+ -f3-)"
if "$venv/bin/python" "$here/tlog.py" "$url" "$other" >/dev/null 2>&1; then
  echo "tlog.py accepted a verifier key with a wrong key id" >&2
  exit 1
fi
echo "tlog.py: a verifier key with a wrong key id is refused"
