// tiwhook inspector: the callbacks `listen` judged, live. Every value from a callback is put in
// the page as text (textContent), never as markup.
"use strict";

const token = document.querySelector('meta[name="tiwhook-token"]').content;
const api = (path) => `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
const byId = (id) => document.getElementById(id);

const entries = new Map(); // id -> summary
let order = []; // ids, oldest first
const KEPT = 10000; // as many as listen keeps: the page's memory is bounded too
let openId = null;
let openFull = null;
let bodyRaw = false;
const SHOWN = 500; // rows drawn at most; the filters reach the rest

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s`;
  if (m > 0) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

function add(summary) {
  if (entries.has(summary.id)) return;
  entries.set(summary.id, summary);
  order.push(summary.id);
  if (order.length > KEPT * 1.1) {
    for (const old of order.splice(0, order.length - KEPT)) entries.delete(old);
  }
  const events = byId("filter-event");
  if (summary.event_type && ![...events.options].some((o) => o.value === summary.event_type)) {
    events.append(el("option", summary.event_type));
    events.lastChild.value = summary.event_type;
  }
}

function visible(summary) {
  const event = byId("filter-event").value, verdict = byId("filter-verdict").value;
  const task = byId("filter-task").value.trim();
  return (!event || summary.event_type === event) && (!verdict || summary.verdict === verdict)
    && (!task || String(summary.task_id ?? "").includes(task));
}

function drawList() {
  const rows = byId("rows");
  rows.replaceChildren();
  let shown = 0, hidden = 0;
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i];
    const s = entries.get(id);
    if (!visible(s)) { hidden++; continue; }
    if (shown >= SHOWN) continue;
    shown++;
    const tr = el("tr");
    tr.dataset.id = id;
    if (id === openId) tr.classList.add("open");
    const when = el("td", String(s.received).slice(5, 19));
    when.title = s.received;
    tr.append(when, el("td", s.verdict === "valid" ? "✓" : "✗", s.verdict),
      el("td", s.event_type ?? "(not JSON)"), el("td", s.task_id ?? ""), el("td", s.room_id ?? ""),
      el("td", duration(s.duration_seconds)), el("td", s.finish_reason ?? ""));
    tr.title = (s.codes || []).map((c) => `${c.severity}[${c.code}]`).join(" ");
    tr.addEventListener("click", () => open(id));
    rows.append(tr);
  }
  const more = order.length - hidden - shown;
  byId("hidden-count").textContent = [hidden ? `${hidden} hidden by the filters` : "",
    more > 0 ? `${more} more not drawn` : ""].filter(Boolean).join("; ");
  if (!byId("tasks-view").hidden) drawTasks();
}

// Many callbacks a second redraw the page a few times a second, not once each.
let pending = null;
function redrawSoon() {
  if (pending === null) pending = setTimeout(() => { pending = null; drawList(); }, 150);
}

async function open(id) {
  openId = id;
  const response = await fetch(api(`/api/callback/${id}`));
  if (!response.ok) return;
  openFull = await response.json();
  drawDetail();
  drawList();
}

function drawDetail() {
  const f = openFull;
  byId("detail").hidden = false;
  byId("detail-title").textContent = `${f.label}  ${f.event_type ?? "(not JSON)"}  ${f.verdict}`;
  const kv = byId("detail-request");
  kv.replaceChildren();
  const row = (k, v) => { const d = el("div"); d.append(el("b", k), document.createTextNode(v ?? "")); kv.append(d); };
  row("received", f.received);
  row("from", f.request.peer);
  row("request", `POST ${f.request.target}`);
  row("content type", f.request.content_type);
  if (f.request.content_encoding) row("encoding", f.request.content_encoding);
  row("signature", f.signature);
  const list = byId("detail-findings");
  list.replaceChildren();
  const findings = (f.reports || []).flatMap((r) => r.findings);
  if (findings.length === 0) list.append(el("li", "none"));
  for (const x of findings) {
    const li = el("li");
    li.append(el("span", `${x.severity}[${x.code}]`, x.severity === "error" ? "invalid" : "running"),
      document.createTextNode(` ${x.path || "/"} (line ${x.line}, column ${x.column}): ${x.message}`));
    for (const help of x.help) li.append(el("span", `help: ${help}`, "help"));
    list.append(li);
  }
  byId("detail-text").textContent = (f.reports || []).map((r) => r.detail).join("\n");
  drawBody();
  byId("replay-answer").textContent = "";
}

function drawBody() {
  const f = openFull;
  let text = f.body_text ?? `(not UTF-8; base64) ${f.body_base64}`;
  if (!bodyRaw && f.body_text) {
    try { text = JSON.stringify(JSON.parse(f.body_text), null, 2); } catch (_) { /* shown raw */ }
  }
  byId("detail-body").textContent = text;
  byId("body-toggle").textContent = bodyRaw ? "pretty" : "raw";
}

function drawTasks() {
  const tasks = new Map();
  for (const id of order) {
    const s = entries.get(id);
    if (!s.task_id || !s.event_type) continue;
    const t = tasks.get(s.task_id) ?? { id: s.task_id, room: s.room_id, start: null, stop: null, duration: null, reason: null, callbacks: 0, duplicates: 0, seen: new Set() };
    t.callbacks++;
    const key = `${s.event_type}|${s.start}|${s.stop}`;
    if (t.seen.has(key)) t.duplicates++; else t.seen.add(key);
    if (s.start) t.start = s.start;
    if (s.stop) { t.stop = s.stop; t.duration = s.duration_seconds; t.reason = s.finish_reason; }
    tasks.set(s.task_id, t);
  }
  const rows = byId("task-rows");
  rows.replaceChildren();
  const now = Date.now();
  for (const t of [...tasks.values()].reverse()) {
    const running = t.start && !t.stop;
    const age = running ? duration(Math.max(0, Math.floor((now - Date.parse(t.start)) / 1000))) : duration(t.duration);
    const tr = el("tr");
    tr.append(el("td", t.id), el("td", t.room ?? ""), el("td", running ? "running" : (t.stop ? "finished" : "-"), running ? "running" : ""),
      el("td", t.start ?? "-"), el("td", t.stop ?? "-"), el("td", running ? `${age} so far` : age), el("td", t.reason ?? ""),
      el("td", t.duplicates ? `${t.callbacks} (${t.duplicates} repeated)` : t.callbacks));
    rows.append(tr);
  }
}

async function replay() {
  if (openId === null) return;
  const answer = byId("replay-answer");
  answer.textContent = "sending…";
  const response = await fetch(api("/api/replay"), {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ id: openId, url: byId("replay-url").value }),
  });
  const result = await response.json();
  answer.textContent = result.error
    ? `${result.url ?? ""} ${result.error}`
    : `${result.url} answered ${result.status} in ${result.millis} ms\n${result.answer}`;
}

function tab(name) {
  for (const which of ["callbacks", "tasks"]) {
    byId(`${which}-view`).hidden = which !== name;
    byId(`tab-${which}`).classList.toggle("active", which === name);
  }
  if (name === "tasks") drawTasks();
}

async function load() {
  const response = await fetch(api("/api/callbacks"));
  for (const summary of await response.json()) add(summary);
  drawList();
}

function connect() {
  const events = new EventSource(api("/api/events"));
  events.onopen = () => { byId("status").textContent = "live"; };
  events.onerror = () => { byId("status").textContent = "reconnecting…"; };
  events.onmessage = (message) => { add(JSON.parse(message.data)); redrawSoon(); };
  events.addEventListener("lagged", () => load());
}

byId("filter-event").addEventListener("change", drawList);
byId("filter-verdict").addEventListener("change", drawList);
byId("filter-task").addEventListener("input", drawList);
byId("tab-callbacks").addEventListener("click", () => tab("callbacks"));
byId("tab-tasks").addEventListener("click", () => tab("tasks"));
byId("body-toggle").addEventListener("click", () => { bodyRaw = !bodyRaw; drawBody(); });
byId("replay").addEventListener("click", replay);
setInterval(() => { if (!byId("tasks-view").hidden) drawTasks(); }, 1000); // running tasks' ages tick
connect();
load();
