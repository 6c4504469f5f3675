// Compares `medproof hash poseidon` with circomlibjs's Poseidon on random inputs of every
// arity 1..16 (and edge values 0 and r - 1). Usage: node poseidon.mjs /path/to/medproof
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { buildPoseidon } from "circomlibjs";

const medproof = process.argv[2];
const poseidon = await buildPoseidon();
const r = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const rand = () => BigInt("0x" + randomBytes(32).toString("hex")) % r;

let cases = 0;
for (let n = 1; n <= 16; n++) {
  for (let k = 0; k < 3; k++) {
    const inputs = Array.from({ length: n }, (_, i) =>
      k === 0 && i === 0 ? 0n : k === 1 && i === n - 1 ? r - 1n : rand());
    const expected = poseidon.F.toString(poseidon(inputs));
    const got = execFileSync(medproof, ["hash", "poseidon", ...inputs.map(String)]).toString().trim();
    if (got !== expected) {
      console.error(`poseidon mismatch at arity ${n}: inputs ${inputs} medproof ${got} circomlibjs ${expected}`);
      process.exit(1);
    }
    cases++;
  }
}
console.log(`poseidon: ${cases} random cases agree with circomlibjs`);
