"""The live /dashboard page: one HTML file with its own small script drawing SVG charts (no CDN, no network).

It reads /monitoring.json every few seconds and draws, per window, the drift of each feature and of the
predictions (PSI), the volume (predictions per second), the latency (p50, p99) and the live metrics with
the bundle's test value as a dashed line: the same plots as the `lepton monitor` report.
"""

from __future__ import annotations

import html

__all__ = ["dashboard_html"]

REFRESH_MS = 5000

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__ - monitoring</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1.2rem;color:#222;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .3rem} #status{color:#555;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1rem}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem}
.card h2{font-size:1rem;margin:.1rem 0 .4rem} .empty{color:#888;font-style:italic;padding:2rem 0;text-align:center}
svg text{font-size:11px;fill:#444} .legend span{margin-right:.8rem;font-size:12px}
</style></head>
<body><h1>__TITLE__</h1><div id="status">loading...</div><div class="grid" id="charts"></div>
<script>
"use strict";
const COLORS = ["#1f77b4","#d62728","#2ca02c","#ff7f0e","#9467bd","#8c564b","#e377c2","#17becf","#7f7f7f","#bcbd22"];
const W = 440, H = 200, PAD = {l: 48, r: 10, t: 8, b: 24};
function el(tag, attrs, parent) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}
function fmt(v) { return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2); }
function chart(title, series, refs) {
  const card = document.createElement("div"); card.className = "card";
  const h = document.createElement("h2"); h.textContent = title; card.appendChild(h);
  const drawn = series.map(s => ({...s, points: s.points.filter(p => p[1] !== null && isFinite(p[1]))}))
                      .filter(s => s.points.length > 0);
  if (!drawn.length) {
    const empty = document.createElement("div"); empty.className = "empty";
    empty.textContent = "not enough data yet"; card.appendChild(empty); return card;
  }
  const xs = drawn.flatMap(s => s.points.map(p => p[0]));
  const ys = drawn.flatMap(s => s.points.map(p => p[1])).concat((refs || []).map(r => r.value));
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const sx = x => PAD.l + (x - x0) / (x1 - x0) * (W - PAD.l - PAD.r);
  const sy = y => H - PAD.b - (y - y0) / (y1 - y0) * (H - PAD.t - PAD.b);
  const svg = el("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title});
  el("line", {x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, stroke: "#999"}, svg);
  el("line", {x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b, stroke: "#999"}, svg);
  for (const y of [y0, (y0 + y1) / 2, y1]) {
    el("text", {x: PAD.l - 4, y: sy(y) + 4, "text-anchor": "end"}, svg).textContent = fmt(y);
  }
  el("text", {x: PAD.l, y: H - 6}, svg).textContent = "window " + x0;
  el("text", {x: W - PAD.r, y: H - 6, "text-anchor": "end"}, svg).textContent = "window " + x1;
  for (const r of refs || []) {
    el("line", {x1: PAD.l, x2: W - PAD.r, y1: sy(r.value), y2: sy(r.value), stroke: r.color || "#555",
                "stroke-dasharray": "5 4", class: "reference"}, svg);
  }
  const legend = document.createElement("div"); legend.className = "legend";
  drawn.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points.map((p, j) => (j ? "L" : "M") + sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" ");
    el("path", {d: d, fill: "none", stroke: color, "stroke-width": 2, class: "series",
                "data-points": s.points.length, "data-name": s.name}, svg);
    for (const p of s.points) el("circle", {cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: color}, svg);
    const tag = document.createElement("span"); tag.style.color = color; tag.textContent = "\u25cf " + s.name;
    legend.appendChild(tag);
  });
  card.appendChild(svg); card.appendChild(legend);
  return card;
}
function series(windows, name, get) { return {name: name, points: windows.map(w => [w.index, get(w)])}; }
function draw(m) {
  const w = m.windows;
  const cur = m.current;
  document.getElementById("status").textContent =
    `${m.plugin} / ${m.task} · model ${m.model_version} · ${m.predictions_total} predictions, ` +
    `${m.labels_total} labels · windows of ${m.window.size} (figures from ${m.window.min_samples}) · ` +
    (cur && cur.enough_data ? `current max PSI ${cur.psi === null ? "n/a" : fmt(cur.psi)}` : "not enough data yet") +
    ` · updated ${new Date().toLocaleTimeString()}`;
  const charts = document.getElementById("charts");
  charts.replaceChildren();
  charts.appendChild(chart("Input drift (PSI per feature)",
    m.features.map(f => series(w, f, x => x.features[f] ? x.features[f].psi : null)), [{value: 0.25, color: "#d62728"}]));
  charts.appendChild(chart("Prediction drift (PSI against the first window)",
    [series(w, "predictions", x => x.prediction_psi)], [{value: 0.25, color: "#d62728"}]));
  charts.appendChild(chart("Volume (predictions per second)", [series(w, "rate", x => x.rate_per_s)]));
  charts.appendChild(chart("Latency (seconds)",
    [series(w, "p50", x => x.latency_p50_s), series(w, "p99", x => x.latency_p99_s)]));
  m.live_metrics.forEach(metric => {
    const test = m.test_metrics[metric];
    charts.appendChild(chart(`Live ${metric} (dashed: test)`, [series(w, metric, x => x.live[metric])],
      test === null || test === undefined ? [] : [{value: test}]));
  });
  document.body.dataset.updated = String(Date.now());
}
async function refresh() {
  try {
    const response = await fetch("monitoring.json", {cache: "no-store"});
    if (!response.ok) throw new Error("HTTP " + response.status);
    draw(await response.json());
  } catch (error) {
    document.getElementById("status").textContent = "cannot read monitoring.json: " + error.message;
  }
}
refresh();
setInterval(refresh, __REFRESH__);
</script></body></html>
"""


def dashboard_html(title: str) -> str:
    """The dashboard page for a server titled ``title``."""
    return PAGE.replace("__TITLE__", html.escape(title)).replace("__REFRESH__", str(REFRESH_MS))
