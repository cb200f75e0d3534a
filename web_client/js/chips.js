// The per-turn grade chip: ECCS level, NURSE types and flags at a glance; the grader's
// feedback sentence in a popover shown on hover, keyboard focus, or click (which pins it).

import { ECCS_LEVELS, eccsTone, flagWord, h, newId, nurseWord } from "./dom.js";

let openChip = null;

function closeOpen(except) {
  if (openChip && openChip !== except) {
    openChip.setAttribute("aria-expanded", "false");
    openChip.parentElement.classList.remove("grade--pinned");
    openChip = null;
  }
}

document.addEventListener("click", (e) => {
  if (openChip && !openChip.parentElement.contains(e.target)) closeOpen(null);
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && openChip) {
    const chip = openChip;
    closeOpen(null);
    chip.focus();
  }
});

export function eccsLabel(level) {
  if (level === null || level === undefined) return "No cue";
  return `ECCS ${level} · ${ECCS_LEVELS[level]?.short || ""}`;
}

/** A one-line, screen-reader friendly summary of a grade. */
export function gradeSummary(grade) {
  const parts = [];
  if (grade.eccs === null || grade.eccs === undefined) parts.push("no empathic opportunity to answer this turn");
  else parts.push(`empathy level ${grade.eccs} of 6, ${ECCS_LEVELS[grade.eccs]?.short.toLowerCase()}`);
  if (grade.nurse?.length) parts.push(`NURSE: ${grade.nurse.map(nurseWord).join(", ")}`);
  if (grade.flags?.length) parts.push(`flags: ${grade.flags.map(flagWord).join(", ")}`);
  return parts.join("; ");
}

export function gradeChip(grade) {
  const tipId = newId("grade-tip");
  const tone = eccsTone(grade.eccs);
  const tags = [
    ...(grade.nurse || []).map((n) => h("span", { class: "tag tag--nurse" }, nurseWord(n))),
    ...(grade.flags || []).map((f) => h("span", { class: "tag tag--flag" },
      h("span", { "aria-hidden": "true", class: "tag__icon" }, "!"), flagWord(f))),
  ];
  const button = h("button", {
    type: "button",
    class: ["grade-chip", `grade-chip--${tone}`],
    "aria-expanded": "false",
    "aria-describedby": tipId,
    "aria-label": `Feedback for this turn: ${gradeSummary(grade)}`,
  },
  h("span", { class: "grade-chip__level" }, eccsLabel(grade.eccs)),
  tags);
  const level = grade.eccs === null || grade.eccs === undefined ? null : ECCS_LEVELS[grade.eccs];
  const tip = h("div", { class: "grade-tip", id: tipId, role: "tooltip" },
    h("p", { class: "grade-tip__head" },
      level ? `Empathy ${grade.eccs}/6: ${level.long}.` : "No feeling to respond to on this turn."),
    h("p", { class: "grade-tip__feedback" }, grade.feedback || "No feedback for this turn."),
    grade.named_emotion
      ? h("p", { class: "grade-tip__meta" },
        `You named: ${grade.named_emotion}${grade.empathic_accuracy === false ? " (the patient feels something else)" : ""}`)
      : null);
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    const pinned = button.getAttribute("aria-expanded") === "true";
    closeOpen(button);
    button.setAttribute("aria-expanded", pinned ? "false" : "true");
    wrap.classList.toggle("grade--pinned", !pinned);
    openChip = pinned ? null : button;
  });
  const wrap = h("div", { class: "grade" }, button, tip);
  return wrap;
}
