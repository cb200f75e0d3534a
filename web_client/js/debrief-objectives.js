// The case's learning objectives, each met (at a turn) or not yet, and the case author's
// teaching notes: both come in the session summary (docs/debrief.md#objectives).

import { h } from "./dom.js";

/** "Met (turn 4)", "Not yet", or, for an objective the pack gives no evidence for, a note to discuss it. */
export function objectiveVerdict(o) {
  if (!o.assessed) return "Not checked automatically: discuss it";
  return o.met ? `Met (turn ${o.turn})` : "Not yet";
}

export function objectivesSection(s) {
  const objectives = s.objectives || [];
  if (!objectives.length) return null;
  const assessed = objectives.filter((o) => o.assessed);
  const met = assessed.filter((o) => o.met).length;
  return h("section", { class: "panel objectives", "aria-labelledby": "objectives-heading" },
    h("h2", { id: "objectives-heading" }, "Learning objectives"),
    h("p", { class: "muted small" }, assessed.length
      ? `${met} of ${assessed.length} shown in this session, judged from the grades and what the patient told you`
      : "This case gives no automatic evidence for its objectives; discuss them with your educator"),
    h("ul", { class: "checklist__list objectives__list" }, objectives.map((o) => {
      const state = !o.assessed ? "open" : o.met ? "yes" : "no";
      return h("li", { class: ["check", `check--${state}`, "objective"], dataset: { state } },
        h("span", { class: "check__icon", "aria-hidden": "true" }, state === "yes" ? "✓" : state === "no" ? "–" : "?"),
        h("span", { class: "check__text" }, o.text,
          h("span", { class: ["objective__verdict", `objective__verdict--${state}`] }, objectiveVerdict(o))));
    })));
}

export function notesSection(s) {
  const notes = s.debrief_notes || [];
  if (!notes.length) return null;
  return h("section", { class: "panel teaching-notes", "aria-labelledby": "notes-heading" },
    h("h2", { id: "notes-heading" }, "Teaching notes"),
    h("p", { class: "muted small" }, "From the case author: what this case is about, and what tends to help."),
    h("ul", { class: "teaching-notes__list" }, notes.map((n) => h("li", {}, n))));
}
