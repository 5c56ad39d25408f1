// The page: a hash router over four views, and a poll that refreshes the view when runs change.
import { get, state } from "./api.js";
import { clear, h } from "./dom.js";
import { experimentsPage } from "./pages/experiments.js";
import { runsPage } from "./pages/runs.js";
import { runPage } from "./pages/run.js";
import { comparePage } from "./pages/compare.js";

const routes = [
  [/^\/?$/, experimentsPage],
  [/^\/runs$/, runsPage],
  [/^\/run\/([0-9a-f]+)$/, runPage],
  [/^\/compare$/, comparePage],
];

let current = null; // { refresh, dispose } of the shown view
let lastTip = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query] = raw.split("?");
  return { path, params: new URLSearchParams(query || "") };
}

export function crumbs(...items) {
  clear(document.getElementById("crumbs"), items.map((item, i) => [i ? h("span", { class: "sep" }, "/") : null, item]));
}

async function show() {
  if (current && current.dispose) current.dispose();
  current = null;
  const main = document.getElementById("app");
  const { path, params } = parseHash();
  for (const [pattern, page] of routes) {
    const match = path.match(pattern);
    if (match) {
      clear(main, h("p", { class: "muted" }, "Loading…"));
      try {
        current = await page(main, params, match.slice(1));
      } catch (err) {
        clear(main, h("div", { class: "error", role: "alert" }, String(err.message || err)));
      }
      return;
    }
  }
  clear(main, h("div", { class: "error" }, "No such page. "), h("a", { href: "#/" }, "Experiments"));
}

async function poll() {
  try {
    const { tip } = await get("/tip");
    document.getElementById("live").textContent = "● live";
    document.getElementById("live").classList.remove("offline");
    if (lastTip !== null && tip !== lastTip && current && current.refresh) await current.refresh();
    lastTip = tip;
  } catch {
    document.getElementById("live").textContent = "● offline";
    document.getElementById("live").classList.add("offline");
  }
}

async function start() {
  state.config = await get("/config");
  document.getElementById("mode").textContent = state.config.writable ? "writable" : "read-only";
  document.getElementById("mode").title = state.config.location;
  window.addEventListener("hashchange", show);
  await show();
  await poll();
  setInterval(poll, Math.max(250, state.config.poll_seconds * 1000));
}

start().catch((err) => {
  clear(document.getElementById("app"), h("div", { class: "error" }, `Cannot reach the gitrun server: ${err.message}`));
});
