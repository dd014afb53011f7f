// The catalog panel: the logical tables the caller may see (the API decides which), each with
// its state badge, versions, columns and types, and its accepted joins.
import { gql } from "./api.js";
import { h, clear, badge, errorBox, plural } from "./dom.js";

export const CATALOG_QUERY = `query Catalog {
  tables(first: 200, includeDeprecated: true) { totalCount nodes {
    name description state activeVersion
    versions { version state rowCount columns { name type nullable } } } }
  joins { id version tables condition joinType }
}`;

export async function loadCatalog() {
  const data = await gql(CATALOG_QUERY);
  return { tables: data.tables.nodes, joins: data.joins };
}

// lang-sql's completion schema: table -> column names, of the version a query resolves to.
export function completionSchema(catalog) {
  const schema = {};
  for (const table of catalog.tables) {
    const version = resolvedVersion(table);
    if (version) schema[table.name] = version.columns.map((c) => c.name);
  }
  return schema;
}

export function resolvedVersion(table) {
  return table.versions.find((v) => v.version === table.activeVersion)
    || table.versions.find((v) => v.state === "READ_ONLY") || table.versions[table.versions.length - 1];
}

export function renderCatalog(root, catalog, { onInsert }) {
  if (catalog.error) { clear(root, errorBox(catalog.error)); return; }
  const filter = h("input", { type: "search", class: "filter", placeholder: "Filter tables", "aria-label": "Filter tables" });
  const list = h("ul", { class: "tables", role: "list" });
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    clear(list, catalog.tables.filter((t) => !needle || t.name.toLowerCase().includes(needle))
      .map((t) => tableItem(t, catalog.joins, onInsert)));
  };
  filter.addEventListener("input", draw);
  draw();
  clear(root, h("div", { class: "panel-head" }, h("h2", {}, "Catalog"),
    h("span", { class: "muted" }, plural(catalog.tables.length, "table"))), filter, list);
}

function tableItem(table, joins, onInsert) {
  const details = h("div", { class: "table-details", hidden: true });
  const toggle = h("button", { type: "button", class: "table-toggle", "aria-expanded": "false",
    dataset: { table: table.name } }, h("span", { class: "name" }, table.name), " ", badge(table.state));
  toggle.addEventListener("click", () => {
    const open = details.hidden;
    details.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open && !details.childElementCount) fillDetails(details, table, joins, onInsert);
  });
  return h("li", { class: "table", dataset: { table: table.name, state: table.state || "" } }, toggle, details);
}

function fillDetails(root, table, joins, onInsert) {
  if (table.description) root.append(h("p", { class: "muted" }, table.description));
  root.append(h("button", { type: "button", class: "link", onclick: () => onInsert(table.name) }, "Insert name"));
  for (const v of [...table.versions].reverse()) {
    root.append(h("div", { class: "version", dataset: { version: v.version, state: v.state } },
      h("div", { class: "version-head" }, `v${v.version} `, badge(v.state),
        v.rowCount !== null && v.rowCount !== undefined ? h("span", { class: "muted" }, ` ${v.rowCount.toLocaleString()} rows`) : ""),
      h("table", { class: "columns" }, h("tbody", {}, v.columns.map((c) => h("tr", {},
        h("td", {}, h("button", { type: "button", class: "link", onclick: () => onInsert(c.name) }, c.name)),
        h("td", { class: "type" }, c.type + (c.nullable ? "" : " NOT NULL"))))))));
  }
  const own = joins.filter((j) => j.tables.includes(table.name));
  if (own.length) {
    root.append(h("h4", {}, "Accepted joins"), h("ul", { class: "joins" }, own.map((j) => h("li", {},
      h("code", {}, `${j.joinType} ${j.tables.join(" ⋈ ")} ON ${j.condition}`), h("span", { class: "muted" }, ` v${j.version}`)))));
  }
}
