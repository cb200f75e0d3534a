// The per-turn grade chip: ECCS level, NURSE types and flags at a glance; the grader's
// feedback sentence in a popover shown on hover, keyboard focus, or click (which pins it).
// The popover is placed by script (placeTip) so it stays inside the viewport and clear of the
// sticky strip and composer, instead of being clipped by the conversation panel.

import { ECCS_LEVELS, eccsTone, flagWord, h, newId, nurseWord } from "./dom.js";

let openChip = null;

function closeOpen(except) {
  if (openChip && openChip !== except) {
    openChip.setAttribute("aria-expanded", "false");
    openChip.parentElement.classList.remove("grade--pinned");
    openChip = null;
  }
}

const GAP = 8;      // between the chip and its popover
const MARGIN = 6;   // kept free at the edges of the visible area

/**
 * The part of the viewport where a popover for `anchor` may go: inside the transcript when it
 * scrolls in its panel, and clear of sticky or fixed bars (top bar, the phone's patient strip,
 * the composer) in the anchor's column.
 */
export function visibleArea(anchor) {
  const a = anchor.getBoundingClientRect();
  const area = { top: 0, bottom: window.innerHeight, left: 0, right: document.documentElement.clientWidth };
  const list = anchor.closest(".transcript");
  if (list && getComputedStyle(list).overflowY !== "visible") {
    const r = list.getBoundingClientRect();
    area.top = Math.max(area.top, r.top);
    area.bottom = Math.min(area.bottom, r.bottom);
  }
  for (const el of document.querySelectorAll(".topbar, .patient-panel, .composer")) {
    const pos = getComputedStyle(el).position;
    if (pos !== "sticky" && pos !== "fixed") continue;
    const r = el.getBoundingClientRect();
    if (!r.height || r.right <= a.left || r.left >= a.right) continue; // not over the chip's column
    if (r.top + r.height / 2 < window.innerHeight / 2) area.top = Math.max(area.top, r.bottom);
    else area.bottom = Math.min(area.bottom, r.top);
  }
  return area;
}

/** Put `tip` (position: fixed) below `anchor` if it fits in the visible area, else above, else on the roomier side, scrolling inside. */
export function placeTip(anchor, tip) {
  if (getComputedStyle(tip).display === "none") return; // not showing: nothing to place
  const area = visibleArea(anchor);
  const a = anchor.getBoundingClientRect();
  tip.style.maxHeight = "";
  tip.style.overflowY = "";
  tip.style.width = "";
  tip.style.left = "0px";
  tip.style.top = "0px";
  const width = Math.min(tip.offsetWidth, area.right - area.left - 2 * MARGIN);
  tip.style.width = `${width}px`;
  const height = tip.offsetHeight;
  const below = area.bottom - MARGIN - (a.bottom + GAP);
  const above = a.top - GAP - (area.top + MARGIN);
  let side = below >= height ? "below" : above >= height ? "above" : below >= above ? "below" : "above";
  const room = side === "below" ? below : above;
  if (room < height) {
    tip.style.maxHeight = `${Math.max(48, room)}px`;
    tip.style.overflowY = "auto";
  }
  const h = Math.min(height, Math.max(48, room));
  const top = side === "below" ? a.bottom + GAP : a.top - GAP - h;
  // right-aligned to a learner's chip, left-aligned otherwise, then kept inside the area
  const preferred = anchor.closest(".turn--learner") ? a.right - width : a.left;
  const left = Math.max(area.left + MARGIN, Math.min(preferred, area.right - MARGIN - width));
  tip.style.left = `${Math.round(left)}px`;
  tip.style.top = `${Math.round(top)}px`;
  tip.dataset.side = side;
  tip.style.setProperty("--arrow-x", `${Math.round(Math.max(12, Math.min(width - 24, (a.left + a.right) / 2 - left - 6)))}px`);
}

let placed = null; // the chip whose popover is showing (hovered, focused or pinned)

function show(button, tip) {
  placed = { button, tip };
  placeTip(button, tip);
}

// a shown popover follows its chip when the transcript or page scrolls or the window resizes
const follow = () => {
  if (placed && placed.button.isConnected) placeTip(placed.button, placed.tip);
};
document.addEventListener("scroll", follow, true);
window.addEventListener("resize", follow);

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
  const reveal = () => show(button, tip);
  button.addEventListener("pointerenter", reveal);
  button.addEventListener("focus", reveal);
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    const pinned = button.getAttribute("aria-expanded") === "true";
    closeOpen(button);
    button.setAttribute("aria-expanded", pinned ? "false" : "true");
    wrap.classList.toggle("grade--pinned", !pinned);
    openChip = pinned ? null : button;
    reveal();
  });
  const wrap = h("div", { class: "grade" }, button, tip);
  return wrap;
}
