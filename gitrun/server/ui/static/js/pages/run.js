// One run: overview (params, metrics, tags, note, inputs, parent and children), charts,
// code (uncommitted diff, environment, how to reproduce) and artifacts.
import { apiUrl, get, post, state } from "../api.js";
import { crumbs } from "../app.js";
import { chartGrid } from "../charts.js";
import { codeBlock, diffView, languageOf } from "../code.js";
import {
  clear, colour, copyButton, fmtDuration, fmtSize, fmtTime, fmtValue, h, link, route, section, shortId, statusBadge, table,
} from "../dom.js";

const TABS = ["overview", "charts", "code", "artifacts"];

export async function runPage(main, params, [runId]) {
  const tab = TABS.includes(params.get("tab")) ? params.get("tab") : "overview";
  let doc = await get(`/runs/${runId}`);
  const run = doc.run;
  crumbs(link("#/", "Experiments"), link(route("/runs", { e: run.experiment_id }), doc.experiment_name || run.experiment_id),
    h("span", null, run.run_name));
  const body = h("div", { class: "tab-body" });
  const header = runHeader(doc);
  const tabs = h("nav", { class: "tabs", role: "tablist" }, TABS.map((t) =>
    h("a", { href: `#/run/${run.run_id}?tab=${t}`, class: t === tab ? "active" : "", role: "tab", "aria-selected": String(t === tab), id: `tab-${t}` },
      t[0].toUpperCase() + t.slice(1))));
  clear(main, header, tabs, body);
  let refresh = null;
  if (tab === "overview") overview(body, doc);
  if (tab === "charts") refresh = await charts(body, doc);
  if (tab === "code") await code(body, doc);
  if (tab === "artifacts") await artifacts(body, doc);
  return {
    refresh: async () => {
      const next = await get(`/runs/${runId}`);
      if (tab === "overview") { doc = next; clear(main, runHeader(doc), tabs, body); body.replaceChildren(); overview(body, doc); }
      else header.querySelector(".status").replaceWith(statusBadge(next.run.status));
      if (refresh) await refresh();
    },
  };
}

function runHeader(doc) {
  const run = doc.run;
  const actions = h("span", { class: "actions" });
  if (state.config.writable) {
    actions.append(
      h("button", { type: "button", class: "small", id: "rename", onclick: async () => {
        const name = prompt("New name for this run", run.run_name);
        if (name && name.trim()) { await post(`/runs/${run.run_id}/rename`, { name }); location.reload(); }
      } }, "Rename"),
      run.lifecycle_stage === "deleted"
        ? h("button", { type: "button", class: "small", id: "restore", onclick: async () => { await post(`/runs/${run.run_id}/restore`); location.reload(); } }, "Restore")
        : h("button", { type: "button", class: "small danger", id: "delete", onclick: async () => {
          if (confirm("Delete this run? (It can be restored.)")) { await post(`/runs/${run.run_id}/delete`); location.reload(); }
        } }, "Delete"));
  }
  return h("header", { class: "run-header" },
    h("h1", null, h("span", { class: "run-name", id: "run-name" }, run.run_name), " ", statusBadge(run.status),
      run.lifecycle_stage === "deleted" ? h("span", { class: "status status-failed" }, "deleted") : null),
    h("div", { class: "muted" }, h("span", { class: "mono" }, run.run_id), " · started ", fmtTime(run.start_time),
      " · ", h("span", { class: "duration" }, fmtDuration(run.start_time, run.end_time)), " · ", run.user_id,
      doc.parent ? [" · parent ", link(`#/run/${doc.parent.run_id}`, doc.parent.run_name || shortId(doc.parent.run_id))] : null),
    actions);
}

function kvTable(pairs, id) {
  return table(["Key", "Value"], pairs.map(([k, v]) => h("tr", null, h("td", { class: "key" }, k), h("td", null, v))), { class: "grid kv", id });
}

function overview(body, doc) {
  const run = doc.run;
  const metrics = table(["Metric", "Latest", "Step", "Min (step)", "Max (step)", "Points"], doc.metrics.map((m) => h("tr", null,
    h("td", { class: "key" }, m.key), h("td", { class: "num" }, fmtValue(m.last_value)), h("td", { class: "num" }, m.last_step),
    h("td", { class: "num" }, m.min_value === null ? "" : `${fmtValue(m.min_value)} (${m.min_step})`),
    h("td", { class: "num" }, m.max_value === null ? "" : `${fmtValue(m.max_value)} (${m.max_step})`),
    h("td", { class: "num" }, m.points.toLocaleString()))), { class: "grid", id: "metrics" });
  const tags = Object.entries(doc.all_tags).filter(([k]) => k !== "mlflow.note.content").sort();
  const tagRows = tags.map(([k, v]) => h("tr", null, h("td", { class: "key" }, k), h("td", null, v),
    state.config.writable ? h("td", null, h("button", { type: "button", class: "small", title: `Delete tag ${k}`,
      onclick: async () => { await post(`/runs/${run.run_id}/tags/delete`, { key: k }); location.reload(); } }, "×")) : null));
  const tagSection = section("Tags", table(["Key", "Value", state.config.writable ? "" : null].filter((x) => x !== null), tagRows, { class: "grid kv", id: "tags" }));
  if (state.config.writable) {
    const key = h("input", { placeholder: "key", "aria-label": "tag key", id: "tag-key" });
    const value = h("input", { placeholder: "value", "aria-label": "tag value", id: "tag-value" });
    tagSection.append(h("div", { class: "row" }, key, value, h("button", { type: "button", id: "add-tag", onclick: async () => {
      await post(`/runs/${run.run_id}/tags`, { key: key.value, value: value.value });
      location.reload();
    } }, "Add tag")));
  }
  let note;
  if (state.config.writable) {
    const area = h("textarea", { id: "note", rows: 4, "aria-label": "note" }, doc.note);
    const saved = h("span", { class: "muted" });
    note = section("Note", area, h("div", { class: "row" }, h("button", { type: "button", id: "save-note", onclick: async () => {
      await post(`/runs/${run.run_id}/note`, { text: area.value });
      saved.textContent = "saved";
    } }, "Save note"), saved));
  } else {
    note = section("Note", doc.note ? h("p", { class: "note", id: "note" }, doc.note) : h("p", { class: "muted" }, "No note. (Start `gitrun ui --writable` to write one.)"));
  }
  const info = kvTable([
    ["Run id", h("span", { class: "mono" }, run.run_id)],
    ["Experiment", link(route("/runs", { e: run.experiment_id }), doc.experiment_name || run.experiment_id)],
    ["Status", statusBadge(run.status)],
    ["Started", fmtTime(run.start_time)],
    ["Ended", run.end_time ? fmtTime(run.end_time) : "(running)"],
    ["User", run.user_id],
    ["Source", doc.source.name || ""],
    ["Commit", run.commit ? [h("span", { class: "mono" }, run.commit), run.dirty ? " + uncommitted changes" : ""] : "(not recorded)"],
  ], "info");
  const children = doc.children.length ? section(`Nested runs (${doc.children.length})`,
    h("div", { class: "toolbar" }, link(route("/compare", { runs: doc.children.map((c) => c.run_id).slice(0, 50) }), "Compare all nested runs")),
    table(["Name", "Status", ...Object.keys(doc.children[0].metrics).slice(0, 4)], doc.children.map((c) => h("tr", null,
      h("td", null, link(`#/run/${c.run_id}`, c.run_name)), h("td", null, statusBadge(c.status)),
      Object.keys(doc.children[0].metrics).slice(0, 4).map((k) => h("td", { class: "num" }, fmtValue(c.metrics[k]))))), { class: "grid", id: "children" })) : null;
  const inputs = doc.inputs.length ? section("Declared inputs", table(["Path", "Digest", "Size"], doc.inputs.map((i) =>
    h("tr", null, h("td", { class: "mono" }, i.path), h("td", { class: "mono digest" }, i.digest), h("td", { class: "num" }, fmtSize(i.size)))), { class: "grid", id: "inputs" })) : null;
  body.append(h("div", { class: "columns" },
    h("div", null, section("Run", info), section("Parameters", kvTable(Object.entries(run.params).sort(), "params")), note),
    h("div", null, section("Metrics", metrics), tagSection, inputs, children)));
}

async function charts(body, doc) {
  const keys = doc.metrics.map((m) => m.key);
  if (!keys.length) { body.append(h("p", { class: "muted" }, "This run logged no metrics.")); return null; }
  const settings = { x: "step", smoothing: 0, log: false };
  const grid = chartGrid(keys, [{ runId: doc.run.run_id, label: doc.run.run_name, colour: colour(0) }], settings);
  body.append(grid.element);
  await grid.load();
  return grid.load;
}

async function code(body, doc) {
  const c = doc.code;
  const run = doc.run;
  const recorded = Object.keys(c).length > 0;
  const summary = kvTable([
    ["Commit", c.commit ? h("span", { class: "mono" }, c.commit) : "(none)"],
    ["Branch", c.branch || "(detached)"],
    ["Repository", c.repo_url || ""],
    ["Uncommitted changes", c.dirty ? "yes: recorded in the run's code snapshot" : "no"],
    ["Code tree", c.tree ? h("span", { class: "mono" }, c.tree) : ""],
    ["Skipped files", (c.skipped || []).map((s) => `${s.path} (${s.reason})`).join(", ")],
  ], "code-summary");
  const reproduce = h("div", { class: "reproduce" },
    doc.command ? h("div", null, h("strong", null, "Command "), h("code", { id: "command" }, doc.command), " ", copyButton(doc.command)) : h("p", { class: "muted" }, "No command recorded (not started from a script or `gitrun run`)."),
    h("div", null, h("strong", null, "Reproduce "), h("code", { id: "reproduce-line" }, doc.reproduce), " ", copyButton(doc.reproduce)),
    h("div", null, h("strong", null, "Check out the code "), h("code", null, doc.checkout), " ", copyButton(doc.checkout)));
  const diffHolder = h("div", { id: "snapshot-diff" }, h("p", { class: "muted" }, "Loading the diff…"));
  const env = doc.environment;
  const pkgFilter = h("input", { type: "search", placeholder: "filter packages", "aria-label": "filter packages" });
  const packages = Object.entries(env.packages).sort();
  const pkgBody = h("tbody");
  const showPackages = () => {
    const q = pkgFilter.value.toLowerCase();
    pkgBody.replaceChildren(...packages.filter(([n]) => n.toLowerCase().includes(q)).map(([n, v]) => h("tr", null, h("td", null, n), h("td", null, v))));
  };
  pkgFilter.addEventListener("input", showPackages);
  showPackages();
  body.append(h("div", { class: "columns" },
    h("div", null,
      section("How to reproduce", reproduce),
      section("Code", recorded ? summary : h("p", { class: "muted" }, "No code recorded: the run was not started inside a git work tree.")),
      section("Uncommitted changes (diff against the commit)", diffHolder)),
    h("div", null,
      section("Environment", kvTable([
        ["Python", `${env.summary.python || ""} ${env.summary.implementation || ""}`],
        ["Platform", env.summary.platform || ""],
        ["GPU", env.gpu ? JSON.stringify(env.gpu) : "(none recorded)"],
        ...Object.entries(env.variables).map(([k, v]) => [`$${k}`, v]),
      ], "environment"), h("h3", null, `Packages (${packages.length})`), pkgFilter,
      h("div", { class: "table-scroll short" }, h("table", { class: "grid", id: "packages" }, h("thead", null, h("tr", null, h("th", null, "Package"), h("th", null, "Version"))), pkgBody))))));
  if (recorded) clear(diffHolder, diffView(await get(`/runs/${run.run_id}/code-diff`)));
  else clear(diffHolder, h("p", { class: "muted" }, "(no code recorded)"));
}

async function artifacts(body, doc) {
  const runId = doc.run.run_id;
  const data = await get(`/runs/${runId}/artifacts`);
  if (!data.files.length) { body.append(h("p", { class: "muted" }, "This run logged no artifacts.")); return; }
  const preview = h("div", { class: "preview", id: "preview" }, h("p", { class: "muted" }, "Choose a file."));
  const show = async (path) => {
    for (const a of body.querySelectorAll("#artifact-files a")) a.classList.toggle("active", a.dataset.path === path);
    clear(preview, h("p", { class: "muted" }, "Loading…"));
    const p = await get(`/runs/${runId}/artifacts/preview`, { path });
    const download = h("a", { href: apiUrl(`/runs/${runId}/artifacts/raw`, { path, download: "1" }), download: path.split("/").pop(), class: "button", id: "download" }, "Download");
    const head = h("div", { class: "preview-head" }, h("strong", { class: "mono" }, p.path), h("span", { class: "muted" }, ` ${fmtSize(p.size)} · ${p.digest}`), " ", download);
    let content;
    if (p.kind === "image") content = h("img", { src: apiUrl(`/runs/${runId}/artifacts/raw`, { path }), alt: p.path, class: "artifact-image" });
    else if (p.kind === "table") {
      content = h("div", { class: "table-scroll" }, table(p.rows[0] || [], p.rows.slice(1).map((r) => h("tr", null, r.map((c) => h("td", null, c))))));
    } else if (p.kind === "binary") content = h("p", { class: "muted" }, "Binary file: download it to look inside.");
    else content = codeBlock(p.text, p.language || languageOf(p.path));
    clear(preview, head, p.kind === "model" ? h("p", null, "A logged model: its MLmodel descriptor") : null, content,
      p.truncated ? h("p", { class: "muted" }, "Preview cut: download the file for all of it.") : null,
      p.verified ? null : h("p", { class: "muted" }, "(this preview is the file's beginning, not yet verified against its digest; downloads are verified)"));
  };
  const list = h("ul", { class: "files", id: "artifact-files" }, data.files.map((f) => {
    const depth = f.path.split("/").length - 1;
    const model = data.models.includes(f.path.split("/").slice(0, -1).join("/"));
    return h("li", { class: `depth-${Math.min(depth, 6)}` }, h("a", { href: "#", dataset: { path: f.path }, onclick: (ev) => { ev.preventDefault(); show(f.path); } },
      f.path), model && f.path.endsWith("MLmodel") ? h("span", { class: "badge" }, "model") : null, h("span", { class: "muted" }, ` ${fmtSize(f.size)}`));
  }));
  body.append(h("div", { class: "artifacts" }, section(`Files (${data.files.length})`, list), section("Preview", preview)));
  const first = data.files.find((f) => f.path.endsWith("MLmodel")) || data.files[0];
  await show(first.path);
}
