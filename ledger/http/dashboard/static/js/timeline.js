// The release timeline: one lane per environment along time; each release a bar from when it
// started to when it was replaced, coloured by outcome, canary steps inside, rollbacks and drift
// marked, flag flips and config changes as ticks. Hover shows a release, click or Enter opens it.
import { $, h, icon, s, short } from "./dom.js";
import { releaseHash, select } from "./location.js";

const LABEL = 150, LANE = 32, BAR = 20, AXIS = 22, PAD = 10;
const STEP_HOURS = [1, 3, 6, 12, 24, 48, 72, 168, 336];
const STATUS_TEXT = { succeeded: "succeeded", rolling_out: "rolling out", rolled_back: "rolled back",
  failed: "failed", aborted: "aborted" };

function scale(start, end, width) {
  const span = end - start, inner = width - LABEL - PAD;
  return (t) => LABEL + ((Math.min(Math.max(t, start), end) - start) / span) * inner;
}

function axis(start, end, width, height) {
  const x = scale(start, end, width), inner = width - LABEL - PAD;
  const hours = (end - start) / 3600e3;
  const step = STEP_HOURS.find((hrs) => inner / (hours / hrs) >= 110) || 672;
  const first = new Date(start);
  first.setMinutes(0, 0, 0);
  if (step >= 24) first.setHours(0);
  const daily = step >= 24, marks = [];
  for (let t = first.getTime(); t <= end; t += step * 3600e3) {
    if (t < start) continue;
    const day = new Date(t).toLocaleDateString(undefined, { month: "short", day: "numeric" });
    const time = new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    const label = daily ? day : new Date(t).getHours() < step ? `${day} ${time}` : time;
    marks.push(s("g", {}, s("line", { x1: x(t), x2: x(t), y1: AXIS - 4, y2: height }),
      s("text", { x: x(t) + 3, y: AXIS - 8 }, label)));
  }
  return s("g", { class: "axis" }, marks);
}

function tip(event, lines) {
  const t = $("#tip");
  t.replaceChildren(h("b", {}, lines[0]), ...lines.slice(1).filter(Boolean).map((l) => h("div", {}, l)));
  t.hidden = false;
  const box = event.target.getBoundingClientRect ? event.target.getBoundingClientRect() : null;
  const left = Math.min(window.innerWidth - 350, Math.max(8, (event.clientX || (box ? box.left : 0)) + 12));
  const top = (event.clientY || (box ? box.bottom : 0)) + 14;
  t.style.left = `${left}px`;
  t.style.top = `${Math.min(window.innerHeight - 120, top)}px`;
}

export const hideTip = () => { $("#tip").hidden = true; };

function describe(l, r) {
  const what = r.cause === "config" ? "config change" : r.build_id ? `${r.build_id} (${short(r.commit)})` : "";
  const status = STATUS_TEXT[r.status] || r.status;
  const pct = r.steps.length ? r.steps[r.steps.length - 1].percent : null;
  return [`${l.app} ${l.env} v${r.version}`, `${r.cause}${what ? ` · ${what}` : ""}`,
    `${status}${r.status === "rolling_out" && pct !== null ? ` at ${pct}%` : ""}`,
    r.rollback_of ? `rollback of v${r.rollback_of}` : null, r.reason ? `reason: ${r.reason}` : null,
    `by ${r.actor} · ${new Date(r.start).toLocaleString()}`, r.end ? `replaced ${new Date(r.end).toLocaleString()}` : "running now"];
}

function canary(r, x, y, until) {
  return r.steps.map((step, i) => {
    const next = i + 1 < r.steps.length ? r.steps[i + 1].at : until;
    if (step.percent >= 100 || next <= step.at) return null;
    const height = Math.max(2, (BAR * step.percent) / 100);
    return s("rect", { class: "canary", x: x(step.at), y: y + BAR - height, height,
      width: Math.max(1, x(next) - x(step.at)) });
  });
}

function bar(l, r, x, y, end, now) {
  const until = r.end || Math.min(end, now);
  const bad = ["failed", "aborted", "rolled_back"].includes(r.status);  // short, but seen
  const x0 = x(r.start), width = Math.max(bad ? 6 : 3, x(until) - x0);
  const body = s("rect", { class: "body", x: x0, y, width, height: BAR, rx: 2 });
  const label = width > 34 ? s("text", { x: x0 + 4, y: y + 14 }, `v${r.version}`) : null;
  const back = r.rollback_of ? s("svg", { class: "mark rollback", x: x0 - 7, y: y - 7, width: 12, height: 12,
    viewBox: "0 0 24 24" }, ...icon("rollback").childNodes) : null;
  const g = s("g", { class: `bar ${r.status}`, tabindex: "0", role: "button", "data-version": r.version,
    "data-status": r.status, "data-cause": r.cause, "aria-label": describe(l, r).filter(Boolean).join(", ") },
  body, canary(r, x, y, until), label, back);
  const lines = describe(l, r);
  g.addEventListener("mouseenter", (e) => tip(e, lines));
  g.addEventListener("mousemove", (e) => tip(e, lines));
  g.addEventListener("mouseleave", hideTip);
  g.addEventListener("focus", (e) => tip(e, lines));
  g.addEventListener("blur", hideTip);
  g.addEventListener("click", () => select(releaseHash(l.app, l.env, r.version)));
  return g;
}

function laneGroup(l, i, x, start, end, now, width) {
  const y = AXIS + i * LANE;
  const marks = l.ticks.filter((t) => t.at >= start && t.at <= end).map((t) =>
    s("line", { class: `tick ${t.kind}`, x1: x(t.at), x2: x(t.at), y1: y + BAR + 3, y2: y + LANE - 2,
      "data-kind": t.kind }, s("title", {}, t.summary)));
  const drift = l.drift.map((d) => s("rect", { class: "drift-span", x: x(d.start), y: y + LANE - 5, height: 4,
    width: Math.max(3, x(d.end || Math.min(end, now)) - x(d.start)), "data-status": d.status }, s("title", {}, d.summary)));
  return s("g", { class: "lane", "data-lane": l.key },
    s("rect", { class: "lane-bg", x: 0, y: y - 2, width, height: LANE - 2, "fill-opacity": i % 2 ? 0 : 1 }),
    s("text", { class: "lane-label", x: PAD, y: y + 14 }, l.app, s("tspan", { class: "lane-label sub", dx: 6 }, l.env)),
    l.releases.filter((r) => (r.end || now) >= start && r.start <= end).map((r) => bar(l, r, x, y + 1, end, now)),
    marks, drift);
}

/** Draw the lanes into #timeline. */
export function drawTimeline(data, start, end, now) {
  const box = $("#timeline"), width = Math.max(640, box.clientWidth || 640);
  if (!data.lanes.length) {
    box.replaceChildren(h("p", { class: "empty" }, "No environment matches the filters."));
    return;
  }
  const height = AXIS + data.lanes.length * LANE + 4, x = scale(start, end, width);
  const svg = s("svg", { class: "lanes", width, height, viewBox: `0 0 ${width} ${height}`, role: "group",
    "aria-label": "Releases per environment over time" }, axis(start, end, width, height),
  data.lanes.map((l, i) => laneGroup(l, i, x, start, end, now, width)),
  end >= now ? s("line", { class: "now-line", x1: x(now), x2: x(now), y1: AXIS - 4, y2: height }) : null);
  svg.addEventListener("keydown", navigate);
  box.replaceChildren(svg);
  if (!data.complete) box.append(h("p", { class: "muted" }, "This window holds more changes than one view shows: narrow the filters or the range."));
}

function navigate(event) {  // arrows between releases, Enter/Space opens one
  const bar = event.target.closest && event.target.closest("g.bar");
  if (!bar) return;
  const lanes = [...bar.ownerSVGElement.querySelectorAll("g.lane")], laneEl = bar.closest("g.lane");
  const bars = [...laneEl.querySelectorAll("g.bar")], i = bars.indexOf(bar);
  let next = null;
  if (event.key === "ArrowRight") next = bars[i + 1];
  else if (event.key === "ArrowLeft") next = bars[i - 1];
  else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    const other = lanes[lanes.indexOf(laneEl) + (event.key === "ArrowDown" ? 1 : -1)];
    const mid = bar.getBoundingClientRect().left;
    next = other && [...other.querySelectorAll("g.bar")].sort((a, b) =>
      Math.abs(a.getBoundingClientRect().left - mid) - Math.abs(b.getBoundingClientRect().left - mid))[0];
  } else if (event.key === "Enter" || event.key === " ") { bar.dispatchEvent(new MouseEvent("click")); event.preventDefault(); return; }
  if (next) { next.focus(); event.preventDefault(); }
}
