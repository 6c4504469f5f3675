// Proof bundles, checkpoints and the genesis, checked in the browser as the light
// verifier checks them (verifier/src/bundle.rs, checkpoint.rs; ledger/src/entry.rs):
// the same byte layouts, the same refusals. Pure functions: no DOM, no network, so that
// they run under node too. Signatures are checked by the caller (WebCrypto Ed25519).

import { bn254 } from "./vendor/noble-curves.js";

const { Fp, Fp2, Fp12 } = bn254.fields;
const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;
/** The scalar field's modulus: every public input is below it. */
export const R = bn254.fields.Fr.ORDER;
/** The base field's modulus: every coordinate is below it. */
export const Q = Fp.ORDER;

/** A check that failed, with the reason a person reads. */
export class Refused extends Error {}

/**
 * Each statement as bundles name it: its circuit version, its public inputs in circuit
 * order, which input carries the ledger root and which of the checkpoint's roots it
 * must equal, which input binds the proof to a request, and the inputs that are
 * integers (a code is 32 bits, a time or an amount 64).
 */
export const STATEMENTS = {
  "record-inclusion": {
    code: 1,
    version: 2,
    inputs: ["records_root", "category", "binding"],
    root: ["records_root", "records_root"],
    binding: "binding",
    ints: { category: 32 },
  },
  "access-authorization": {
    code: 2,
    version: 2,
    inputs: ["consents_root", "provider_ref", "category", "purpose", "now", "request_binding", "record"],
    root: ["consents_root", "consents_root"],
    binding: "request_binding",
    ints: { category: 32, purpose: 32, now: 64 },
  },
  "claim-compliance": {
    code: 3,
    version: 2,
    inputs: ["records_root", "policy", "claimed_amount", "claim_id", "provider", "binding"],
    root: ["records_root", "records_root"],
    binding: "binding",
    ints: { claimed_amount: 64 },
  },
};

const enc = new TextEncoder();

/** Hex to bytes, exactly `n` of them. */
export function hexBytes(field, s, n) {
  if (typeof s !== "string" || s.length !== 2 * n || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new Refused(`${field}: expected ${2 * n} hex digits`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A canonical decimal field element (no sign, no leading zero, below r). */
export function field(name, s) {
  if (typeof s !== "string" || !/^(0|[1-9][0-9]{0,76})$/.test(s)) {
    throw new Refused(`public input \`${name}\` is not a canonical decimal number`);
  }
  const v = BigInt(s);
  if (v >= R) throw new Refused(`public input \`${name}\` is not below the field's modulus`);
  return v;
}

function u64(field, v) {
  if (!Number.isSafeInteger(v) || v < 0) throw new Refused(`${field}: expected a whole number of seconds`);
  return BigInt(v);
}

/** `v` (a number or bigint below 2^64) as 8 big-endian bytes. */
export function beU64(v) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v));
  return b;
}

/** `v` (a number, bigint or decimal string below 2^256) as 32 big-endian bytes. */
export function be32(v) {
  return hexBytes("field", BigInt(v).toString(16).padStart(64, "0"), 32);
}

export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A bundle's checkpoint, parsed: its fields and the bytes the ledger signed
 * ("medproof.checkpoint.v1" || seq || chain_head || records_root || consents_root ||
 * time, integers big-endian, roots as 32-byte big-endian field elements).
 */
export function parseCheckpoint(cp) {
  if (!cp || typeof cp !== "object") throw new Refused("the bundle carries no ledger checkpoint, so its root cannot be checked");
  const seq = u64("checkpoint.seq", cp.seq);
  const time = u64("checkpoint.time", cp.time);
  const chainHead = hexBytes("checkpoint.chain_head", cp.chain_head, 32);
  const records = field("checkpoint.records_root", cp.records_root);
  const consents = field("checkpoint.consents_root", cp.consents_root);
  const signature = hexBytes("checkpoint.signature", cp.signature, 64);
  const message = concat([enc.encode("medproof.checkpoint.v1"), beU64(seq), chainHead, be32(records), be32(consents), beU64(time)]);
  return { seq: Number(seq), time: Number(time), roots: { records_root: records, consents_root: consents }, signature, message };
}

/**
 * The genesis entry (`GET /v1/entries/0`), parsed: the ledger key, the verifying key
 * id it names for each statement, and the bytes its signature covers
 * ("medproof.genesis.v2" || time || ledger_key || registrars || keys).
 */
export function parseGenesis(g) {
  if (!g || g.kind !== "genesis" || g.seq !== 0) throw new Refused("entry 0 is not a genesis");
  const ledgerKey = hexBytes("genesis.ledger_key", g.ledger_key, 32);
  const parts = [enc.encode("medproof.genesis.v2"), beU64(u64("genesis.time", g.time)), ledgerKey];
  if (!Array.isArray(g.registrars) || g.registrars.length > 255) throw new Refused("genesis.registrars: not a list");
  parts.push(Uint8Array.of(g.registrars.length));
  g.registrars.forEach((r, i) => parts.push(hexBytes(`genesis.registrars[${i}]`, r, 32)));
  if (!Array.isArray(g.keys) || g.keys.length > 255) throw new Refused("genesis.keys: not a list");
  parts.push(Uint8Array.of(g.keys.length));
  const keys = {};
  for (const [i, k] of g.keys.entries()) {
    const s = STATEMENTS[k.statement];
    if (!s) throw new Refused(`genesis.keys[${i}]: unknown statement`);
    const id = hexBytes(`genesis.keys[${i}].vk_id`, k.vk_id, 32);
    parts.push(Uint8Array.of(s.code), id);
    if (k.transcript === null) parts.push(Uint8Array.of(0));
    else parts.push(Uint8Array.of(1), hexBytes(`genesis.keys[${i}].transcript`, k.transcript, 64));
    keys[k.statement] = { vkId: toHex(id), ceremony: k.transcript !== null };
  }
  return {
    ledgerKey: toHex(ledgerKey),
    keys,
    signature: hexBytes("genesis.signature", g.signature, 64),
    message: concat(parts),
  };
}

/** The named inputs of a bundle in circuit order, with every range the verifier checks. */
export function parseInputs(statement, named) {
  const s = STATEMENTS[statement];
  if (!named || typeof named !== "object") throw new Refused("public_inputs: not an object");
  const extra = Object.keys(named).find((k) => !s.inputs.includes(k));
  if (extra !== undefined) throw new Refused(`unexpected public input \`${extra}\``);
  return s.inputs.map((name) => {
    if (!(name in named)) throw new Refused(`missing public input \`${name}\``);
    const v = field(name, named[name]);
    const bits = s.ints[name];
    if (bits !== undefined && v >> BigInt(bits) !== 0n) {
      throw new Refused(`public input \`${name}\` is out of range: ${bits === 32 ? "a code is a 32-bit integer" : "a 64-bit integer"}`);
    }
    return v;
  });
}

/**
 * A bundle's fields, parsed and range-checked, before any signature or pairing:
 * statement and version, inputs in circuit order, the proof's points, the checkpoint.
 */
export function parseBundle(text) {
  let b;
  try {
    b = typeof text === "string" ? JSON.parse(text) : text;
  } catch (e) {
    throw new Refused(`not a valid proof bundle: ${e.message}`);
  }
  if (!b || typeof b !== "object" || Array.isArray(b)) throw new Refused("not a valid proof bundle: not a JSON object");
  const known = ["statement", "version", "public_inputs", "proof", "vk_id", "checkpoint", "log"];
  const extra = Object.keys(b).find((k) => !known.includes(k));
  if (extra !== undefined) throw new Refused(`not a valid proof bundle: unknown field \`${extra}\``);
  const s = STATEMENTS[b.statement];
  if (!s) throw new Refused(`unknown statement \`${b.statement}\``);
  if (b.version !== s.version) {
    throw new Refused(`statement \`${b.statement}\` version ${b.version} is not supported (this page has version ${s.version})`);
  }
  const inputs = parseInputs(b.statement, b.public_inputs);
  const proof = decodeProof(b.proof);
  hexBytes("vk_id", b.vk_id, 32);
  return { statement: b.statement, named: b.public_inputs, inputs, proof, vkId: b.vk_id.toLowerCase(), checkpoint: b.checkpoint, hasLog: b.log !== undefined };
}

function base64(field, s) {
  if (typeof s !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new Refused(`${field} is not valid base64`);
  }
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

// arkworks' compressed encoding: coordinates little-endian; the last byte's top bits
// are flags: 0x80 y is the larger of ±y, 0x40 the point at infinity.
const NEGATIVE = 0x80;
const INFINITY = 0x40;

function leInt(bytes) {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

function fpBelowQ(what, v) {
  if (v >= Q) throw new Refused(`${what}: a coordinate is not below the base field's modulus`);
  return v;
}

function flagsOf(bytes) {
  const last = bytes[bytes.length - 1];
  const copy = bytes.slice();
  copy[copy.length - 1] = last & 0x3f;
  return { negative: (last & NEGATIVE) !== 0, infinity: (last & INFINITY) !== 0, rest: copy };
}

// arkworks orders Fp2 by c1, then c0; y is "negative" when it is the larger of y, -y.
const fpGreater = (a, b) => a > b;
const fp2Greater = (a, b) => (a.c1 !== b.c1 ? a.c1 > b.c1 : a.c0 > b.c0);

function decodeG1(what, bytes) {
  const { negative, infinity, rest } = flagsOf(bytes);
  const x = fpBelowQ(what, leInt(rest));
  if (infinity) {
    if (x !== 0n || negative) throw new Refused(`${what}: malformed point at infinity`);
    return G1.ZERO;
  }
  const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 3n);
  let y;
  try {
    y = Fp.sqrt(rhs);
  } catch {
    throw new Refused(`${what}: not a point on the curve`);
  }
  const ny = Fp.neg(y);
  if (fpGreater(y, ny) !== negative) y = ny;
  return checked(what, G1, { x, y });
}

function decodeG2(what, bytes) {
  const { negative, infinity, rest } = flagsOf(bytes);
  const x = { c0: fpBelowQ(what, leInt(rest.slice(0, 32))), c1: fpBelowQ(what, leInt(rest.slice(32))) };
  if (infinity) {
    if (x.c0 !== 0n || x.c1 !== 0n || negative) throw new Refused(`${what}: malformed point at infinity`);
    return G2.ZERO;
  }
  const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2.CURVE().b);
  let y;
  try {
    y = Fp2.sqrt(rhs);
  } catch {
    throw new Refused(`${what}: not a point on the curve`);
  }
  const ny = Fp2.neg(y);
  if (fp2Greater(y, ny) !== negative) y = ny;
  return checked(what, G2, { x, y });
}

// On the curve and in the prime-order subgroup (G2's cofactor is not 1).
function checked(what, group, affine) {
  try {
    const p = group.fromAffine(affine);
    p.assertValidity();
    return p;
  } catch {
    throw new Refused(`${what}: not a point of the prime-order subgroup`);
  }
}

/** A bundle's proof: base64 of arkworks' 128-byte compressed encoding of A, B, C. */
export function decodeProof(b64) {
  const bytes = base64("proof", b64);
  if (bytes.length !== 128) throw new Refused(`proof: expected 128 bytes, found ${bytes.length}`);
  return {
    a: decodeG1("proof.a", bytes.slice(0, 32)),
    b: decodeG2("proof.b", bytes.slice(32, 96)),
    c: decodeG1("proof.c", bytes.slice(96, 128)),
  };
}

/**
 * A verifying key as `GET /v1/verifying-keys/{statement}` serves it (arkworks'
 * compressed encoding, whose SHA-256 is the vk_id): alpha, beta, gamma, delta, and the
 * input bases (a little-endian u64 count, then the points).
 */
export function decodeVerifyingKey(bytes, inputs) {
  const want = 32 + 3 * 64 + 8 + 32 * (inputs + 1);
  if (bytes.length !== want) throw new Refused(`verifying key: expected ${want} bytes for ${inputs} inputs, found ${bytes.length}`);
  const count = leInt(bytes.slice(224, 232));
  if (count !== BigInt(inputs + 1)) throw new Refused(`verifying key: it has ${count - 1n} inputs, the statement ${inputs}`);
  const ic = [];
  for (let i = 0; i <= inputs; i++) ic.push(decodeG1(`verifying key input base ${i}`, bytes.slice(232 + 32 * i, 264 + 32 * i)));
  return {
    alpha: decodeG1("verifying key alpha", bytes.slice(0, 32)),
    beta: decodeG2("verifying key beta", bytes.slice(32, 96)),
    gamma: decodeG2("verifying key gamma", bytes.slice(96, 160)),
    delta: decodeG2("verifying key delta", bytes.slice(160, 224)),
    ic,
  };
}

/**
 * Groth16: e(A, B) = e(alpha, beta) · e(IC0 + Σ xᵢ·ICᵢ, gamma) · e(C, delta), as one
 * product of four pairings equal to one.
 */
export function groth16Verify(vk, proof, inputs) {
  if (inputs.length + 1 !== vk.ic.length) return false;
  let acc = vk.ic[0];
  inputs.forEach((x, i) => {
    if (x !== 0n) acc = acc.add(vk.ic[i + 1].multiply(x));
  });
  const product = bn254.pairingBatch([
    { g1: proof.a.negate(), g2: proof.b },
    { g1: vk.alpha, g2: vk.beta },
    { g1: acc, g2: vk.gamma },
    { g1: proof.c, g2: vk.delta },
  ]);
  return Fp12.eql(product, Fp12.ONE);
}
