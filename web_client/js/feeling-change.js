// The words for the patient's feeling: what "Feeling now" shows, what the face's name says,
// and the polite announcement of a turn's change (e.g. "Mr Reyes seems less frightened. Trust up.").
// One rule for all three, from the state alone (docs/emotional-state.md, "What the learner sees"):
//
//   how strong   distress from VERY_FROM is "Very frightened", under LITTLE_BELOW "A little
//                frightened", between "Frightened"; calm and relief have no degrees.
//   the change   over the last turn, a distress move of STEP or more is named instead:
//                "Less frightened" / "More frightened" ("Calmer" / "Less at ease", "More
//                relieved" / "Less relieved"); a new feeling is named as it is now ("Calmer"
//                when a distressing feeling gave way to calm).
//   the stance   the disclosure style ("Guarded", "Cautious", "Opening up"), with "trusting you
//                more / less" when trust moved by STEP or more.
//
// Smaller moves than STEP are left out: the meters show them, the words need not.

import { emotionWord, styleWord } from "./dom.js";

export const STEP = 0.02;
export const VERY_FROM = 0.7;
export const LITTLE_BELOW = 0.4;
const AT_EASE = new Set(["calm", "relief"]); // for these, less distress reads as "more at ease"

/** How the patient feels, with how strongly: "Very frightened", "Sad", "A little ashamed", "Calm". */
export function feelingWord(state) {
  const word = emotionWord(state.emotion);
  if (AT_EASE.has(state.emotion) || word === "—") return word;
  if (state.distress >= VERY_FROM) return `Very ${word.toLowerCase()}`;
  if (state.distress < LITTLE_BELOW) return `A little ${word.toLowerCase()}`;
  return word;
}

/**
 * What "Feeling now" shows after a turn: `{feeling, stance}`; `before` is the state the panel
 * showed until now (null at the start).
 */
export function feelingNow(before, after) {
  const stance = styleWord(after.style);
  if (!before) return { feeling: feelingWord(after), stance };
  const dd = after.distress - before.distress;
  const dt = after.trust - before.trust;
  const eased = dd <= -STEP;
  const worse = dd >= STEP;
  let feeling = feelingWord(after);
  const lower = emotionWord(after.emotion).toLowerCase();
  if (after.emotion !== before.emotion) {
    if (after.emotion === "calm" && !AT_EASE.has(before.emotion)) feeling = "Calmer";
  } else if (after.emotion === "calm") {
    if (eased) feeling = "Calmer";
    else if (worse) feeling = "Less at ease";
  } else if (after.emotion === "relief") {
    if (eased) feeling = "More relieved";
    else if (worse) feeling = "Less relieved";
  } else if (eased) {
    feeling = `Less ${lower}`;
  } else if (worse) {
    feeling = `More ${lower}`;
  }
  const trusting = dt >= STEP ? "trusting you more" : dt <= -STEP ? "trusting you less" : "";
  return { feeling, stance: trusting ? `${stance}, ${trusting}` : stance };
}

/**
 * The announcement of one turn's change, or null when nothing changed enough to mention.
 * `shownWord` is the feeling the panel showed before (a change of words is worth saying even
 * when the numbers barely moved: "Less frightened" giving way to "Frightened").
 */
export function feelingChange(name, before, after, shownWord = feelingWord(before)) {
  const now = feelingNow(before, after);
  const parts = [];
  const feeling = now.feeling.toLowerCase();
  const dd = after.distress - before.distress;
  if (after.emotion !== before.emotion) parts.push(`${name} now seems ${feeling}.`);
  else if (Math.abs(dd) >= STEP || now.feeling !== shownWord) parts.push(`${name} seems ${feeling}.`);
  const dt = after.trust - before.trust;
  if (Math.abs(dt) >= STEP) parts.push(dt > 0 ? "Trust up." : "Trust down.");
  return parts.length ? parts.join(" ") : null;
}
