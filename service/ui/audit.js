// The auditor's view: a period of the log (by entry number or by time), audited by the
// service (`GET /v1/audit`), shown as a summary, three pictures and the problems by
// entry. The pictures are drawn from the entries of the period (`GET /v1/entries`):
// their kinds and times only, never a bundle's inputs.

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
/** Entries one audit request covers at most (the service's `MAX_AUDIT`). */
const MAX_AUDIT = 4096;
const OUTCOMES = [
  ["valid", "Authorized", "good"],
  ["invalid", "Invalid proof", "bad"],
  ["stale", "Stale root or time", "warn"],
];

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

const fmtTime = (t) => new Date(t * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
const day = (t) => new Date(t * 1000).toISOString().slice(0, 10);

/** The entries of `[from, to)`, page by page (at most 256 an answer). */
async function entries(getJson, from, to, progress) {
  const out = [];
  let start = from;
  while (start < to) {
    progress(`Reading entries ${start}…${to - 1}`);
    const page = await getJson(`/v1/entries?start=${start}&limit=${Math.min(256, to - start)}`);
    for (const e of page.entries) if (e.seq < to) out.push({ seq: e.seq, kind: e.kind, time: e.time });
    if (page.next === undefined || page.next === null || page.next <= start) break;
    start = page.next;
  }
  return out;
}

/** The first entry at or after `t` (binary search over entry times, which never decrease). */
async function seqAt(getJson, t, len) {
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const e = await getJson(`/v1/entries/${mid}`);
    if (e.time < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The witnesses that cosigned the log, as the service's latest cosigned note names
 * them (`GET /v1/log/cosigned`): who, and whether the log they saw holds the period's
 * closing checkpoint. Shown, not verified here: `medproof audit --cosigned FILE
 * --witness VKEY` checks the cosignatures with the witnesses' keys.
 */
async function witnesses(report, getJson) {
  // Asked only when there is one, so that a log without witnesses costs no 404.
  if (!(await getJson("/v1/log")).cosigned) return "none has cosigned this log";
  const res = await fetch("/v1/log/cosigned");
  if (!res.ok) return `cannot be read (${res.status})`;
  const note = await res.text();
  const [body, sigs = ""] = note.split("\n\n");
  const [origin, size] = body.split("\n");
  const names = [...new Set(sigs.split("\n").filter((l) => l.startsWith("— ")).map((l) => l.slice(2).split(" ")[0]).filter((n) => n !== origin))];
  if (!names.length) return "none has cosigned this log";
  const end = report.checkpoints.end;
  const covers = end && Number(size) > end.seq;
  return `${names.join(", ")}: cosigned the log at ${size} entries${end ? (covers ? ", which holds the closing checkpoint" : ", before the closing checkpoint") : ""}`;
}

function summary(report, cosigners) {
  const dl = $("audit-summary");
  const item = (label, value, cls) => {
    const div = el("div", undefined, cls);
    div.append(el("dt", label), el("dd", String(value)));
    div.dataset.field = label;
    return div;
  };
  const cps = report.checkpoints;
  // A report from `medproof audit --cosigned` names the witnesses that vouched; the
  // service's names none, and the page shows those of the log's cosigned note.
  const w = report.witnesses;
  const witnesses = w ? `${w.vouched.length} of ${w.required} required${w.problem ? ` (${w.problem})` : ""}` : cosigners;
  dl.replaceChildren(
    item("Entries", report.entries),
    item("Accesses", report.accesses),
    item("Authorized", report.valid, "good"),
    item("Invalid", report.invalid, report.invalid ? "bad" : ""),
    item("Stale", report.stale, report.stale ? "warn" : ""),
    item("Chain", report.chain_ok ? "intact" : "broken", report.chain_ok ? "good" : "bad"),
    item("Opening checkpoint", cps.start ? `#${cps.start.seq} · ${fmtTime(cps.start.time)}` : "the genesis", "small"),
    item("Closing checkpoint", cps.end ? `#${cps.end.seq} · ${fmtTime(cps.end.time)}` : "none", "small"),
    item("Witnesses", witnesses, "small"),
  );
}

/** A labelled bar chart; `groups` are `{label, parts: [{value, color, name}]}`. */
function bars(container, groups, { horizontal = false, empty }) {
  if (!groups.length) {
    container.replaceChildren(el("p", empty, "empty"));
    return;
  }
  const max = Math.max(1, ...groups.map((g) => g.parts.reduce((n, p) => n + p.value, 0)));
  const band = 34;
  const w = 560;
  const label = horizontal ? 220 : 0;
  const h = horizontal ? groups.length * band + 10 : 200;
  const root = svg("svg", { viewBox: `0 0 ${w} ${h + (horizontal ? 0 : 40)}`, role: "img" });
  root.append(svg("title", {}, container.dataset.title ?? ""));
  const step = horizontal ? band : Math.min(80, (w - 20) / groups.length);
  groups.forEach((g, i) => {
    let at = 0;
    for (const p of g.parts) {
      if (!p.value) continue;
      const len = ((horizontal ? w - label - 60 : h - 20) * p.value) / max;
      const r = horizontal
        ? svg("rect", { x: label + at, y: i * band + 6, width: len, height: band - 12, class: `fill-${p.color}` })
        : svg("rect", { x: 10 + i * step + 6, y: h - at - len, width: step - 12, height: len, class: `fill-${p.color}` });
      r.append(svg("title", {}, `${g.label}: ${p.value} ${p.name}`));
      root.append(r);
      at += len;
    }
    const total = g.parts.reduce((n, p) => n + p.value, 0);
    if (horizontal) {
      root.append(svg("text", { x: label - 8, y: i * band + band / 2 + 5, "text-anchor": "end", class: "axis" }, g.label));
      root.append(svg("text", { x: label + at + 6, y: i * band + band / 2 + 5, class: "value" }, total));
    } else {
      root.append(svg("text", { x: 10 + i * step + step / 2, y: h + 18, "text-anchor": "middle", class: "axis" }, g.label));
      root.append(svg("text", { x: 10 + i * step + step / 2, y: h - at - 6, "text-anchor": "middle", class: "value" }, total));
    }
  });
  container.replaceChildren(root);
}

function legend(items) {
  const ul = el("ul", undefined, "legend");
  for (const [, name, color] of items) {
    const li = el("li");
    const sw = el("span", undefined, `swatch fill-${color}`);
    li.append(sw, name);
    ul.append(li);
  }
  return ul;
}

function drawDays(report, list) {
  const bad = new Map(report.problems.map((p) => [p.seq, p.kind]));
  const byDay = new Map();
  for (const e of list.filter((e) => e.kind === "log-access")) {
    const d = day(e.time);
    const c = byDay.get(d) ?? { valid: 0, invalid: 0, stale: 0 };
    const kind = bad.get(e.seq);
    c[kind === "stale" ? "stale" : kind ? "invalid" : "valid"] += 1;
    byDay.set(d, c);
  }
  const groups = [...byDay.entries()].sort().map(([d, c]) => ({
    label: d,
    parts: OUTCOMES.map(([k, name, color]) => ({ value: c[k], name, color })),
  }));
  const box = $("chart-days");
  box.dataset.title = "Accesses per day, by outcome";
  bars(box, groups, { empty: "No access was logged in this period." });
  if (groups.length) box.append(legend(OUTCOMES));
}

function drawReasons(report) {
  const counts = new Map();
  for (const p of report.problems.filter((p) => p.kind !== "chain")) {
    // The first clause names the reason; what follows is detail (seq numbers, times).
    const reason = p.reason.split(/[:(]/)[0].trim();
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const groups = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => ({ label: reason.length > 34 ? `${reason.slice(0, 33)}…` : reason, parts: [{ value: n, name: "accesses", color: "bad" }] }));
  const box = $("chart-reasons");
  box.dataset.title = "Accesses not authorized, by reason";
  bars(box, groups, { horizontal: true, empty: "None: every access in the period was authorized." });
}

function drawCheckpoints(report, list) {
  const cps = list.filter((e) => e.kind === "checkpoint");
  const box = $("chart-checkpoints");
  if (!cps.length) {
    box.replaceChildren(el("p", "No checkpoint was signed inside this period.", "empty"));
    return;
  }
  const w = 760;
  const h = 90;
  const t0 = Math.min(...list.map((e) => e.time));
  const t1 = Math.max(t0 + 1, ...list.map((e) => e.time));
  const x = (t) => 30 + ((w - 60) * (t - t0)) / (t1 - t0);
  const root = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img" });
  root.append(svg("title", {}, `${cps.length} signed checkpoints between ${fmtTime(t0)} and ${fmtTime(t1)}`));
  root.append(svg("line", { x1: 30, x2: w - 30, y1: 40, y2: 40, class: "rule" }));
  for (const c of cps) {
    const closing = report.checkpoints.end?.seq === c.seq;
    const dot = svg("circle", { cx: x(c.time), cy: 40, r: closing ? 8 : 5, class: closing ? "closing" : "dot" });
    dot.append(svg("title", {}, `checkpoint #${c.seq} at ${fmtTime(c.time)}${closing ? " (closes the audit)" : ""}`));
    root.append(dot);
  }
  root.append(svg("text", { x: 30, y: 75, class: "axis" }, fmtTime(t0)));
  root.append(svg("text", { x: w - 30, y: 75, "text-anchor": "end", class: "axis" }, fmtTime(t1)));
  box.replaceChildren(root);
}

function problems(report) {
  const table = $("problems");
  const rows = report.problems.map((p) => {
    const tr = el("tr");
    tr.dataset.seq = p.seq;
    const a = el("a", `#${p.seq}`);
    a.href = `/v1/entries/${p.seq}`;
    const td = el("td");
    td.append(a);
    tr.append(td, el("td", p.kind), el("td", p.reason));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = rows.length === 0;
  $("problems-empty").hidden = rows.length !== 0;
}

export function initAudit(state, getJson) {
  const form = $("audit-form");
  const len = state.ledger?.entries ?? 0;
  $("audit-from").value = String(Math.max(0, len - MAX_AUDIT));
  $("audit-to").max = String(len);
  let last = null;
  for (const r of form.elements.by) {
    r.addEventListener("change", () => {
      const byTime = form.elements.by.value === "time";
      $("by-time").hidden = !byTime;
      $("by-seq").hidden = byTime;
    });
  }
  const fail = (msg) => {
    const p = $("audit-error");
    p.textContent = msg;
    p.hidden = !msg;
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    fail("");
    const button = $("audit-run");
    const progress = $("audit-progress");
    const say = (m) => {
      progress.textContent = m;
    };
    button.disabled = true;
    progress.classList.add("busy");
    try {
      const info = await getJson("/v1/ledger");
      let from;
      let to;
      if (form.elements.by.value === "time") {
        const f = $("audit-from-time").value;
        const t = $("audit-to-time").value;
        if (!f) throw new Error("Choose when the period starts.");
        say("Finding the period's entries…");
        from = await seqAt(getJson, Date.parse(`${f}Z`) / 1000, info.entries);
        to = t ? await seqAt(getJson, Date.parse(`${t}Z`) / 1000, info.entries) : info.entries;
      } else {
        const f = $("audit-from").value.trim();
        const t = $("audit-to").value.trim();
        if (!/^\d+$/.test(f)) throw new Error("The period's first entry is a whole number.");
        if (t && !/^\d+$/.test(t)) throw new Error("The period's end is a whole number, or empty for the end of the log.");
        from = Number(f);
        to = t ? Number(t) : Math.min(info.entries, from + MAX_AUDIT);
      }
      if (to <= from) throw new Error(`The period holds no entry (${from} to ${to}).`);
      if (to - from > MAX_AUDIT) throw new Error(`An audit covers at most ${MAX_AUDIT} entries; this period has ${to - from}. Audit it in parts.`);
      say(`Auditing entries ${from}…${to - 1}: checking the chain and every access proof`);
      const report = await getJson(`/v1/audit?from=${from}&to=${to}`);
      const list = await entries(getJson, from, to, say);
      const closing = report.checkpoints.end ? await getJson(`/v1/checkpoints/${report.checkpoints.end.seq}`) : null;
      last = { report, closing_checkpoint: closing?.checkpoint ?? null, ledger: { ledger_id: info.ledger_id, public_key: info.public_key } };
      const verdict = $("audit-verdict");
      const bad = report.invalid + report.stale;
      verdict.className = `banner ${report.passed ? "good" : "bad"}`;
      verdict.textContent = report.passed
        ? `Passed: all ${report.accesses} accesses in entries ${report.from}–${report.to - 1} were authorized, and the log is intact.`
        : `Not passed: ${bad} of ${report.accesses} accesses were not authorized${report.chain_ok ? "" : ", and the log is broken"}.`;
      summary(report, await witnesses(report, getJson).catch((e) => `cannot be read: ${e.message}`));
      drawDays(report, list);
      drawReasons(report);
      drawCheckpoints(report, list);
      problems(report);
      $("audit-result").hidden = false;
      say("");
    } catch (err) {
      say("");
      fail(err.message);
    } finally {
      button.disabled = false;
      progress.classList.remove("busy");
    }
  });
  $("audit-download").addEventListener("click", () => {
    if (!last) return;
    const blob = new Blob([JSON.stringify(last, null, 2)], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `medproof-audit-${last.report.from}-${last.report.to}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
  $("audit-print").addEventListener("click", () => window.print());
}
