// hbweb's timeline page: /timeline.json (an archive's event counts per time
// bucket, per event type and per producer, and its marks) as SVG charts.
// The range shown is in the URL's hash (#from=NS&to=NS); dragging across a
// chart zooms into that range.
"use strict";

const W = 1000, H = 90, COLS = 150;
// the marks drawn on the event types' charts (all of them on the overview,
// a producer's own on its chart)
const TYPE_MARKS = new Set(["crash", "drop", "alert", "collector"]);
let tl = null, from = 0, to = 0;

const iso = (ns) => new Date(ns / 1e6).toISOString().replace("T", " ").slice(0, 23);
const hms = (ns) => new Date(ns / 1e6).toISOString().slice(11, 21);
function fmtDur(s) {
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
  if (s < 3600) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}

// Events per second in COLS columns (fewer when the range holds fewer
// buckets) over [from, to].
function rates(counts) {
  const b0 = Math.max(0, Math.floor((from - tl.t0_ns) / tl.res_ns));
  const b1 = Math.min(tl.nb - 1, Math.floor((to - tl.t0_ns) / tl.res_ns));
  const nbk = Math.max(1, b1 - b0 + 1), per = Math.max(1, Math.ceil(nbk / COLS));
  const out = [];
  for (let b = b0; b <= b1; b += per) {
    let n = 0;
    for (let k = b; k < b + per && k <= b1; k++) n += counts[k];
    const t = tl.t0_ns + b * tl.res_ns;
    out.push({ t, t2: t + per * tl.res_ns, r: n / (per * tl.res_ns / 1e9) });
  }
  return out;
}

const xOf = (t) => ((t - from) / Math.max(1, to - from)) * W;

function drawMarks(svg, marks) {
  for (const m of marks) {
    if (m.kind === "hb-gap") {
      if (m.t2 < from || m.t > to) continue;
      const x1 = Math.max(0, xOf(m.t)), x2 = Math.min(W, xOf(m.t2));
      const r = svgEl("rect", { class: "mark hb-gap", x: x1, y: 0, width: Math.max(1.5, x2 - x1), height: H });
      r.dataset.kind = m.kind;
      const t = svgEl("title", {});
      t.textContent = "heartbeat gap " + m.who + ": " + hms(m.t) + " \u2013 " + hms(m.t2) + " (" + fmtDur((m.t2 - m.t) / 1e9) + ")";
      r.appendChild(t);
      svg.appendChild(r);
      continue;
    }
    if (m.t < from || m.t > to) continue;
    const x = xOf(m.t);
    const l = svgEl("line", { class: "mark " + m.kind, x1: x, x2: x, y1: 0, y2: H });
    l.dataset.kind = m.kind;
    const t = svgEl("title", {});
    t.textContent = m.kind + " " + hms(m.t) + " " + (m.who ? m.who + ": " : "") + m.text;
    l.appendChild(t);
    svg.appendChild(l);
  }
}

// Zoom by dragging: a rectangle follows the mouse, the release sets the range.
function brush(svg) {
  let x0 = null, sel = null;
  const pos = (e) => {
    const b = svg.getBoundingClientRect();
    return Math.max(0, Math.min(W, ((e.clientX - b.left) / b.width) * W));
  };
  svg.addEventListener("mousedown", (e) => {
    x0 = pos(e);
    sel = svgEl("rect", { class: "sel", x: x0, y: 0, width: 0, height: H });
    svg.appendChild(sel);
    e.preventDefault();
  });
  svg.addEventListener("mousemove", (e) => {
    if (x0 === null) return;
    const x = pos(e);
    sel.setAttribute("x", Math.min(x, x0));
    sel.setAttribute("width", Math.abs(x - x0));
  });
  const done = (e) => {
    if (x0 === null) return;
    const x = pos(e), a = Math.min(x, x0), b = Math.max(x, x0);
    x0 = null;
    sel.remove();
    if (b - a < 4) return;
    const span = to - from;
    setRange(from + (a / W) * span, from + (b / W) * span);
  };
  svg.addEventListener("mouseup", done);
  svg.addEventListener("mouseleave", done);
}

function chart(parent, title, sub, counts, marks, attrs) {
  const box = el("div", "chart");
  for (const k in attrs) box.dataset[k] = attrs[k];
  const h = el("h3", "", title);
  h.appendChild(el("span", "dim", sub));
  box.appendChild(h);
  const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none" });
  const pts = rates(counts);
  const max = Math.max(1e-9, ...pts.map((p) => p.r));
  let d = "M0," + H;
  for (const p of pts) {
    const y = H - 12 - (p.r / max) * (H - 22);
    d += " L" + xOf(p.t).toFixed(1) + "," + y.toFixed(1) + " L" + xOf(p.t2).toFixed(1) + "," + y.toFixed(1);
  }
  d += " L" + W + "," + H + " Z";
  svg.appendChild(svgEl("path", { class: "area", d }));
  svg.appendChild(svgEl("line", { class: "axis", x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5 }));
  const peak = svgEl("text", { x: 4, y: 10 });
  peak.textContent = "peak " + (max < 10 ? max.toFixed(2) : max.toFixed(0)) + "/s";
  svg.appendChild(peak);
  for (let i = 1; i < 5; i++) {
    const t = svgEl("text", { x: (i * W) / 5 - 30, y: H - 2 });
    t.textContent = hms(from + ((to - from) * i) / 5);
    svg.appendChild(t);
  }
  drawMarks(svg, marks);
  brush(svg);
  box.appendChild(svg);
  parent.appendChild(box);
  return box;
}

function render() {
  $("from").textContent = iso(from);
  $("to").textContent = iso(to);
  $("dur").textContent = "(" + fmtDur((to - from) / 1e9) + ")";
  const ov = $("overview"), ty = $("types"), pr = $("producers");
  ov.textContent = ty.textContent = pr.textContent = "";
  const all = new Array(tl.nb).fill(0);
  for (const s of tl.types) s.n.forEach((v, i) => { all[i] += v; });
  chart(ov, "All events", " " + tl.types.reduce((a, s) => a + s.total, 0) + " in the archive", all, tl.marks, { series: "all" })
    .querySelector("svg").classList.add("ov");
  for (const s of tl.types)
    chart(ty, s.name, " " + s.total + " events", s.n, tl.marks.filter((m) => TYPE_MARKS.has(m.kind)), { type: s.name });
  for (const s of tl.producers)
    chart(pr, s.name, " " + s.total + " events", s.n, tl.marks.filter((m) => m.who === s.name || !m.who), { producer: s.name });
  const ul = $("marks");
  ul.textContent = "";
  const inRange = tl.marks.filter((m) => (m.t2 || m.t) >= from && m.t <= to);
  $("n-marks").textContent = inRange.length;
  for (const m of inRange) {
    const li = el("li", "mk " + m.kind);
    li.dataset.kind = m.kind;
    li.append(el("b", "lg-" + m.kind, m.kind), hms(m.t) + (m.t2 ? " \u2013 " + hms(m.t2) : "") + "  " + (m.who ? m.who + ": " : "") + m.text);
    ul.appendChild(li);
  }
  if (tl.marks_left_out) ul.appendChild(el("li", "dim", tl.marks_left_out + " more marks left out"));
  document.body.dataset.ready = "1";
}

function setRange(a, b) {
  from = Math.max(tl.t0_ns, Math.floor(a));
  to = Math.min(tl.t1_ns + tl.res_ns, Math.ceil(b));
  if (to <= from) to = from + tl.res_ns;
  history.replaceState(null, "", "#from=" + from + "&to=" + to);
  render();
}

function fromHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  const a = Number(q.get("from")), b = Number(q.get("to"));
  if (a && b && b > a) setRange(a, b);
  else setRange(tl.t0_ns, tl.t1_ns + tl.res_ns);
}

$("reset").addEventListener("click", () => setRange(tl.t0_ns, tl.t1_ns + tl.res_ns));
$("zoom-out").addEventListener("click", () => {
  const span = to - from;
  setRange(from - span / 2, to + span / 2);
});
window.addEventListener("hashchange", fromHash);
fetch("/timeline.json").then((r) => r.json()).then((j) => {
  tl = j;
  $("span").textContent = iso(tl.t0_ns) + " \u2013 " + iso(tl.t1_ns) + " UTC";
  fromHash();
});
