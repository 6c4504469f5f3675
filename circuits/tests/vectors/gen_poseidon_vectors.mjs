import { buildPoseidon } from "circomlibjs";
const p = await buildPoseidon();
const out = [];
for (let n = 1; n <= 16; n++) {
  const ins = Array.from({length: n}, (_, i) => BigInt(i + 1) * 1000003n + BigInt(n));
  out.push([ins.map(String), p.F.toString(p(ins))]);
}
out.push([["3","4","0","5","0"], p.F.toString(p([3,4,0,5,0]))]);
console.log(JSON.stringify(out));
