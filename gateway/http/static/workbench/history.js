// The history panel: the caller's own recent previews and executions, from queryHistory.
import { gql } from "./api.js";
import { h, clear, errorBox, when } from "./dom.js";

export async function loadHistory() {
  return (await gql(`query History { queryHistory(first: 30) {
    previewId originalSql dialect parentId guardrails createdAt expiresAt expired
    executions { executionId status errorCode rowCount elapsedMs at } } }`)).queryHistory;
}

export function renderHistory(root, entries, { onOpen, onRefresh, error }) {
  const head = h("div", { class: "panel-head" }, h("h2", {}, "History"),
    h("button", { type: "button", class: "link", onclick: onRefresh }, "Refresh"));
  if (error) { clear(root, head, errorBox(error)); return; }
  if (!entries.length) { clear(root, head, h("p", { class: "empty" }, "Your previews and executions show here.")); return; }
  clear(root, head, h("ol", { class: "history" }, entries.map((e) => {
    const last = e.executions[0];
    return h("li", { dataset: { preview: e.previewId } },
      h("button", { type: "button", class: "history-open", title: "Open this preview", onclick: () => onOpen(e) },
        h("code", { class: "sql-snippet" }, e.originalSql.replace(/\s+/g, " ").slice(0, 120))),
      h("div", { class: "muted" }, when(e.createdAt), e.expired ? " · expired" : "",
        e.guardrails.length ? ` · ${e.guardrails.join(", ")}` : "",
        last ? ` · ran ${e.executions.length}× — last ${last.status}${last.errorCode ? ` (${last.errorCode})` : ""}${
          last.rowCount !== null ? `, ${last.rowCount} rows` : ""}` : " · not run"));
  })));
}
