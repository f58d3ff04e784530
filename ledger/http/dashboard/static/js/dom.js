// Building the page: elements, SVG, icons, and the times and numbers people read.
import { ICONS } from "./icons.js";

const SVG_NS = "http://www.w3.org/2000/svg";

export const $ = (selector) => document.querySelector(selector);
export const $$ = (selector) => [...document.querySelectorAll(selector)];

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** An HTML element: h("a", {href}, "text", child, ...). Attributes never carry styles. */
export const h = (tag, attrs, ...children) => fill(document.createElement(tag), attrs, children);

/** An SVG element. */
export const s = (tag, attrs, ...children) => fill(document.createElementNS(SVG_NS, tag), attrs, children);

/** A Lucide icon as inline SVG (no icon font, no emoji: it renders on any machine). */
export function icon(name, label) {
  const shape = ICONS[name] || ICONS.info;
  const el = s("svg", { class: "icon", viewBox: "0 0 24 24", "aria-hidden": label ? null : "true",
    role: label ? "img" : null, "aria-label": label || null, "data-icon": name },
  ...shape.map(([tag, attrs]) => s(tag, attrs)));
  return el;
}

export function ago(iso) {
  if (!iso) return "";
  const sec = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (sec < 45) return "just now";
  if (sec < 3600) return `${Math.round(sec / 60)} min ago`;
  if (sec < 86400) return `${Math.round(sec / 3600)} h ago`;
  return new Date(iso).toLocaleString();
}

/** A relative time that the page refreshes as time passes (tick in main.js). */
export const when = (iso) => h("time", { class: "when", datetime: iso, title: iso }, ago(iso));
export const stamp = (iso) => (iso ? new Date(iso).toLocaleString() : null);
export const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
export const short = (sha) => (sha ? sha.slice(0, 7) : "");

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** A definition list of the pairs whose value is known. */
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v instanceof Node ? v : String(v))]));
}

const ENV_ORDER = ["dev", "development", "test", "qa", "staging", "stage", "preprod", "prod", "production"];

/** Environments in promotion order (dev before staging before prod), others by name. */
export function byEnv(a, b) {
  const ra = ENV_ORDER.indexOf(a), rb = ENV_ORDER.indexOf(b);
  return (ra < 0 ? 99 : ra) - (rb < 0 ? 99 : rb) || a.localeCompare(b);
}
