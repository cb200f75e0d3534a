// The cohort report on the educator page: GET /api/cohort (the figures of `bedside eval
// cohort`) drawn as summary cards and two tables, cases hardest first and learners with
// their trend. Abandoned sessions are counted apart from completed ones.

import { h } from "./dom.js";

const TREND = { growing: "↗ Growing", declining: "↘ Declining", steady: "→ Steady", "too few sessions": "Too few sessions" };

const num = (v, digits = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
const pct = (v) => (v === null || v === undefined ? "–" : `${Math.round(v * 100)}%`);
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function card(label, value, caption) {
  return h("div", { class: "score" },
    h("p", { class: "score__label" }, label),
    h("p", { class: "score__value" }, value),
    h("p", { class: "score__caption" }, caption));
}

function overview(c) {
  const o = c.overall;
  return h("section", { class: "scores", "aria-label": "Cohort summary" },
    card("Sessions", String(c.sessions), `${o.completed} completed, ${o.abandoned} abandoned, ${o.active} in progress`),
    card("Learners", String(c.learners), `across ${plural(c.personas, "case")}`),
    card("Mean ECCS", num(o.mean_eccs), `${o.opportunities_met} of ${o.opportunities} empathic ` +
      `${o.opportunities === 1 ? "opportunity" : "opportunities"} met (ECCS 3 or more)`),
    card("Hidden concerns", pct(o.concerns_share), "mean share found per session"),
    card("History checklist", pct(o.checklist_coverage), "mean share covered per session"),
    card("Patient rating", num(o.care_total, 1), "mean CARE-style score, out of 50"));
}

/** A table in a region that scrolls sideways on a narrow screen (and by keyboard: it takes focus). */
function scrollTable(label, head, rows, numeric) {
  const cls = (i) => (numeric.has(i) ? "num" : null);
  return h("div", { class: "table-scroll", role: "region", "aria-label": label, tabindex: "0" },
    h("table", { class: "table table--compact cohort-table" },
      h("caption", { class: "visually-hidden" }, label),
      h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: cls(i) }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0
        ? h("th", { scope: "row" }, c) : h("td", { class: cls(i) }, c))))))));
}

function groupCells(g) {
  return [String(g.sessions), String(g.completed), String(g.abandoned), num(g.mean_eccs), pct(g.eccs_pass_share),
    pct(g.concerns_share), pct(g.checklist_coverage), num(g.care_total, 1)];
}

const GROUP_HEAD = ["Sessions", "Completed", "Abandoned", "Mean ECCS", "Met (ECCS ≥ 3)", "Concerns found",
  "Checklist", "CARE"];
const flags = (g) => g.top_flags.map(([f, n]) => `${f.replace(/_/g, " ")} (${n})`).join(", ") || "–";

function cases(c, personas) {
  const rows = c.struggle.map((g) => [personas[g.key] ? personas[g.key].title : g.title || g.key, ...groupCells(g), flags(g)]);
  return h("section", { class: "cohort-section", "aria-labelledby": "cohort-cases" },
    h("h2", { id: "cohort-cases" }, "Cases, hardest first"),
    h("p", { class: "muted small" }, "Lowest mean ECCS first, then most opportunities missed."),
    scrollTable("Cases, hardest first", ["Case", ...GROUP_HEAD, "Most frequent flags"], rows, new Set([1, 2, 3, 4, 5, 6, 7, 8])));
}

function learners(c) {
  const trend = Object.fromEntries(c.progress.map((p) => [p.learner_id, p]));
  const rows = c.by_learner.map((g) => {
    const cells = groupCells(g);
    cells.splice(5, 0, TREND[trend[g.key] ? trend[g.key].trend : "too few sessions"]);
    return [g.key, ...cells];
  });
  const head = ["Learner", ...GROUP_HEAD];
  head.splice(6, 0, "Empathy trend");
  return h("section", { class: "cohort-section", "aria-labelledby": "cohort-learners" },
    h("h2", { id: "cohort-learners" }, "Learners"),
    h("p", { class: "muted small" }, "Trend: the fitted change in a learner’s session mean ECCS per session, from three or more sessions."),
    scrollTable("Learners", head, rows, new Set([1, 2, 3, 4, 5, 7, 8, 9])));
}

/** The report's view; `personas` maps ids to the cases' public info, for titles. */
export function renderCohort(report, { personas = {} } = {}) {
  const c = report.cohort;
  if (!c.sessions) {
    return h("div", { class: "panel empty" }, h("p", {}, "No sessions match these filters."));
  }
  const minutes = report.abandon_after_min;
  return h("div", { class: "cohort" },
    overview(c),
    cases(c, personas),
    learners(c),
    h("p", { class: "muted small cohort-note" },
      "Mean ECCS is over the turns that answered an empathic opportunity; “met” is the share of them at ECCS 3 or more. ",
      minutes
        ? `Abandoned: never ended, and no turn for more than ${minutes} minutes; their turns still count in the figures.`
        : "Sessions are never counted as abandoned on this server."));
}
