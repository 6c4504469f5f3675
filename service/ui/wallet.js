// A patient's wallet, kept in this browser: the Ed25519 key (WebCrypto), the salt of
// the patient's pseudonym, the commitments of the records its providers gave it, and
// the openings and receipts of the consents it granted. From it the page computes
// commitments (Poseidon, circomlib's constants, as the circuits do), signs submissions
// (`medproof.submission.v2`) and signed requests (`medproof-request-v2`). The key, the
// salt and the openings never leave the browser except inside what the patient signs
// and sends on purpose, or a file the patient downloads.

import { bn254_Fr, grainGenConstants, poseidon } from "./vendor/noble-curves.js";
import { R, be32, beU64, concat, hexBytes, toHex } from "./bundle.js";

const enc = new TextEncoder();

// circomlib's partial rounds by state width t = inputs + 1 (full rounds: 8, S-box x^5).
const PARTIAL_ROUNDS = [56, 57, 56, 60, 60, 63, 64, 63];
const hashers = new Map();

/** Poseidon of 1 to 8 field elements, as circomlib and medproof's circuits compute it. */
export function hash(inputs) {
  const t = inputs.length + 1;
  if (t < 2 || t > 9) throw new Error(`Poseidon of ${inputs.length} inputs`);
  if (!hashers.has(t)) {
    const opts = { Fp: bn254_Fr, t, roundsFull: 8, roundsPartial: PARTIAL_ROUNDS[t - 2], sboxPower: 5 };
    hashers.set(t, poseidon({ ...opts, ...grainGenConstants(opts) }));
  }
  return hashers.get(t)([0n, ...inputs])[0];
}

/** A domain tag: its ASCII name as a big-endian integer (circuits/src/commit.rs). */
const tag = (name) => BigInt(`0x${toHex(enc.encode(name))}`);
const TAG = {
  key: tag("medproof.key.v1"),
  patient: tag("medproof.patient.v1"),
  consent: tag("medproof.consent.v1"),
};

const beInt = (bytes) => (bytes.length ? BigInt(`0x${toHex(bytes)}`) : 0n);

/** An Ed25519 public key as a field element: H(TAG_KEY, high 128 bits, low 128 bits). */
export function keyRef(publicKey) {
  return hash([TAG.key, beInt(publicKey.slice(0, 16)), beInt(publicKey.slice(16))]);
}

/** The patient's pseudonym: H(TAG_PATIENT, key_ref, salt). */
export function patientRef(publicKey, salt) {
  return hash([TAG.patient, keyRef(publicKey), BigInt(salt)]);
}

/** A consent's commitment from its opening (the CLI's consent JSON). */
export function consentCommitment(o) {
  return hash([
    TAG.consent,
    BigInt(o.patient_ref),
    BigInt(o.grantee),
    BigInt(o.category),
    BigInt(o.purpose),
    BigInt(o.valid_from),
    BigInt(o.valid_until),
    BigInt(o.blinding),
  ]);
}

/** A uniform field element (64 random bytes reduced: a bias below 2^-250). */
export function randomField() {
  return beInt(crypto.getRandomValues(new Uint8Array(64))) % R;
}

// An Ed25519 private key is a 32-byte seed; WebCrypto imports it as PKCS #8.
const PKCS8_ED25519 = hexBytes("prefix", "302e020100300506032b657004220420", 16);

/** The signing key of a seed, and its public key (from the JWK export's `x`). */
export async function importSeed(seed) {
  const der = new Uint8Array(48);
  der.set(PKCS8_ED25519);
  der.set(seed, 16);
  const key = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]);
  const { x } = await crypto.subtle.exportKey("jwk", key);
  const publicKey = Uint8Array.from(atob(x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  return { key, publicKey };
}

/** A new wallet: a fresh key and salt, no records, no consents. */
export function newWallet() {
  return {
    medproof_wallet: 1,
    key: toHex(crypto.getRandomValues(new Uint8Array(32))),
    salt: randomField().toString(),
    records: [],
    consents: [],
    receipts: [],
  };
}

/** A wallet from a file's text (the page's export, or the demo's `patient-wallet.json`). */
export function parseWallet(text) {
  let w;
  try {
    w = JSON.parse(text);
  } catch {
    throw new Error("not a wallet: the file is not JSON");
  }
  if (!w || w.medproof_wallet !== 1) throw new Error("not a medproof wallet (no `medproof_wallet: 1`)");
  hexBytes("key", w.key, 32);
  if (!/^(0|[1-9][0-9]{0,76})$/.test(String(w.salt)) || BigInt(w.salt) >= R) throw new Error("the wallet's salt is not a field element");
  const records = Array.isArray(w.records) ? w.records.map(String) : [];
  if (records.some((r) => !/^(0|[1-9][0-9]{0,76})$/.test(r) || BigInt(r) >= R)) throw new Error("a record commitment in the wallet is not a field element");
  return {
    medproof_wallet: 1,
    key: w.key.toLowerCase(),
    salt: String(w.salt),
    records: [...new Set(records)],
    consents: Array.isArray(w.consents) ? w.consents : [],
    receipts: Array.isArray(w.receipts) ? w.receipts : [],
  };
}

// Action kinds and payloads, as ledger/src/entry.rs encodes them.
const ACTIONS = {
  "register-key": (a) => [1, Uint8Array.of({ patient: 1 }[a.role])],
  "grant-consent": (a) => [3, be32(a.commitment)],
  "revoke-consent": (a) => [4, beU64(a.consent_index)],
};

/**
 * A signed submission of `action` for the ledger `ledgerId` (hex), valid until
 * `expires` (ledger time): the JSON `POST /v1/entries` takes.
 */
export async function signSubmission(signer, action, ledgerId, expires) {
  const [kind, payload] = ACTIONS[action.type](action);
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const message = concat([
    enc.encode("medproof.submission.v2"),
    Uint8Array.of(kind),
    payload,
    hexBytes("ledger id", ledgerId, 32),
    beU64(expires),
    signer.publicKey,
    nonce,
  ]);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signer.key, message));
  return {
    action,
    ledger_id: ledgerId,
    expires,
    signer: toHex(signer.publicKey),
    nonce: toHex(nonce),
    signature: toHex(signature),
  };
}

/** The four headers of a signed request (service/src/auth.rs). */
export async function requestHeaders(signer, ledgerId, method, path, body, now) {
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const digest = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(body))));
  const message = enc.encode(`medproof-request-v2\n${ledgerId}\n${method}\n${path}\n${digest}\n${now}\n${nonce}`);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signer.key, message));
  return {
    "medproof-key": toHex(signer.publicKey),
    "medproof-time": String(now),
    "medproof-nonce": nonce,
    "medproof-signature": toHex(signature),
  };
}
