// The words for how the patient's feeling and trust moved over one turn, for the polite
// announcement of the patient panel (e.g. "Mr Reyes seems less frightened. Trust up.").
// Small moves (under STEP) are left out: the meters show them, a screen reader need not.

import { emotionWord } from "./dom.js";

const STEP = 0.02;
const AT_EASE = new Set(["calm", "relief"]); // for these, less distress reads as "more at ease"

/** One sentence or two, or null when nothing moved enough to mention. */
export function feelingChange(name, before, after) {
  const parts = [];
  const feeling = emotionWord(after.emotion).toLowerCase();
  const dd = after.distress - before.distress;
  if (after.emotion !== before.emotion) parts.push(`${name} now seems ${feeling}.`);
  else if (Math.abs(dd) >= STEP) {
    parts.push(AT_EASE.has(after.emotion)
      ? `${name} seems ${dd < 0 ? "more" : "less"} at ease.`
      : `${name} seems ${dd < 0 ? "less" : "more"} ${feeling}.`);
  }
  const dt = after.trust - before.trust;
  if (Math.abs(dt) >= STEP) parts.push(dt > 0 ? "Trust up." : "Trust down.");
  return parts.length ? parts.join(" ") : null;
}
