// The filter box: MLflow filter strings, checked as you type, errors shown where they are.
import { get } from "../api.js";
import { clear, debounce, h } from "../dom.js";

export const EXAMPLES = [
  "metrics.val_loss < 0.1",
  "params.optimizer = 'adam' and metrics.accuracy > 0.9",
  "attributes.status = 'RUNNING'",
  "tags.`mlflow.source.git.branch` = 'main'",
];

// Shows `message` under the box, and the filter with a caret under the faulty character.
export function showProblem(box, text, message, position) {
  clear(box);
  if (!message) return;
  box.append(h("div", { class: "filter-message" }, message));
  if (position !== null && position !== undefined) {
    const at = Math.min(position, text.length);
    box.append(h("pre", { class: "filter-caret", "aria-label": `at position ${position}` },
      text, "\n", " ".repeat(at), "^", ` position ${position}`));
  }
}

export function filterBox(initial, onApply) {
  const input = h("input", {
    type: "search", id: "filter", class: "filter", value: initial, spellcheck: "false",
    placeholder: `Filter runs, e.g. ${EXAMPLES[0]}`, "aria-label": "filter runs", list: "filter-examples",
  });
  const problem = h("div", { class: "filter-problem", id: "filter-problem", role: "status" });
  const check = debounce(async () => {
    const text = input.value;
    if (!text.trim()) return showProblem(problem, text, null);
    const result = await get("/filter/check", { filter: text });
    if (input.value !== text) return;
    input.classList.toggle("invalid", !result.ok);
    showProblem(problem, text, result.ok ? null : result.message, result.position);
  }, 250);
  input.addEventListener("input", check);
  input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") onApply(input.value.trim()); });
  const apply = h("button", { type: "button", onclick: () => onApply(input.value.trim()) }, "Apply");
  const examples = h("datalist", { id: "filter-examples" }, EXAMPLES.map((x) => h("option", { value: x })));
  return { element: h("div", { class: "filter-box" }, h("div", { class: "row" }, input, apply), examples, problem), problem, input };
}
