// The patient's view: a key made in or imported into this browser; the consents it
// granted and their state; a consent granted or revoked as a signed submission, with
// the receipt checked and kept; and the access history of the patient's records, read
// with a signed request. What the page learns of the ledger it reads from its public
// entries (`GET /v1/entries`, no identifier in the request): whether the key is
// registered, its grants and revocations, and the admitted providers.

import { parseCheckpoint, toHex, hexBytes } from "./bundle.js";
import { ed25519Verify } from "./verify.js";
import {
  consentCommitment,
  importSeed,
  keyRef,
  newWallet,
  parseWallet,
  patientRef,
  randomField,
  requestHeaders,
  signSubmission,
} from "./wallet.js";

const $ = (id) => document.getElementById(id);
const STORE = "medproof.wallet";
/** How long a submission may wait to be appended (ledger seconds). */
const VALIDITY = 600;
const CATEGORIES = [
  ["laboratory", 1], ["imaging", 2], ["vital-signs", 3], ["procedure", 4], ["exam", 5],
  ["therapy", 6], ["social-history", 7], ["survey", 8], ["activity", 9],
];
const PURPOSES = [
  ["treatment (TREAT)", 1], ["emergency treatment (ETREAT)", 2], ["payment (HPAYMT)", 3],
  ["operations (HOPERAT)", 4], ["research (HRESCH)", 5], ["public health (PUBHLTH)", 6],
];
const nameOf = (table, code) => table.find(([, n]) => n === Number(code))?.[0] ?? `code ${code}`;
const short = (hex) => `${hex.slice(0, 8)}…${hex.slice(-4)}`;
const date = (t) => new Date(t * 1000).toISOString().slice(0, 10);
const when = (t) => new Date(t * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function message(id, text) {
  const p = $(id);
  p.textContent = text ?? "";
  p.hidden = !text;
}

/** What the public entries say about `me`: registered, grants, revocations; providers. */
async function scan(getJson, me, cache) {
  const info = await getJson("/v1/ledger");
  while (cache.next < info.entries) {
    const page = await getJson(`/v1/entries?start=${cache.next}&limit=256`);
    for (const e of page.entries) {
      if (e.kind === "grant-consent") {
        if (e.signer === me) cache.grants.push({ index: cache.consents, seq: e.seq, time: e.time, commitment: e.commitment });
        cache.consents += 1;
      } else if (e.kind === "revoke-consent" && e.signer === me) {
        cache.revoked.set(e.consent_index, e.seq);
      } else if (e.kind === "register-key" && e.signer === me) {
        cache.registered = e.seq;
      } else if (e.kind === "admit-key" && e.role === "provider") {
        cache.providers.set(e.key, { key: e.key, suspended: false });
      } else if (e.kind === "suspend-key" && cache.providers.has(e.key)) {
        cache.providers.get(e.key).suspended = true;
      }
    }
    if (page.next === undefined || page.next === null) {
      cache.next = page.entries.length ? page.entries.at(-1).seq + 1 : cache.next;
      break;
    }
    cache.next = page.next;
  }
  return info;
}

/**
 * `refreshLedger` is called after each entry the patient appends, so the header's
 * entry count stays current.
 */
export function initPatient(state, getJson, refreshLedger) {
  let wallet = null;
  let signer = null;
  let cache = null;
  let info = null;

  const save = () => localStorage.setItem(STORE, JSON.stringify(wallet));
  const fresh = () => ({ next: 0, consents: 0, grants: [], revoked: new Map(), registered: null, providers: new Map() });

  async function load(w) {
    wallet = w;
    signer = await importSeed(hexBytes("key", wallet.key, 32));
    cache = fresh();
    save();
    await refresh();
  }

  async function refresh() {
    message("wallet-error");
    $("wallet-none").hidden = !!wallet;
    $("wallet-some").hidden = !wallet;
    for (const id of ["consents-card", "history-card", "receipts-card"]) $(id).hidden = !wallet;
    if (!wallet) return;
    const me = toHex(signer.publicKey);
    $("wallet-key").textContent = me;
    $("wallet-records").textContent = String(wallet.records.length);
    $("wallet-progress").textContent = "Reading the ledger's public entries…";
    try {
      info = await scan(getJson, me, cache);
    } catch (e) {
      message("wallet-error", `The ledger cannot be read: ${e.message}`);
      return;
    } finally {
      $("wallet-progress").textContent = "";
    }
    $("wallet-status").textContent = cache.registered !== null ? `registered as a patient (entry #${cache.registered})` : "not registered";
    $("wallet-register").hidden = cache.registered !== null;
    $("grant-run").disabled = cache.registered === null;
    drawConsents();
    drawProviders();
    drawReceipts();
  }

  function stateOf(grant, opening, now) {
    if (cache.revoked.has(grant.index)) return ["revoked", `revoked (entry #${cache.revoked.get(grant.index)})`];
    if (!opening) return ["active", "granted; terms not in this wallet"];
    if (now > opening.valid_until) return ["expired", "expired"];
    if (now < opening.valid_from) return ["pending", "not yet valid"];
    return ["active", "active"];
  }

  function drawConsents() {
    const now = Math.floor(Date.now() / 1000);
    const rows = cache.grants.map((g) => {
      const mine = wallet.consents.find((c) => c.index === g.index && c.commitment === g.commitment);
      const o = mine?.opening;
      const [cls, text] = stateOf(g, o, now);
      const tr = el("tr");
      tr.dataset.index = g.index;
      tr.dataset.state = cls;
      tr.append(
        el("td", `#${g.index}`),
        el("td", mine ? short(mine.grantee_key) : "—"),
        el("td", o ? nameOf(CATEGORIES, o.category) : "—"),
        el("td", o ? nameOf(PURPOSES, o.purpose) : "—"),
        el("td", o ? `${date(o.valid_from)} to ${date(o.valid_until)}` : `since ${date(g.time)}`),
        el("td", text, `state-${cls}`),
      );
      const actions = el("td");
      if (cls === "active" || cls === "pending") {
        const b = el("button", "Revoke");
        b.type = "button";
        b.setAttribute("aria-label", `Revoke consent #${g.index}`);
        b.addEventListener("click", () => revoke(g.index, b));
        actions.append(b);
      }
      if (mine && cls !== "revoked") {
        const s = el("button", "Share with the provider");
        s.type = "button";
        s.setAttribute("aria-label", `Download consent #${g.index} for its provider`);
        s.addEventListener("click", () => share(mine));
        actions.append(" ", s);
      }
      tr.append(actions);
      return tr;
    });
    $("consents").tBodies[0].replaceChildren(...rows);
    $("consents").hidden = rows.length === 0;
    $("consents-empty").hidden = rows.length !== 0;
  }

  function drawProviders() {
    const select = $("grant-provider");
    const keep = select.value;
    const options = [...cache.providers.values()].filter((p) => !p.suspended).map((p) => {
      const o = el("option", `provider ${short(p.key)}`);
      o.value = p.key;
      return o;
    });
    select.replaceChildren(...options);
    if (keep) select.value = keep;
    $("grant-run").disabled = cache.registered === null || options.length === 0;
  }

  function drawReceipts() {
    const items = wallet.receipts.map((r) => {
      const li = el("li", undefined, r.valid ? "pass" : "fail");
      li.append(el("strong", `${r.valid ? "✓" : "✗"} ${r.what}`), " ", el("span", `entry #${r.seq}, in checkpoint #${r.checkpoint.seq} of ${when(r.checkpoint.time)}: ${r.valid ? "signed by the pinned ledger key" : "NOT signed by the pinned ledger key"}`));
      return li;
    });
    $("receipts").replaceChildren(...items);
    $("receipts-card").hidden = items.length === 0;
  }

  function download(name, value) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: "application/json" }));
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  function share(c) {
    // What the provider's prover needs to prove access under this consent.
    download(`consent-${c.index}-for-provider.json`, { consent: c.opening, consent_index: c.index, patient_salt: wallet.salt });
  }

  /** Signs `action`, submits it, checks the receipt; returns the appended entry. */
  async function submit(action, what) {
    if (!state.pinned) throw new Error("Pin the ledger's key first (at the foot of the page).");
    const ledger = await getJson("/v1/ledger");
    const body = await signSubmission(signer, action, ledger.ledger_id, ledger.time + VALIDITY);
    const res = await fetch("/v1/entries", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const answer = await res.json().catch(() => null);
    if (res.status !== 201) throw new Error(answer?.error_message ?? `${res.status} ${res.statusText}`);
    const cp = parseCheckpoint(answer.checkpoint);
    const valid = cp.seq > answer.seq && (await ed25519Verify(state.pinned, cp.signature, cp.message));
    wallet.receipts.push({ what, seq: answer.seq, checkpoint: answer.checkpoint, valid });
    save();
    const banner = $("receipt");
    banner.className = `banner ${valid ? "good" : "bad"}`;
    banner.textContent = valid
      ? `${what}: entry #${answer.seq}. Receipt: checkpoint #${cp.seq}, signed by the pinned ledger key, kept below.`
      : `${what}: entry #${answer.seq}, but its receipt is not signed by the pinned ledger key.`;
    banner.hidden = false;
    refreshLedger();
    return answer;
  }

  async function revoke(index, button) {
    if (!window.confirm(`Revoke consent #${index}? No new access can be proved under it; this cannot be undone.`)) return;
    button.disabled = true;
    message("grant-error");
    try {
      await submit({ type: "revoke-consent", consent_index: index }, `Consent #${index} revoked`);
      await refresh();
    } catch (e) {
      message("grant-error", `The revocation was not taken: ${e.message}`);
      button.disabled = false;
    }
  }

  // The grant form's choices.
  $("grant-category").replaceChildren(...CATEGORIES.map(([n, c]) => Object.assign(el("option", n), { value: String(c) })));
  $("grant-purpose").replaceChildren(...PURPOSES.map(([n, c]) => Object.assign(el("option", n), { value: String(c) })));
  const today = new Date().toISOString().slice(0, 10);
  $("grant-from").value = today;
  $("grant-until").value = new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10);

  $("grant-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    message("grant-error");
    const from = Date.parse(`${$("grant-from").value}T00:00:00Z`) / 1000;
    const until = Date.parse(`${$("grant-until").value}T23:59:59Z`) / 1000;
    const grantee = $("grant-provider").value;
    if (!grantee) return message("grant-error", "Choose the provider you consent to.");
    if (!Number.isFinite(from) || !Number.isFinite(until)) return message("grant-error", "Choose when the consent starts and ends.");
    if (until < from) return message("grant-error", "The consent must end after it starts.");
    const button = $("grant-run");
    button.disabled = true;
    $("grant-progress").classList.add("busy");
    $("grant-progress").textContent = "Computing the commitment and signing…";
    try {
      const opening = {
        patient_ref: patientRef(signer.publicKey, wallet.salt).toString(),
        grantee: keyRef(hexBytes("provider", grantee, 32)).toString(),
        category: Number($("grant-category").value),
        purpose: Number($("grant-purpose").value),
        valid_from: from,
        valid_until: until,
        blinding: randomField().toString(),
      };
      const commitment = consentCommitment(opening).toString();
      const answer = await submit({ type: "grant-consent", commitment }, "Consent granted");
      wallet.consents.push({ index: answer.leaf_index, grantee_key: grantee, commitment, opening, receipt: answer.checkpoint });
      save();
      await refresh();
    } catch (err) {
      message("grant-error", `The consent was not granted: ${err.message}`);
    } finally {
      button.disabled = false;
      $("grant-progress").classList.remove("busy");
      $("grant-progress").textContent = "";
    }
  });

  $("wallet-register").addEventListener("click", async () => {
    try {
      await submit({ type: "register-key", role: "patient" }, "Key registered");
      await refresh();
    } catch (e) {
      message("wallet-error", `The key was not registered: ${e.message}`);
    }
  });

  $("history-run").addEventListener("click", async () => {
    message("history-error");
    const button = $("history-run");
    const progress = $("history-progress");
    if (!wallet.records.length) {
      message("history-error", "This wallet names no record yet: add the commitments your providers gave you.");
      return;
    }
    button.disabled = true;
    progress.classList.add("busy");
    progress.textContent = "Reading who accessed your records (a signed request)…";
    try {
      const ledger = await getJson("/v1/ledger");
      const body = JSON.stringify({ records: wallet.records.slice(0, 64) });
      const headers = await requestHeaders(signer, ledger.ledger_id, "POST", "/v1/history", body, Math.floor(Date.now() / 1000));
      const res = await fetch("/v1/history", { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
      const answer = await res.json().catch(() => null);
      if (!res.ok) throw new Error(answer?.error_message ?? `${res.status} ${res.statusText}`);
      drawHistory(answer);
    } catch (e) {
      message("history-error", `Your history cannot be read: ${e.message}`);
    } finally {
      button.disabled = false;
      progress.classList.remove("busy");
      progress.textContent = "";
    }
  });

  function drawHistory(answer) {
    // The consent an access was proved under is hidden in its proof; the page names the
    // one of yours whose terms fit (same provider, category and purpose, valid then).
    const fits = (a) =>
      wallet.consents.find(
        (c) => c.grantee_key === a.provider && Number(c.opening.category) === Number(a.category) && Number(c.opening.purpose) === Number(a.purpose) && c.opening.valid_from <= Number(a.now) && Number(a.now) <= c.opening.valid_until,
      );
    const rows = answer.accesses
      .slice()
      .sort((a, b) => b.seq - a.seq)
      .map((a) => {
        const tr = el("tr", undefined, a.authorized ? "" : "refused");
        tr.dataset.seq = a.seq;
        tr.dataset.authorized = String(a.authorized);
        const c = fits(a);
        tr.append(
          el("td", when(a.logged_at)),
          el("td", `provider ${short(a.provider)}`),
          el("td", nameOf(CATEGORIES, a.category)),
          el("td", nameOf(PURPOSES, a.purpose)),
          // An access that is not authorized was proved under no consent, whatever it claims.
          el("td", !a.authorized ? "—" : c ? `#${c.index}` : "not in this wallet"),
          el("td", a.authorized ? "authorized" : `NOT authorized: ${a.problem}`, a.authorized ? "verdict-ok" : "verdict-bad"),
        );
        return tr;
      });
    $("history").tBodies[0].replaceChildren(...rows);
    $("history").hidden = rows.length === 0;
    $("history-empty").hidden = rows.length !== 0;
  }

  $("records-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const lines = $("records-text").value.split(/\s+/).filter(Boolean);
    const bad = lines.find((l) => !/^(0|[1-9][0-9]{0,76})$/.test(l));
    if (bad !== undefined) return message("history-error", "A record commitment is a decimal number.");
    wallet.records = [...new Set([...wallet.records, ...lines])];
    save();
    $("records-text").value = "";
    $("wallet-records").textContent = String(wallet.records.length);
  });

  $("wallet-new").addEventListener("click", () => load(newWallet()).catch((e) => message("wallet-error", e.message)));
  $("wallet-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try {
      await load(parseWallet(await file.text()));
    } catch (err) {
      message("wallet-error", `${file.name}: ${err.message}`);
    }
    e.target.value = "";
  });
  $("wallet-export").addEventListener("click", () => download("medproof-wallet.json", wallet));
  $("wallet-forget").addEventListener("click", () => {
    if (!window.confirm("Forget this key in this browser? Without an exported copy you cannot sign for it again.")) return;
    localStorage.removeItem(STORE);
    wallet = null;
    signer = null;
    $("receipt").hidden = true;
    $("history").hidden = true;
    refresh();
  });

  const stored = localStorage.getItem(STORE);
  if (stored) {
    load(parseWallet(stored)).catch((e) => message("wallet-error", `The stored wallet cannot be used: ${e.message}`));
  } else {
    refresh();
  }
}
