// "What the terms mean": a button that opens a short glossary of the words the feedback
// chips and the debrief use (ECCS, NURSE, cue, opportunity, CARE, flags). A modal <dialog>,
// so Escape closes it and keyboard focus stays inside while it is open; focus goes back to
// the button that opened it. Plain wording of our own; the schemes are Bylund & Makoul's
// ECCS, VitalTalk's NURSE, Suchman's empathic opportunities and Mercer's CARE measure.

import { ECCS_LEVELS, h } from "./dom.js";

const NURSE = [
  ["Name", "saying which feeling you notice, as a guess the patient can correct"],
  ["Understand", "showing you see why they feel that way, without claiming to know it all"],
  ["Respect", "recognising their effort, strength or what they have been through"],
  ["Support", "telling them you will stay with them and help"],
  ["Explore", "asking them to tell you more about the feeling"],
];

const TERMS = [
  ["Opportunity", "A moment when the patient says how they feel, or hints at it (a cue, such as “My dad died of a " +
    "heart attack”). Your next reply is what gets an ECCS score."],
  ["Missed opportunity", "A reply to such a moment that scored ECCS 2 or lower: the feeling was passed over."],
  ["No cue", "The patient’s line before your turn carried no feeling to answer, so that turn has no ECCS score. " +
    "It still counts for the history and the questions you asked."],
  ["Flags", "Habits that tend to close a patient down, such as early reassurance (“don’t worry”) before you " +
    "know what worries them, sympathy only, a topic switch or jargon."],
  ["CARE score", "How the patient rates you at the end, ten items from 1 (poor) to 5 (excellent), 10 to 50 in all."],
  ["Trust and distress", "The simulated patient’s state, from 0 to 100, after each of your turns."],
];

/** The button and its dialog, to place where the jargon is shown. */
export function glossaryButton() {
  const titleId = "glossary-title";
  let opener = null;
  const close = h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Close");
  const dialog = h("dialog", { class: "dialog glossary", "aria-labelledby": titleId },
    // Close at the top: focus goes there on opening, and the title stays in view on a phone
    h("div", { class: "glossary__head" }, h("h2", { id: titleId }, "What the terms mean"), close),
    h("h3", {}, "ECCS 0–6: how you answered a feeling"),
    h("p", {}, "Each reply to a feeling gets a level from 0 to 6; 3 or more means the feeling was met."),
    h("ul", { class: "glossary__levels" },
      ECCS_LEVELS.map((l, i) => h("li", {}, h("strong", {}, `${i} ${l.short}: `), l.long))),
    h("h3", {}, "NURSE: five ways of answering a feeling"),
    h("dl", {}, NURSE.map(([term, text]) => [h("dt", {}, term), h("dd", {}, text)])),
    h("h3", {}, "Other words"),
    h("dl", {}, TERMS.map(([term, text]) => [h("dt", {}, term), h("dd", {}, text)])));
  dialog.addEventListener("close", () => opener?.focus());
  const button = h("button", { type: "button", class: "button button--ghost glossary-button", "aria-haspopup": "dialog",
    onclick: () => {
      opener = button;
      dialog.showModal();
      close.focus();
    } }, "What the terms mean");
  // the dialog sits next to its button (in the top layer once open), so it goes with the page
  return h("span", { class: "glossary-wrap" }, button, dialog);
}
