// Runs side by side: params (differences highlighted, equal ones folded), latest metrics,
// overlaid charts, parallel coordinates, a scatter of any two values, the code diff between
// two runs' snapshots and their environment differences.
import { get } from "../api.js";
import { crumbs } from "../app.js";
import { chartGrid, parallelCoordinates, scatter } from "../charts.js";
import { diffView } from "../code.js";
import { clear, colour, fmtValue, h, link, route, section, shortId } from "../dom.js";

function rowsTable(title, rows, runs, id, numeric) {
  const differing = rows.filter((r) => r.differs);
  const same = rows.filter((r) => !r.differs);
  const head = h("thead", null, h("tr", null, h("th", null, title), runs.map((r, i) =>
    h("th", null, h("span", { class: "swatch", dataset: { colour: i } }), r.run_name || shortId(r.run_id)))));
  const line = (r) => h("tr", { class: r.differs ? "differs" : "same", dataset: { key: r.key } },
    h("td", { class: "key" }, r.key), r.values.map((v) => h("td", { class: numeric ? "num" : "" }, v === null ? "—" : fmtValue(v))));
  const parts = [h("table", { class: "grid compare-table", id }, head, h("tbody", null, differing.map(line)))];
  if (same.length) {
    parts.push(h("details", { class: "folded", id: `${id}-same` },
      h("summary", null, `${same.length} ${title.toLowerCase()} with the same value in every run`),
      h("table", { class: "grid compare-table" }, h("tbody", null, same.map(line)))));
  }
  if (!differing.length && !same.length) parts.push(h("p", { class: "muted" }, "(none)"));
  return parts;
}

function asNumber(v) {
  if (v === null || v === undefined || v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

export async function comparePage(main, params) {
  const ids = (params.get("runs") || "").split(",").filter(Boolean);
  if (!ids.length) { clear(main, h("p", { class: "error" }, "Select runs to compare in a runs table.")); return null; }
  const doc = await get("/compare", { runs: ids.join(",") });
  const runs = doc.runs;
  const experiments = [...new Set(runs.map((r) => r.experiment_id))];
  crumbs(link("#/", "Experiments"), link(route("/runs", { e: experiments }), runs[0].experiment_name || experiments[0]), h("span", null, `Compare ${runs.length} runs`));
  const lines = runs.map((r, i) => ({ runId: r.run_id, label: r.run_name || shortId(r.run_id), colour: colour(i) }));
  const legend = h("div", { class: "legend" }, runs.map((r, i) => h("span", { class: "legend-item" },
    h("span", { class: "swatch", dataset: { colour: i } }), link(`#/run/${r.run_id}`, r.run_name || shortId(r.run_id)))));

  // Charts, overlaid: one line per run, its colour everywhere on the page.
  const metricKeys = doc.metrics.map((r) => r.key);
  const settings = { x: "step", smoothing: 0, log: false };
  const grid = metricKeys.length ? chartGrid(metricKeys, lines, settings) : null;

  // Parallel coordinates over the params that differ and every metric; scatter of any two.
  const dims = [...doc.params.filter((r) => r.differs), ...doc.metrics]
    .map((r) => ({ name: r.key, values: r.values.map(asNumber) }));
  const parallel = h("div", { id: "parallel" }, dims.length > 1 ? parallelCoordinates(dims, lines) : h("p", { class: "muted" }, "Needs two or more values that differ."));
  const choices = [...doc.params.map((r) => ({ id: `params.${r.key}`, row: r })), ...doc.metrics.map((r) => ({ id: `metrics.${r.key}`, row: r }))];
  const pick = (id, def) => h("select", { id, "aria-label": id }, choices.map((c) => h("option", { value: c.id, selected: c.id === def }, c.id)));
  const defaultX = (choices.find((c) => c.id.startsWith("params.") && c.row.differs) || choices[0] || { id: "" }).id;
  const defaultY = (choices.find((c) => c.id.startsWith("metrics.")) || choices[0] || { id: "" }).id;
  const xSel = pick("scatter-x", defaultX);
  const ySel = pick("scatter-y", defaultY);
  const scatterBox = h("div", { id: "scatter" });
  const drawScatter = () => {
    const xRow = choices.find((c) => c.id === xSel.value);
    const yRow = choices.find((c) => c.id === ySel.value);
    if (!xRow || !yRow) return;
    clear(scatterBox, scatter(xRow.row.values.map(asNumber), yRow.row.values.map(asNumber), lines, xRow.row.key, yRow.row.key));
  };
  xSel.addEventListener("change", drawScatter);
  ySel.addEventListener("change", drawScatter);

  // Code: the diff between two runs' snapshot trees (uncommitted changes included).
  const runOptions = (def) => runs.map((r, i) => h("option", { value: r.run_id, selected: i === def }, r.run_name || shortId(r.run_id)));
  const oldSel = h("select", { id: "diff-old", "aria-label": "diff from" }, runOptions(0));
  const newSel = h("select", { id: "diff-new", "aria-label": "diff to" }, runOptions(Math.min(1, runs.length - 1)));
  const diffBox = h("div", { id: "code-diff" });
  const loadDiff = async () => clear(diffBox, diffView(await get("/diff", { old: oldSel.value, new: newSel.value })));
  oldSel.addEventListener("change", loadDiff);
  newSel.addEventListener("change", loadDiff);

  clear(main,
    section(`Comparing ${runs.length} runs`, legend),
    h("div", { class: "columns" },
      h("div", null, section("Parameters", rowsTable("Params", doc.params, runs, "compare-params", false))),
      h("div", null, section("Metrics (latest)", rowsTable("Metrics", doc.metrics, runs, "compare-metrics", true)))),
    grid ? section("Metric charts", grid.element) : null,
    section("Parallel coordinates", parallel),
    section("Scatter", h("div", { class: "toolbar" }, "x ", xSel, " y ", ySel), scatterBox),
    section("Code difference", h("div", { class: "toolbar" }, "from ", oldSel, " to ", newSel), diffBox),
    section("Environment", rowsTable("Environment", doc.environment, runs, "compare-environment", false),
      h("h3", null, `Packages whose versions differ (${doc.packages.length}; ${doc.same_packages} the same)`),
      rowsTable("Packages", doc.packages, runs, "compare-packages", false)));
  for (const el of main.querySelectorAll(".swatch")) el.style.background = colour(Number(el.dataset.colour));
  if (choices.length) drawScatter();
  await Promise.all([grid ? grid.load() : null, runs.length > 1 ? loadDiff() : null]);
  return { refresh: grid ? grid.load : null };
}
