// The web page in headless Chromium (Debian's), driven by playwright-core, against a
// real `medproof serve` over a demo's data dir (interop/ui.sh starts both):
//  - the auditor view shows the demo's audited period with the report's counts, the
//    forged access listed by its seq, and its pictures;
//  - a bundle of each statement verifies in the page, and tampered twins are refused
//    by the check that should refuse them, while the server is never asked to verify;
//  - a patient imports the demo's wallet, reads their history (the forged access shown
//    as not authorized), grants a consent and revokes it, each with a checked receipt,
//    and no request carries the key, salt or an opening but the signed ones;
//  - no console error, and no request to any host but the service's.
//   CHROME=… MEDPROOF_UI_URL=… MEDPROOF_UI_WORK=DIR MEDPROOF_NPM_DIR=DIR node --test ui.test.mjs
// MEDPROOF_UI_SHOTS=DIR also writes screenshots of each view, desktop and phone width.

import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const need = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run interop/ui.sh)`);
  return v;
};
const base = need("MEDPROOF_UI_URL");
const work = need("MEDPROOF_UI_WORK");
const require = createRequire(path.join(need("MEDPROOF_NPM_DIR"), "package.json"));
const { chromium } = require("playwright-core");
const shots = process.env.MEDPROOF_UI_SHOTS;

const out = (f) => fs.readFileSync(path.join(work, "out", f), "utf8");
const report = JSON.parse(out("audit-report.json"));

let browser;
let page;
let requests;
let problems;

before(async () => {
  browser = await chromium.launch({ executablePath: need("CHROME"), args: ["--no-sandbox"] });
});
after(async () => browser?.close());

async function open(hash, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  page = await context.newPage();
  requests = [];
  problems = [];
  page.on("request", (r) => requests.push({ method: r.method(), url: r.url(), headers: r.headers(), body: r.postData() ?? "" }));
  page.on("dialog", (d) => d.accept());
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${base}/${hash}`);
  await page.waitForFunction(() => !document.getElementById("ledger").textContent.startsWith("Reading"));
  return page;
}

afterEach(async () => {
  if (!page) return;
  assert.deepEqual(problems, [], "the page logged errors");
  const origin = new URL(base).origin;
  const foreign = requests.filter((r) => new URL(r.url).origin !== origin && !r.url.startsWith("blob:"));
  assert.deepEqual(foreign, [], "the page asked another host");
  await page.context().close();
  page = undefined;
});

const field = (name) => page.locator(`#audit-summary [data-field="${name}"] dd`).textContent();

async function audit(from, to) {
  await page.fill("#audit-from", String(from));
  await page.fill("#audit-to", String(to));
  await page.click("#audit-run");
  await page.waitForSelector("#audit-result:not([hidden])");
}

test("the auditor view shows the demo's period: counts, the forged access, pictures", async () => {
  await open("#audit");
  assert.equal(report.problems.length, 1, "the demo's audit names one problem");
  const forged = report.problems[0];
  await audit(report.from, report.to);
  assert.equal(await field("Entries"), String(report.entries));
  assert.equal(await field("Accesses"), String(report.accesses));
  assert.equal(await field("Authorized"), String(report.valid));
  assert.equal(await field("Invalid"), String(report.invalid));
  assert.equal(await field("Stale"), String(report.stale));
  assert.equal(await field("Chain"), "intact");
  assert.match(await page.textContent("#audit-verdict"), /^Not passed: 1 of \d+ accesses were not authorized/);
  const row = page.locator(`#problems tbody tr[data-seq="${forged.seq}"]`);
  assert.equal(await row.count(), 1, "the forged access is listed");
  assert.equal(await row.locator("td").nth(1).textContent(), "invalid");
  assert.equal(await row.locator("td").nth(2).textContent(), forged.reason);
  assert.equal(await page.locator("#problems tbody tr").count(), 1);
  // Pictures: one day of accesses, authorized and invalid stacked; one reason; the
  // checkpoints of the period with the closing one marked.
  assert.equal(await page.locator("#chart-days rect.fill-good").count(), 1);
  assert.equal(await page.locator("#chart-days rect.fill-bad").count(), 1);
  assert.equal(await page.locator("#chart-reasons rect").count(), 1);
  assert.equal(await page.locator("#chart-checkpoints circle.closing").count(), 1);
  assert.ok((await page.locator("#chart-checkpoints circle").count()) >= 2);
  // The report downloads as JSON with the signed closing checkpoint.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#audit-download")]);
  const saved = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
  assert.deepEqual(saved.report.problems, report.problems);
  assert.equal(saved.closing_checkpoint.seq, report.checkpoints.end.seq);
  assert.match(saved.closing_checkpoint.signature, /^[0-9a-f]{128}$/);
  // Audits run on the server; nothing else is asked there but reads.
  assert.ok(requests.some((r) => r.url.includes(`/v1/audit?from=${report.from}&to=${report.to}`)));
  assert.ok(requests.every((r) => r.method === "GET"));
  if (shots) {
    await page.screenshot({ path: path.join(shots, "ui-audit-desktop.png"), fullPage: true });
  }
});

test("a period chosen by time, and bad periods, are answered clearly", async () => {
  await open("#audit");
  await page.check('input[name="by"][value="time"]');
  // From the epoch to the end: the whole ledger (at most an audit's length).
  await page.fill("#audit-from-time", "2000-01-01T00:00");
  await page.click("#audit-run");
  await page.waitForSelector("#audit-result:not([hidden])");
  const ledger = await (await fetch(`${base}/v1/ledger`)).json();
  assert.equal(Number(await field("Entries")), ledger.entries);
  // A period past the end: a reason, no result, no exception.
  await page.check('input[name="by"][value="seq"]');
  await page.fill("#audit-from", "5");
  await page.fill("#audit-to", "3");
  await page.click("#audit-run");
  await page.waitForSelector("#audit-error:not([hidden])");
  assert.match(await page.textContent("#audit-error"), /holds no entry/);
  await page.fill("#audit-from", String(ledger.entries + 10));
  await page.fill("#audit-to", "");
  await page.click("#audit-run");
  await page.waitForSelector("#audit-error:not([hidden])");
});

async function verify(text, binding = "") {
  await page.fill("#bundle-text", text);
  await page.fill("#verify-binding", binding);
  await page.click("#verify-run");
  await page.waitForSelector("#verify-result:not([hidden])");
  await page.waitForFunction(() => !document.getElementById("verify-run").disabled);
  const checks = await page.$$eval("#verify-checks li", (lis) => lis.map((li) => ({ name: li.dataset.check, passed: li.classList.contains("pass") })));
  return { verdict: await page.textContent("#verify-verdict"), checks };
}

const edit = (text, f) => {
  const b = JSON.parse(text);
  f(b);
  return JSON.stringify(b);
};

test("bundles verify in the page, tampered twins are refused, the server is not asked", async () => {
  await open("#verify");
  for (const [file, input] of [
    ["record-inclusion-0.json", "binding"],
    ["access-0.json", "request_binding"],
    ["claim.json", "binding"],
  ]) {
    const text = out(file);
    const ok = await verify(text);
    assert.match(ok.verdict, /^Valid/, `${file}: ${JSON.stringify(ok)}`);
    assert.deepEqual(ok.checks.map((c) => c.name), ["bundle", "checkpoint", "key", "freshness", "proof"]);
    assert.ok(ok.checks.every((c) => c.passed));
    if (shots && file === "access-0.json") {
      await page.screenshot({ path: path.join(shots, "ui-verify-desktop.png"), fullPage: true });
    }
    // The expected binding: the proof's own passes, another is refused first.
    const b = JSON.parse(text).public_inputs[input];
    assert.match((await verify(text, b)).verdict, /^Valid/);
    const other = await verify(text, "12345");
    assert.deepEqual(other.checks, [{ name: "bundle", passed: true }, { name: "binding", passed: false }]);
    // A public input moved to another valid field element: only the pairing notices.
    const moved = await verify(edit(text, (x) => (x.public_inputs[input] = String(BigInt(x.public_inputs[input]) + 1n))));
    assert.match(moved.verdict, /^Not valid: the proof check failed/);
    assert.deepEqual(moved.checks.at(-1), { name: "proof", passed: false });
    assert.equal(moved.checks.length, 5);
  }
  const text = out("record-inclusion-0.json");
  const refusedAt = async (t, name) => {
    const r = await verify(t);
    assert.deepEqual(r.checks.at(-1), { name, passed: false }, JSON.stringify(r));
    assert.match(r.verdict, /^Not valid/);
  };
  // The checkpoint's signature, or its root, changed.
  await refusedAt(edit(text, (b) => (b.checkpoint.signature = b.checkpoint.signature.replace(/^./, (c) => (c === "0" ? "1" : "0")))), "checkpoint");
  await refusedAt(edit(text, (b) => (b.checkpoint.records_root = "1")), "checkpoint");
  await refusedAt(edit(text, (b) => delete b.checkpoint), "checkpoint");
  // Another verifying key than the genesis names.
  await refusedAt(edit(text, (b) => (b.vk_id = "00".repeat(32))), "key");
  // Malformed: a public input at the modulus, an unknown field, a proof that is no point.
  const r = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
  await refusedAt(edit(text, (b) => (b.public_inputs.binding = r)), "bundle");
  await refusedAt(edit(text, (b) => (b.extra = 1)), "bundle");
  await refusedAt(edit(text, (b) => (b.proof = Buffer.alloc(128, 0xff).toString("base64"))), "bundle");
  await refusedAt("{ not json", "bundle");
  // An old checkpoint, by this browser's rule (window of 1 s, after 2 s).
  await page.click("#view-verify summary");
  await page.fill("#verify-window", "1");
  await new Promise((res) => setTimeout(res, 2100));
  await refusedAt(text, "freshness");
  // The server was asked for the genesis and the verifying keys, never for a verdict.
  assert.ok(!requests.some((r) => new URL(r.url).pathname === "/v1/verify"), "the page asked the server to verify");
  assert.ok(requests.every((r) => r.method === "GET"));
  const asked = new Set(requests.map((r) => new URL(r.url).pathname));
  for (const p of asked) {
    assert.match(p, /^\/($|ui\/|v1\/ledger$|v1\/entries\/0$|v1\/verifying-keys\/)/, `unexpected request ${p}`);
  }
});

test("a key pinned in the browser is what bundles are checked against", async () => {
  await open("#verify");
  await page.click("#pin-change");
  await page.fill("#pin-input", "ab".repeat(32));
  await page.click("#pin-form button");
  assert.equal(await page.textContent("#pinned-key"), "ab".repeat(32));
  assert.ok(await page.isVisible("#key-warning"), "the page warns that the service signs with another key");
  const r = await verify(out("record-inclusion-0.json"));
  assert.deepEqual(r.checks.at(-1), { name: "checkpoint", passed: false });
});

const walletFile = path.join(work, "out", "patient-wallet.json");
const wallet = JSON.parse(fs.readFileSync(walletFile, "utf8"));

async function history() {
  await page.click("#history-run");
  await page.waitForSelector("#history:not([hidden])");
  await page.waitForFunction(() => !document.getElementById("history-run").disabled);
  return page.$$eval("#history tbody tr", (trs) => trs.map((tr) => ({ seq: Number(tr.dataset.seq), authorized: tr.dataset.authorized === "true", text: tr.textContent })));
}

test("a patient imports a key, reads their history, grants and revokes a consent", async () => {
  await open("#patient");
  await page.setInputFiles("#wallet-file", walletFile);
  await page.waitForFunction(() => document.getElementById("wallet-status").textContent.startsWith("registered"));
  const me = await page.textContent("#wallet-key");
  // The demo's consent, revoked by the demo.
  assert.equal(await page.getAttribute('#consents tr[data-index="0"]', "data-state"), "revoked");
  // The history: the demo's accesses, the forged one not authorized.
  const forged = report.problems[0].seq;
  let seen = await history();
  assert.equal(seen.length, report.accesses);
  assert.deepEqual(seen.filter((a) => !a.authorized).map((a) => a.seq), [forged]);
  assert.match(seen.find((a) => a.seq === forged).text, /NOT authorized: the proof does not verify/);
  assert.ok(seen.filter((a) => a.authorized).every((a) => a.text.includes("#0")), "authorized accesses name the consent they fit");
  assert.ok(!seen.find((a) => a.seq === forged).text.includes("#0"), "a refused access is not put under a consent");
  // Grant: laboratory records, for treatment, to the demo's provider.
  await page.selectOption("#grant-category", "1");
  await page.selectOption("#grant-purpose", "1");
  await page.click("#grant-run");
  await page.waitForFunction(() => document.getElementById("receipt").textContent.startsWith("Consent granted"));
  assert.match(await page.textContent("#receipt"), /signed by the pinned ledger key/);
  // The table is drawn again after the receipt is shown.
  await page.waitForSelector('#consents tr[data-state="active"]');
  const granted = page.locator('#consents tr[data-state="active"]');
  assert.equal(await granted.count(), 1);
  const index = await granted.getAttribute("data-index");
  // Its terms are in the wallet and commit to what the ledger holds.
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem("medproof.wallet")));
  const mine = stored.consents.find((c) => String(c.index) === index);
  assert.equal(mine.grantee_key, (await (await fetch(`${base}/v1/entries?start=0&limit=256`)).json()).entries.find((e) => e.kind === "admit-key" && e.role === "provider").key);
  const entry = (await (await fetch(`${base}/v1/entries?start=0&limit=256`)).json()).entries.filter((e) => e.kind === "grant-consent" && e.signer === me).at(-1);
  assert.equal(entry.commitment, mine.commitment);
  // Revoke it (the page asks to confirm; the test accepts).
  await page.click(`#consents tr[data-index="${index}"] button:text("Revoke")`);
  await page.waitForSelector(`#consents tr[data-index="${index}"][data-state="revoked"]`);
  assert.match(await page.textContent("#receipt"), new RegExp(`^Consent #${index} revoked: entry #\\d+\\. Receipt`));
  assert.equal(await page.locator("#receipts li.pass").count(), 2);
  // The header counts the entries the patient appended.
  const size = (await (await fetch(`${base}/v1/ledger`)).json()).entries;
  await page.waitForFunction((n) => document.getElementById("ledger").textContent.endsWith(`· ${n} entries`), size);
  // The history still shows the refused access.
  seen = await history();
  assert.deepEqual(seen.filter((a) => !a.authorized).map((a) => a.seq), [forged]);
  if (shots) {
    await page.screenshot({ path: path.join(shots, "ui-patient-desktop.png"), fullPage: true });
  }
  // What left the browser: the key, the salt and the openings only inside what the
  // patient signed (submissions; the history request's headers name the key).
  const secrets = [wallet.key, wallet.salt, wallet.consents[0].opening.patient_ref, wallet.consents[0].opening.blinding, mine.opening.blinding, mine.opening.patient_ref];
  for (const r of requests) {
    const where = `${r.method} ${r.url}`;
    for (const secret of secrets) {
      assert.ok(!r.url.includes(secret) && !r.body.includes(secret) && !JSON.stringify(r.headers).includes(secret), `${where} carries a secret`);
    }
    const p = new URL(r.url).pathname;
    if (r.method === "POST" && p === "/v1/entries") {
      const b = JSON.parse(r.body);
      assert.deepEqual(Object.keys(b).sort(), ["action", "expires", "ledger_id", "nonce", "signature", "signer"]);
      assert.ok(["grant-consent", "revoke-consent"].includes(b.action.type), where);
      assert.equal(b.signer, me);
    } else if (r.method === "POST" && p === "/v1/history") {
      assert.deepEqual(Object.keys(JSON.parse(r.body)), ["records"]);
      assert.equal(r.headers["medproof-key"], me);
      assert.match(r.headers["medproof-signature"], /^[0-9a-f]{128}$/);
    } else {
      assert.equal(r.method, "GET", where);
      assert.ok(!r.url.includes(me), `${where} names the patient's key`);
    }
  }
});

test("a key made in the browser registers itself, and a bad wallet is refused clearly", async () => {
  await open("#patient");
  await page.setInputFiles("#wallet-file", { name: "nope.json", mimeType: "application/json", buffer: Buffer.from('{"medproof_wallet": 2}') });
  await page.waitForSelector("#wallet-error:not([hidden])");
  assert.match(await page.textContent("#wallet-error"), /not a medproof wallet/);
  await page.click("#wallet-new");
  await page.waitForFunction(() => document.getElementById("wallet-status").textContent === "not registered");
  assert.ok(await page.isDisabled("#grant-run"), "an unregistered key cannot grant");
  await page.click("#wallet-register");
  await page.waitForFunction(() => document.getElementById("wallet-status").textContent.startsWith("registered"));
  assert.match(await page.textContent("#receipt"), /^Key registered: entry #\d+\. Receipt/);
  assert.ok(!(await page.isDisabled("#grant-run")));
  // No record yet: the history asks for them.
  await page.click("#history-run");
  await page.waitForSelector("#history-error:not([hidden])");
  assert.match(await page.textContent("#history-error"), /names no record yet/);
});

test("every control has a label, and the views read at phone width", async () => {
  await open("#audit", { width: 390, height: 844 });
  const unlabelled = await page.$$eval("input, textarea, button, select", (els) =>
    els.filter((e) => !e.closest("[hidden]") && !(e.labels?.length || e.getAttribute("aria-label") || e.textContent.trim())).map((e) => e.id || e.outerHTML),
  );
  assert.deepEqual(unlabelled, []);
  // Nothing wider than the screen.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `the page is ${wide} px wide on a 390 px screen`);
  await audit(report.from, report.to);
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
  if (shots) {
    await page.screenshot({ path: path.join(shots, "ui-audit-phone.png"), fullPage: true });
    await page.click("#tab-verify");
    await verify(out("access-0.json"));
    await page.screenshot({ path: path.join(shots, "ui-verify-phone.png"), fullPage: true });
    await page.click("#tab-patient");
    await page.setInputFiles("#wallet-file", walletFile);
    await page.waitForFunction(() => document.getElementById("wallet-status").textContent.startsWith("registered"));
    await history();
    await page.screenshot({ path: path.join(shots, "ui-patient-phone.png"), fullPage: true });
  }
});
