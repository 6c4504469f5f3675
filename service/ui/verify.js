// Verifying a proof bundle in the browser, in the light verifier's order: the binding
// (if the verifier names one), the checkpoint (signed by the pinned ledger key, holding
// the proof's root), the verifying key (the one the ledger's signed genesis names, and
// the served bytes hash to it), freshness (the light rule: the checkpoint is younger
// than the window; an access proof's `now` within the skew), and the Groth16 proof.
// Checking stops at the first check that fails. The server is never asked for a
// verdict: it only serves the genesis and the verifying key, both checked here.

import {
  Refused,
  STATEMENTS,
  decodeVerifyingKey,
  field,
  groth16Verify,
  hexBytes,
  parseBundle,
  parseCheckpoint,
  parseGenesis,
  toHex,
} from "./bundle.js";

/** Ed25519 with WebCrypto: whether `signature` over `message` verifies under `keyHex`. */
export async function ed25519Verify(keyHex, signature, message) {
  const key = await crypto.subtle.importKey("raw", hexBytes("ledger key", keyHex, 32), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

async function sha256Hex(bytes) {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/**
 * Checks `text` (a bundle's JSON). `opts`: `ledgerKey` (hex, pinned), `now` (Unix
 * seconds), `window` and `skew` (seconds), `binding` (decimal, optional), `genesis()`
 * and `verifyingKey(statement)` (fetchers), `progress(name)` (optional). Returns
 * `{statement, valid, checks: [{name, passed, detail}]}`.
 */
export async function verifyBundle(text, opts) {
  const checks = [];
  const out = (statement) => ({ statement, valid: checks.every((c) => c.passed), checks });
  const step = async (name, fn) => {
    opts.progress?.(name);
    try {
      const detail = await fn();
      checks.push({ name, passed: true, detail });
      return true;
    } catch (e) {
      const detail = e instanceof Refused ? e.message : `cannot check: ${e.message}`;
      checks.push({ name, passed: false, detail });
      return false;
    }
  };

  let b;
  if (!(await step("bundle", async () => {
    b = parseBundle(text);
    return `a well-formed ${b.statement} proof with ${b.inputs.length} public inputs, every one a canonical field element in range`;
  }))) return out(undefined);
  const s = STATEMENTS[b.statement];

  if (opts.binding) {
    if (!(await step("binding", async () => {
      const want = field("expected binding", opts.binding.trim());
      if (BigInt(b.named[s.binding]) !== want) throw new Refused(`the proof answers another request: its \`${s.binding}\` is not the binding you expect`);
      return `the proof's \`${s.binding}\` is the binding you expect`;
    }))) return out(b.statement);
  }

  let cp;
  if (!(await step("checkpoint", async () => {
    cp = parseCheckpoint(b.checkpoint);
    if (!(await ed25519Verify(opts.ledgerKey, cp.signature, cp.message))) {
      throw new Refused("checkpoint signature does not verify under the pinned ledger key");
    }
    const [input, root] = s.root;
    if (BigInt(b.named[input]) !== cp.roots[root]) throw new Refused(`the proof's \`${input}\` is not the checkpoint's root`);
    return `checkpoint ${cp.seq} is signed by the pinned ledger key and its ${root.replace("_", " ")} is the proof's`;
  }))) return out(b.statement);

  let vk;
  if (!(await step("key", async () => {
    const g = parseGenesis(await opts.genesis());
    if (g.ledgerKey !== opts.ledgerKey.toLowerCase()) throw new Refused("the ledger's genesis names another ledger key than the pinned one");
    if (!(await ed25519Verify(opts.ledgerKey, g.signature, g.message))) throw new Refused("the genesis signature does not verify under the pinned ledger key");
    const named = g.keys[b.statement];
    if (!named || named.vkId !== b.vkId) {
      throw new Refused(`the proof is made under a verifying key (${b.vkId.slice(0, 16)}…) that the ledger's genesis does not name for ${b.statement}: whoever made that key may forge proofs under it`);
    }
    const bytes = await opts.verifyingKey(b.statement);
    if ((await sha256Hex(bytes)) !== named.vkId) throw new Refused("the served verifying key does not hash to the id the genesis names");
    vk = decodeVerifyingKey(bytes, b.inputs.length);
    return `the verifying key is the one the ledger's genesis names (${named.ceremony ? "from a setup ceremony" : "single-party setup"})`;
  }))) return out(b.statement);

  if (!(await step("freshness", async () => {
    const age = opts.now - cp.time;
    if (age > opts.window) {
      throw new Refused(`checkpoint ${cp.seq} was made ${age} s ago; without the ledger database only a checkpoint younger than the window (${opts.window} s) is accepted: ask for a proof against a recent checkpoint`);
    }
    if (cp.time > opts.now + opts.skew) throw new Refused(`checkpoint ${cp.seq} is dated ${-age} s in the future of this browser's clock`);
    let detail = `checkpoint ${cp.seq} is ${Math.max(age, 0)} s old, within the ${opts.window} s window`;
    if (b.statement === "access-authorization") {
      const stated = Number(b.named.now);
      if (Math.abs(stated - opts.now) > opts.skew) {
        throw new Refused(`the proof states the time ${stated}, ${Math.abs(stated - opts.now)} s from this browser's clock (skew ${opts.skew} s)`);
      }
      detail += `; its time is within ${opts.skew} s of this browser's clock`;
    }
    return detail;
  }))) return out(b.statement);

  await step("proof", async () => {
    if (!groth16Verify(vk, b.proof, b.inputs)) throw new Refused("the Groth16 proof does not verify for these public inputs");
    return "the Groth16 proof verifies for these public inputs (BN254 pairing, in this browser)";
  });
  return out(b.statement);
}
