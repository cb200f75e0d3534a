// Debrief: everything about one finished session, from GET /api/sessions/{id}. The
// learner reads it with their session token or personal key; educators with theirs (educator.js).

import { getSession, personaById } from "./api.js";
import { isRetry, isRewound } from "./branches.js";
import { COLOURS, stateSeries, trustDistressChart } from "./chart.js";
import { empathyCaption, missedVerdict } from "./debrief-figures.js";
import { notesSection, objectivesSection } from "./debrief-objectives.js";
import { eccsLabel, gradeChip } from "./chips.js";
import {
  ECCS_LEVELS, actWord, capitalise, clear, emotionWord, flagWord, focusHeading, formatDateTime, formatDuration, h, nurseWord,
  store,
} from "./dom.js";
import { glossaryButton } from "./glossary.js";
import { heldKey, keyForm } from "./learner-key.js";
import { downloadJson, downloadReport } from "./report.js";

const TOKENS_KEY = "bedside.tokens";
const summaries = new Map(); // session id -> summary from the websocket, in case the fetch fails

export function rememberToken(sessionId, token) {
  const all = store.get(TOKENS_KEY) || {};
  all[sessionId] = token;
  store.set(TOKENS_KEY, all);
}

export function rememberSummary(sessionId, summary) {
  summaries.set(sessionId, summary);
}

function learnerToken(sessionId) {
  return (store.get(TOKENS_KEY) || {})[sessionId] || null;
}

export const CARE_WORDS = ["Poor", "Fair", "Good", "Very good", "Excellent"];

export function mount(app, { sessionId }) {
  const ctl = { alive: true };
  show(app, sessionId, ctl);
  return { unmount() { ctl.alive = false; } };
}

/** The debrief, read with this session's own token (this tab) or the personal key (any tab or
 * device, learner-key.js); with neither, a form asks for the key. */
function show(app, sessionId, ctl, focusTitle = false) {
  const own = learnerToken(sessionId);
  const token = own || heldKey()?.key;
  if (!token) {
    app.appendChild(h("section", { class: "panel narrow", "aria-labelledby": "debrief-key-title" },
      h("p", { class: "eyebrow" }, "Debrief"),
      h("h1", { id: "debrief-key-title" }, "Enter your personal key to open this debrief"),
      h("p", {}, "This browser does not hold the key of the session. Enter the personal key you were shown the first "
        + "time you used Bedside; this browser then keeps it, and My sessions lists all your sessions."),
      keyForm(() => { clear(app); show(app, sessionId, ctl, true); }, { submit: "Open the debrief" })));
    return;
  }
  const holder = h("div", { class: "panel loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Loading your debrief…");
  app.appendChild(holder);
  const load = () => Promise.all([getSession(sessionId, token), personaById().catch(() => ({}))]).then(([detail, personas]) => {
    if (!ctl.alive) return;
    holder.remove();
    app.appendChild(renderDebrief(detail, { audience: "learner", persona: personas[detail.session.persona_id] }));
    if (focusTitle) focusHeading(app); // the form that had focus is gone
  }).catch((err) => {
    if (!ctl.alive) return;
    clear(holder);
    holder.className = "panel notice notice--error";
    holder.setAttribute("role", "alert");
    if (err.status === 403 && !own) {
      holder.append(h("h1", {}, "This debrief is not one of your sessions"),
        h("p", {}, "The personal key in this browser did not start this session, so its debrief stays private. If it is "
          + "yours, enter the key you used for it under My sessions (Use a different key)."),
        h("a", { class: "button", href: "#/me" }, "My sessions"));
      return;
    }
    holder.append(h("p", {}, `The debrief could not be loaded: ${err.message}`),
      h("button", { type: "button", class: "button", onclick: () => {
        clear(holder).append("Loading your debrief…");
        holder.className = "panel loading";
        load();
      } }, "Try again"));
  });
  load();
}

/** The debrief for a SessionDetail. `audience` is "learner" or "educator". */
export function renderDebrief(detail, { audience = "learner", persona = null, backHref = null } = {}) {
  const s = detail.summary || summaries.get(detail.session.id) || null;
  const info = detail.session;
  const title = persona?.title || info.persona_id;
  const patientName = persona?.patient?.name || "Patient";
  const points = stateSeries(detail);
  const missed = s ? s.missed_opportunities || [] : [];
  const chart = trustDistressChart(points, { missedTurns: missed.map((m) => m.turn) });
  const takenBack = detail.turns.filter(isRewound).length;

  const actions = h("div", { class: "debrief__actions no-print" },
    backHref ? h("a", { class: "button button--ghost", href: backHref }, "← All sessions") : null,
    glossaryButton(),
    h("button", { type: "button", class: "button", id: "download-json",
      onclick: () => downloadJson(detail, { persona }) }, downloadIcon(), "Transcript (JSON)"),
    h("button", { type: "button", class: "button", id: "download-html",
      onclick: () => downloadReport(detail, { persona, chart: chart.outerHTML, summary: s }) }, downloadIcon(), "Printable report"),
    h("button", { type: "button", class: "button button--primary", onclick: () => window.print() }, "Print or save PDF"));

  const page = h("article", { class: "debrief", "aria-labelledby": "debrief-title" },
    h("header", { class: "debrief__head" },
      h("p", { class: "print-only print-brand" }, `Bedside · ${audience === "educator" ? "session review" : "debrief"} · session ${info.id}`),
      h("div", {},
        h("p", { class: "eyebrow" }, audience === "educator" ? "Session review" : "Debrief"),
        h("h1", { id: "debrief-title" }, title),
        h("p", { class: "debrief__meta" },
          [
            `${audience === "educator" ? "Learner" : "You"}: ${info.learner_id}`,
            `with ${patientName}`,
            formatDateTime(info.created_at),
            formatDuration(info.created_at, info.ended_at),
            `${capitalise(info.mode)} session`,
            `${info.turns} turn${info.turns === 1 ? "" : "s"}`,
            takenBack ? `${takenBack} taken back` : null,
          ].filter(Boolean).join(" · "))),
      actions),
    s ? null : h("div", { class: "notice notice--warn", role: "status" },
      h("strong", {}, "This session has not ended yet."), " Scores appear once it ends; the transcript so far is below."),
    s ? scoreCards(s, points) : null,
    h("section", { class: "panel chart-panel", "aria-labelledby": "chart-heading" },
      h("div", { class: "section-head" },
        h("h2", { id: "chart-heading" }, "How the patient felt"),
        legend()),
      h("div", { class: "chart-wrap" }, chart),
      h("details", { class: "chart-table no-print" },
        h("summary", {}, "Show as a table"),
        stateTable(points))),
    s ? h("div", { class: "debrief-grid" },
      missedSection(s, missed, patientName),
      h("div", { class: "debrief-col" },
        checklistSection(s, detail.checklist_items || {}),
        careSection(s))) : null,
    s ? objectivesSection(s) : null,
    s ? skillsSection(s) : null,
    s ? notesSection(s) : null,
    transcriptSection(detail, patientName),
    audience === "learner"
      ? h("div", { class: "debrief__next no-print" },
        h("a", { class: "button button--primary", href: "#/" }, "Practise another case"))
      : null);
  return page;
}

function scoreCards(s, points) {
  const first = points[0] || { trust: s.final_trust, distress: s.final_distress };
  const card = (label, value, unit, caption, extra = {}) => h("div", { class: ["score", extra.tone && `score--${extra.tone}`] },
    h("p", { class: "score__label" }, label),
    h("p", { class: "score__value" }, value, unit ? h("span", { class: "score__unit" }, unit) : null),
    h("p", { class: "score__caption" }, caption));
  const eccs = s.mean_eccs;
  const coverage = Math.round((s.checklist_coverage || 0) * 100);
  const covered = Object.values(s.checklist || {}).filter(Boolean).length;
  const total = Object.keys(s.checklist || {}).length;
  const t0 = Math.round(first.trust * 100), t1 = Math.round(s.final_trust * 100);
  const d0 = Math.round(first.distress * 100), d1 = Math.round(s.final_distress * 100);
  return h("section", { class: "scores", "aria-label": "Summary scores" },
    card("Empathic responses", eccs === null || eccs === undefined ? "—" : eccs.toFixed(1), " / 6",
      empathyCaption(s), { tone: eccs === null ? null : eccs >= 3 ? "good" : "low" }),
    card("Patient rating", String(s.care_total), " / 50", "CARE-style score from the patient’s point of view"),
    card("History covered", `${coverage}`, "%", `${covered} of ${total} checklist items`),
    card("Trust", `${t0} → ${t1}`, "", `${delta(t1 - t0)} over the session`, { tone: t1 >= t0 ? "good" : "low" }),
    card("Distress", `${d0} → ${d1}`, "", `${delta(d1 - d0)}; the patient ended ${emotionWord(s.final_emotion).toLowerCase()}`,
      { tone: d1 <= d0 ? "good" : "low" }),
    card("Questions", `${s.open_questions}`, " open", `${s.closed_questions} closed · ${s.turns} turns · ${s.interruptions || 0} interruption${s.interruptions === 1 ? "" : "s"}`));
}

function delta(d) {
  if (d === 0) return "No change";
  return `${d > 0 ? "Up" : "Down"} ${Math.abs(d)} point${Math.abs(d) === 1 ? "" : "s"}`;
}

function legend() {
  const item = (key, label, dashed) => h("span", { class: "legend__item" },
    h("svg:svg", { viewBox: "0 0 28 10", width: "28", height: "10", "aria-hidden": "true" },
      h("svg:line", { x1: "1", y1: "5", x2: "27", y2: "5", stroke: COLOURS[key], "stroke-width": "2.5",
        "stroke-dasharray": dashed ? "6 3" : null })),
    label);
  return h("p", { class: "legend" }, item("trust", "Trust", false), item("distress", "Distress", true),
    h("span", { class: "legend__item" }, h("span", { class: "legend__swatch", "aria-hidden": "true" }), "Missed opportunity"));
}

function stateTable(points) {
  return h("table", { class: "table table--compact" },
    h("caption", { class: "visually-hidden" }, "Trust and distress after each turn, 0 to 100"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Turn"), h("th", { scope: "col" }, "Trust"),
      h("th", { scope: "col" }, "Distress"), h("th", { scope: "col" }, "Feeling"))),
    h("tbody", {}, points.map((p) => h("tr", {},
      h("th", { scope: "row" }, p.label), h("td", {}, String(Math.round(p.trust * 100))),
      h("td", {}, String(Math.round(p.distress * 100))), h("td", {}, emotionWord(p.emotion))))));
}

function missedSection(s, missed, patientName) {
  const verdict = missedVerdict(s, patientName);
  return h("section", { class: "panel missed", "aria-labelledby": "missed-heading" },
    h("h2", { id: "missed-heading" }, "Missed empathic opportunities"),
    h("p", { class: verdict.kind === "all_met" ? "empty-good" : "muted", id: "missed-verdict", dataset: { kind: verdict.kind } },
      verdict.text),
    h("ol", { class: "missed__list" }, missed.map((m) => h("li", { class: "missed__item" },
      h("p", { class: "missed__turn" }, `Turn ${m.turn}`, h("span", { class: "missed__eccs" }, eccsLabel(m.eccs))),
      h("div", { class: "quote quote--patient" }, h("p", { class: "quote__who" }, `${patientName} said`), h("blockquote", {}, m.patient_said)),
      h("div", { class: "quote quote--learner" }, h("p", { class: "quote__who" }, "You said"), h("blockquote", {}, m.learner_said)),
      h("div", { class: "quote quote--better" }, h("p", { class: "quote__who" }, "You could try"), h("blockquote", {}, m.better_option))))));
}

export function checklistLabel(id, labels) {
  return labels[id] || capitalise(id.replace(/_/g, " "));
}

function checklistSection(s, labels) {
  const entries = Object.entries(s.checklist || {});
  const covered = entries.filter(([, v]) => v).length;
  return h("section", { class: "panel checklist", "aria-labelledby": "checklist-heading" },
    h("h2", { id: "checklist-heading" }, "History checklist"),
    h("div", { class: "progress", role: "img", "aria-label": `${covered} of ${entries.length} items covered` },
      h("span", { class: "progress__fill", style: { width: `${entries.length ? (100 * covered) / entries.length : 0}%` } })),
    h("p", { class: "muted small" }, `${covered} of ${entries.length} covered · ${s.facts_disclosed.length} of ${s.facts_total} facts and ` +
      `${s.concerns_revealed.length} of ${s.concerns_total} hidden concerns came out`),
    h("ul", { class: "checklist__list" }, entries.map(([id, ok]) => h("li", { class: ["check", ok ? "check--yes" : "check--no"] },
      h("span", { class: "check__icon", "aria-hidden": "true" }, ok ? "✓" : "–"),
      h("span", { class: "check__text" }, checklistLabel(id, labels)),
      h("span", { class: "visually-hidden" }, ok ? " (covered)" : " (not covered)")))));
}

function careSection(s) {
  const items = Object.entries(s.care || {});
  return h("section", { class: "panel care", "aria-labelledby": "care-heading" },
    h("h2", { id: "care-heading" }, "The patient’s rating"),
    h("p", { class: "muted small" }, "How good was the doctor at… (CARE measure items, 1 = poor, 5 = excellent; estimated from the session)"),
    h("table", { class: "care__table" },
      h("caption", { class: "visually-hidden" }, `CARE-style rating, total ${s.care_total} of 50`),
      h("tbody", {}, items.map(([item, v]) => h("tr", {},
        h("th", { scope: "row" }, capitalise(item)),
        h("td", { class: "care__dots" },
          h("span", { class: "dots5", role: "img", "aria-label": `${v} of 5, ${CARE_WORDS[v - 1] || ""}` },
            [1, 2, 3, 4, 5].map((i) => h("span", { class: ["dot", i <= v && "dot--on"] })))),
        h("td", { class: "care__word" }, CARE_WORDS[v - 1] || String(v))))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"), h("td", { colspan: "2", class: "care__total" }, `${s.care_total} / 50`)))));
}

function skillsSection(s) {
  const chips = (counts, kind, word) => {
    const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
    if (!entries.length) return h("p", { class: "muted small" }, kind === "flag" ? "No flags raised." : "None used yet.");
    return h("ul", { class: "tag-list" }, entries.map(([k, n]) => h("li", { class: ["tag", `tag--${kind}`] }, `${word(k)} ×${n}`)));
  };
  return h("section", { class: "panel skills", "aria-labelledby": "skills-heading" },
    h("h2", { id: "skills-heading" }, "Skills seen"),
    h("div", { class: "skills__grid" },
      h("div", {}, h("h3", {}, "NURSE statements"),
        h("p", { class: "muted small" }, "Name, Understand, Respect, Support, Explore"),
        chips(s.nurse_counts, "nurse", nurseWord)),
      h("div", {}, h("h3", {}, "Things to watch"),
        h("p", { class: "muted small" }, "Patterns that tend to close the conversation down"),
        chips(s.flag_counts, "flag", flagWord))));
}

function transcriptSection(detail, patientName) {
  const rows = [h("li", { class: "turn turn--patient" },
    h("div", { class: "turn__who" }, patientName, h("span", { class: "turn__num" }, "Opening")),
    h("div", { class: "bubble bubble--patient" }, detail.opening))];
  const byId = new Map(detail.turns.map((t) => [t.turn_id, t]));
  const retried = new Set(detail.turns.filter(isRetry).map((t) => t.retry_of));
  for (const t of detail.turns) {
    const rewound = isRewound(t);
    if (rewound && retried.has(t.turn_id)) continue; // shown beside its retry
    if (rewound || isRetry(t)) rows.push(attemptsRow(attemptsOf(t, byId), patientName));
    else rows.push(...turnRows(t, patientName));
  }
  return h("section", { class: "panel transcript-panel", "aria-labelledby": "transcript-heading" },
    h("h2", { id: "transcript-heading" }, "Graded transcript"),
    h("p", { class: "muted small" }, "Each of your turns with its grade. ECCS levels: " +
      ECCS_LEVELS.map((l, i) => `${i} ${l.short.toLowerCase()}`).join(", ") + "."),
    h("ol", { class: "transcript transcript--static" }, rows));
}

/** The learner's turn and the patient's reply, as two transcript rows. */
function turnRows(t, patientName) {
  return [
    h("li", { class: "turn turn--learner" },
      h("div", { class: "turn__who" }, "You", h("span", { class: "turn__num" }, `Turn ${t.turn_id} · ${actWord(t.act)}`)),
      h("div", { class: "bubble bubble--learner" }, t.learner_text),
      h("div", { class: "turn__foot" }, gradeChip(t.grade)),
      t.grade.feedback ? h("p", { class: "turn__feedback" }, t.grade.feedback) : null),
    h("li", { class: ["turn", "turn--patient", t.interrupted && "turn--interrupted"] },
      h("div", { class: "turn__who" }, patientName,
        h("span", { class: "turn__num" }, `${emotionWord(t.state_after.emotion)} · trust ${Math.round(t.state_after.trust * 100)} · distress ${Math.round(t.state_after.distress * 100)}`)),
      h("div", { class: "bubble bubble--patient" }, t.reply),
      t.interrupted ? h("div", { class: "turn__foot" }, h("span", { class: "badge badge--interrupted" }, "Interrupted")) : null),
  ];
}

/** Every attempt at one moment, oldest first: the turns taken back before `t`, and `t`. */
function attemptsOf(t, byId) {
  const chain = [t];
  for (let cur = t; isRetry(cur) && byId.has(cur.retry_of);) {
    cur = byId.get(cur.retry_of);
    chain.unshift(cur);
  }
  return chain;
}

/** A moment the learner tried again ("Try that again"): the attempts side by side, each with
 * its grade and the patient's reply; only the one kept counts (docs/debrief.md#retried-turns). */
function attemptsRow(chain, patientName) {
  const kept = chain.find((t) => !isRewound(t));
  const title = kept ? "You took this back and said it another way" : "You took this back (and ended before saying it again)";
  return h("li", { class: "attempts", dataset: { turns: chain.map((t) => t.turn_id).join(" ") } },
    h("p", { class: "attempts__title" }, title),
    h("div", { class: "attempts__grid" }, chain.map((t, i) => {
      const gone = isRewound(t);
      const label = `${i === 0 ? "First attempt" : "Retry"} · ${gone ? "taken back" : "kept"}`;
      return h("section", { class: ["attempt", gone ? "attempt--rewound" : "attempt--kept"], "aria-label": `${label}, turn ${t.turn_id}` },
        h("p", { class: "attempt__head" }, label),
        h("ol", { class: "transcript transcript--static attempt__turns" }, turnRows(t, patientName)),
        gone ? h("p", { class: "attempt__note muted small" }, "Not counted: the patient went back to how they felt before it.") : null);
    })));
}

function downloadIcon() {
  return h("svg:svg", { viewBox: "0 0 24 24", width: "16", height: "16", "aria-hidden": "true", class: "icon" },
    h("svg:path", { d: "M12 4v11m0 0l-4.5-4.5M12 15l4.5-4.5M5 19h14", fill: "none", stroke: "currentColor",
      "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round" }));
}
