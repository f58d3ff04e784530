// Environments as cards that wrap with the page's width: what runs there now, its rollout and
// runtime, its flags as counts (the list on demand) and its last change.
import { api, envPath } from "./api.js";
import { $, byEnv, h, icon, short, when } from "./dom.js";
import { releaseHash } from "./location.js";

export const states = new Map();  // "app/env" → GET …/envs/{env}
export const last = new Map();    // "app/env" → the newest history item there

export async function loadState(app, env, minPosition) {
  states.set(`${app}/${env}`, await api(envPath(app, env), {}, minPosition));
}

function flags(all) {
  const names = Object.keys(all).sort();
  if (!names.length) return null;
  const on = names.filter((n) => all[n].enabled).length;
  return h("details", { class: "flags" }, h("summary", {}, `${on} flag${on === 1 ? "" : "s"} on, ${names.length - on} off`),
    names.map((n) => {
      const f = all[n], pct = f.enabled && f.rollout_percent !== null && f.rollout_percent !== undefined ? ` ${f.rollout_percent}%` : "";
      return h("span", { class: f.enabled ? "chip" : "chip off" }, `${n}${pct}`);
    }));
}

function runtime(rt) {
  if (!rt) return null;
  const d = rt.drift, why = d ? [...(d.unrecorded_artifacts || []).map((a) => `unrecorded ${a.slice(0, 19)}…`),
    ...(d.old_releases || []).map((o) => `old v${o.version}`)].join(", ") : "";
  return [h("span", { class: `badge ${rt.status}`, title: rt.status }, `runtime: ${rt.status.replace("_", " ")}`),
    why ? h("span", { class: "last" }, why) : null];
}

function card(app, env, frozen) {
  const key = `${app}/${env}`, state = states.get(key) || {}, r = state.release, change = last.get(key);
  const status = r && (r.rollback_of ? h("span", { class: "badge rollback" }, `rollback of v${r.rollback_of}`)
    : h("span", { class: `badge ${r.status}` }, r.status.replace("_", " ")));
  const rollout = r && r.rollout_percent < 100 ? h("span", { class: "bar-small", title: `${r.rollout_percent}%` },
    h("i", { "data-percent": r.rollout_percent })) : null;
  const card = h("div", { class: "env", role: "listitem", "data-key": key },
    h("div", { class: "where" }, app, h("span", { class: "envname" }, env),
      frozen ? h("span", { class: "badge frozen", title: `until ${new Date(frozen.end).toLocaleString()}` },
        icon("frozen"), ` frozen: ${frozen.window}`) : null),
    r ? h("div", { class: "line" }, h("a", { class: "plain", href: releaseHash(app, env, r.version) }, `v${r.version}`),
      status, rollout, rollout ? `${r.rollout_percent}%` : null) : h("div", { class: "muted" }, "no release"),
    r ? h("div", { class: "line mono" }, r.build_id || "config only", r.commit ? ` · ${short(r.commit)}` : "") : null,
    h("div", { class: "line" }, runtime(state.runtime), flags(state.flags || {})),
    change ? h("div", { class: "last" }, change.summary, " · ", when(change.recorded_at)) : null);
  card.querySelectorAll("i[data-percent]").forEach((i) => { i.style.width = `${i.dataset.percent}%`; });
  return card;
}

/** Draw the cards of the apps' environments that match the filter. */
export function drawEnvs(apps, filter, frozen) {
  const cards = [];
  for (const app of apps) {
    if (filter.app && app.name !== filter.app) continue;
    for (const env of app.envs.map((e) => e.env).filter((e) => !filter.env || e === filter.env).sort(byEnv)) {
      cards.push(card(app.name, env, frozen.get(`${app.name}/${env}`)));
    }
  }
  $("#envs").replaceChildren(...(cards.length ? cards : [h("p", { class: "empty" }, "Nothing recorded yet.")]));
  $("#env-count").textContent = `${cards.length} shown`;
}
