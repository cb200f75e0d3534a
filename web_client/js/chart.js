// Trust and distress over the session, drawn as an inline SVG (no chart library).
// Colours are presentation attributes, not CSS classes, so the same SVG can be copied
// into the standalone printable report and still look right.

import { svgEl } from "./dom.js";

export const COLOURS = { trust: "#1d5fa8", distress: "#b0462b", grid: "#dde3e8", axis: "#5b6b77", missed: "#8a5a00" };

/**
 * series: [{label, trust, distress}] — index 0 is the state before the first turn.
 * missedTurns: turn numbers (1-based) to mark as missed empathic opportunities.
 */
export function stateSeries(detail) {
  const turns = detail.turns || [];
  const points = [];
  if (turns.length) {
    const s = turns[0].state_before;
    points.push({ label: "Start", turn: 0, trust: s.trust, distress: s.distress, emotion: s.emotion });
  }
  for (const t of turns) {
    points.push({ label: String(t.turn_id), turn: t.turn_id, trust: t.state_after.trust, distress: t.state_after.distress,
      emotion: t.state_after.emotion });
  }
  return points;
}

export function trustDistressChart(points, { missedTurns = [], compact = window.innerWidth < 640 } = {}) {
  // a wide chart for desktop and print, a taller one for phones (text stays legible either way)
  const width = compact ? 420 : 1000;
  const height = compact ? 280 : 300;
  const fontSize = compact ? 16 : 13;
  const m = compact ? { top: 14, right: 16, bottom: 50, left: 42 } : { top: 16, right: 20, bottom: 44, left: 44 };
  const w = width - m.left - m.right;
  const ht = height - m.top - m.bottom;
  const n = Math.max(1, points.length - 1);
  const x = (i) => m.left + (points.length === 1 ? w / 2 : (i / n) * w);
  const y = (v) => m.top + (1 - Math.max(0, Math.min(1, v))) * ht;
  const titleId = `chart-title-${Math.random().toString(36).slice(2, 8)}`;
  const descId = `${titleId}-desc`;
  const first = points[0];
  const last = points[points.length - 1];
  const desc = points.length
    ? `Over ${points.length - 1} turn${points.length === 2 ? "" : "s"}, trust went from ${pct(first.trust)} to ${pct(last.trust)} ` +
      `and distress from ${pct(first.distress)} to ${pct(last.distress)}, on a scale of 0 to 100.`
    : "No turns yet.";

  const svg = svgEl("svg", {
    class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${titleId} ${descId}`,
    preserveAspectRatio: "xMidYMid meet", "font-family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "font-size": String(fontSize), width: "100%",
  },
  svgEl("title", { id: titleId }, "Trust and distress over the session"),
  svgEl("desc", { id: descId }, desc));

  // grid and y labels
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.appendChild(svgEl("line", { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v), stroke: COLOURS.grid,
      "stroke-width": v === 0 ? 1.5 : 1 }));
    svg.appendChild(svgEl("text", { x: m.left - 8, y: y(v) + 4, "text-anchor": "end", fill: COLOURS.axis }, String(v * 100)));
  }
  // missed-opportunity bands
  const missed = new Set(missedTurns);
  points.forEach((p, i) => {
    if (!missed.has(p.turn)) return;
    const half = Math.min(points.length > 1 ? w / n / 2 : 12, 16);
    const x0 = Math.max(m.left, x(i) - half);
    const x1 = Math.min(width - m.right, x(i) + half);
    svg.appendChild(svgEl("rect", { x: x0, y: m.top, width: x1 - x0, height: ht, fill: "#f6e7c8", opacity: "0.8" },
      svgEl("title", {}, `Turn ${p.turn}: missed empathic opportunity`)));
  });
  // x labels
  const every = Math.ceil(points.length / 14);
  points.forEach((p, i) => {
    if (i % every !== 0 && i !== points.length - 1) return;
    svg.appendChild(svgEl("text", { x: x(i), y: height - m.bottom + fontSize + 6, "text-anchor": "middle", fill: COLOURS.axis },
      p.label));
  });
  svg.appendChild(svgEl("text", { x: m.left + w / 2, y: height - 6, "text-anchor": "middle", fill: COLOURS.axis }, "Turn"));

  for (const key of ["distress", "trust"]) {
    const pts = points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
    svg.appendChild(svgEl("polyline", { points: pts, fill: "none", stroke: COLOURS[key], "stroke-width": 2.5,
      "stroke-linejoin": "round", "stroke-linecap": "round", "stroke-dasharray": key === "distress" ? "7 4" : null,
      "data-series": key }));
    points.forEach((p, i) => {
      const marker = key === "trust"
        ? svgEl("circle", { cx: x(i), cy: y(p[key]), r: 4, fill: "#fff", stroke: COLOURS[key], "stroke-width": 2 })
        : svgEl("rect", { x: x(i) - 3.5, y: y(p[key]) - 3.5, width: 7, height: 7, fill: "#fff", stroke: COLOURS[key],
          "stroke-width": 2 });
      marker.appendChild(svgEl("title", {}, `${p.turn ? `Turn ${p.turn}` : "Start"}: ${key} ${pct(p[key])}`));
      svg.appendChild(marker);
    });
  }
  return svg;
}

function pct(v) {
  return Math.round((v || 0) * 100);
}
