// The preview panel — the heart of the workbench: what will run and why it is safe. The
// rewritten SQL beside the original, tables with version and state, joins (accepted or not),
// filters, aggregations, assumptions, the estimate, and every guardrail with its message. A
// guardrail that needs an override must be ticked by name before Execute is enabled.
import { h, clear, badge, errorBox, when } from "./dom.js";
import { highlightInto } from "./editor.js";

export const PREVIEW_FIELDS = `id sql originalSql dialect
  tablesUsed { name version state rowCount pinned alias }
  joins { joinId version joinType condition accepted leftTable rightTable }
  filters aggregations groupBy assumptions estimatedRows estimatedCostMs rowCap
  guardrails { type message requiresOverride } requiresConfirmation parentId createdAt expiresAt stored catalogStale`;

const JOIN_TYPES = ["INNER", "LEFT", "RIGHT", "FULL"];

export function staleReason(preview, editorSql, now = Date.now()) {
  if (!preview) return null;
  if (new Date(preview.expiresAt).getTime() <= now) return "This preview has expired.";
  if (editorSql.trim() !== preview.originalSql.trim()) return "The SQL in the editor changed since this preview.";
  return null;
}

export function missingOverrides(preview, ticked) {
  return preview.guardrails.filter((g) => g.requiresOverride && !ticked.has(g.type)).map((g) => g.type);
}

export function renderPreview(root, state, actions) {
  const { preview, error, ticked, stale, busy } = state;
  if (!preview) {
    clear(root, error ? errorBox(error) : h("p", { class: "empty" }, "Write a query and press Preview (Ctrl-Enter) to see what will run."));
    return;
  }
  const missing = missingOverrides(preview, ticked);
  const blocked = missing.length > 0 || Boolean(stale) || !preview.stored || busy;
  const execute = h("button", { type: "button", class: "primary", id: "execute", disabled: blocked,
    title: missing.length ? `Tick ${missing.join(", ")} to run` : stale || "Run exactly this preview (Ctrl-Shift-Enter)",
    onclick: actions.execute }, "Execute");
  const section = (title, ...content) => h("section", { class: "preview-part" }, h("h3", {}, title), ...content);
  const listOr = (items, empty, item) => (items.length ? h("ul", {}, items.map(item)) : h("p", { class: "muted" }, empty));

  clear(root,
    error ? errorBox(error) : "",
    stale ? h("div", { class: "stale", role: "status" }, h("strong", {}, "Stale preview. "), stale, " ",
      h("button", { type: "button", id: "repreview", onclick: actions.repreview }, "Re-preview")) : "",
    preview.catalogStale ? h("div", { class: "stale" }, "Planned from the last catalog snapshot: the catalog is unreachable.") : "",
    h("div", { class: "preview-head" },
      h("span", { class: "muted" }, `preview ${preview.id} · ${preview.dialect} · expires ${when(preview.expiresAt)}`),
      h("span", { class: "spacer" }), execute),
    h("div", { class: "sql-pair" },
      h("figure", {}, h("figcaption", {}, "Your SQL"), highlightInto(h("pre", { class: "sql original" }), preview.originalSql, preview.dialect)),
      h("figure", {}, h("figcaption", {}, "What will run"), highlightInto(h("pre", { class: "sql rewritten" }), preview.sql, preview.dialect))),
    section("Guardrails", preview.guardrails.length ? h("ul", { class: "guardrails" }, preview.guardrails.map((g) => {
      const id = `override-${g.type}`;
      return h("li", { class: g.requiresOverride ? "guardrail blocking" : "guardrail", dataset: { type: g.type } },
        h("strong", {}, g.type), " ", h("span", {}, g.message),
        g.requiresOverride ? h("label", { class: "override", for: id },
          h("input", { type: "checkbox", id, checked: ticked.has(g.type), dataset: { type: g.type },
            onchange: (event) => actions.tick(g.type, event.target.checked) }), ` Override ${g.type}`) : "");
    })) : h("p", { class: "ok" }, "No guardrail fired.")),
    h("div", { class: "preview-grid" },
      section("Tables", h("table", { class: "tables-used" }, h("tbody", {}, preview.tablesUsed.map((t) => h("tr", {
        dataset: { table: t.name } }, h("td", {}, t.name), h("td", {}, `v${t.version}`), h("td", {}, badge(t.state)),
      h("td", { class: "muted" }, t.rowCount !== null ? `${t.rowCount.toLocaleString()} rows` : ""),
      h("td", {}, versionPicker(t, actions))))))),
      section("Joins", listOr(preview.joins, "No joins.", (j, index) => h("li", { class: j.accepted ? "join accepted" : "join unverified" },
        h("span", { class: "flag" }, j.accepted ? `accepted v${j.version}` : "not accepted"), " ",
        h("code", {}, `${j.leftTable} ${j.joinType} ${j.rightTable}${j.condition ? ` ON ${j.condition}` : ""}`), " ",
        j.condition ? h("label", {}, "type ", h("select", { "aria-label": `Join ${index + 1} type`,
          onchange: (event) => actions.correct([{ kind: "SET_JOIN_TYPE", joinIndex: index, joinType: event.target.value }]) },
        JOIN_TYPES.map((type) => h("option", { value: type, selected: j.joinType.toUpperCase().startsWith(type) }, type)))) : ""))),
      section("Filters", listOr(preview.filters, "No filters.", (f, index) => h("li", {}, h("code", {}, f), " ",
        h("button", { type: "button", class: "link", onclick: () => actions.correct([{ kind: "REMOVE_FILTER", filterIndex: index }]) }, "Remove"))),
      correctionForm("Add filter", "e.g. o.status = 'paid'", (value) => actions.correct([{ kind: "ADD_FILTER", condition: value }]))),
      section("Aggregations", listOr(preview.aggregations, "None.", (a) => h("li", {}, h("code", {}, a))),
        preview.groupBy.length ? h("p", {}, "Grouped by ", h("code", {}, preview.groupBy.join(", "))) : ""),
      section("Assumptions", listOr(preview.assumptions, "None.", (a) => h("li", {}, a))),
      section("Estimate", h("dl", { class: "estimate" },
        h("dt", {}, "rows"), h("dd", { id: "estimated-rows" }, preview.estimatedRows ?? "unknown"),
        h("dt", {}, "cost"), h("dd", {}, preview.estimatedCostMs !== null ? `${Number(preview.estimatedCostMs).toFixed(1)} ms` : "unknown"),
        h("dt", {}, "row cap"), h("dd", {}, preview.rowCap)),
      correctionForm("Set limit", "e.g. 100", (value) => actions.correct([{ kind: "SET_LIMIT", limit: Number.parseInt(value, 10) }]), "number"))));
}

// Pin a table to another version the caller may see (a PIN_VERSION correction, planned again).
function versionPicker(table, actions) {
  const versions = actions.versionsOf(table.name);
  if (versions.length < 2) return table.pinned ? "pinned" : "";
  return h("select", { "aria-label": `Version of ${table.name}`, dataset: { pin: table.name },
    onchange: (event) => actions.correct([{ kind: "PIN_VERSION", table: table.name, version: Number(event.target.value) }]) },
  versions.map((v) => h("option", { value: v.version, selected: v.version === table.version }, `v${v.version} ${v.state}`)));
}

function correctionForm(label, hint, apply, type = "text") {
  const input = h("input", { type, placeholder: hint, "aria-label": label });
  const form = h("form", { class: "correction" }, input, h("button", { type: "submit" }, label));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) apply(input.value.trim());
  });
  return form;
}
