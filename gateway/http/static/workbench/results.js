// The results panel: a virtualised grid (only the rows in view are in the DOM), the row count,
// the truncated flag, the elapsed time and the plain-English explanation.
import { h, clear } from "./dom.js";

const ROW_HEIGHT = 26;
const OVERSCAN = 8;

export function renderResults(root, result, { onDownload, downloadable }) {
  const rows = Array.isArray(result.rows) ? result.rows : [];
  const columns = result.columns;
  const template = `4rem repeat(${columns.length}, minmax(8rem, 1fr))`;
  const header = h("div", { class: "grid-row grid-head", role: "row" },
    h("div", { class: "cell rownum", role: "columnheader" }, "#"),
    columns.map((c) => h("div", { class: "cell", role: "columnheader", title: c.type }, c.name, h("small", {}, ` ${c.type}`))));
  header.style.gridTemplateColumns = template;
  const spacer = h("div", { class: "grid-spacer" });
  spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
  const body = h("div", { class: "grid-body", role: "rowgroup" });
  const viewport = h("div", { class: "grid-viewport", tabindex: "0", role: "grid", "aria-rowcount": String(rows.length + 1),
    "aria-label": "Result rows" }, header, spacer);
  spacer.append(body);

  const draw = () => {
    const top = Math.max(0, viewport.scrollTop - header.offsetHeight);
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const count = Math.ceil((viewport.clientHeight || 400) / ROW_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(rows.length, first + count);
    body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    clear(body, rows.slice(first, last).map((row, i) => {
      const line = h("div", { class: "grid-row", role: "row", "aria-rowindex": String(first + i + 2),
        dataset: { row: first + i } },
      h("div", { class: "cell rownum" }, String(first + i + 1)),
      row.map((value) => h("div", { class: value === null ? "cell null" : "cell", title: value === null ? "NULL" : String(value) },
        value === null ? "NULL" : typeof value === "object" ? JSON.stringify(value) : String(value))));
      line.style.gridTemplateColumns = template;
      return line;
    }));
  };
  viewport.addEventListener("scroll", () => requestAnimationFrame(draw));
  viewport.addEventListener("keydown", (event) => {
    const step = { ArrowDown: ROW_HEIGHT, ArrowUp: -ROW_HEIGHT, PageDown: viewport.clientHeight, PageUp: -viewport.clientHeight }[event.key];
    if (step) { viewport.scrollTop += step; event.preventDefault(); }
    if (event.key === "Home") { viewport.scrollTop = 0; event.preventDefault(); }
    if (event.key === "End") { viewport.scrollTop = viewport.scrollHeight; event.preventDefault(); }
  });

  const e = result.explanation || {};
  const downloads = ["text/csv", "application/vnd.apache.arrow.stream"].map((accept) => h("button", {
    type: "button", class: "download", disabled: !downloadable, dataset: { accept },
    title: downloadable ? "Runs the preview again and saves every row" : "This gateway has no result download",
    onclick: () => onDownload(accept) }, accept === "text/csv" ? "Download all (CSV)" : "Download all (Arrow)"));
  clear(root,
    h("div", { class: "result-summary" },
      h("span", { class: "row-count", dataset: { rows: result.rowCount } },
        `${result.rowCount.toLocaleString()} ${result.rowCount === 1 ? "row" : "rows"}`),
      result.truncated ? h("span", { class: "flag truncated", title: "More rows exist than the row cap returns" }, "truncated") : "",
      result.hasMore ? h("span", { class: "muted has-more" }, "more rows exist — Download all gets them") : "",
      h("span", { class: "elapsed" }, `${Number(result.elapsedMs).toFixed(1)} ms`),
      h("span", { class: "muted" }, `execution ${result.executionId}`),
      h("span", { class: "spacer" }), h("span", { class: "downloads" }, downloads)),
    h("p", { class: "explanation" }, e.plainEnglish || ""),
    viewport);
  draw();
  return { redraw: draw };
}
