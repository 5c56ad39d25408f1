// Metric charts on uPlot: series downsampled on the server, re-fetched for a zoomed range;
// x as step, relative or wall time; smoothing; log scale.  Plus parallel coordinates and
// a scatter plot, drawn on a canvas.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { apiUrl, get } from "./api.js";
import { fmtValue, h } from "./dom.js";

const X_LABELS = { step: "step", relative: "seconds since start", time: "wall time" };

export function chartControls(settings, onChange) {
  const axis = h("select", { class: "x-axis", "aria-label": "x axis" },
    Object.entries(X_LABELS).map(([value, label]) => h("option", { value, selected: settings.x === value }, `x: ${label}`)));
  axis.addEventListener("change", () => { settings.x = axis.value; onChange(); });
  const smooth = h("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: settings.smoothing, class: "smoothing", "aria-label": "smoothing" });
  const smoothLabel = h("span", { class: "muted" }, `smoothing ${settings.smoothing}`);
  smooth.addEventListener("input", () => { settings.smoothing = Number(smooth.value); smoothLabel.textContent = `smoothing ${smooth.value}`; onChange("style"); });
  const log = h("input", { type: "checkbox", class: "log-scale", checked: settings.log });
  log.addEventListener("change", () => { settings.log = log.checked; onChange("style"); });
  return h("div", { class: "toolbar chart-controls" }, axis, h("label", { class: "check" }, smooth, smoothLabel),
    h("label", { class: "check" }, log, " log scale"),
    h("span", { class: "muted" }, "drag to zoom, double-click to reset"));
}

// Exponential moving average, debiased (as TensorBoard's), skipping gaps.
function smoothValues(ys, weight) {
  if (!weight) return ys;
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    if (y === null) return null;
    last = last * weight + (1 - weight) * y;
    n += 1;
    return last / (1 - weight ** n);
  });
}

// A chart of one metric for several runs: lines = [{runId, label, colour}].
export function metricChart(key, lines, settings) {
  const holder = h("div", { class: "chart", dataset: { key } });
  const title = h("div", { class: "chart-title" }, h("strong", null, key));
  const info = h("span", { class: "muted chart-info" });
  title.append(" ", info);
  const plotBox = h("div", { class: "plot" });
  holder.append(title, plotBox);
  let plot = null;
  let raw = [];
  let range = null;

  const build = () => {
    const xs = raw.map((s) => s.x);
    const logY = settings.log;
    const series = [];
    const data = [];
    raw.forEach((s, i) => {
      let ys = s.y;
      if (logY) ys = ys.map((v) => (v !== null && v > 0 ? v : null));
      if (settings.smoothing > 0) {
        data.push([s.x, ys]);
        series.push({ label: `${lines[i].label} (raw)`, stroke: `${lines[i].colour}44`, width: 1, spanGaps: true, points: { show: false } });
        data.push([s.x, smoothValues(ys, settings.smoothing)]);
        series.push({ label: lines[i].label, stroke: lines[i].colour, width: 2, spanGaps: true, points: { show: false } });
      } else {
        data.push([s.x, ys]);
        series.push({ label: lines[i].label, stroke: lines[i].colour, width: 1.5, spanGaps: true, points: { show: s.x.length < 60, size: 5 } });
      }
    });
    const joined = xs.length ? uPlot.join(data) : [[]];
    const width = Math.max(260, plotBox.clientWidth || 460);
    const opts = {
      width,
      height: 240,
      scales: { x: { time: settings.x === "time" }, y: { distr: logY ? 3 : 1 } },
      axes: [{ label: X_LABELS[settings.x] }, { values: (u, ticks) => ticks.map(fmtValue), size: 60 }],
      series: [{ label: settings.x }, ...series],
      legend: { show: lines.length > 1 || settings.smoothing > 0 },
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: { setSelect: [selected] },
    };
    if (plot) plot.destroy();
    plot = new uPlot(opts, joined, plotBox);
    plot.over.addEventListener("dblclick", () => { range = null; load(); });
    const points = raw.reduce((n, s) => n + s.x.length, 0);
    holder.dataset.points = String(points);
    holder.dataset.log = logY ? "1" : "0";
    holder.dataset.x = settings.x;
    const total = raw.reduce((n, s) => n + s.total, 0);
    info.textContent = raw.some((s) => s.downsampled)
      ? `${points.toLocaleString()} of ${total.toLocaleString()} points drawn (min/max per pixel)`
      : `${total.toLocaleString()} point${total === 1 ? "" : "s"}`;
  };

  // A drag selects an x range: fetch that range's points (downsampled again at full width).
  const selected = (u) => {
    if (u.select.width < 3) return;
    range = [u.posToVal(u.select.left, "x"), u.posToVal(u.select.left + u.select.width, "x")];
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    load();
  };

  const load = async () => {
    const params = { runs: lines.map((l) => l.runId).join(","), key, x: settings.x, buckets: Math.round((plotBox.clientWidth || 600) / 1.5) };
    if (range) { params.lo = range[0]; params.hi = range[1]; }
    const data = await get("/series", params);
    raw = lines.map((l) => data.series.find((s) => s.run_id === l.runId) || { x: [], y: [], total: 0 });
    build();
    if (range) plot.setScale("x", { min: range[0], max: range[1] });
    holder.dataset.zoomed = range ? "1" : "0";
  };

  return {
    element: holder,
    load,
    restyle: () => { build(); if (range) plot.setScale("x", { min: range[0], max: range[1] }); },
    reset: () => { range = null; },
    csvLinks: () => lines.map((l) => h("a", { href: apiUrl(`/runs/${l.runId}/metric.csv`, { key }), download: "" }, `raw CSV${lines.length > 1 ? ` (${l.label})` : ""}`)),
  };
}

// A grid of charts, one per metric key, with shared controls.
export function chartGrid(keys, lines, settings) {
  const grid = h("div", { class: "charts" });
  const charts = keys.map((key) => metricChart(key, lines, settings));
  for (const chart of charts) {
    chart.element.append(h("div", { class: "chart-links" }, chart.csvLinks()));
    grid.append(chart.element);
  }
  const controls = chartControls(settings, async (what) => {
    if (what === "style") charts.forEach((c) => c.restyle());
    else { charts.forEach((c) => c.reset()); await Promise.all(charts.map((c) => c.load())); }
  });
  return { element: h("div", null, controls, grid), load: () => Promise.all(charts.map((c) => c.load())) };
}

function numeric(values) {
  return values.every((v) => v === null || v === undefined || (typeof v === "number" && Number.isFinite(v)) || (v !== "" && Number.isFinite(Number(v))));
}

function axisScale(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (numeric(present)) {
    const nums = present.map(Number);
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    return { kind: "num", pos: (v) => (hi === lo ? 0.5 : (Number(v) - lo) / (hi - lo)), labels: [fmtValue(lo), fmtValue(hi)] };
  }
  const cats = [...new Set(present.map(String))].sort();
  return { kind: "cat", pos: (v) => (cats.length < 2 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1)), labels: cats };
}

function canvas(width, height) {
  const c = h("canvas", { width: width * devicePixelRatio, height: height * devicePixelRatio });
  c.style.width = `${width}px`;
  c.style.height = `${height}px`;
  const ctx = c.getContext("2d");
  ctx.scale(devicePixelRatio, devicePixelRatio);
  ctx.font = "11px system-ui, sans-serif";
  return [c, ctx];
}

// Parallel coordinates: one vertical axis per dimension, one polyline per run.
// dims = [{name, values: [per run]}]
export function parallelCoordinates(dims, runs) {
  const width = Math.max(480, dims.length * 140);
  const height = 320;
  const [c, ctx] = canvas(width, height);
  c.classList.add("parallel");
  const top = 44;
  const bottom = height - 30;
  const x = (i) => 50 + (i * (width - 100)) / Math.max(1, dims.length - 1);
  const scales = dims.map((d) => axisScale(d.values));
  ctx.lineWidth = 1.6;
  runs.forEach((run, r) => {
    ctx.strokeStyle = run.colour;
    ctx.beginPath();
    let pen = false;
    dims.forEach((d, i) => {
      const v = d.values[r];
      if (v === null || v === undefined) { pen = false; return; }
      const y = bottom - scales[i].pos(v) * (bottom - top);
      if (pen) ctx.lineTo(x(i), y); else ctx.moveTo(x(i), y);
      pen = true;
    });
    ctx.stroke();
  });
  ctx.strokeStyle = "#555";
  ctx.fillStyle = "#222";
  dims.forEach((d, i) => {
    ctx.beginPath();
    ctx.moveTo(x(i), top);
    ctx.lineTo(x(i), bottom);
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.fillText(d.name, x(i), 14);
    const s = scales[i];
    if (s.kind === "num") {
      ctx.fillText(s.labels[1], x(i), top - 8);
      ctx.fillText(s.labels[0], x(i), bottom + 14);
    } else {
      s.labels.forEach((label) => ctx.fillText(label, x(i) + 4, bottom - s.pos(label) * (bottom - top)));
    }
  });
  c.dataset.lines = String(runs.length);
  return c;
}

// Scatter of one value against another, one dot per run, labelled on hover.
export function scatter(xs, ys, runs, xName, yName) {
  const width = 520;
  const height = 320;
  const [c, ctx] = canvas(width, height);
  c.classList.add("scatter");
  const sx = axisScale(xs);
  const sy = axisScale(ys);
  const left = 60;
  const right = width - 20;
  const top = 20;
  const bottom = height - 40;
  ctx.strokeStyle = "#888";
  ctx.strokeRect(left, top, right - left, bottom - top);
  ctx.fillStyle = "#222";
  ctx.textAlign = "center";
  ctx.fillText(xName, (left + right) / 2, height - 8);
  if (sx.kind === "num") { ctx.fillText(sx.labels[0], left, bottom + 14); ctx.fillText(sx.labels[1], right, bottom + 14); }
  ctx.save();
  ctx.translate(14, (top + bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(yName, 0, 0);
  ctx.restore();
  ctx.textAlign = "right";
  if (sy.kind === "num") { ctx.fillText(sy.labels[1], left - 4, top + 8); ctx.fillText(sy.labels[0], left - 4, bottom); }
  const spots = [];
  runs.forEach((run, i) => {
    if (xs[i] === null || xs[i] === undefined || ys[i] === null || ys[i] === undefined) return;
    const px = left + sx.pos(xs[i]) * (right - left);
    const py = bottom - sy.pos(ys[i]) * (bottom - top);
    ctx.fillStyle = run.colour;
    ctx.beginPath();
    ctx.arc(px, py, 5, 0, 2 * Math.PI);
    ctx.fill();
    spots.push({ px, py, text: `${run.label}: ${xName}=${fmtValue(xs[i])}, ${yName}=${fmtValue(ys[i])}` });
  });
  c.addEventListener("mousemove", (ev) => {
    const rect = c.getBoundingClientRect();
    const hit = spots.find((s) => Math.hypot(s.px - (ev.clientX - rect.left), s.py - (ev.clientY - rect.top)) < 7);
    c.title = hit ? hit.text : "";
  });
  c.dataset.points = String(spots.length);
  return c;
}
