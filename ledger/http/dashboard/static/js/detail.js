// The side panel: a release with its diff to the previous one, or a change request with its
// approvals. Approve and reject are offered to whom the ledger says may use them; the ledger
// checks the scope again on every step.
import { api, enc, envPath, send } from "./api.js";
import { $, facts, h, icon, plural, short, stamp, when } from "./dom.js";
import { releaseHash, requestHash, select } from "./location.js";

export const me = { caller: null };
let outcome = null;  // what the last approve/reject said, shown on its request

export function mayApprove() {
  const scopes = me.caller ? me.caller.scopes : undefined;
  return scopes === null || (Array.isArray(scopes) && (scopes.includes("approve") || scopes.includes("admin")));
}

function panel(busy) {
  const p = $("#detail");
  p.hidden = false;
  if (busy) p.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  return p;
}

export function closePanel() { $("#detail").hidden = true; delete $("#detail").dataset.item; }

const closeButton = () => h("button", { class: "tool close", type: "button", "aria-label": "Close",
  onclick: () => select("") }, icon("close"), "Close");

export async function openRelease(app, env, version) {
  const p = panel(true), item = `release:${app}/${env}/${version}`;
  p.dataset.item = item;
  try {
    const [release, diff] = await Promise.all([api(`${envPath(app, env)}/releases/${version}`),
      version > 1 ? api(`${envPath(app, env)}/releases/${version - 1}/diff/${version}`).catch((e) => e) : null]);
    if (p.dataset.item !== item) return;
    p.replaceChildren(...releaseDetail(app, env, release, diff).filter(Boolean));
    p.querySelector("h3").focus();
  } catch (e) {
    p.replaceChildren(closeButton(), h("p", {}, `Could not load ${app} ${env} v${version}: ${e.message}`));
  }
}

function releaseDetail(app, env, r, diff) {
  const gates = r.gates || {};
  const pairs = [["Status", r.status.replace("_", " ")], ["Cause", r.cause], ["Build", r.build_id || "unchanged (config only)"],
    ["Commit", r.commit], ["Config version", r.config_version], ["Rollout", `${r.rollout_percent}% (${r.strategy})`],
    ["Rollback of", r.rollback_of ? `v${r.rollback_of}` : null], ["Reason", r.reason || (diff && diff.reason) || null],
    ["Promoted from", r.promoted_from], ["Description", r.description], ["By", r.actor], ["Created", stamp(r.created_at)],
    ["Approved by", gates.approved_by ? gates.approved_by.join(", ") : null],
    ["Overrode", gates.overrode ? gates.overrode.map((w) => `freeze ${w}`).join(", ") : null]];
  const request = gates.request_id;
  let body;
  if (r.version === 1) body = h("p", { class: "muted" }, "The first release: nothing to compare with.");
  else if (diff instanceof Error) body = h("p", { class: "muted" }, `The diff failed: ${diff.message}`);
  else body = diffView(diff);
  return [closeButton(), h("h3", { id: "detail-title", tabindex: "-1" }, `${app} ${env} v${r.version}`), facts(pairs),
    request ? h("p", {}, h("a", { class: "request", href: requestHash(request) }, `Change request ${request.slice(0, 8)}`)) : null,
    h("h4", {}, r.version > 1 ? `Changes from v${r.version - 1} to v${r.version}` : "Changes"), body];
}

function side(id, commit) { return id ? `${id} (${short(commit)})` : "no build"; }

export function diffView(d) {
  const parts = [];
  const b = d.build;
  if (b && (b.old_build_id !== b.new_build_id || b.old_commit !== b.new_commit)) {
    parts.push(h("li", { "data-diff": "build" }, "build ", h("span", { class: "del mono" }, side(b.old_build_id, b.old_commit)),
      " → ", h("span", { class: "add mono" }, side(b.new_build_id, b.new_commit))));
  }
  for (const c of d.config || []) {
    const cls = { added: "add", removed: "del", changed: "chg" }[c.change];
    const values = c.secret ? " (secret, changed)" : c.change === "changed" ? `: ${c.old} → ${c.new}` : c.change === "added" ? ` = ${c.new}` : "";
    parts.push(h("li", { "data-diff": "config" }, h("span", { class: `${cls} mono` },
      `${{ added: "+", removed: "-", changed: "~" }[c.change]}${c.key}`), values));
  }
  for (const f of d.flags || []) parts.push(h("li", { "data-diff": "flag" }, `flag ${f.flag} ${f.change}`));
  for (const m of d.migrations || []) parts.push(h("li", { "data-diff": "migration" }, `migration ${m.migration_id} (schema ${m.schema_version}) ${m.change}`));
  return h("div", { class: "diff" }, parts.length ? h("ul", {}, parts) : h("p", { class: "muted" }, "No differences."));
}

// ---- change requests ------------------------------------------------------------------------

export function change(r) {
  const command = r.command || {};
  if (r.action === "promote") return ["promote", r.build_id, "from", command.from_env].filter(Boolean).join(" ");
  if (r.action === "rollback") return command.to_version ? `roll back to v${command.to_version}` : "roll back";
  if (r.action === "config") return `change config (${Object.keys(command.set || {}).length} set, ${(command.unset || []).length} unset)`;
  return `${r.action} ${r.build_id || ""}`.trim();
}

export async function stepRequest(r, verb, reason, after) {
  document.querySelectorAll(`[data-request="${r.id}"] button.act, #detail button.act`).forEach((b) => { b.disabled = true; });
  try {
    const answer = await send("POST", `/v1/requests/${enc(r.id)}/${verb}`, reason ? { reason } : {});
    outcome = { id: r.id, text: stepOutcome(verb, answer) };
    after(answer.position);
  } catch (e) {
    outcome = { id: r.id, text: e.message, bad: true };
    after(null);
  }
  if (location.hash === requestHash(r.id)) openRequest(r.id); else select(requestHash(r.id));
}

function stepOutcome(verb, answer) {
  if (verb === "reject") return "Rejected.";
  if (!answer.position) return "You approved this request before: an approval counts once.";
  if (answer.release) return `Approved and released as v${answer.release.version}.`;
  const left = answer.request ? answer.request.waiting_for.approvals : 0;
  return `Approved: it waits for ${plural(left, "more approval")}.`;
}

export async function openRequest(id, askReason, after) {
  const p = $("#detail"), same = p.dataset.item === `request:${id}` && !p.hidden;
  panel(!same).dataset.item = `request:${id}`;
  try {
    const r = await api(`/v1/requests/${enc(id)}`);
    if (p.dataset.item === `request:${id}`) p.replaceChildren(...requestDetail(r, after || (() => {})).filter(Boolean));
    if (askReason) $("#step-reason")?.focus();
  } catch (e) {
    if (p.dataset.item !== `request:${id}`) return;
    p.replaceChildren(closeButton(), h("p", {}, e.status === 404 ? `There is no change request ${id}.`
      : `Could not load change request ${id}: ${e.message}`));
  }
}

function requestDetail(r, after) {
  const pairs = [["Where", `${r.app} / ${r.env}`], ["Change", change(r)], ["Requested by", r.requested_by],
    ["Requested", stamp(r.requested_at)], ["Reason", r.reason], ["Expires", stamp(r.expires_at)],
    ["Waiting for", r.status === "pending" ? plural(r.waiting_for.approvals, "approval") : null],
    ["Required", r.required], ["Policy", r.policy], ["Ended by", r.ended_by], ["Ended", stamp(r.ended_at)],
    ["Detail", r.detail]];
  const said = outcome && outcome.id === r.id ? outcome : null;
  const approvals = (r.approvals || []).map((a) => h("li", {}, `${a.actor} `, when(a.at), a.reason ? ` — ${a.reason}` : ""));
  return [closeButton(), h("h3", { id: "detail-title", tabindex: "-1" }, `Change request ${r.id.slice(0, 8)}`),
    h("span", { class: `badge ${r.status}`, id: "request-status" }, r.status),
    said ? h("p", { class: said.bad ? "outcome bad" : "outcome" }, said.text) : null,
    h("h4", {}, "The change"), facts(pairs),
    h("h4", {}, "Approvals"), approvals.length ? h("ul", {}, approvals) : h("p", { class: "muted" }, "None yet."),
    r.status === "pending" && mayApprove() ? stepForm(r, after) : null,
    r.release_version ? h("p", {}, h("a", { class: "plain", href: releaseHash(r.app, r.env, r.release_version) },
      `Open release v${r.release_version}`)) : null];
}

function stepForm(r, after) {
  const reason = h("input", { id: "step-reason", type: "text", maxlength: "1024", "aria-label": "Reason",
    placeholder: "Reason (optional to approve, required to reject)" });
  const reject = () => {
    if (reason.value.trim()) return stepRequest(r, "reject", reason.value.trim(), after);
    reason.setCustomValidity("A rejection needs a reason."); reason.reportValidity();
    reason.addEventListener("input", () => reason.setCustomValidity(""), { once: true });
  };
  return h("div", { class: "steps" }, reason,
    h("button", { class: "act approve", type: "button", onclick: () => stepRequest(r, "approve", reason.value.trim(), after) }, "Approve"),
    h("button", { class: "act reject", type: "button", onclick: reject }, "Reject"));
}
