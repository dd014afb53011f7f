// The workbench: sign-in, layout and the flow preview → (overrides) → execute, wired to the panels.
import {
  gql, features as readFeatures, setToken, signOut, signedIn, settings, download, onUnauthenticated, ApiError,
} from "./api.js";
import { h, clear, errorBox, plural } from "./dom.js";
import { createEditor } from "./editor.js";
import { loadCatalog, renderCatalog, completionSchema } from "./catalog.js";
import { PREVIEW_FIELDS, renderPreview, staleReason, missingOverrides } from "./preview.js";
import { renderResults } from "./results.js";
import { loadHistory, renderHistory } from "./history.js";
import { renderAdmin } from "./admin.js";

const app = document.getElementById("app");
const DRAFT_KEY = "spyne.workbench.draft";
const STARTER = "SELECT c.name, count(*) AS orders\nFROM customers c\nJOIN orders o ON o.customer_id = c.id\nGROUP BY c.name\n";

const state = {
  me: null, features: null, catalog: { tables: [], joins: [] }, preview: null, previewError: null,
  ticked: new Set(), busy: false, result: null, resultError: null, history: [], historyError: null,
  side: "catalog", bottom: "preview", adminTable: null, adminOutcome: null, warnings: [],
};
let editor = null;
const regions = {};

function boot() {
  if (!settings.assetsReady) {
    clear(app, h("main", { class: "signin" }, h("h1", {}, "Spyne workbench"),
      errorBox(new ApiError("ASSETS_MISSING", `The editor's files are not installed on this server. Run: ${settings.installCommand}`))));
    return;
  }
  if (signedIn()) start(); else showSignIn();
}

// Two ways in, as on /dashboard: through the OIDC provider (when the gateway has a client id for
// it), or by pasting a bearer token. Neither puts the token in a URL or submits it in a form.
function showSignIn(error) {
  const { devTokens, issuer, loginPath } = settings.signIn;
  const token = h("textarea", { id: "token", rows: "5", autocomplete: "off", spellcheck: "false", required: true,
    "aria-describedby": "token-help" });
  const provider = issuer ? h("div", { class: "oidc-signin" },
    h("a", { href: loginPath, class: "button primary", id: "oidc-signin" }, `Sign in with ${issuer}`)) : "";
  const help = devTokens
    ? ["A dev token (", h("code", {}, "spyne token --email you@example.com --role ANALYST"),
      ") or an access token from your identity provider."]
    : [`An access token issued by ${issuer || "the configured OIDC issuer"} (dev tokens are refused here).`];
  const form = h("form", { id: "signin", class: "signin-form" },
    h("label", { for: "token" }, issuer ? "Or paste a bearer token" : "Bearer token"),
    h("p", { id: "token-help", class: "muted" }, ...help,
      " It stays in this tab and is sent only as an Authorization header."),
    token, h("button", { type: "submit", class: issuer ? "" : "primary" }, "Sign in with this token"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();  // never a navigation: the token must not reach a URL or a server log
    if (!token.value.trim()) return;
    setToken(token.value);
    token.value = "";
    start();
  });
  const shown = error || (settings.signIn.error && new ApiError(settings.signIn.error.code, settings.signIn.error.message));
  settings.signIn.error = null;  // said once
  clear(app, h("main", { class: "signin" }, h("h1", {}, "Spyne workbench"),
    h("p", {}, "See why a query is safe before it runs."), shown ? errorBox(shown) : "", provider, form));
  (issuer ? document.getElementById("oidc-signin") : token).focus();
}

// A token that stops verifying (an OIDC access token expires) sends the person back to sign in.
onUnauthenticated((error) => {
  if (!state.me) return;
  state.me = null;
  signOut();
  showSignIn(error);
});

async function start() {
  try {
    const me = (await gql("{ me { email role } }")).me;
    state.features = await readFeatures();
    state.me = me;
  } catch (error) {
    state.me = null;
    signOut();
    showSignIn(error);
    return;
  }
  layout();
  await Promise.all([refreshCatalog(), refreshHistory(), readDialect()]);
}

function layout() {
  const isAdmin = state.me.role === "ADMIN";
  const tabs = [["catalog", "Catalog"], ["history", "History"], ...(isAdmin ? [["admin", "Admin"]] : [])];
  regions.side = h("div", { class: "side-body", id: "side-body" });
  regions.sideTabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Side panels" }, tabs.map(([key, label]) =>
    h("button", { type: "button", role: "tab", id: `tab-${key}`, dataset: { tab: key }, onclick: () => switchSide(key) }, label)));
  regions.editor = h("div", { class: "editor", id: "editor" });
  regions.problems = h("div", { class: "problems", id: "problems", role: "status", "aria-live": "polite" });
  regions.preview = h("div", { class: "bottom-body", id: "preview-panel" });
  regions.results = h("div", { class: "bottom-body", id: "results-panel", hidden: true });
  regions.bottomTabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Preview and results" },
    [["preview", "Preview"], ["results", "Results"]].map(([key, label]) => h("button", { type: "button", role: "tab",
      id: `tab-${key}`, dataset: { tab: key }, onclick: () => switchBottom(key) }, label)));
  const toolbar = h("div", { class: "toolbar" },
    h("button", { type: "button", class: "primary", id: "preview", onclick: runPreview, title: "Ctrl-Enter" }, "Preview"),
    h("button", { type: "button", id: "format", onclick: () => runFormat(), disabled: !state.features.formatQuery,
      title: state.features.formatQuery ? "Shift-Alt-F" : "This gateway has no formatQuery" }, "Format"),
    h("span", { class: "muted", id: "dialect" }, ""),
    h("span", { class: "spacer" }),
    h("span", { class: "muted", id: "features" }, featureNote()));
  clear(app,
    h("header", { class: "top" }, h("h1", {}, "Spyne workbench"),
      h("a", { href: "/graphql", class: "muted" }, "GraphiQL"),
      h("span", { class: "who", id: "who" }, `${state.me.email} · ${state.me.role}`),
      h("button", { type: "button", id: "signout", onclick: () => { signOut(); location.assign("/workbench"); } }, "Sign out")),
    h("div", { class: "layout" },
      h("aside", { class: "side" }, regions.sideTabs, regions.side),
      h("main", { class: "work" },
        h("section", { class: "editor-pane", "aria-label": "SQL" }, toolbar, regions.editor, regions.problems),
        h("section", { class: "bottom", "aria-label": "Preview and results" }, regions.bottomTabs, regions.preview, regions.results))));
  editor = createEditor(regions.editor, {
    features: state.features, initial: sessionStorage.getItem(DRAFT_KEY) || STARTER,
    onRun: runPreview, onExecute: runExecute, onChange: onEdit, onDiagnostics: showProblems,
  });
  switchSide("catalog");
  switchBottom("preview");
  renderPreviewPanel();
  editor.focus();
}

function featureNote() {
  const missing = ["diagnostics", "completeQuery", "formatQuery"].filter((f) => !state.features[f]);
  return missing.length ? `not on this gateway: ${missing.join(", ")}` : "";
}

async function readDialect() {
  if (!state.features.warehouse) return;
  try {
    const data = await gql("{ warehouse { dialect } }");
    setDialect(data.warehouse.dialect);
  } catch (_) { /* the preview tells it later */ }
}

function setDialect(dialect) {
  if (!dialect || !editor) return;
  editor.setDialect(dialect);
  document.getElementById("dialect").textContent = `dialect: ${dialect}`;
}

function switchSide(key) {
  state.side = key;
  for (const tab of regions.sideTabs.children) tab.setAttribute("aria-selected", String(tab.dataset.tab === key));
  drawSide();
}

function switchBottom(key) {
  state.bottom = key;
  for (const tab of regions.bottomTabs.children) tab.setAttribute("aria-selected", String(tab.dataset.tab === key));
  regions.preview.hidden = key !== "preview";
  regions.results.hidden = key !== "results";
}

function drawSide() {
  if (state.side === "catalog") {
    renderCatalog(regions.side, state.catalog, { onInsert: insertText });
  } else if (state.side === "history") {
    renderHistory(regions.side, state.history, { onOpen: openHistory, onRefresh: refreshHistory, error: state.historyError });
  } else if (state.side === "admin") {
    if (state.catalog.error) { clear(regions.side, errorBox(state.catalog.error)); return; }
    renderAdmin(regions.side, state.catalog, {
      selected: state.adminTable, outcome: state.adminOutcome,
      onSelect: (name) => { state.adminTable = name; state.adminOutcome = null; drawSide(); },
      onChanged: async (message) => { state.adminOutcome = message; await refreshCatalog(); },
    });
  }
}

async function refreshCatalog() {
  try {
    state.catalog = await loadCatalog();
    editor.setSchema(completionSchema(state.catalog));
  } catch (error) {
    state.catalog = { tables: [], joins: [], error };
  }
  drawSide();
}

async function refreshHistory() {
  try {
    state.history = await loadHistory();
    state.historyError = null;
  } catch (error) {
    state.historyError = error;
  }
  if (state.side === "history") drawSide();
}

function insertText(text) {
  const view = editor.view;
  view.dispatch(view.state.replaceSelection(text));
  view.focus();
}

function onEdit() {
  sessionStorage.setItem(DRAFT_KEY, editor.getSql());
  // The problems listed are about the text before this edit until the next check answers.
  regions.problems.setAttribute("aria-busy", "true");
  if (state.preview) renderPreviewPanel();
}

function showProblems(diagnostics, warnings, error) {
  state.warnings = warnings;
  regions.problems.removeAttribute("aria-busy");
  if (error) { clear(regions.problems, errorBox(error)); return; }
  const doc = editor.view.state.doc;
  clear(regions.problems,
    diagnostics.map((d) => {
      const line = doc.lineAt(Math.min(d.from, doc.length));
      return h("div", { class: `problem severity-${d.severity}`, dataset: { code: d.code || "" } },
        h("span", { class: "where" }, `${line.number}:${d.from - line.from + 1}`), " ",
        h("strong", {}, d.code || d.severity), " ", h("span", { class: "message" }, d.message), " ",
        d.actions.map((a) => h("button", { type: "button", class: "quick-fix", onclick: () => a.apply(editor.view, d.from, d.to) }, a.name)));
    }),
    // Diagnostics already carry the guardrails at their ranges; without them, say how many fired.
    warnings.length && !state.features.diagnostics ? h("div", { class: "problem severity-warning" },
      h("strong", {}, plural(warnings.length, "guardrail")), " ", warnings.map((w) => w.type).join(", "), " — preview to see them") : "");
}

function stale() {
  return state.preview ? staleReason(state.preview, editor.getSql()) : null;
}

function renderPreviewPanel() {
  renderPreview(regions.preview, {
    preview: state.preview, error: state.previewError, ticked: state.ticked, stale: stale(), busy: state.busy,
  }, {
    execute: runExecute, repreview: runPreview, correct: runCorrect,
    versionsOf: (name) => ((state.catalog.tables || []).find((t) => t.name === name) || { versions: [] }).versions,
    tick: (type, on) => { if (on) state.ticked.add(type); else state.ticked.delete(type); renderPreviewPanel(); },
  });
}

function showPreview(preview) {
  state.preview = preview;
  state.previewError = null;
  state.ticked = new Set();
  setDialect(preview.dialect);
  switchBottom("preview");
  renderPreviewPanel();
}

// Versions pinned by a correction stay pinned when the query is previewed again, for the tables
// it still names.
function carriedPins(sql) {
  if (!state.preview) return [];
  return state.preview.tablesUsed.filter((t) => t.pinned && new RegExp(`\\b${t.name}\\b`, "i").test(sql))
    .map((t) => ({ table: t.name, version: t.version }));
}

async function runPreview() {
  const sql = editor.getSql();
  if (!sql.trim()) return;
  editor.closePopups();
  state.busy = true;
  try {
    const preview = (await gql(`mutation Preview($input: PreviewQueryInput!) { previewQuery(input: $input) { ${PREVIEW_FIELDS} } }`,
      { input: { sql, dialect: editor.dialect, pins: carriedPins(sql) } })).previewQuery;
    state.busy = false;
    showPreview(preview);
    refreshHistory();
  } catch (error) {
    state.busy = false;
    state.preview = null;
    state.previewError = error;
    switchBottom("preview");
    renderPreviewPanel();
  }
}

async function runCorrect(corrections) {
  if (!state.preview) return;
  try {
    const preview = (await gql(`mutation Correct($id: ID!, $corrections: [CorrectionInput!]!) {
      correctQuery(previewId: $id, corrections: $corrections) { ${PREVIEW_FIELDS} } }`,
    { id: state.preview.id, corrections })).correctQuery;
    editor.setSql(preview.originalSql);  // the corrected query is what the editor now holds
    showPreview(preview);
    refreshHistory();
  } catch (error) {
    state.previewError = error;
    renderPreviewPanel();
  }
}

async function runExecute() {
  const preview = state.preview;
  if (!preview || stale() || missingOverrides(preview, state.ticked).length || state.busy) return;
  state.busy = true;
  renderPreviewPanel();
  try {
    const result = (await gql(`mutation Execute($id: ID!, $overrides: [GuardrailType!]) {
      executeQuery(previewId: $id, overrides: $overrides) {
        executionId previewId columns { name type } rows rowCount truncated elapsedMs ${state.features.hasMore ? "hasMore" : ""}
        explanation { plainEnglish tablesUsed joins filters aggregations assumptions } } }`,
    { id: preview.id, overrides: [...state.ticked] })).executeQuery;
    state.result = { ...result, overrides: [...state.ticked] };
    renderResults(regions.results, result, { onDownload: runDownload, downloadable: true });
    switchBottom("results");
  } catch (error) {
    if (error.code === "STALE_PREVIEW") {
      state.previewError = error;
      state.preview = { ...preview, expiresAt: new Date(0).toISOString() };
    } else {
      state.previewError = error;
    }
    switchBottom("preview");
  } finally {
    state.busy = false;
    renderPreviewPanel();
    refreshHistory();
  }
}

// The whole result of the preview on screen in Results (not whatever was previewed since), with
// the overrides it ran with.
async function runDownload(accept) {
  const result = state.result;
  if (!result) return;
  regions.results.querySelectorAll(".download-status").forEach((old) => old.remove());
  const status = h("p", { class: "muted download-status", role: "status" }, "Preparing the download…");
  regions.results.querySelector(".result-summary").after(status);
  try {
    const { blob, filename, executionId } = await download(result.previewId, result.overrides, accept);
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    clear(status, `Saved ${filename} (${(blob.size / 1024).toFixed(1)} KiB, execution ${executionId}).`);
    status.dataset.file = filename;
    refreshHistory();
  } catch (error) {
    status.replaceWith(h("div", { class: "download-status" }, errorBox(error)));
  }
}

async function runFormat() {
  try { await editor.format(); } catch (error) { clear(regions.problems, errorBox(error)); }
}

async function openHistory(entry) {
  editor.setSql(entry.originalSql);
  try {
    const preview = (await gql(`query Open($id: ID!) { queryPreview(id: $id) { ${PREVIEW_FIELDS} } }`, { id: entry.previewId })).queryPreview;
    showPreview(preview);
  } catch (error) {
    state.preview = null;
    state.previewError = error;
    renderPreviewPanel();
  }
  editor.focus();
}

// A preview expires while it sits on screen: look again now and then.
setInterval(() => {
  if (state.preview && editor && !stale() && new Date(state.preview.expiresAt).getTime() <= Date.now()) renderPreviewPanel();
}, 10_000);

boot();
