// The SQL editor: CodeMirror 6 with the warehouse's dialect, diagnostics from validateQuery,
// completions from completeQuery and formatting by formatQuery (each used when the API has it).
import { EditorState, Compartment, Prec } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, placeholder,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput } from "@codemirror/language";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap, closeCompletion } from "@codemirror/autocomplete";
import { linter, lintGutter, lintKeymap, forceLinting } from "@codemirror/lint";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { sql, SQLite, PostgreSQL, MySQL, MariaSQL, StandardSQL, MSSQL } from "@codemirror/lang-sql";
import { highlightCode, classHighlighter } from "@lezer/highlight";
import { gql, settings } from "./api.js";

// sqlglot's dialect names -> the closest highlighting dialect CodeMirror has.
const DIALECTS = {
  sqlite: SQLite, postgres: PostgreSQL, postgresql: PostgreSQL, duckdb: PostgreSQL, redshift: PostgreSQL,
  mysql: MySQL, mariadb: MariaSQL, tsql: MSSQL, spark: StandardSQL, databricks: StandardSQL, hive: StandardSQL,
};

const LINT_DELAY_MS = 400;

// Static SQL (the preview's two versions) highlighted with the editor's grammar, as spans.
export function highlightInto(element, text, dialect) {
  const language = (DIALECTS[String(dialect || "").toLowerCase()] || StandardSQL).language;
  element.replaceChildren();
  highlightCode(text, language.parser.parse(text), classHighlighter, (chunk, classes) => {
    if (!classes) { element.append(chunk); return; }
    const span = document.createElement("span");
    span.className = classes;
    span.textContent = chunk;
    element.append(span);
  }, () => element.append("\n"));
  return element;
}
const COMPLETION_TYPES = { TABLE: "class", COLUMN: "property", FUNCTION: "function", JOIN: "text", KEYWORD: "keyword" };

// The API counts lines and columns from 1; CodeMirror counts characters from 0.
export function toOffset(doc, point) {
  if (!point) return 0;
  const lineNo = Math.min(Math.max(1, point.line || 1), doc.lines);
  const line = doc.line(lineNo);
  return Math.min(line.from + Math.max(0, (point.column || 1) - 1), line.to);
}

export function toPoint(doc, offset) {
  const line = doc.lineAt(offset);
  return { line: line.number, column: offset - line.from + 1 };
}

function wordRange(doc, from) {
  const line = doc.lineAt(from);
  let to = from;
  while (to < line.to && /[\w$"`.]/.test(doc.sliceString(to, to + 1))) to += 1;
  return to > from ? to : Math.min(from + 1, line.to);
}

const SEVERITY = { ERROR: "error", WARNING: "warning", INFO: "info", HINT: "hint" };

export function createEditor(parent, { features, onRun, onExecute, onChange, onDiagnostics, initial }) {
  const language = new Compartment();
  let dialect = null;
  let schema = {};
  let latestDiagnostics = [];

  const diagnosticsQuery = features.diagnostics
    ? `query Check($sql: String!, $dialect: String) { validateQuery(sql: $sql, dialect: $dialect) {
        valid warnings { type message requiresOverride }
        diagnostics { code severity message
          range { start { line column } end { line column } }
          suggestions { message replacement range { start { line column } end { line column } } } } } }`
    : `query Check($sql: String!, $dialect: String) { validateQuery(sql: $sql, dialect: $dialect) {
        valid warnings { type message requiresOverride } errors { code message line column } } }`;

  function quickFix(suggestion, fallbackFrom, fallbackTo) {
    return {
      name: suggestion.message || `Replace with ${suggestion.replacement}`,
      apply(view) {
        const doc = view.state.doc;
        const from = suggestion.range ? toOffset(doc, suggestion.range.start) : fallbackFrom;
        const to = suggestion.range ? toOffset(doc, suggestion.range.end) : fallbackTo;
        view.dispatch({ changes: { from, to, insert: suggestion.replacement }, userEvent: "input.quickfix" });
        view.focus();
      },
    };
  }

  async function lintSource(view) {
    const doc = view.state.doc;
    const text = doc.toString();
    if (!text.trim()) { latestDiagnostics = []; onDiagnostics && onDiagnostics([], []); return []; }
    let validation;
    try {
      validation = (await gql(diagnosticsQuery, { sql: text, dialect })).validateQuery;
    } catch (error) {
      if (view.state.doc === doc) onDiagnostics && onDiagnostics([], [], error);
      return [];
    }
    // An answer about text that has changed since is not shown (CodeMirror drops it as well):
    // the next check, already scheduled, speaks for the text as it is now.
    if (view.state.doc !== doc) return [];
    const found = [];
    if (validation.diagnostics) {
      for (const d of validation.diagnostics) {
        const from = toOffset(doc, d.range && d.range.start);
        let to = d.range ? toOffset(doc, d.range.end) : wordRange(doc, from);
        if (to <= from) to = wordRange(doc, from);
        found.push({
          from, to, severity: SEVERITY[String(d.severity).toUpperCase()] || "error", source: d.code,
          message: d.message, code: d.code, fixes: d.suggestions || [],
          actions: (d.suggestions || []).map((s) => quickFix(s, from, to)),
        });
      }
    } else {
      for (const e of validation.errors || []) {
        const from = e.line ? toOffset(doc, { line: e.line, column: e.column || 1 }) : 0;
        const to = e.line ? wordRange(doc, from) : doc.length;
        found.push({ from, to, severity: "error", source: e.code, message: e.message, code: e.code, fixes: [], actions: [] });
      }
    }
    latestDiagnostics = found;
    onDiagnostics && onDiagnostics(found, validation.warnings || []);
    return found;
  }

  async function completionSource(context) {
    const word = context.matchBefore(/[\w$]*/);
    if (!context.explicit && (!word || word.from === word.to) && context.state.sliceDoc(context.pos - 1, context.pos) !== ".") {
      return null;
    }
    const doc = context.state.doc;
    const point = toPoint(doc, context.pos);
    let answer;
    try {
      answer = (await gql(`query Complete($sql: String!, $line: Int!, $column: Int!, $dialect: String) {
        completeQuery(sql: $sql, line: $line, column: $column, dialect: $dialect) {
          range { start { line column } end { line column } }
          items { label kind insertText detail state type table } } }`,
      { sql: doc.toString(), line: point.line, column: point.column, dialect })).completeQuery;
    } catch (_) {
      return null;
    }
    if (context.aborted) return null;
    const from = answer.range ? toOffset(doc, answer.range.start) : (word ? word.from : context.pos);
    const to = answer.range ? Math.max(toOffset(doc, answer.range.end), context.pos) : context.pos;
    return {
      from, to,
      options: answer.items.map((item, rank) => ({
        label: item.label, apply: item.insertText || item.label, boost: -rank / 1000,
        detail: item.kind === "TABLE" ? item.state || undefined : item.kind === "COLUMN" ? [item.table, item.type].filter(Boolean).join(" · ") : item.detail || undefined,
        info: item.detail || undefined,
        type: COMPLETION_TYPES[item.kind] || "variable",
      })),
      validFor: /^[\w$]*$/,
    };
  }

  function languageExtension() {
    const base = DIALECTS[String(dialect || "").toLowerCase()] || StandardSQL;
    // Without completeQuery the catalog the caller may see feeds CodeMirror's own completion.
    return features.completeQuery
      ? sql({ dialect: base, upperCaseKeywords: true })
      : sql({ dialect: base, schema, upperCaseKeywords: true });
  }

  const runKeys = keymap.of([
    { key: "Mod-Enter", run: () => { onRun(); return true; } },
    { key: "Mod-Shift-Enter", run: () => { onExecute(); return true; } },
    { key: "Shift-Alt-f", run: () => { format(); return true; } },
  ]);

  // Escape, then Tab, leaves the editor (CodeMirror's way out for keyboard users). An open
  // completion list swallows Escape before CodeMirror notices it, which left Tab indenting until
  // a second Escape: the one Escape now also arms the way out, and the list still closes.
  const escapeLeaves = Prec.highest(keymap.of([{ key: "Escape", run: (view) => { view.setTabFocusMode(2000); return false; } }]));

  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: initial || "",
      extensions: [
        EditorView.cspNonce.of(settings.nonce),
        escapeLeaves,  // first: among the highest-precedence keymaps, the completion list's comes later
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
        bracketMatching(), closeBrackets(), highlightActiveLine(), highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        language.of(languageExtension()),
        features.completeQuery ? autocompletion({ override: [completionSource], activateOnTyping: true }) : autocompletion(),
        linter(lintSource, { delay: LINT_DELAY_MS }), lintGutter(),
        placeholder("SELECT … — Ctrl-Enter previews, Ctrl-Shift-Enter executes"),
        runKeys,
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap,
          ...completionKeymap, ...lintKeymap, indentWithTab]),
        EditorView.updateListener.of((update) => { if (update.docChanged && onChange) onChange(); }),
        EditorView.contentAttributes.of({ "aria-label": "SQL editor", "data-testid": "sql-editor" }),
      ],
    }),
  });

  async function format() {
    if (!features.formatQuery) return false;
    const text = view.state.doc.toString();
    const answer = (await gql(`query Format($sql: String!, $dialect: String) {
      formatQuery(sql: $sql, dialect: $dialect) }`, { sql: text, dialect })).formatQuery;
    const formatted = typeof answer === "string" && answer ? answer : text;
    if (formatted !== text) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: formatted } });
    return true;
  }

  return {
    view,
    getSql: () => view.state.doc.toString(),
    setSql(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    setDialect(name) {
      if (name === dialect) return;
      dialect = name;
      view.dispatch({ effects: language.reconfigure(languageExtension()) });
      forceLinting(view);
    },
    get dialect() { return dialect; },
    setSchema(next) {
      schema = next;
      view.dispatch({ effects: language.reconfigure(languageExtension()) });
    },
    diagnostics: () => latestDiagnostics,
    format,
    focus: () => view.focus(),
    closePopups: () => closeCompletion(view),
  };
}
