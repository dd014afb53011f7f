// The only way the page talks to the gateway: POST /graphql with the bearer token (plus the
// result-download endpoint). The token lives in this module and in the tab's sessionStorage;
// it is never put in a URL.
const KEY = "spyne.workbench.token";
const config = JSON.parse(document.getElementById("workbench-config").textContent);
let token = sessionStorage.getItem(KEY);
let whenRefused = () => {};

// After a sign-in through the OIDC provider the gateway answers /workbench/callback with this
// page and the access token in a data block: keep the token, drop the block, and leave the
// callback's address (its one-time code is spent) for /workbench, so a reload starts clean.
const handoff = document.getElementById("workbench-handoff");
if (handoff) {
  const handed = JSON.parse(handoff.textContent).token;
  handoff.remove();
  if (handed) setToken(handed);
}
if (location.pathname !== "/workbench" || location.search) history.replaceState(null, "", "/workbench");

export class ApiError extends Error {
  constructor(code, message, extensions = {}) {
    super(message);
    this.code = code;
    this.extensions = extensions;
  }
}

export const settings = config;
export function signedIn() { return Boolean(token); }
export function setToken(value) {
  token = value.trim().replace(/^Bearer\s+/i, "");
  sessionStorage.setItem(KEY, token);
}
export function signOut() {
  token = null;
  sessionStorage.removeItem(KEY);
}
// Called when the gateway no longer accepts the token (it expired, or was revoked).
export function onUnauthenticated(callback) { whenRefused = callback; }

function headers(extra = {}) {
  return { Authorization: `Bearer ${token}`, ...extra };
}

export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch(config.graphqlPath, {
      method: "POST", credentials: "omit", cache: "no-store",
      headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify({ query, variables }),
    });
  } catch (_) {
    throw new ApiError("NETWORK", "The gateway could not be reached.");
  }
  let body;
  try { body = await response.json(); } catch (_) {
    throw new ApiError(`HTTP_${response.status}`, `The gateway answered ${response.status} without a GraphQL body.`);
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    const ext = first.extensions || {};
    const error = new ApiError(ext.code || "ERROR", first.message || "The request failed.", ext);
    if (error.code === "UNAUTHENTICATED") whenRefused(error);
    throw error;
  }
  return body.data;
}

// What this gateway's API offers beyond the fixed core, read once by introspection, so the
// page uses new fields as soon as the server has them and degrades where it has not.
export async function features() {
  const data = await gql(`{
    __schema { queryType { fields { name } } }
    validation: __type(name: "QueryValidation") { fields { name } }
    result: __type(name: "QueryResult") { fields { name } }
  }`);
  const queries = new Set(data.__schema.queryType.fields.map((f) => f.name));
  const validation = new Set(((data.validation || {}).fields || []).map((f) => f.name));
  const result = new Set(((data.result || {}).fields || []).map((f) => f.name));
  return {
    hasMore: result.has("hasMore"),
    completeQuery: queries.has("completeQuery"),
    formatQuery: queries.has("formatQuery"),
    warehouse: queries.has("warehouse"),
    history: queries.has("queryHistory"),
    diagnostics: validation.has("diagnostics"),
  };
}

// POST /previews/{id}/result: the whole result as a file. Returns a Blob, or throws ApiError
// with the endpoint's own code (404 NOT_AVAILABLE when this gateway has no such endpoint).
export async function download(previewId, overrides, accept) {
  let response;
  try {
    response = await fetch(`/previews/${encodeURIComponent(previewId)}/result`, {
      method: "POST", credentials: "omit", cache: "no-store",
      headers: headers({ "Content-Type": "application/json", Accept: accept }),
      body: JSON.stringify({ overrides }),
    });
  } catch (_) {
    throw new ApiError("NETWORK", "The gateway could not be reached.");
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    const first = body && body.errors && body.errors[0];
    if (first) {
      const error = new ApiError((first.extensions || {}).code || `HTTP_${response.status}`, first.message);
      if (error.code === "UNAUTHENTICATED") whenRefused(error);
      throw error;
    }
    if (response.status === 404 || response.status === 405) {
      throw new ApiError("NOT_AVAILABLE", "This gateway has no result download (POST /previews/{id}/result).");
    }
    throw new ApiError(`HTTP_${response.status}`, `The download failed with status ${response.status}.`);
  }
  // The server names the file (Content-Disposition); the fallback is the same name.
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  return {
    blob: await response.blob(), executionId: response.headers.get("Spyne-Execution-Id"),
    filename: named ? named[1] : `result-${previewId}.${accept === "text/csv" ? "csv" : "arrows"}`,
  };
}
