// The page: which view shows, the pinned ledger key, and the verify view. Everything it
// asks goes to this origin (the Content Security Policy allows nothing else).

import { initAudit } from "./audit.js";
import { initPatient } from "./patient.js";
import { verifyBundle } from "./verify.js";

const $ = (id) => document.getElementById(id);
const PIN = "medproof.ledgerKey";

/** GET a JSON document; a JSON error body becomes the thrown message. */
async function getJson(path) {
  const res = await fetch(path, { headers: { accept: "application/json" } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error_message ?? `${res.status} ${res.statusText}`);
  return body;
}

async function getBytes(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

const state = { ledger: null, pinned: null };

function short(hex) {
  return `${hex.slice(0, 8)}…${hex.slice(-8)}`;
}

function showPinned() {
  $("pinned-key").textContent = state.pinned ?? "none";
  const served = state.ledger?.public_key;
  const warn = $("key-warning");
  if (served && state.pinned && served !== state.pinned) {
    warn.textContent = `This service signs with ledger key ${short(served)}, not the key pinned in this browser (${short(state.pinned)}). Proofs are checked against the pinned key; change it below only if you trust the new one.`;
    warn.hidden = false;
  } else {
    warn.hidden = true;
  }
}

async function loadLedger() {
  try {
    state.ledger = await getJson("/v1/ledger");
    // Trust on first use, shown and changeable: a verifier who has the key from
    // elsewhere (ledger.pub) pins that one instead.
    state.pinned = localStorage.getItem(PIN);
    if (!state.pinned) {
      state.pinned = state.ledger.public_key;
      localStorage.setItem(PIN, state.pinned);
    }
    $("ledger").textContent = `Ledger ${state.ledger.ledger_id.slice(0, 16)} · ${state.ledger.entries} entries`;
  } catch (e) {
    $("ledger").textContent = `The ledger cannot be read: ${e.message}`;
  }
  showPinned();
}

function route() {
  const views = ["audit", "patient", "verify"];
  const view = views.find((v) => location.hash === `#${v}`) ?? "audit";
  for (const v of views) {
    $(`view-${v}`).hidden = v !== view;
    const tab = $(`tab-${v}`);
    tab.setAttribute("aria-selected", String(v === view));
    if (v === view) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
}

function initPin() {
  $("pin-change").addEventListener("click", () => {
    $("pin-form").hidden = false;
    $("pin-input").value = state.pinned ?? "";
    $("pin-input").focus();
  });
  $("pin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("pin-input").value.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(v)) {
      $("pin-input").setCustomValidity("64 hex digits");
      $("pin-input").reportValidity();
      return;
    }
    $("pin-input").setCustomValidity("");
    state.pinned = v;
    localStorage.setItem(PIN, v);
    $("pin-form").hidden = true;
    showPinned();
  });
}

const LABELS = {
  bundle: "Bundle",
  binding: "Binding",
  checkpoint: "Checkpoint",
  key: "Verifying key",
  freshness: "Freshness",
  proof: "Proof",
};

function initVerify() {
  const text = $("bundle-text");
  const read = async (file) => {
    if (file) text.value = await file.text();
  };
  $("bundle-file").addEventListener("change", (e) => read(e.target.files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    read(e.dataTransfer.files[0]);
  });

  let genesis = null;
  const keys = new Map();
  $("verify-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = $("verify-run");
    const progress = $("verify-progress");
    const list = $("verify-checks");
    $("verify-result").hidden = true;
    if (!text.value.trim()) {
      progress.textContent = "Paste or drop a bundle first.";
      text.focus();
      return;
    }
    if (!state.pinned) {
      progress.textContent = "Pin the ledger's key first (below).";
      return;
    }
    button.disabled = true;
    progress.classList.add("busy");
    try {
      const verdict = await verifyBundle(text.value, {
        ledgerKey: state.pinned,
        now: Math.floor(Date.now() / 1000),
        window: Number($("verify-window").value) || 600,
        skew: Number($("verify-skew").value) || 0,
        binding: $("verify-binding").value,
        genesis: async () => (genesis ??= await getJson("/v1/entries/0")),
        verifyingKey: async (s) => {
          if (!keys.has(s)) keys.set(s, await getBytes(`/v1/verifying-keys/${s}`));
          return keys.get(s);
        },
        progress: (name) => {
          progress.textContent = `Checking: ${LABELS[name] ?? name}…`;
        },
      });
      list.replaceChildren(
        ...verdict.checks.map((c) => {
          const li = document.createElement("li");
          li.className = c.passed ? "pass" : "fail";
          li.dataset.check = c.name;
          const head = document.createElement("strong");
          head.textContent = `${c.passed ? "✓" : "✗"} ${LABELS[c.name] ?? c.name}`;
          const p = document.createElement("span");
          p.textContent = c.detail;
          li.append(head, " ", p);
          return li;
        }),
      );
      const failed = verdict.checks.find((c) => !c.passed);
      const banner = $("verify-verdict");
      banner.className = `banner ${verdict.valid ? "good" : "bad"}`;
      banner.textContent = verdict.valid
        ? `Valid: this ${verdict.statement} proof holds against the pinned ledger.`
        : `Not valid: the ${LABELS[failed.name]?.toLowerCase() ?? failed.name} check failed.`;
      $("verify-result").hidden = false;
      progress.textContent = "";
    } finally {
      button.disabled = false;
      progress.classList.remove("busy");
    }
  });
}

window.addEventListener("hashchange", route);
route();
initPin();
initVerify();
loadLedger().then(() => {
  initAudit(state, getJson);
  initPatient(state, getJson, loadLedger);
});
