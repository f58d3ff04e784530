// DORA per week, drawn with uPlot (served by the ledger, no CDN) from GET /v1/dora/weeks: each
// point is exactly what GET /v1/dora?days=7&until=<that week's end> says.
import { api } from "./api.js";
import { $, $$, h } from "./dom.js";

const HOUR = 3600;
const CHARTS = {
  frequency: { series: [["per day", "#2563eb", (m) => m.deployment_frequency]] },
  lead: { series: [["median", "#15803d", (m) => hours(m.lead_time.median_seconds)],
    ["p90", "#a15c07", (m) => hours(m.lead_time.p90_seconds)]] },
  failure: { series: [["failure rate", "#c0262d", (m) => (m.change_failure_rate === null ? null : m.change_failure_rate * 100)]] },
  restore: { series: [["median", "#8b5cf6", (m) => hours(m.time_to_restore.median_seconds)]] },
};
const plots = new Map();

function hours(seconds) { return seconds === null || seconds === undefined ? null : seconds / HOUR; }

function options(name, width, series) {
  return {
    width, height: 150, legend: { show: false }, cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [{ size: 28, font: "11px system-ui", values: (u, ticks) => ticks.map((t) =>
      new Date(t * 1000).toLocaleDateString(undefined, { month: "short", day: "numeric" })) },
    { size: 40, font: "11px system-ui" }],
    series: [{ label: "week ending" }, ...series.map(([label, stroke]) => ({ label, stroke, width: 2,
      points: { show: true, size: 6, fill: stroke }, spanGaps: false }))],
  };
}

/** The weekly points of one chart: [week ends in seconds, ...one array per series]. */
export function points(name, weeks) {
  return [weeks.map((w) => Date.parse(w.until) / 1000),
    ...CHARTS[name].series.map(([, , value]) => weeks.map((w) => value(w.metrics)))];
}

function draw(figure, name, weeks) {
  const plot = figure.querySelector(".plot"), width = plot.clientWidth || 260;
  const data = points(name, weeks);
  figure.dataset.points = JSON.stringify(data);  // what is drawn, for people and tests alike
  plots.get(name)?.destroy();
  plot.replaceChildren();
  if (!weeks.some((w) => w.metrics.deployments)) {
    plots.delete(name);
    plot.append(h("div", { class: "nodata" }, "No deployments in these weeks."));
    return;
  }
  plots.set(name, new window.uPlot(options(name, width, CHARTS[name].series), data, plot));
}

/** Load and draw the four charts for the filter's app and env (none: the whole fleet). */
export async function drawCharts(filter) {
  const scope = [filter.app || "every app", filter.env || "every environment"].join(", ");
  $("#dora-scope").textContent = scope;
  const answer = await api("/v1/dora/weeks", { app: filter.app, env: filter.env, weeks: 12 });
  for (const figure of $$("#dora figure[data-chart]")) draw(figure, figure.dataset.chart, answer.weeks);
  $("#dora").dataset.until = answer.weeks.length ? answer.weeks[answer.weeks.length - 1].until : "";
}

/** Redraw at the new width (the page was resized) with the points already drawn. */
export function resizeCharts() {
  for (const [name, plot] of plots) {
    const box = $(`#dora figure[data-chart="${name}"] .plot`);
    if (box && box.clientWidth) plot.setSize({ width: box.clientWidth, height: 150 });
  }
}
