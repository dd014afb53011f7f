// For admins: a table's versions with promote (dry run first, shown as a diff), deprecate,
// restore and rollback — each confirmed in a dialog that shows the drift reports that would
// block it. Everything goes through the same GraphQL mutations any client uses.
import { gql } from "./api.js";
import { h, clear, badge, errorBox, when } from "./dom.js";

const RESULT = "dryRun message warnings changes { version transition fromState toState }";
const DRIFT = `query Drift($table: String!) { driftReports(table: $table, unresolvedOnly: true) {
  id severity fromVersion toVersion migrationGuide detectedAt
  changes { type column oldColumn newColumn oldType newType severity reason } } }`;

const ACTIONS = {
  promote: {
    label: "Promote", states: ["SHADOW"],
    mutation: `mutation Promote($table: String!, $version: Int!, $dryRun: Boolean!, $acknowledgeWarnings: Boolean!) {
      result: promoteTable(table: $table, version: $version, dryRun: $dryRun, acknowledgeWarnings: $acknowledgeWarnings) { ${RESULT} } }`,
  },
  deprecate: {
    label: "Deprecate", states: ["ACTIVE"],
    mutation: `mutation Deprecate($table: String!, $version: Int!, $reason: String) {
      result: deprecateTable(table: $table, version: $version, reason: $reason) { ${RESULT} } }`,
  },
  restore: {
    label: "Restore", states: ["DEPRECATED"],
    mutation: `mutation Restore($table: String!, $version: Int!) {
      result: restoreTable(table: $table, version: $version) { ${RESULT} } }`,
  },
  rollback: {
    label: "Roll back last promotion", states: [],
    mutation: `mutation Rollback($table: String!) { result: rollbackPromotion(table: $table) { ${RESULT} } }`,
  },
};

export function renderAdmin(root, catalog, { selected, onSelect, onChanged, outcome }) {
  const table = catalog.tables.find((t) => t.name === selected) || catalog.tables[0];
  if (!table) { clear(root, h("p", { class: "empty" }, "No tables.")); return; }
  const picker = h("select", { id: "admin-table", "aria-label": "Table to manage",
    onchange: (event) => onSelect(event.target.value) },
  catalog.tables.map((t) => h("option", { value: t.name, selected: t.name === table.name }, `${t.name} (${t.state || "no version"})`)));
  const versions = [...table.versions].reverse().map((v) => h("li", { class: "admin-version", dataset: { version: v.version, state: v.state } },
    h("span", {}, `v${v.version} `), badge(v.state),
    Object.entries(ACTIONS).filter(([, a]) => a.states.includes(v.state)).map(([name, a]) => h("button", {
      type: "button", class: `action-${name}`, dataset: { action: name, version: v.version },
      onclick: () => openDialog(root, table, v, name, onChanged) }, `${a.label} v${v.version}…`))));
  clear(root, h("div", { class: "panel-head" }, h("h2", {}, "Lifecycle")),
    h("label", { class: "stack" }, "Table ", picker),
    h("ul", { class: "admin-versions" }, versions),
    h("button", { type: "button", class: "action-rollback", dataset: { action: "rollback" },
      onclick: () => openDialog(root, table, null, "rollback", onChanged) }, "Roll back last promotion…"),
    h("div", { id: "admin-outcome", role: "status" }, outcome ? h("p", { class: "ok" }, outcome) : ""));
}

function columnDiff(from, to) {
  const before = new Map((from ? from.columns : []).map((c) => [c.name, c]));
  const after = new Map(to.columns.map((c) => [c.name, c]));
  const rows = [];
  for (const [name, c] of after) {
    const old = before.get(name);
    if (!old) rows.push(["added", name, "", c.type]);
    else if (old.type !== c.type || old.nullable !== c.nullable) rows.push(["changed", name, old.type, c.type]);
    else rows.push(["same", name, old.type, c.type]);
  }
  for (const [name, c] of before) if (!after.has(name)) rows.push(["removed", name, c.type, ""]);
  return rows;
}

async function openDialog(root, table, version, action, onChanged) {
  const spec = ACTIONS[action];
  const body = h("div", { class: "dialog-body" }, h("p", { class: "muted" }, "Checking…"));
  const confirm = h("button", { type: "button", class: "primary", id: "confirm-action", disabled: true }, `Confirm: ${spec.label}`);
  const cancel = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  const title = version ? `${spec.label} ${table.name} v${version.version}` : `${spec.label} of ${table.name}`;
  const dialog = h("dialog", { class: "confirm", "aria-label": title, dataset: { action } },
    h("h2", {}, title), body, h("div", { class: "dialog-actions" }, cancel, confirm));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();

  const variables = { table: table.name };
  if (version) variables.version = version.version;
  const parts = [];
  let allowed = false;  // Confirm is enabled once everything the dialog shows is in place
  let acknowledge = null;
  let reason = null;
  if (action === "promote") {
    const active = table.versions.find((v) => v.state === "ACTIVE");
    const rows = columnDiff(active, version);
    parts.push(h("h3", {}, `Columns: ${active ? `v${active.version} (ACTIVE)` : "nothing active"} → v${version.version}`),
      h("table", { class: "diff" }, h("tbody", {}, rows.map(([kind, name, old, now]) => h("tr", { class: `diff-${kind}` },
        h("td", {}, { added: "+", removed: "−", changed: "~", same: "" }[kind]), h("td", {}, name), h("td", {}, old), h("td", {}, now))))));
    try {
      const dry = (await gql(spec.mutation, { ...variables, dryRun: true, acknowledgeWarnings: false })).result;
      parts.push(h("div", { class: "dry-run", id: "dry-run" }, h("h3", {}, "Dry run"), h("p", {}, dry.message),
        h("ul", {}, dry.changes.map((c) => h("li", {}, `v${c.version}: ${c.fromState} → ${c.toState} (${c.transition})`))),
        dry.warnings.length ? h("ul", { class: "warnings" }, dry.warnings.map((w) => h("li", {}, w))) : ""));
      if (dry.warnings.length) {
        acknowledge = h("input", { type: "checkbox", id: "acknowledge-warnings" });
        parts.push(h("label", { for: "acknowledge-warnings" }, acknowledge, " I have read these warnings"));
      }
      allowed = true;
    } catch (error) {
      parts.push(h("h3", {}, "Dry run refused"), errorBox(error));
    }
  } else {
    const to = { deprecate: "DEPRECATED", restore: "ACTIVE", rollback: "the previous ACTIVE version" }[action];
    parts.push(h("p", {}, version ? `v${version.version}: ${version.state} → ${to}` : `The last promotion of ${table.name} is undone.`));
    if (action === "deprecate") {
      reason = h("input", { type: "text", id: "deprecate-reason", placeholder: "why (shown to analysts)" });
      parts.push(h("label", { for: "deprecate-reason", class: "stack" }, "Reason ", reason));
    }
    allowed = true;
  }
  try {
    const reports = (await gql(DRIFT, { table: table.name })).driftReports;
    parts.push(h("h3", {}, "Unresolved drift that can block this"), reports.length
      ? h("ul", { class: "drift" }, reports.map((r) => h("li", { dataset: { severity: r.severity } },
        h("strong", {}, r.severity), ` v${r.fromVersion ?? "?"} → v${r.toVersion ?? "?"}, ${when(r.detectedAt)}: `,
        r.changes.map((c) => `${c.type} ${c.column}${c.newType ? ` ${c.oldType || ""}→${c.newType}` : ""}`).join("; "),
        h("div", { class: "muted" }, r.migrationGuide))))
      : h("p", { class: "ok", id: "no-drift" }, "None."));
  } catch (error) {
    parts.push(errorBox(error));
  }
  clear(body, parts);
  confirm.addEventListener("click", async () => {
    if (acknowledge && !acknowledge.checked) { acknowledge.focus(); return; }
    confirm.disabled = true;
    try {
      const extra = action === "promote" ? { dryRun: false, acknowledgeWarnings: Boolean(acknowledge) }
        : action === "deprecate" ? { reason: reason.value || null } : {};
      const done = (await gql(spec.mutation, { ...variables, ...extra })).result;
      dialog.close();
      onChanged(done.message);
    } catch (error) {
      body.append(errorBox(error));
      confirm.disabled = false;
    }
  });
  confirm.disabled = !allowed;
  (allowed ? confirm : cancel).focus();
}
