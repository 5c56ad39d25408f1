// The runs table: virtual scrolling over any number of runs, pages fetched as they come
// into view; sort, filter, columns, nested runs under their parents, grouping.
import { ApiError, get } from "../api.js";
import { crumbs } from "../app.js";
import {
  clear, debounce, fmtDuration, fmtTime, fmtValue, h, link, route, shortId, statusBadge,
} from "../dom.js";
import { filterBox, showProblem } from "./filter.js";

let ROW = 31; // px; rows have one fixed height (measured after the first render), so positions are computed
const PAGE = 100;
const OVERSCAN = 10;
const PARENT = "mlflow.parentRunId";
const MINIMISE = /loss|err|mse|mae|rmse|perplexity|time/i;

const ATTRIBUTES = [
  { id: "attributes.run_name", title: "Name", sort: true },
  { id: "status", title: "Status", sort: "attributes.status" },
  { id: "attributes.start_time", title: "Started", sort: true },
  { id: "duration", title: "Duration" },
  { id: "attributes.user_id", title: "User", sort: true },
  { id: "commit", title: "Commit" },
];

function columnTitle(id) {
  const dot = id.indexOf(".");
  return id.slice(dot + 1);
}

function cellValue(run, id) {
  const dot = id.indexOf(".");
  const kind = id.slice(0, dot);
  const key = id.slice(dot + 1);
  if (kind === "params") return run.params[key];
  if (kind === "metrics") return run.metrics[key];
  if (kind === "tags") return run.tags[key];
  return undefined;
}

export async function runsPage(main, params) {
  const experiments = (params.get("e") || "").split(",").filter(Boolean);
  if (!experiments.length) {
    location.hash = "#/";
    return null;
  }
  const filter = params.get("f") || "";
  const sort = params.get("s") || "";
  const nested = params.get("flat") !== "1";
  const groupBy = params.get("g") || "";
  const view = ["deleted", "all"].includes(params.get("v")) ? params.get("v") : "active";
  const navigate = (changes) => {
    const next = { e: experiments, f: filter, s: sort, flat: nested ? "" : "1", g: groupBy, v: view === "active" ? "" : view, ...changes };
    location.hash = route("/runs", next);
  };
  const base = { experiments, filter, sort, view };

  // Everything the first screen needs is asked for at once; rows do not wait for the count.
  const tableParams = { ...base, nested: nested ? "1" : "" };
  const firstPage = groupBy ? null : get("/runs", { ...tableParams, offset: 0, limit: PAGE, best: params.get("best") || "" }).catch((err) => err);
  // The count (a pass over every matching run) is asked for last: the server answers in order.
  const counted = null;
  const [listing, summary] = await Promise.all([get("/experiments", { counts: "0" }), get("/runs/columns", base).catch((err) => err)]);
  const allExperiments = listing.experiments;
  const names = experiments.map((id) => (allExperiments.find((x) => x.experiment_id === id) || { name: id }).name);
  crumbs(link("#/", "Experiments"), h("span", null, names.join(", ")));

  const storageKey = `gitrun.columns.${experiments.join(",")}`;
  if (summary instanceof ApiError) {
    // A bad filter in the address: show the table's frame with the error, nothing else.
    const box = filterBox(filter, (text) => navigate({ f: text }));
    showProblem(box.problem, filter, summary.message, summary.position);
    clear(main, h("section", { class: "card" }, box.element));
    return null;
  }
  let columns = JSON.parse(localStorage.getItem(storageKey) || "null");
  if (!Array.isArray(columns)) {
    const varying = summary.varying.filter((c) => !c.startsWith("tags."));
    columns = [...varying.filter((c) => c.startsWith("metrics.")).slice(0, 8),
      ...varying.filter((c) => c.startsWith("params.")).slice(0, 8)];
  }
  const firstMetric = columns.find((c) => c.startsWith("metrics.")) || (summary.metrics[0] ? `metrics.${summary.metrics[0].key}` : "");
  const best = params.get("best") || (firstMetric ? `${firstMetric}:${MINIMISE.test(firstMetric) ? "asc" : "desc"}` : "");

  let table = null; // the run table, once built (not when grouping)
  // -- toolbar ------------------------------------------------------------------------------
  const box = filterBox(filter, (text) => navigate({ f: text }));
  const countLabel = h("span", { class: "count", id: "run-count" }, "");
  const hidden = h("span", { class: "muted" });
  const selected = new Map(); // run id -> name
  const compareButton = h("button", { class: "primary", type: "button", id: "compare-selected", disabled: true }, "Compare");
  compareButton.addEventListener("click", () => { location.hash = route("/compare", { runs: [...selected.keys()] }); });
  const updateSelection = () => {
    compareButton.disabled = selected.size < 2;
    compareButton.textContent = selected.size ? `Compare ${selected.size}` : "Compare";
  };
  const nestedBox = h("input", { type: "checkbox", id: "nested", checked: nested });
  nestedBox.addEventListener("change", () => navigate({ flat: nestedBox.checked ? "" : "1" }));
  const groupSelect = h("select", { id: "group-by", "aria-label": "group by" },
    h("option", { value: "" }, "No grouping"),
    summary.params.map((p) => h("option", { value: p.key, selected: p.key === groupBy }, `Group by ${p.key}`)));
  groupSelect.addEventListener("change", () => navigate({ g: groupSelect.value }));
  const viewSelect = h("select", { id: "view", "aria-label": "which runs" },
    [["active", "Active runs"], ["deleted", "Deleted runs"], ["all", "Active and deleted"]].map(([value, label]) =>
      h("option", { value, selected: value === view }, label)));
  viewSelect.addEventListener("change", () => navigate({ v: viewSelect.value === "active" ? "" : viewSelect.value }));
  const chooser = columnChooser(summary, columns, (next) => {
    localStorage.setItem(storageKey, JSON.stringify(next));
    columns = next;
    if (table) table.rebuild(); else runsPage(main, params); // grouped: recompute the groups
  });
  const toolbar = h("div", { class: "toolbar" },
    countLabel, hidden,
    h("label", { class: "check" }, nestedBox, " nested runs under parents"),
    viewSelect, groupSelect, chooser, compareButton);
  const holder = h("div", { class: "table-holder" });
  clear(main, h("section", { class: "card runs" }, box.element, toolbar, holder));

  if (groupBy) {
    const metricCols = columns.filter((c) => c.startsWith("metrics.")).map(columnTitle);
    const groups = await get("/runs/groups", { ...base, param: groupBy, metrics: metricCols });
    renderGroups(holder, groups, metricCols, (value) => navigate({
      g: "", f: [filter, value === null ? `params.\`${groupBy}\` IS NULL` : `params.\`${groupBy}\` = '${value.replaceAll("'", "\\'")}'`].filter(Boolean).join(" and "),
    }));
    countLabel.textContent = `${groups.groups.reduce((n, g) => n + g.runs, 0)} runs in ${groups.groups.length} groups`;
    return { refresh: () => runsPage(main, params) };
  }

  table = runTable(holder, { base: tableParams, filter, sort, best, selected, updateSelection, navigate, getColumns: () => columns });
  // The first page was fetched with the default "best" metric only when none was chosen yet.
  const early = await firstPage;
  if (!(early instanceof Error)) {
    table.preload(0, early);
    // Rows first, the exact count when it comes (counting 100k runs takes longer than a page).
    table.setCount(early.runs.length < PAGE ? early.runs.length : 2 * PAGE);
    // Fetched before the default "best" metric was known: fetch again for the sweeps' best children.
    if ((params.get("best") || "") !== best && Object.values(early.children).some((n) => n)) table.refetch(0);
  }
  let pending = counted;
  const loadCount = async () => {
    const answer = pending ? await pending : await get("/runs/count", tableParams);
    pending = null;
    if (answer instanceof Error) throw answer;
    const { count } = answer;
    table.setCount(count);
    countLabel.textContent = `${count.toLocaleString()} ${nested ? "top-level " : ""}run${count === 1 ? "" : "s"}`;
    if (nested && filter) {
      const flat = await get("/runs/count", base);
      hidden.textContent = flat.count > count ? `(${(flat.count - count).toLocaleString()} more match inside parents: expand them, or untick "nested")` : "";
    }
  };
  loadCount().catch((err) => { countLabel.textContent = err.message; });
  const ticker = setInterval(() => table.tick(), 1000);
  return {
    refresh: async () => { await loadCount(); table.reload(); },
    dispose: () => { clearInterval(ticker); table.dispose(); },
  };
}

function columnChooser(summary, columns, onChange) {
  const chosen = new Set(columns);
  const search = h("input", { type: "search", placeholder: "find a column", "aria-label": "find a column" });
  const lists = [["params", summary.params], ["metrics", summary.metrics], ["tags", summary.tags]].map(([kind, keys]) =>
    h("fieldset", null, h("legend", null, kind),
      keys.map((k) => {
        const id = `${kind}.${k.key}`;
        const box = h("input", { type: "checkbox", checked: chosen.has(id), dataset: { column: id } });
        box.addEventListener("change", () => {
          if (box.checked) chosen.add(id); else chosen.delete(id);
          onChange([...chosen]);
        });
        const varies = summary.varying.includes(id);
        return h("label", { class: "check", dataset: { name: id.toLowerCase() } }, box, " ", k.key,
          h("span", { class: "muted" }, varies ? ` (${k.distinct} values)` : " (same everywhere)"));
      })));
  search.addEventListener("input", () => {
    const q = search.value.toLowerCase();
    for (const label of lists.flatMap((l) => [...l.querySelectorAll("label")])) label.hidden = !label.dataset.name.includes(q);
  });
  return h("details", { class: "chooser", id: "columns" }, h("summary", null, "Columns"),
    h("div", { class: "popover" }, search, h("p", { class: "muted" }, `Keys of the first ${summary.sampled} runs; ticked by default: those that vary.`), lists));
}

function renderGroups(holder, data, metrics, onOpen) {
  const rows = data.groups.map((g) => h("tr", null,
    h("td", null, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); onOpen(g.value); } }, g.value === null ? "(not set)" : g.value)),
    h("td", { class: "num" }, g.runs),
    metrics.map((m) => {
      const s = g.metrics[m];
      return h("td", { class: "num", title: s ? `n=${s[0]} min ${fmtValue(s[3])} max ${fmtValue(s[4])}` : "" },
        s ? `${fmtValue(s[1])} ± ${fmtValue(s[2])}` : "");
    })));
  clear(holder, h("table", { class: "grid", id: "groups" },
    h("thead", null, h("tr", null, h("th", null, data.param), h("th", null, "Runs"), metrics.map((m) => h("th", null, `${m} (mean ± std)`)))),
    h("tbody", null, rows)));
}

function runTable(holder, opts) {
  const { base, filter, sort, best, selected, updateSelection, navigate } = opts;
  const [sortColumn, sortDir] = sort ? [sort.slice(0, sort.lastIndexOf(":")), sort.slice(sort.lastIndexOf(":") + 1)] : ["", ""];
  let count = 0;
  let pages = new Map(); // page number -> {runs, children, best} | "loading"
  const expanded = new Map(); // parent id -> {index, runs}
  const scroller = h("div", { class: "scroller", id: "runs-scroller" });
  const tableEl = h("table", { class: "grid runs-table", id: "runs" });
  scroller.append(tableEl);
  clear(holder, scroller);
  let disposed = false;

  const headers = () => {
    const cols = opts.getColumns();
    const th = (id, title, sortKey) => {
      const key = sortKey === true ? id : sortKey;
      if (!key) return h("th", null, title);
      const active = sortColumn === key;
      const arrow = active ? (sortDir === "asc" ? " ▲" : " ▼") : "";
      return h("th", { class: `sortable${active ? " sorted" : ""}`, dataset: { sort: key }, title: `Sort by ${title}`,
        onclick: () => navigate({ s: `${key}:${active && sortDir === "desc" ? "asc" : "desc"}` }) }, title, arrow);
    };
    return h("thead", null, h("tr", null,
      h("th", { class: "narrow" }, ""),
      ATTRIBUTES.map((a) => th(a.id, a.title, a.sort)),
      cols.map((c) => th(c, columnTitle(c), true))));
  };

  // Display row -> what is there: a top-level run (by index) or a child of an expanded parent.
  const slot = (row) => {
    const opened = [...expanded.values()].sort((a, b) => a.index - b.index);
    let r = row;
    for (const entry of opened) {
      if (r <= entry.index) return { index: r };
      if (r <= entry.index + entry.runs.length) return { child: entry.runs[r - entry.index - 1], parent: entry };
      r -= entry.runs.length;
    }
    return { index: r };
  };
  const total = () => count + [...expanded.values()].reduce((n, e) => n + e.runs.length, 0);

  const fetchPage = async (page) => {
    if (!pages.has(page)) pages.set(page, "loading"); // a page being refreshed stays shown meanwhile
    try {
      const data = await get("/runs", { ...base, offset: page * PAGE, limit: PAGE, best });
      if (!disposed) pages.set(page, data);
    } catch (err) {
      pages.set(page, { error: err.message, runs: [], children: {} });
    }
    render();
  };

  const runCells = (run, cls) => {
    const cols = opts.getColumns();
    const box = h("input", { type: "checkbox", checked: selected.has(run.run_id), "aria-label": `select ${run.run_name}` });
    box.addEventListener("change", () => {
      if (box.checked) selected.set(run.run_id, run.run_name); else selected.delete(run.run_id);
      updateSelection();
    });
    return h("tr", { class: cls, dataset: { run: run.run_id, status: run.status } },
      h("td", { class: "narrow" }, box),
      h("td", { class: "name" }), // the name cell, filled in by the caller
      h("td", null, statusBadge(run.status)),
      h("td", null, fmtTime(run.start_time)),
      h("td", { class: "duration", dataset: { start: run.start_time, end: run.end_time || "" } }, fmtDuration(run.start_time, run.end_time)),
      h("td", null, run.user_id),
      h("td", { class: "mono", title: run.commit ? `${run.commit}${run.dirty ? " + uncommitted changes" : ""}` : "" },
        run.commit ? shortId(run.commit) : "", run.dirty ? h("span", { class: "dirty", title: "uncommitted changes recorded" }, "*") : null),
      cols.map((c) => {
        const v = cellValue(run, c);
        return h("td", { class: c.startsWith("metrics.") ? "num" : "", title: v === undefined ? "" : String(v) }, fmtValue(v));
      }));
  };

  const nameCell = (run, extra) => h("td", { class: "name" }, extra, link(`#/run/${run.run_id}`, run.run_name || shortId(run.run_id)));

  const toggle = async (run, index, n) => {
    if (expanded.has(run.run_id)) {
      expanded.delete(run.run_id);
      return render();
    }
    const clause = `tags.\`${PARENT}\` = '${run.run_id}'`;
    const data = await get("/runs", { ...base, nested: "", filter: filter ? `${filter} and ${clause}` : clause, limit: 1000 });
    expanded.set(run.run_id, { index, runs: data.runs });
    render();
    return n;
  };

  const rowFor = (row) => {
    const where = slot(row);
    if (where.child) {
      const tr = runCells(where.child, "child");
      tr.children[1].replaceWith(nameCell(where.child, h("span", { class: "indent" }, "└ ")));
      return tr;
    }
    const page = Math.floor(where.index / PAGE);
    const data = pages.get(page);
    if (!data) fetchPage(page);
    if (!data || data === "loading") return h("tr", { class: "placeholder" }, h("td", { colspan: 99 }, "…"));
    if (data.error) return h("tr", null, h("td", { colspan: 99, class: "error" }, data.error));
    const run = data.runs[where.index - page * PAGE];
    if (!run) return h("tr", { class: "placeholder" }, h("td", { colspan: 99 }, ""));
    const n = data.children[run.run_id] || 0;
    const tr = runCells(run, n ? "parent" : "");
    let extra = null;
    if (n) {
      const open = expanded.has(run.run_id);
      extra = h("button", { class: "toggle", type: "button", "aria-expanded": String(open), title: open ? "Collapse" : "Show nested runs",
        onclick: () => toggle(run, where.index, n) }, `${open ? "▾" : "▸"} ${n}`);
    }
    const cell = nameCell(run, extra);
    const top = data.best && data.best[run.run_id];
    if (top) {
      const metric = best.slice(best.indexOf(".") + 1, best.lastIndexOf(":"));
      cell.append(h("span", { class: "best" }, " best: ", link(`#/run/${top.run_id}`, top.run_name), ` ${metric} ${fmtValue(top.metrics[metric])}`));
    }
    tr.children[1].replaceWith(cell);
    return tr;
  };

  const render = () => {
    if (disposed) return;
    const n = total();
    const height = scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(n, first + Math.ceil(height / ROW) + 2 * OVERSCAN);
    const body = h("tbody", null,
      h("tr", { class: "spacer", style: null }, h("td", { colspan: 99, dataset: { height: first * ROW } })),
      Array.from({ length: last - first }, (_, i) => rowFor(first + i)),
      h("tr", { class: "spacer" }, h("td", { colspan: 99, dataset: { height: (n - last) * ROW } })));
    for (const td of body.querySelectorAll("tr.spacer td")) td.style.height = `${td.dataset.height}px`;
    tableEl.replaceChildren(headers(), body);
    const sample = body.querySelector("tr:not(.spacer)");
    if (sample && sample.offsetHeight && Math.abs(sample.offsetHeight - ROW) > 0.5) {
      ROW = sample.offsetHeight;
      requestAnimationFrame(render);
    }
    if (!n) tableEl.append(h("caption", null, filter ? "No run matches this filter." : "No runs."));
  };

  scroller.addEventListener("scroll", () => requestAnimationFrame(render));
  const resize = debounce(render, 100);
  window.addEventListener("resize", resize);
  return {
    setCount(n) { count = n; render(); },
    preload(page, data) { pages.set(page, data); },
    refetch(page) { fetchPage(page); },
    // Runs changed (live): fetch the pages in view again, keeping them shown until then.
    reload() {
      const first = Math.floor(scroller.scrollTop / ROW / PAGE);
      const keep = new Map([...pages].filter(([n, d]) => Math.abs(n - first) <= 1 && d !== "loading"));
      pages = keep;
      for (const n of keep.keys()) fetchPage(n);
      render();
    },
    rebuild() { render(); },
    tick() {
      for (const td of tableEl.querySelectorAll("td.duration")) {
        if (!td.dataset.end) td.textContent = fmtDuration(Number(td.dataset.start), null);
      }
    },
    dispose() { disposed = true; window.removeEventListener("resize", resize); },
  };
}
