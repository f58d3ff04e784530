// The ledger's HTTP API. A bearer token lives in this tab's sessionStorage and travels only in
// the Authorization header: never in a URL, so never in a server's or proxy's access log.

const TOKEN_KEY = "ledger-token";

export const enc = encodeURIComponent;
export const envPath = (app, env) => `/v1/apps/${enc(app)}/envs/${enc(env)}`;

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(extra) {
  const headers = { ...(extra || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  return headers;
}

async function failure(path, r) {
  const problem = await r.json().catch(() => ({}));
  const error = new Error(problem.detail || problem.title || `${path}: HTTP ${r.status}`);
  error.status = r.status;
  return error;
}

/** A read of the views as they are (the page follows the feed by position, so it need not wait
 * for the log's head); after a change it asks for at least that change's position. */
export async function api(path, params, minPosition) {
  const url = new URL(path, location.href);
  for (const [k, v] of Object.entries(params || {})) if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
  url.searchParams.set("consistency", "eventual");
  if (minPosition) url.searchParams.set("min_position", String(minPosition));
  const r = await fetch(url, { headers: authHeaders(), cache: "no-store" });
  if (!r.ok) throw await failure(path, r);
  return r.json();
}

/** A write: the answer, or an error saying what the ledger said (its problem's detail). The
 * server checks the caller's scopes: the page hides nothing it relies on for safety. */
export async function send(method, path, body) {
  const r = await fetch(path, { method, headers: authHeaders({ "Content-Type": "application/json" }),
    body: JSON.stringify(body) });
  if (!r.ok) throw await failure(path, r);
  return r.json();
}
