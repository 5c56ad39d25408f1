// The first page: every experiment with its runs, newest activity first; or how to get runs.
import { get } from "../api.js";
import { crumbs } from "../app.js";
import { clear, fmtAgo, fmtTime, h, link, route, section, table } from "../dom.js";

function emptyPage(main) {
  clear(main, section("No runs here yet",
    h("p", null, "This repository holds no gitrun records. If runs were recorded elsewhere and pushed, fetch them:"),
    h("pre", { class: "command" }, "gitrun fetch            # from origin; or: gitrun fetch REMOTE"),
    h("p", null, "Or record one:"),
    h("pre", { class: "command" }, "python -c \"import gitrun; gitrun.log_metric('loss', 0.5)\""),
    h("p", { class: "muted" }, "This page updates by itself once runs arrive.")));
}

export async function experimentsPage(main) {
  crumbs(h("span", null, "Experiments"));
  const load = async () => {
    const data = await get("/experiments");
    if (!data.has_records) return emptyPage(main);
    const selected = new Set();
    const open = h("button", { class: "primary", type: "button", disabled: true }, "Show runs of selected");
    open.addEventListener("click", () => { location.hash = route("/runs", { e: [...selected] }); });
    const rows = data.experiments.map((e) => {
      const box = h("input", { type: "checkbox", "aria-label": `select ${e.name}` });
      box.addEventListener("change", () => {
        if (box.checked) selected.add(e.experiment_id); else selected.delete(e.experiment_id);
        open.disabled = selected.size === 0;
      });
      return h("tr", { dataset: { experiment: e.experiment_id } },
        h("td", null, box),
        h("td", null, link(route("/runs", { e: e.experiment_id }), e.name)),
        h("td", { class: "mono muted" }, e.experiment_id),
        h("td", { class: "num" }, e.runs, e.running ? h("span", { class: "status status-running" }, `${e.running} running`) : null),
        h("td", { title: fmtTime(e.last_activity) }, fmtAgo(e.last_activity)),
        h("td", null, fmtTime(e.creation_time)));
    });
    const all = data.experiments.filter((e) => e.runs).map((e) => e.experiment_id);
    clear(main, section("Experiments",
      h("div", { class: "toolbar" }, open, all.length > 1 ? link(route("/runs", { e: all }), "All runs") : null),
      table(["", "Name", "Id", "Runs", "Last activity", "Created"], rows, { class: "grid", id: "experiments" })));
  };
  await load();
  return { refresh: load };
}
