// The dashboard: wiring the parts to the URL, the live feed and the keyboard.
import { api, setToken, token } from "./api.js";
import { drawCharts, resizeCharts } from "./charts.js";
import { $, $$, ago, h, icon } from "./dom.js";
import { closePanel, me, openRelease, openRequest } from "./detail.js";
import { drawEnvs, last, loadState } from "./envs.js";
import { follow } from "./feed.js";
import { RANGES, filters, releaseHash, select, selected, setFilters } from "./location.js";
import { drawNeeds } from "./needs.js";
import { spans } from "./spans.js";
import { drawTimeline, hideTip } from "./timeline.js";

const KINDS = ["app", "build", "config", "flag", "deploy", "rollout", "migration", "rollback",
  "promote", "denied", "runtime", "policy", "evidence", "request"];
const FEED_LIMIT = 200;
const MAX_LANES = 40;
const S = { apps: [], seen: 0, frozen: new Map(), timers: new Map(), timeline: null };

function later(key, ms, work) {  // many changes in a burst: one refresh
  clearTimeout(S.timers.get(key));
  S.timers.set(key, setTimeout(() => { S.timers.delete(key); work().catch(problem); }, ms));
}

function problem(e) {
  const b = $("#banner");
  b.hidden = false;
  b.replaceChildren(icon("info"), h("span", {}, e.status === 401 || e.status === 403
    ? "This ledger needs a token with the read scope: use the Token button." : `Could not load the ledger: ${e.message}`));
}

function isFailure(item) {
  return item.kind === "rollback" || item.kind === "denied" || (item.kind === "runtime" && item.data && item.data.drift && !("was" in item.data)) ||
    (item.kind === "rollout" && ["aborted", "failed"].includes(item.data && item.data.status));
}

// ---- the live changes ---------------------------------------------------------------------------

function feedItem(item, fresh) {
  const where = item.env ? `${item.app} ${item.env}` : item.app, release = item.data && item.data.release;
  const li = h("li", { "data-position": item.position, "data-kind": item.kind, tabindex: "0",
    class: [isFailure(item) ? "failure" : "", fresh ? "new" : ""].join(" ").trim() || null },
  icon(item.kind, item.kind), h("span", { class: "summary" }, item.summary),
  item.reason ? h("span", { class: "reason" }, `Reason: ${item.reason}`) : null,
  h("span", { class: "meta muted" }, h("time", { class: "when", datetime: item.recorded_at }, ago(item.recorded_at)),
    ` · ${where} · ${item.kind} · #${item.position}`));
  if (release && item.env) li.addEventListener("keydown", (e) => { if (e.key === "Enter") select(releaseHash(item.app, item.env, release.version)); });
  return li;
}

function matches(item, f) {
  return (!f.app || item.app === f.app) && (!f.env || item.env === f.env) && (!f.kind || item.kind === f.kind);
}

async function loadFeed() {
  const f = filters();
  const { items } = await api("/v1/history", { app: f.app, env: f.env, kind: f.kind, limit: 50 });
  $("#feed").replaceChildren(...items.map((i) => feedItem(i, false)));
  if (!items.length) $("#feed").append(h("li", { class: "empty" }, "No changes match."));
  countFeed();
}

function countFeed() { $("#feed-count").textContent = `${$$("#feed li[data-position]").length} shown`; }

function onChange(item) {
  if (item.position <= S.seen) return;  // each change once, whatever the reconnects did
  S.seen = item.position;
  if (item.env) last.set(`${item.app}/${item.env}`, item);
  if (item.env && S.apps.some((a) => a.name === item.app && a.envs.some((e) => e.env === item.env))) {
    later(`state:${item.app}/${item.env}`, 150, async () => { await loadState(item.app, item.env, S.seen); drawEnvs(S.apps, filters(), S.frozen); });
  } else if (item.kind === "app" || item.env) later("apps", 150, () => loadApps(S.seen));
  later("needs", 300, () => loadNeeds(S.seen));
  if (!filters().end) later("timeline", 600, loadTimeline);
  if (["deploy", "promote", "rollback", "rollout", "config"].includes(item.kind)) later("charts", 3000, () => drawCharts(filters()));
  if (!matches(item, filters())) return;
  $("#feed .empty")?.remove();
  $("#feed").prepend(feedItem(item, true));
  while ($("#feed").children.length > FEED_LIMIT) $("#feed").lastChild.remove();
  countFeed();
}

// ---- the views ------------------------------------------------------------------------------------

async function loadApps(minPosition) {
  S.apps = (await api("/v1/apps", {}, minPosition)).apps;
  await Promise.all(S.apps.flatMap((a) => a.envs.map((e) => loadState(a.name, e.env, minPosition))));
  fillFilters();
  drawEnvs(S.apps, filters(), S.frozen);
}

async function loadNeeds(minPosition) {
  const found = await drawNeeds(filters(), minPosition, (position) => loadNeeds(position).catch(problem));
  S.frozen = new Map((found.frozen || []).map((f) => [`${f.app}/${f.env}`, f]));
  drawEnvs(S.apps, filters(), S.frozen);
}

function lanes(f) {
  return S.apps.filter((a) => !f.app || a.name === f.app).flatMap((a) => a.envs.map((e) => e.env)
    .filter((e) => !f.env || e === f.env).map((e) => [a.name, e])).slice(0, MAX_LANES);
}

function windowOf(f) {
  const now = Date.now(), end = f.end ? Math.min(Date.parse(f.end), now) : now;
  return { start: end - RANGES[f.range], end, now };
}

async function loadTimeline() {
  const f = filters(), w = windowOf(f);
  $("#timeline-range").textContent = `${new Date(w.start).toLocaleString()} – ${f.end ? new Date(w.end).toLocaleString() : "now"}`;
  S.timeline = await spans(f, lanes(f), w.start, w.end, w.now);
  drawTimeline(S.timeline, w.start, w.end, w.now);
}

function pan(direction) {
  const f = filters(), w = windowOf(f), shift = RANGES[f.range] / 2;
  const end = direction === 0 ? null : w.end + direction * shift;
  setFilters({ end: end === null || end >= Date.now() ? "" : new Date(end).toISOString() });
}

// ---- filters, selection, keyboard -----------------------------------------------------------------

function fill(select, values, chosen) {
  select.replaceChildren(h("option", { value: "" }, "all"), ...values.map((v) => h("option", { value: v }, v)));
  select.value = values.includes(chosen) ? chosen : "";
}

function fillFilters() {
  const f = filters(), envs = [...new Set(S.apps.flatMap((a) => a.envs.map((e) => e.env)))].sort();
  fill($("#f-app"), S.apps.map((a) => a.name), f.app);
  fill($("#f-env"), envs, f.env);
  fill($("#f-kind"), KINDS, f.kind);
  $("#f-range").value = f.range;
}

async function render() {  // the filters changed: everything they apply to, again
  fillFilters();
  drawEnvs(S.apps, filters(), S.frozen);
  const parts = [["#feed-section", loadFeed], ["#needs", loadNeeds], ["#timeline-section", loadTimeline],
    ["#dora", () => drawCharts(filters())]];
  await Promise.all(parts.map(([where, load]) => load().then(() => note(where, null), (e) => note(where, e))));
}

function note(where, error) {  // a part that could not load says so, the others still show
  const section = $(where);
  section.querySelector(":scope > p.failed")?.remove();
  if (error) section.append(h("p", { class: "failed empty" }, `Could not load: ${error.message}`));
  if (error && (error.status === 401 || error.status === 403)) problem(error);
}

function openSelected() {
  const item = selected();
  hideTip();
  if (item.release) openRelease(item.release.app, item.release.env, item.release.version);
  else if (item.request) openRequest(item.request, false, (position) => loadNeeds(position));
  else closePanel();
}

function keys(e) {
  if (e.target.closest && e.target.closest("input, select, textarea")) return;
  if (e.key === "Escape" && !$("#detail").hidden) select("");
  else if (e.key === "/") { e.preventDefault(); $("#f-app").focus(); }
  else if (e.key === "[") pan(-1);
  else if (e.key === "]") pan(1);
  else if (e.key === "j" || e.key === "k") {
    const items = $$("#feed li[data-position]"), i = items.indexOf(document.activeElement);
    const next = items[e.key === "j" ? i + 1 : Math.max(0, i - 1)] || items[0];
    if (next) next.focus();
  }
}

async function start() {
  $("#banner").hidden = true;
  try {
    me.caller = await api("/v1/whoami").catch(() => null);
    const recent = (await api("/v1/history", { limit: 200 })).items;
    for (const item of [...recent].reverse()) if (item.env) last.set(`${item.app}/${item.env}`, item);
    S.seen = Math.max(S.seen, ...recent.map((i) => i.position), 0);
    await loadApps();
    await render();
    follow(() => S.seen, onChange);
    openSelected();
  } catch (e) {
    $("#status").className = "down";
    $("#status").textContent = "offline";
    problem(e);
  }
}

for (const [id, name] of [["#f-app", "app"], ["#f-env", "env"], ["#f-kind", "kind"], ["#f-range", "range"]]) {
  $(id).addEventListener("change", (e) => setFilters({ [name]: e.target.value }));
}
addEventListener("ledger:filters", () => render().catch(problem));
addEventListener("ledger:selected", openSelected);
addEventListener("popstate", () => { render().catch(problem); openSelected(); });
addEventListener("hashchange", openSelected);
addEventListener("keydown", keys);
let resizing = null;
addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(() => {
  resizeCharts(); if (S.timeline) drawTimeline(S.timeline, ...Object.values(windowOf(filters())));
}, 200); });
$("#t-earlier").append(icon("left"), "Earlier");
$("#t-later").append("Later", icon("right"));
$("#t-now").append(icon("now"), "Now");
$("#t-earlier").addEventListener("click", () => pan(-1));
$("#t-later").addEventListener("click", () => pan(1));
$("#t-now").addEventListener("click", () => pan(0));
$("#dora-help").addEventListener("click", () => $("#definitions").showModal());
$("#definitions-close").addEventListener("click", () => $("#definitions").close());
$("#token").prepend(icon("key"));
$("#token").addEventListener("click", () => {
  const value = prompt("Bearer token (kept in this tab only, never in a URL)", token());
  if (value === null) return;
  setToken(value.trim());
  start();
});
setInterval(() => {  // times read relative, and what needs attention without a change to tell it
  $$("time.when").forEach((el) => { el.textContent = ago(el.getAttribute("datetime")); });
  loadNeeds().catch(() => {});
}, 30000);
start();
