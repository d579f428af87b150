// hbweb's live page: the state of the bus from /stream (Server-Sent Events:
// a full state, then deltas of the rows that changed), drawn as a table
// with a detail panel. Read-only: nothing here sends anything but GETs.
"use strict";

const STATES = ["healthy", "late", "backlogged", "dead", "crashed", "quarantined", "exited", "unknown"];
const DOWN = new Set(["dead", "crashed", "quarantined"]);
const rows = new Map(); // ring -> row as the stream sent it
const trs = new Map();  // ring -> <tr>
let g = null;           // global part of the newest message
let clockAt = 0;        // Date.now() when g arrived
let selected = null;    // ring shown in the detail panel
let dirty = false;
const totalSpark = [];  // events/s per message, newest last


// The server's clock now (ns), from the newest message and the time since.
function nowNs() {
  return g ? g.now_ns + (Date.now() - clockAt) * 1e6 : Date.now() * 1e6;
}

function fmtDur(s) {
  if (s < 0 || !isFinite(s)) return "-";
  if (s < 60) return s.toFixed(1) + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + String(Math.floor(s % 60)).padStart(2, "0") + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
  return Math.floor(s / 86400) + "d" + String(Math.floor(s % 86400 / 3600)).padStart(2, "0") + "h";
}
function fmtNum(v) {
  if (v === null || v === undefined) return "-";
  if (Math.abs(v) >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
function fmtBytes(b) {
  const u = "BKMGT";
  let i = 0;
  while (b >= 1024 && i < 4) { b /= 1024; i++; }
  return (b < 10 && i ? b.toFixed(1) : b.toFixed(0)) + u[i];
}
function fmtMs(ns) { return (ns / 1e6).toFixed(ns < 1e7 ? 2 : 1) + "ms"; }

// Heartbeat latency figures (ns) from the row's recent heartbeats, each
// [ms before last_hb_ns, latency in us or -1].
function latency(r) {
  const v = (r.hb || []).filter((h) => h[1] >= 0).map((h) => h[1] * 1e3);
  if (!v.length) return null;
  const avg = v.reduce((a, b) => a + b, 0) / v.length;
  const vr = v.reduce((a, b) => a + (b - avg) * (b - avg), 0) / v.length;
  const sd = Math.sqrt(vr);
  const grade = sd < 2e6 ? "A" : sd < 10e6 ? "B" : sd < 50e6 ? "C" : "D";
  return { avg, sd, vr, n: v.length, grade };
}

function match(pat, s) {
  if (!pat) return true;
  if (/[*?[]/.test(pat)) {
    const re = "^" + pat.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$";
    try { return new RegExp(re).test(s); } catch (e) { return false; }
  }
  return s.includes(pat);
}

function sparkDraw(svg, vals, w, h) {
  svg.textContent = "";
  const max = Math.max(1, ...vals);
  const n = vals.length;
  const pts = vals.map((v, i) => [(i / Math.max(1, n - 1)) * w, h - 1 - (v / max) * (h - 2)]);
  const line = pts.map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" ");
  svg.appendChild(svgEl("polygon", { points: "0," + h + " " + line + " " + w + "," + h }));
  svg.appendChild(svgEl("polyline", { points: line }));
}

function sortKey(r, col, now) {
  switch (col) {
    case "state": return STATES.indexOf(r.state);
    case "age": return r.last_hb_ns ? now - r.last_hb_ns : -1;
    case "rate": return -r.events_per_s;
    case "drops": return -r.drops;
    case "fill": return -(r.fill || 0);
    case "uptime": return r.start_ns ? r.start_ns : 0;
    case "missed": return -r.missed;
    case "type": return r.types;
    default: return r.name;
  }
}

function visibleRows() {
  const fn = $("f-name").value.trim(), ft = $("f-type").value.trim(), fs = $("f-state").value;
  const col = $("sort").value, rev = $("reverse").checked, now = nowNs();
  const out = [];
  for (const r of rows.values()) {
    if (!match(fn, r.name)) continue;
    if (ft && !r.types.split(",").some((t) => match(ft, t))) continue;
    if (fs && r.state !== fs) continue;
    out.push(r);
  }
  out.sort((a, b) => {
    const ka = sortKey(a, col, now), kb = sortKey(b, col, now);
    let c = ka < kb ? -1 : ka > kb ? 1 : 0;
    if (!c) c = a.name < b.name ? -1 : a.name > b.name ? 1 : a.pid - b.pid;
    return rev ? -c : c;
  });
  return out;
}

function newTr(ring) {
  const tr = el("tr", "prod");
  tr.dataset.ring = ring;
  const cells = {};
  for (const k of ["dot", "name", "state", "hb", "uptime", "rate", "drops", "fill", "lat", "missed", "health", "metrics"]) {
    cells[k] = el("td", "c-" + k);
    tr.appendChild(cells[k]);
  }
  const dot = el("span", "dot");
  cells.dot.appendChild(dot);
  cells.hbText = el("span");
  cells.hbBar = el("span", "bar");
  cells.hbBarI = el("i");
  cells.hbBar.appendChild(cells.hbBarI);
  cells.hb.append(cells.hbText, cells.hbBar);
  cells.rateText = el("span");
  cells.rateSpark = svgEl("svg", { class: "spark", viewBox: "0 0 80 18", preserveAspectRatio: "none" });
  cells.rate.append(cells.rateText, cells.rateSpark);
  cells.dropText = el("span");
  cells.dropSpark = svgEl("svg", { class: "spark drops", viewBox: "0 0 80 18", preserveAspectRatio: "none" });
  cells.drops.append(cells.dropText, cells.dropSpark);
  cells.fillText = el("span");
  cells.fillBar = el("span", "bar fill");
  cells.fillBarI = el("i");
  cells.fillBar.appendChild(cells.fillBarI);
  cells.fill.append(cells.fillText, cells.fillBar);
  tr._c = cells;
  tr._dot = dot;
  tr._lastHb = 0;
  tr._ver = -1;
  tr.addEventListener("click", () => openDetail(ring));
  return tr;
}

function healthFlags(r, td) {
  td.textContent = "";
  for (const [name, m] of Object.entries(r.metrics || {})) {
    if (m.kind !== "health") continue;
    const f = el("span", "flag " + (m.value || "unknown"), name + " " + (m.value || "?"));
    td.appendChild(f);
  }
  for (const a of r.alerts || []) td.appendChild(el("span", "flag alert", "ALERT " + a));
}

function metricsText(r, td) {
  td.textContent = "";
  for (const [name, m] of Object.entries(r.metrics || {})) {
    let v;
    if (m.kind === "counter") v = fmtNum(m.value) + " (" + m.rate.toFixed(1) + "/s)";
    else if (m.kind === "gauge") v = fmtNum(m.value);
    else if (m.kind === "timing") v = "avg " + (m.count ? fmtMs(m.sum_ns / m.count) : "-") + " max " + fmtMs(m.max_ns);
    else continue;
    td.append(el("b", "", name), " " + v + "  ");
  }
}

// Fills a row's cells; the parts that change with time alone are in tick().
function fillTr(tr, r) {
  const c = tr._c;
  tr.dataset.state = r.state;
  tr.dataset.name = r.name;
  c.name.textContent = "";
  c.name.append(el("b", "", r.name), el("span", "dim", "pid " + r.pid));
  c.state.textContent = r.state;
  c.state.appendChild(el("span", "why", r.why || (r.live ? "" : "ring gone")));
  // the sparklines cover the producer's life when it is under a minute
  const life = r.start_ns ? Math.ceil((nowNs() - r.start_ns) / 1e9) : 60;
  const k = Math.max(2, Math.min(r.spark.length, life));
  c.rateText.textContent = fmtNum(r.events_per_s);
  sparkDraw(c.rateSpark, r.spark.slice(-k), 80, 18);
  c.dropText.textContent = fmtNum(r.drops);
  sparkDraw(c.dropSpark, r.dspark.slice(-k), 80, 18);
  c.fillText.textContent = r.fill === null ? "-" : (r.fill * 100).toFixed(0) + "%";
  c.fillBarI.style.width = r.fill === null ? "0" : Math.min(100, r.fill * 100).toFixed(1) + "%";
  const l = latency(r);
  c.lat.textContent = l ? fmtMs(l.avg) + " \u00b1 " + fmtMs(l.sd) : "-";
  if (l) c.lat.appendChild(el("span", "grade " + l.grade, l.grade));
  c.missed.textContent = String(r.missed);
  healthFlags(r, c.health);
  metricsText(r, c.metrics);
  if (r.last_hb_ns && r.last_hb_ns !== tr._lastHb && tr._lastHb) {
    // two classes with the same animation: switching restarts it without
    // forcing a layout (which, row after row, would make hundreds slow)
    tr._pulse = !tr._pulse;
    tr._dot.classList.toggle("pulse", tr._pulse);
    tr._dot.classList.toggle("pulse2", !tr._pulse);
  }
  tr._lastHb = r.last_hb_ns;
}

// What moves with the clock: heartbeat age, the bar to the next one, uptime.
function tick() {
  const now = nowNs();
  for (const [ring, tr] of trs) {
    const r = rows.get(ring);
    if (!r) continue;
    const c = tr._c;
    const iv = (r.interval_ms || 1000) * 1e6;
    const age = r.last_hb_ns ? (now - r.last_hb_ns) / 1e9 : -1;
    c.hbText.textContent = fmtDur(age);
    const frac = age < 0 ? 0 : (age * 1e9) / iv;
    c.hbBarI.style.width = Math.min(100, frac * 100).toFixed(0) + "%";
    // colour from the collector's verdict (the page's copy of the age lags
    // by up to one update), width from the age
    c.hbBarI.className = DOWN.has(r.state) ? "over" : r.state === "late" || r.state === "backlogged" ? "late" : "";
    c.uptime.textContent = r.start_ns ? fmtDur((Math.min(now, r.state === "exited" || DOWN.has(r.state) ? r.last_hb_ns || now : now) - r.start_ns) / 1e9) : "-";
  }
  $("clock").textContent = new Date(now / 1e6).toISOString().slice(11, 19) + "Z";
}

function renderGlobal() {
  const t = g.totals;
  for (const s of STATES) $("n-" + s).textContent = t.by_state[s];
  $("n-producers").textContent = t.producers;
  const bar = $("statebar");
  bar.textContent = "";
  for (const s of STATES) {
    if (!t.by_state[s]) continue;
    const sp = el("span");
    sp.style.width = (100 * t.by_state[s] / Math.max(1, t.producers)) + "%";
    sp.style.background = "var(--" + s + ")";
    sp.title = t.by_state[s] + " " + s;
    bar.appendChild(sp);
  }
  $("t-rate").textContent = fmtNum(t.events_per_s);
  $("t-events").textContent = fmtNum(t.events);
  $("t-records").textContent = fmtNum(t.records);
  $("t-drops").textContent = fmtNum(t.drops);
  $("t-missed").textContent = fmtNum(t.missed);
  sparkDraw($("t-spark"), totalSpark.length > 1 ? totalSpark : [0, 0], 120, 24);
  const ul = $("alerts");
  ul.textContent = "";
  $("n-alerts").textContent = g.alerts.length;
  $("n-alerts").className = "count" + (g.alerts.length ? " firing" : "");
  if (!g.alerts.length) ul.appendChild(el("li", "dim", "none"));
  for (const a of g.alerts) ul.appendChild(el("li", "alert", a.name + " \u2014 " + a.producer));
  const coll = $("collector");
  coll.textContent = g.collector.running === null ? "archive (offline)" :
    g.collector.running ? "collector pid " + g.collector.pid : "collector not running";
  coll.className = "pill " + (g.collector.running === false ? "bad" : "ok");
  $("archive").textContent = g.archive + (g.err ? "  \u26a0 " + g.err : "");
  $("tl-link").hidden = g.mode !== "replay";
  renderCollector();
}

// The collector's own figures: its row's metrics, and this server's.
function renderCollector() {
  const dl = $("coll");
  dl.textContent = "";
  const add = (k, v) => { dl.append(el("dt", "", k), el("dd", "", v)); };
  let cr = null;
  for (const r of rows.values())
    if (r.name === "hbcollect" && r.pid === g.collector.pid) cr = r;
  if (cr) {
    const m = cr.metrics;
    const get = (n) => m["hbcollect." + n];
    if (get("records")) add("records/s", fmtNum(get("records").rate));
    if (get("bytes")) add("archive bytes", fmtBytes(get("bytes").value));
    if (get("write") && get("write").count) add("write avg / max", fmtMs(get("write").sum_ns / get("write").count) + " / " + fmtMs(get("write").max_ns));
    if (get("backlog_bytes")) add("ring backlog", fmtBytes(get("backlog_bytes").value));
    if (get("gap_records")) add("gap records", fmtNum(get("gap_records").value));
    if (cr.proc) add("collector rss", fmtBytes(cr.proc.rss_bytes));
  }
  add("archive damage", String(g.damage));
  add("web clients", String(g.web.clients));
}

function render() {
  dirty = false;
  if (!g) return;
  renderGlobal();
  const vis = visibleRows();
  const tbody = $("rows");
  const keep = new Set(vis.map((r) => r.ring));
  for (const [ring, tr] of trs)
    if (!rows.has(ring) || !keep.has(ring)) { tr.remove(); if (!rows.has(ring)) trs.delete(ring); }
  let prev = null;
  for (const r of vis) {
    let tr = trs.get(r.ring);
    if (!tr) { tr = newTr(r.ring); trs.set(r.ring, tr); }
    if (tr._ver !== r._ver) { fillTr(tr, r); tr._ver = r._ver; }
    tr.classList.toggle("sel", r.ring === selected);
    const want = prev ? prev.nextSibling : tbody.firstChild;
    if (want !== tr) tbody.insertBefore(tr, want);
    prev = tr;
  }
  $("empty").hidden = rows.size > 0;
  $("shown").textContent = vis.length + " of " + rows.size + " shown";
  tick();
  if (selected && rows.has(selected)) renderDetail(rows.get(selected), null);
}

function schedule() {
  if (!dirty) { dirty = true; requestAnimationFrame(render); }
}

let ver = 0;
function onMessage(msg) {
  if (msg.full) rows.clear();
  for (const r of msg.rows) { r._ver = ++ver; rows.set(r.ring, r); }
  for (const ring of msg.gone || []) rows.delete(ring);
  g = msg.g;
  clockAt = Date.now();
  totalSpark.push(g.totals.events_per_s);
  if (totalSpark.length > 120) totalSpark.shift();
  document.body.dataset.updates = String((+document.body.dataset.updates || 0) + 1);
  schedule();
}

function connect() {
  const es = new EventSource("/stream");
  es.onopen = () => { $("conn").textContent = "live"; $("conn").className = "pill ok"; };
  es.onmessage = (e) => onMessage(JSON.parse(e.data));
  es.onerror = () => { $("conn").textContent = "reconnecting"; $("conn").className = "pill warn"; };
}

// ---- detail panel ----------------------------------------------------------

let detailEvents = [];
function openDetail(ring) {
  selected = ring;
  $("detail").hidden = false;
  fetchEvents();
  render();
}
function fetchEvents() {
  if (!selected) return;
  const ring = selected;
  fetch("/producer.json?ring=" + encodeURIComponent(ring)).then((r) => r.ok ? r.json() : null).then((d) => {
    if (!d || ring !== selected) return;
    detailEvents = d.events;
    renderDetail(rows.get(ring) || d.row, detailEvents);
  }).catch(() => {});
}

function hbTimeline(r) {
  const svg = svgEl("svg", { class: "hbline", viewBox: "0 0 500 60", preserveAspectRatio: "none" });
  // [ms before last_hb_ns, latency us] to [ts ns, latency ns]
  const hb = (r.hb || []).map((h) => [r.last_hb_ns - h[0] * 1e6, h[1] < 0 ? -1 : h[1] * 1e3]);
  if (!hb.length) return svg;
  const iv = (r.interval_ms || 1000) * 1e6;
  const t1 = hb[hb.length - 1][0], t0 = Math.min(hb[0][0], t1 - iv * 8);
  const span = Math.max(1, t1 - t0);
  const maxLat = Math.max(1e6, ...hb.map((h) => h[1]));
  svg.appendChild(svgEl("line", { x1: 0, y1: 58, x2: 500, y2: 58 }));
  for (const [ts, lat] of hb) {
    const x = 4 + ((ts - t0) / span) * 490;
    const h = lat >= 0 ? 4 + (lat / maxLat) * 50 : 4;
    const rc = svgEl("rect", { x: x - 2, y: 58 - h, width: 4, height: h });
    if (lat > iv / 2) rc.setAttribute("class", "slow");
    const t = svgEl("title", {});
    t.textContent = new Date(ts / 1e6).toISOString() + (lat >= 0 ? " latency " + fmtMs(lat) : "");
    rc.appendChild(t);
    svg.appendChild(rc);
  }
  return svg;
}

function kv(table, k, v) {
  const tr = el("tr");
  tr.append(el("td", "dim", k), el("td", "", v));
  table.appendChild(tr);
}

function renderDetail(r, events) {
  if (!r) return;
  if (events) detailEvents = events;
  $("d-title").textContent = r.name + " (pid " + r.pid + ")";
  const body = $("d-body");
  body.textContent = "";
  const t = el("table");
  kv(t, "state", r.state + (r.why ? " (" + r.why + ")" : ""));
  kv(t, "host / ring", r.host + " / " + r.ring);
  kv(t, "heartbeat", "every " + r.interval_ms + " ms, status " + (r.status || "-") + ", " + r.heartbeats + " seen, " + r.missed + " missed");
  const l = latency(r);
  kv(t, "hb latency (emit \u2192 archive)", l ? "avg " + fmtMs(l.avg) + ", sd " + fmtMs(l.sd) + ", var " + (l.vr / 1e12).toFixed(2) + " ms\u00b2, grade " + l.grade + " (last " + l.n + ")" : "-");
  kv(t, "events / records", r.events + " / " + r.records);
  kv(t, "drops", r.drops + " (gap records: " + r.gap_n + ")");
  kv(t, "ring fill", r.fill === null ? "- (ring not mapped)" : (r.fill * 100).toFixed(2) + "%");
  if (r.proc) kv(t, "process", "cpu " + (r.proc.cpu_pct === null ? "-" : r.proc.cpu_pct.toFixed(1) + "%") + ", rss " + fmtBytes(r.proc.rss_bytes) + ", " + r.proc.threads + " threads, " + r.proc.fds + " fds");
  kv(t, "types", r.types || "-");
  body.appendChild(t);
  body.appendChild(el("h3", "", "recent heartbeats (bar height: latency)"));
  body.appendChild(hbTimeline(r));
  body.appendChild(el("h3", "", "metrics"));
  const mt = el("table");
  for (const [name, m] of Object.entries(r.metrics || {})) {
    let v;
    if (m.kind === "counter") v = m.value + " (+" + m.delta + ", " + m.rate.toFixed(2) + "/s)";
    else if (m.kind === "gauge") v = String(m.value);
    else if (m.kind === "timing") v = m.count + " timed, avg " + (m.count ? fmtMs(m.sum_ns / m.count) : "-") + ", max " + fmtMs(m.max_ns);
    else v = m.value || "?";
    kv(mt, name + " [" + m.kind + "]", v);
  }
  body.appendChild(mt);
  body.appendChild(el("h3", "", "recent events (newest last)"));
  if (!detailEvents.length) body.appendChild(el("p", "dim", "none"));
  for (const e of detailEvents) body.appendChild(el("pre", "ev", JSON.stringify(e)));
}

$("d-close").addEventListener("click", () => { selected = null; $("detail").hidden = true; render(); });
for (const id of ["f-name", "f-type", "f-state", "sort", "reverse"]) {
  $(id).addEventListener("input", schedule);
  $(id).addEventListener("change", schedule);
}
// the URL's query sets the view: ?name=GLOB&type=GLOB&state=S&sort=COL&reverse=1
(function () {
  const q = new URLSearchParams(location.search);
  if (q.get("name")) $("f-name").value = q.get("name");
  if (q.get("type")) $("f-type").value = q.get("type");
  if (q.get("state")) $("f-state").value = q.get("state");
  if (q.get("sort")) $("sort").value = q.get("sort");
  if (q.get("reverse")) $("reverse").checked = true;
  if (q.get("producer")) { selected = q.get("producer"); $("detail").hidden = false; }
})();
setInterval(tick, 250);
setInterval(fetchEvents, 2000);
connect();
