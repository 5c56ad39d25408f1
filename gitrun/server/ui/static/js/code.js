// Code and diffs: a small tokenizer colours keywords, strings, comments and numbers;
// every token goes in as text (file contents are never parsed as HTML).
import { h } from "./dom.js";

const KEYWORDS = {
  python: "and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield self",
  shell: "if then else elif fi for in do done case esac while until function export local return echo",
  yaml: "true false null yes no",
  json: "true false null",
  js: "const let var function return if else for while import from export class new this null undefined true false async await",
};
const LANGUAGE_OF = { py: "python", sh: "shell", bash: "shell", yaml: "yaml", yml: "yaml", json: "json", js: "js", mjs: "js", toml: "yaml", cfg: "yaml", ini: "yaml", MLmodel: "yaml" };

export function languageOf(path) {
  const name = path.split("/").pop();
  if (LANGUAGE_OF[name]) return LANGUAGE_OF[name];
  const ext = name.includes(".") ? name.split(".").pop().toLowerCase() : "";
  return LANGUAGE_OF[ext] || null;
}

const TOKEN = /(#[^\n]*|\/\/[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b)|([A-Za-z_][\w]*)/g;

// Append `text` to `el` as highlighted spans for `language` (plain text when unknown).
export function highlight(el, text, language) {
  if (!language) { el.append(text); return el; }
  const words = new Set((KEYWORDS[language] || "").split(" "));
  const comments = language === "json" ? null : language === "js" ? "//" : "#";
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    const [token, comment, string, number, word] = m;
    let cls = null;
    if (comment && comments && token.startsWith(comments)) cls = "tok-comment";
    else if (string) cls = "tok-string";
    else if (number) cls = "tok-number";
    else if (word && words.has(word)) cls = "tok-keyword";
    if (!cls) continue;
    if (m.index > last) el.append(text.slice(last, m.index));
    el.append(h("span", { class: cls }, token));
    last = m.index + token.length;
  }
  if (last < text.length) el.append(text.slice(last));
  return el;
}

export function codeBlock(text, language) {
  return h("pre", { class: "code" }, highlight(h("code", null), text, language));
}

// A diff from the API (files of hunks: lines starting with ' ', '+', '-', '@@').
export function diffView(diff) {
  if (diff.note) return h("p", { class: "muted diff-note" }, diff.note);
  if (!diff.files.length) return h("p", { class: "muted" }, "No difference: the code is identical.");
  const added = diff.files.reduce((n, f) => n + f.added, 0);
  const removed = diff.files.reduce((n, f) => n + f.removed, 0);
  return h("div", { class: "diff" },
    h("p", { class: "muted" }, `${diff.files.length} file${diff.files.length === 1 ? "" : "s"} changed, `,
      h("span", { class: "add" }, `+${added}`), " ", h("span", { class: "del" }, `-${removed}`),
      diff.truncated ? " (diff cut: too large)" : ""),
    diff.files.map((file) => {
      const language = languageOf(file.path);
      const name = file.old_path ? `${file.old_path} → ${file.path}` : file.path;
      const body = h("pre", { class: "code diff-body" });
      if (file.binary) body.append("Binary file differs");
      for (const line of file.lines) {
        const kind = line.startsWith("@@") ? "hunk" : line[0] === "+" ? "add" : line[0] === "-" ? "del" : "ctx";
        const row = h("span", { class: `line ${kind}` });
        if (kind === "hunk") row.append(line);
        else { row.append(line[0] || " "); highlight(row, line.slice(1), language); }
        body.append(row, "\n");
      }
      return h("details", { class: "diff-file", open: true, dataset: { path: file.path } },
        h("summary", null, h("span", { class: `file-status ${file.status}` }, file.status), " ", h("span", { class: "mono" }, name),
          h("span", { class: "muted" }, ` +${file.added} -${file.removed}`)),
        body);
    }));
}
