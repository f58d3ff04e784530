// What the page shows lives in its URL, so a view can be shared and the back button works:
// filters in the query (?app=&env=&kind=&range=&end=), the open item in the hash
// (#/releases/{app}/{env}/{version} or #/requests/{id}, the link chat messages carry).

export const RANGES = { "1d": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3, "90d": 90 * 86400e3 };
const FILTERS = ["app", "env", "kind", "range", "end"];
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** The filters in the URL, each checked (a bad value reads as unset). */
export function filters() {
  const q = new URLSearchParams(location.search);
  const name = (k) => (NAME.test(q.get(k) || "") ? q.get(k) : "");
  const end = Date.parse(q.get("end") || "");
  return {
    app: name("app"), env: name("env"), kind: /^[a-z]{1,20}$/.test(q.get("kind") || "") ? q.get("kind") : "",
    range: RANGES[q.get("range")] ? q.get("range") : "7d",
    end: Number.isFinite(end) ? new Date(end).toISOString() : "",  // "": now, following live
  };
}

/** Change some filters: a new history entry, so back returns to the view before. */
export function setFilters(patch) {
  const next = { ...filters(), ...patch };
  const q = new URLSearchParams();
  for (const k of FILTERS) if (next[k] && !(k === "range" && next[k] === "7d")) q.set(k, next[k]);
  const search = q.toString() ? `?${q}` : "";
  if (search === location.search) return;
  history.pushState(null, "", `${location.pathname}${search}${location.hash}`);
  dispatchEvent(new Event("ledger:filters"));
}

/** The open item: {release: {app, env, version}} or {request: id} or {}. */
export function selected() {
  const release = /^#\/releases\/([^/]+)\/([^/]+)\/(\d+)$/.exec(location.hash);
  if (release) return { release: { app: decodeURIComponent(release[1]), env: decodeURIComponent(release[2]), version: Number(release[3]) } };
  const request = /^#\/requests\/([0-9a-fA-F-]{36})$/.exec(location.hash);
  return request ? { request: request[1] } : {};
}

export const releaseHash = (app, env, version) => `#/releases/${encodeURIComponent(app)}/${encodeURIComponent(env)}/${version}`;
export const requestHash = (id) => `#/requests/${id}`;

/** Open an item (a new history entry), or close it with "". */
export function select(hash) {
  if (location.hash === hash || (!hash && !location.hash)) { dispatchEvent(new Event("ledger:selected")); return; }
  history.pushState(null, "", `${location.pathname}${location.search}${hash}`);
  dispatchEvent(new Event("ledger:selected"));
}
