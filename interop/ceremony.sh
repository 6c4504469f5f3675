#!/usr/bin/env bash
# A multi-party setup ceremony with medproof and snarkjs taking turns (run by .ci/run):
#  - phase 1: snarkjs makes the smallest .ptau that fits the largest statement (2^14),
#    with one contribution, prepared for phase 2 (its prepare step takes over ten
#    minutes on 2 cores, so the file is kept in ~/.cache/medproof-ceremony and made
#    again when missing or when `medproof ceremony check-ptau` refuses it);
#  - for each statement: `medproof ceremony new` makes the initial .zkey; then a
#    medproof contribution, a snarkjs contribution, another medproof contribution and a
#    medproof beacon; `snarkjs zkey verify` (which recomputes the initial key itself and
#    compares) and `medproof ceremony verify` (from the .ptau for one statement, from
#    the initial key for the others) accept the result;
#  - negative twins: one byte of any contribution changed, a contribution dropped, or
#    another statement's .r1cs: both tools refuse;
#  - the keys imported into a data dir run the demo, and a demo proof verifies with
#    snarkjs's own `zkey export verificationkey` of the final .zkey (its tampered twin
#    does not).
# Usage: interop/ceremony.sh path/to/medproof
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
medproof="$1"
npm_dir="${MEDPROOF_NPM_DIR:-$HOME/.cache/medproof-npm}"
snarkjs="$npm_dir/node_modules/.bin/snarkjs"
[ -x "$snarkjs" ] || { echo "snarkjs is missing: run interop/check.sh first" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
statements="record-inclusion access-authorization claim-compliance"

sj_ok() { "$snarkjs" zkey verify "$1" p.ptau "$2" 2>&1 | grep -q "ZKey Ok!"; }
# Runs a command that must fail with exit 1.
refused() {
  set +e; "$@" >/dev/null 2>&1; local rc=$?; set -e
  [ "$rc" = 1 ] || { echo "expected exit 1, got $rc: $*" >&2; exit 1; }
}

cache="${MEDPROOF_CEREMONY_DIR:-$HOME/.cache/medproof-ceremony}"
mkdir -p "$cache"
if [ ! -f "$cache/p14.ptau" ] || ! "$medproof" ceremony check-ptau "$cache/p14.ptau" >/dev/null 2>&1; then
  "$snarkjs" powersoftau new bn128 14 p0.ptau >/dev/null
  "$snarkjs" powersoftau contribute p0.ptau p1.ptau --name=phase1 -e="medproof interop phase 1" >/dev/null
  "$snarkjs" powersoftau prepare phase2 p1.ptau "$cache/p14.ptau.tmp" >/dev/null
  mv "$cache/p14.ptau.tmp" "$cache/p14.ptau"
fi
cp "$cache/p14.ptau" p.ptau
echo "ceremony: phase 1 (power 14), made and prepared by snarkjs"

for s in $statements; do
  "$medproof" ceremony r1cs --statement "$s" --out "$s.r1cs" >/dev/null
  "$medproof" ceremony new --ptau p.ptau --statement "$s" --out "$s-0.zkey" >/dev/null
  "$medproof" ceremony contribute --in "$s-0.zkey" --out "$s-1.zkey" --name alice >/dev/null
  "$snarkjs" zkey contribute "$s-1.zkey" "$s-2.zkey" --name=bob -e="bob's entropy" >/dev/null
  "$medproof" ceremony contribute --in "$s-2.zkey" --out "$s-3.zkey" --name carol --entropy "carol's" >/dev/null
  "$medproof" ceremony beacon --in "$s-3.zkey" --out "$s.zkey" --name beacon \
    --beacon 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 --iterations-exp 10 >/dev/null
  sj_ok "$s.r1cs" "$s.zkey" || { echo "snarkjs refuses the ceremony of $s" >&2; exit 1; }
  if [ "$s" = record-inclusion ]; then from=(--ptau p.ptau); else from=(--initial "$s-0.zkey"); fi
  "$medproof" ceremony verify "${from[@]}" --statement "$s" --zkey "$s.zkey" | grep -q "valid"
done
echo "ceremony: for each statement medproof, snarkjs, medproof and a beacon contribute; both tools verify the result"

# Negative twins, on record-inclusion.
python3 - <<'PY'
import struct
def contributions(b):
    n, at = struct.unpack_from("<I", b, 8)[0], 12
    for _ in range(n):
        kind, size = struct.unpack_from("<IQ", b, at)
        if kind == 10:
            body = at + 12
            break
        at += 12 + size
    count, p, out = struct.unpack_from("<I", b, body + 64)[0], body + 68, []
    for _ in range(count):
        start = p
        p += 64 * 3 + 128 + 64 + 4
        p += 4 + struct.unpack_from("<I", b, p)[0]
        out.append((start, p))
    return at, body, out
b = bytearray(open("record-inclusion.zkey", "rb").read())
frame, body, cs = contributions(b)
assert len(cs) == 4
for k, (start, _) in enumerate(cs):
    c = bytearray(b)
    c[start + 64 * 3 + 128 + 5] ^= 1  # a byte of the transcript
    open(f"flip{k}.zkey", "wb").write(c)
start, end = cs[1]  # snarkjs's contribution dropped
d = b[:start] + b[end:]
struct.pack_into("<I", d, body + 64, 3)
struct.pack_into("<Q", d, frame + 4, struct.unpack_from("<Q", b, frame + 4)[0] - (end - start))
open("dropped.zkey", "wb").write(d)
PY
verify_ri() { "$medproof" ceremony verify --initial record-inclusion-0.zkey --statement record-inclusion --zkey "$1"; }
for k in 0 1 2 3; do refused verify_ri "flip$k.zkey"; done
refused verify_ri dropped.zkey
refused "$medproof" ceremony verify --initial access-authorization-0.zkey --statement access-authorization --zkey record-inclusion.zkey
refused "$medproof" ceremony verify --initial access-authorization-0.zkey --statement record-inclusion --zkey record-inclusion.zkey
# snarkjs recomputes its initial key on every verify (about a minute): one twin of each.
if sj_ok record-inclusion.r1cs flip2.zkey || sj_ok access-authorization.r1cs record-inclusion.zkey; then
  echo "snarkjs accepted a changed contribution or another statement's system" >&2
  exit 1
fi
echo "ceremony: a changed byte in any contribution, a dropped contribution and another statement's system are refused by both"

# The keys in: the demo proves with them, and snarkjs verifies with the .zkey's own key.
for s in $statements; do
  "$medproof" ceremony import --zkey "$s.zkey" --initial "$s-0.zkey" --statement "$s" --data-dir cdata >/dev/null
done
"$medproof" demo --data-dir cdata --out out --records 4 --proofs 2 >/dev/null
# The ledger's genesis names each statement's key with the transcript hash that verify
# prints for the published .zkey; an import beside the ledger is refused.
for s in $statements; do
  t=$("$medproof" ceremony verify --initial "$s-0.zkey" --statement "$s" --zkey "$s.zkey" | sed -n 's/.*transcript hash \([0-9a-f]*\).*/\1/p')
  python3 -c 'import json,sys; k={k["statement"]: k["transcript"] for k in json.load(open("cdata/genesis.json"))["keys"]}; sys.exit(k.get(sys.argv[1]) != sys.argv[2])' "$s" "$t" \
    || { echo "the genesis does not name $s's transcript hash $t" >&2; exit 1; }
done
if "$medproof" ceremony import --zkey record-inclusion.zkey --initial record-inclusion-0.zkey --statement record-inclusion --data-dir cdata 2>/dev/null; then
  echo "a ceremony import beside an existing ledger was accepted" >&2
  exit 1
fi
echo "ceremony: the ledger's genesis names each statement's key and its transcript hash"
"$snarkjs" zkey export verificationkey record-inclusion.zkey vk.json >/dev/null
"$medproof" export snarkjs out/record-inclusion-1.json --data-dir cdata --out sj >/dev/null
"$snarkjs" groth16 verify vk.json sj/public.json sj/proof.json | grep -q "OK"
node -e 'const f=process.argv[1];const fs=require("fs");const p=JSON.parse(fs.readFileSync(f));p[0]=(BigInt(p[0])+1n).toString();fs.writeFileSync(f,JSON.stringify(p))' sj/public.json
if "$snarkjs" groth16 verify vk.json sj/public.json sj/proof.json | grep -q "OK"; then
  echo "snarkjs accepted a tampered public input under the ceremony key" >&2
  exit 1
fi
echo "ceremony: the demo runs on the imported keys; its proof verifies with snarkjs's key of the final .zkey, its tampered twin does not"
