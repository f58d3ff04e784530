// The timeline's data: for each environment, what ran there between two moments, read from
// GET /v1/history (only the window's changes, page by page) and the state at the window's start
// (GET …/envs/{env}?at=). Earlier windows are read when the person scrolls back to them.
import { api, envPath } from "./api.js";

const PAGE = 500;
const MAX_PAGES = 20;  // 10,000 changes in one window: beyond that the filter is too wide
const RELEASING = new Set(["config", "deploy", "promote", "rollback"]);

function lane(app, env) {
  return { app, env, key: `${app}/${env}`, releases: [], ticks: [], drift: [], openDrift: null };
}

function outcome(status) { return status === "superseded" ? "succeeded" : status; }

function startRelease(l, at, release, item) {
  const last = l.releases[l.releases.length - 1];
  if (last && !last.end) {
    last.end = at;
    if (release.rollback_of && !["failed", "aborted"].includes(last.status)) last.status = "rolled_back";
    else if (last.status === "rolling_out") last.status = "succeeded";  // replaced while rolling out
  }
  l.releases.push({
    version: release.version, start: at, end: null, status: outcome(release.status),
    cause: item ? item.kind : release.cause, build_id: release.build_id, commit: release.commit,
    rollback_of: release.rollback_of, actor: item ? item.actor : release.actor,
    reason: item ? item.reason : null, summary: item ? item.summary : null,
    steps: release.strategy === "canary" || release.rollout_percent < 100 ? [{ at, percent: release.rollout_percent }] : [],
  });
}

function progress(l, at, data) {
  const release = l.releases.find((r) => r.version === data.version);
  if (!release) return;
  release.status = outcome(data.status);
  if (data.percent !== null && data.percent !== undefined) release.steps.push({ at, percent: data.percent });
}

function runtime(l, at, item) {
  const drift = item.data && item.data.drift;
  if (!drift) return;
  if (!("was" in item.data)) {
    if (!l.openDrift) { l.openDrift = { start: at, end: null, status: drift.status, summary: item.summary }; l.drift.push(l.openDrift); }
  } else if (l.openDrift) { l.openDrift.end = at; l.openDrift = null; }
}

function apply(l, item) {
  const at = Date.parse(item.recorded_at);
  if (RELEASING.has(item.kind) && item.data && item.data.release) {
    startRelease(l, at, item.data.release, item);
    if (item.kind === "config") l.ticks.push({ at, kind: "config", summary: item.summary });
  } else if (item.kind === "rollout") progress(l, at, item.data);
  else if (item.kind === "flag") l.ticks.push({ at, kind: "flag", summary: item.summary });
  else if (item.kind === "runtime") runtime(l, at, item);
}

async function changes(filter, start, end) {
  const items = [];
  let cursor = null, pages = 0;
  do {
    const page = await api("/v1/history", { app: filter.app, env: filter.env, since: new Date(start).toISOString(),
      until: new Date(end).toISOString(), limit: PAGE, cursor });
    items.push(...page.items);
    cursor = page.next;
  } while (cursor && ++pages < MAX_PAGES);
  return { items: items.reverse(), complete: !cursor };
}

async function atStart(l, start) {
  try {
    const state = await api(envPath(l.app, l.env), { at: new Date(start).toISOString() });
    if (state.release) startRelease(l, Date.parse(state.release.created_at), state.release, null);
  } catch (e) { if (e.status !== 404) throw e; }  // it did not exist yet
}

/** The lanes of ``pairs`` ([app, env]) over [start, end): releases, ticks and drift spans. */
export async function spans(filter, pairs, start, end, now) {
  const lanes = new Map(pairs.map(([app, env]) => [`${app}/${env}`, lane(app, env)]));
  const [{ items, complete }] = await Promise.all([changes(filter, start, end),
    ...[...lanes.values()].map((l) => atStart(l, start))]);
  for (const item of items) {
    const l = item.env && lanes.get(`${item.app}/${item.env}`);
    if (l) apply(l, item);
  }
  for (const l of lanes.values()) {
    const last = l.releases[l.releases.length - 1];
    if (last && !last.end) last.current = end >= now;
  }
  return { lanes: [...lanes.values()], complete };
}
