// Recomputes the root of every record and consent path that `medproof ledger path`
// prints for a ledger, with circomlibjs's Poseidon of the tree's arity: each level's
// parent is Poseidon(siblings with the node inserted at the index's base-arity digit).
// Negative twin: the same path with two siblings of a level swapped misses the root.
// Usage: node merkle.mjs /path/to/medproof DATA_DIR
import { execFileSync } from "node:child_process";
import { buildPoseidon } from "circomlibjs";

const [medproof, dataDir] = process.argv.slice(2);
const poseidon = await buildPoseidon();
const run = (...args) => JSON.parse(execFileSync(medproof, [...args, "--data-dir", dataDir]).toString());

function root(path) {
  const arity = BigInt(path.arity);
  let node = BigInt(path.leaf);
  let index = BigInt(path.index);
  for (const siblings of path.siblings) {
    if (siblings.length !== path.arity - 1) throw new Error(`a level of ${siblings.length} siblings`);
    const digit = Number(index % arity);
    const children = siblings.map(BigInt);
    children.splice(digit, 0, node);
    node = BigInt(poseidon.F.toString(poseidon(children)));
    index /= arity;
  }
  return node;
}

let checked = 0;
let swapped = 0;
for (let seq = 0; ; seq++) {
  let entry;
  try {
    entry = JSON.parse(execFileSync(medproof, ["ledger", "entry", String(seq), "--data-dir", dataDir], { stdio: ["ignore", "pipe", "ignore"] }).toString());
  } catch {
    break; // past the last entry
  }
  if (entry.kind !== "commit-record" && entry.kind !== "grant-consent") continue;
  const path = run("ledger", "path", entry.commitment);
  if (path.arity !== 4 || path.siblings.length !== 16) {
    console.error(`unexpected path shape: arity ${path.arity}, ${path.siblings.length} levels`);
    process.exit(1);
  }
  if (path.current && root(path) !== BigInt(path.root)) {
    console.error(`circomlibjs recomputes another root for entry ${seq}: ${root(path)} vs ${path.root}`);
    process.exit(1);
  }
  if (path.current) checked++;
  // Two different siblings of one level, swapped. (A leaf whose every sibling is an
  // empty subtree, e.g. beside a revoked consent's zeroed leaf, has no such pair.)
  const level = path.siblings.find((s) => s.some((x) => x !== s[0]));
  if (!level) continue;
  const j = level.findIndex((x) => x !== level[0]);
  [level[0], level[j]] = [level[j], level[0]];
  if (root(path) === BigInt(path.root)) {
    console.error(`entry ${seq}: a path with two siblings swapped reaches the root`);
    process.exit(1);
  }
  swapped++;
}
if (checked < 2 || swapped < 2) {
  console.error(`only ${checked} current paths found, ${swapped} with two siblings to swap`);
  process.exit(1);
}
console.log(`merkle: ${checked} record and consent paths recompute to their roots with circomlibjs (4-ary), and none of ${swapped} with two siblings swapped`);
