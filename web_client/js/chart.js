// Trust and distress over the session, drawn as an inline SVG with HTML labels (no chart
// library). Colours are attributes and inline styles, not CSS classes, so the same chart can
// be copied into the standalone printable report and still look right.

import { isRewound } from "./branches.js";
import { h, svgEl } from "./dom.js";

export const COLOURS = { trust: "#1d5fa8", distress: "#b0462b", grid: "#dde3e8", axis: "#5b6b77", missed: "#8a5a00" };

/**
 * series: [{label, trust, distress}] — index 0 is the state before the first turn; turns taken
 * back ("Try that again") are left out, so the line follows the conversation the patient lived.
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
    if (isRewound(t)) continue; // taken back: not part of what the patient lived
    points.push({ label: String(t.turn_id), turn: t.turn_id, trust: t.state_after.trust, distress: t.state_after.distress,
      emotion: t.state_after.emotion });
  }
  return points;
}

// Layout: the lines, grid and bands are an SVG whose viewBox (0-100 both ways) stretches to
// the plot area, strokes kept at their pixel width; the labels and markers are HTML placed in
// percent over it. So the chart fills any container, here, in the printable report or on a
// phone, and its text stays in CSS pixels instead of scaling with the drawing. Styles are
// inline (set through the CSSOM) so the report's copy needs no stylesheet.
const FONT = "13px/1.2 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const PAD = { top: 10, right: 16, left: 44 }; // room for the labels, in CSS px

export function trustDistressChart(points, { missedTurns = [] } = {}) {
  const n = Math.max(1, points.length - 1);
  const x = (i) => (points.length === 1 ? 50 : (i / n) * 100);
  const y = (v) => (1 - Math.max(0, Math.min(1, v))) * 100;
  const titleId = `chart-title-${Math.random().toString(36).slice(2, 8)}`;
  const descId = `${titleId}-desc`;
  const first = points[0];
  const last = points[points.length - 1];
  const desc = points.length
    ? `Over ${points.length - 1} turn${points.length === 2 ? "" : "s"}, trust went from ${pct(first.trust)} to ${pct(last.trust)} ` +
      `and distress from ${pct(first.distress)} to ${pct(last.distress)}, on a scale of 0 to 100.`
    : "No turns yet.";

  const svg = svgEl("svg", {
    class: "chart", viewBox: "0 0 100 100", role: "img", "aria-labelledby": `${titleId} ${descId}`,
    preserveAspectRatio: "none", style: { position: "absolute", inset: "0", width: "100%", height: "100%", overflow: "visible" },
  },
  svgEl("title", { id: titleId }, "Trust and distress over the session"),
  svgEl("desc", { id: descId }, desc));
  const plot = h("div", { class: "chart-plot",
    style: { position: "relative", height: "clamp(170px, 30vw, 260px)" } }, svg);
  const label = (text, style) => plot.appendChild(h("span", { "aria-hidden": "true",
    style: { position: "absolute", color: COLOURS.axis, whiteSpace: "nowrap", ...style } }, text));
  const stroke = (attrs) => ({ "vector-effect": "non-scaling-stroke", ...attrs });

  // missed-opportunity bands, under the grid
  const missed = new Set(missedTurns);
  const half = Math.min(points.length > 1 ? 50 / n : 3, 4);
  points.forEach((p, i) => {
    if (!missed.has(p.turn)) return;
    const x0 = Math.max(0, x(i) - half);
    const x1 = Math.min(100, x(i) + half);
    svg.appendChild(svgEl("rect", { x: x0, y: 0, width: x1 - x0, height: 100, fill: "#f6e7c8", opacity: "0.8" },
      svgEl("title", {}, `Turn ${p.turn}: missed empathic opportunity`)));
  });
  // grid and y labels
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.appendChild(svgEl("line", stroke({ x1: 0, x2: 100, y1: y(v), y2: y(v), stroke: COLOURS.grid,
      "stroke-width": v === 0 ? 1.5 : 1 })));
    label(String(v * 100), { right: "calc(100% + 8px)", top: `${y(v)}%`, transform: "translateY(-50%)" });
  }
  // x labels: at most about 14, always the last
  const every = Math.ceil(points.length / 14);
  points.forEach((p, i) => {
    if (i % every !== 0 && i !== points.length - 1) return;
    label(p.label, { top: "calc(100% + 6px)", left: `${x(i)}%`, transform: "translateX(-50%)" });
  });

  for (const key of ["distress", "trust"]) {
    const pts = points.map((p, i) => `${x(i).toFixed(2)},${y(p[key]).toFixed(2)}`).join(" ");
    svg.appendChild(svgEl("polyline", stroke({ points: pts, fill: "none", stroke: COLOURS[key], "stroke-width": 2.5,
      "stroke-linejoin": "round", "stroke-linecap": "round", "stroke-dasharray": key === "distress" ? "7 4" : null,
      "data-series": key })));
    // markers in HTML, so they stay round and square whatever the chart's proportions
    points.forEach((p, i) => {
      const size = key === "trust" ? 8 : 7;
      plot.appendChild(h("span", { class: "chart-mark", "data-series": key, "aria-hidden": "true",
        title: `${p.turn ? `Turn ${p.turn}` : "Start"}: ${key} ${pct(p[key])}`,
        style: { position: "absolute", left: `${x(i)}%`, top: `${y(p[key])}%`, width: `${size}px`, height: `${size}px`,
          transform: "translate(-50%, -50%)", boxSizing: "border-box", background: "#fff",
          border: `2px solid ${COLOURS[key]}`, borderRadius: key === "trust" ? "50%" : "0" } }));
    });
  }
  return h("div", { class: "chart-figure", style: { font: FONT, padding: `${PAD.top}px ${PAD.right}px 4px ${PAD.left}px`,
    maxWidth: "100%", boxSizing: "border-box" } },
  plot,
  h("p", { "aria-hidden": "true", style: { margin: "26px 0 0", textAlign: "center", color: COLOURS.axis } }, "Turn"));
}

function pct(v) {
  return Math.round((v || 0) * 100);
}
