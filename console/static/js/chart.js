// A small line chart in inline SVG (no library): one line per series over days, y axis from 0, an optional
// horizontal threshold line.

import { svg } from "./dom.js";

const WIDTH = 720;
const HEIGHT = 260;
const PAD = { top: 16, right: 16, bottom: 32, left: 48 };

/** A "nice" upper bound for the y axis (1, 2, 5 x 10^n). */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((bound) => bound >= value);
}

/**
 * @param days ["2026-11-01", ...] in order
 * @param series [{name, label, className, values: [number|null per day]}]
 * @param dayLabel a day's label on the x axis and in the points' tooltips (the language's short date)
 */
export function lineChart(days, series, { testid = "stats-chart", title = "", dayLabel = (day) => day.slice(5), threshold = null } = {}) {
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const top = niceMax(Math.max(0, threshold?.value ?? 0, ...series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)))));
  const x = (index) => PAD.left + (days.length <= 1 ? plotWidth / 2 : (index * plotWidth) / (days.length - 1));
  const y = (value) => PAD.top + plotHeight - (value / top) * plotHeight;

  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: "chart",
    role: "img",
    "aria-label": title,
    dataset: { testid, days: days.length },
  });
  chart.append(svg("title", {}, title));
  for (let step = 0; step <= 4; step += 1) {
    const value = (top * step) / 4;
    chart.append(
      svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value), class: "grid" }),
      svg("text", { x: PAD.left - 6, y: y(value) + 4, class: "axis", "text-anchor": "end" }, Number.isInteger(value) ? String(value) : value.toFixed(1)),
    );
  }
  const labelEvery = Math.max(1, Math.ceil(days.length / 8));
  days.forEach((day, index) => {
    if (index % labelEvery === 0 || index === days.length - 1) {
      chart.append(svg("text", { x: x(index), y: HEIGHT - 10, class: "axis", "text-anchor": "middle" }, dayLabel(day)));
    }
  });
  if (threshold) {
    // a horizontal dashed line (e.g. the waiting-alert threshold of the reports' first-response chart)
    chart.append(
      svg(
        "line",
        { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(threshold.value), y2: y(threshold.value), class: "threshold", dataset: { testid: "chart-threshold", value: threshold.value } },
        svg("title", {}, threshold.label || ""),
      ),
    );
  }
  for (const line of series) {
    const points = line.values.map((value, index) => (Number.isFinite(value) ? [x(index), y(value), value, days[index]] : null)).filter(Boolean);
    if (points.length > 1) {
      chart.append(svg("polyline", { points: points.map(([px, py]) => `${px},${py}`).join(" "), class: `series ${line.className}`, fill: "none" }));
    }
    for (const [px, py, value, day] of points) {
      chart.append(
        svg(
          "circle",
          { cx: px, cy: py, r: 3.5, class: `point ${line.className}`, dataset: { testid: "chart-point", series: line.name, day, value } },
          svg("title", {}, `${dayLabel(day)}: ${value} ${line.label || line.name}`),
        ),
      );
    }
  }
  return chart;
}
