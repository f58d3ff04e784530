// "Needs attention": what someone should look at now, from GET /v1/attention: environments
// drifted or not running, change requests waiting (approve/reject for whom may), freezes in force
// and when they thaw, failing webhooks and connectors, followers behind the log.
import { api } from "./api.js";
import { $, h, icon, plural, stamp, when } from "./dom.js";
import { change, mayApprove, openRequest, stepRequest } from "./detail.js";
import { requestHash, select } from "./location.js";

function need(kind, iconName, what, detail, actions, attrs) {
  return h("li", { class: "need", "data-need": kind, ...(attrs || {}) }, icon(iconName, kind),
    h("div", { class: "what" }, what, detail ? h("div", { class: "muted" }, detail) : null), actions || null);
}

function driftItem(d) {
  const gone = d.status === "not_running";
  return need("drift", gone ? "not_running" : "drift", h("span", {}, h("b", {}, `${d.app} ${d.env}`),
    gone ? " is not running" : " has drifted"), d.summary || d.detail || (d.since ? ["since ", when(d.since)] : null),
  null, { "data-key": `${d.app}/${d.env}` });
}

function requestItem(r, after) {
  const actions = mayApprove() ? h("div", { class: "actions" },
    h("button", { class: "act approve", type: "button", onclick: () => stepRequest(r, "approve", "", after) }, "Approve"),
    h("button", { class: "act reject", type: "button", title: "A rejection needs a reason: opens the request",
      onclick: () => { select(requestHash(r.id)); openRequest(r.id, true, after); } }, "Reject")) : null;
  return need("request", "request", h("a", { class: "request", href: requestHash(r.id) }, `${r.app} ${r.env}: ${change(r)}`),
    [`${r.requested_by} · `, when(r.requested_at), ` · waits for ${plural(r.waiting_for.approvals, "approval")}`,
      ` · expires ${stamp(r.expires_at)}`], actions, { "data-request": r.id });
}

function frozenItem(f) {
  return need("frozen", "frozen", h("span", {}, h("b", {}, `${f.app} ${f.env}`), ` is frozen: ${f.window}`),
    [f.reason ? `${f.reason} · ` : "", `thaws ${stamp(f.end)}`], null, { "data-key": `${f.app}/${f.env}` });
}

function webhookItem(w) {
  return need("webhook", "webhook", h("span", {}, h("b", {}, `Webhook ${w.name || w.id}`), ` is ${w.state}`),
    [w.last_error || "", w.lag ? ` · ${plural(w.lag, "change")} behind` : ""]);
}

function connectorItem(c) {
  const since = c.last_delivery && c.last_delivery !== c.last_failure ? " (the newest delivery went through)" : "";
  return need("connector", "connector", h("span", {}, h("b", {}, `Connector ${c.name}`), ` (${c.kind}) had failures${since}`),
    [plural(c.failures, "failed delivery"), ` · last ${c.last_failure}`, c.last_reason ? `: ${c.last_reason}` : "",
      c.last_failure_at ? [" · ", when(c.last_failure_at)] : ""]);
}

function followerItem(f) {
  const passed = f.passed_over || [];
  const what = passed.length ? ` passed over ${plural(passed.length, "event")}` : ` is ${plural(f.lag || 0, "change")} behind`;
  return need("follower", "follower", h("span", {}, h("b", {}, f.name), what),
    passed.length ? `at ${passed.slice(0, 5).map((p) => `#${p}`).join(", ")}: \`ledger projections failures\` says why`
      : f.position !== null ? `at #${f.position}` : null);
}

/** Load and draw the list; ``after(position)`` is called once an approval or rejection is in. */
export async function drawNeeds(filter, minPosition, after) {
  const a = await api("/v1/attention", { app: filter.app, env: filter.env }, minPosition);
  const items = [...(a.drift || []).map(driftItem), ...(a.requests || []).map((r) => requestItem(r, after)),
    ...(a.frozen || []).map(frozenItem), ...(a.webhooks || []).map(webhookItem),
    ...(a.connectors || []).map(connectorItem), ...(a.followers || []).map(followerItem)];
  $("#needs-count").textContent = items.length ? `${items.length}` : "";
  $("#needs-list").replaceChildren(...(items.length ? items
    : [h("li", { class: "empty" }, icon("check"), " Nothing needs attention.")]));
  return a;
}
