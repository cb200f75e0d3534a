// The live transcript: a row per learner and patient turn (once per turn id, also after a
// resume), grade chips, typed turns waiting for the server, and the activity row.

import { getSession } from "./api.js";
import { gradeChip } from "./chips.js";
import { clear, h } from "./dom.js";

export const ACTIVITY_TIMEOUT_MS = 9000;

export class Transcript {
  /** `ctx`: the consultation (the persona's name, `thinking`, and `talk` for the mic state). */
  constructor(ctx) {
    this.ctx = ctx;
    this.list = null;
    this.activity = null;
    this.activityTimer = null;
    this.turns = new Map();           // turn_id -> {learnerRow, patientRow, grade}
    this.pending = new Map();         // client_turn_id -> {text, row}
    this.scrollQueued = false;        // a scroll to the end is due on the next frame
  }

  /** Replace `body`'s contents with the transcript, opening with the patient's first words. */
  mount(body, opening) {
    this.list = h("ol", { class: "transcript", id: "transcript", "aria-label": "Transcript", "aria-live": "polite",
      "aria-relevant": "additions" });
    this.activity = h("li", { class: "activity", hidden: true, "aria-hidden": "true" });
    clear(body).appendChild(this.list);
    this.list.appendChild(this.activity);
    this.addRow(patientRow(this.ctx.persona.patient.name, opening, "opening"));
  }

  // -- rows ----------------------------------------------------------------------------------

  addRow(row) {
    // a scroll already queued counts as "at the bottom": the rows before it have not been
    // scrolled to yet, so measuring now would wrongly say the learner scrolled away
    const follow = this.scrollQueued || this.isNearBottom();
    this.list.insertBefore(row, this.activity);
    if (follow) this.scrollToEnd();
  }

  isNearBottom() {
    const el = this.scroller();
    return el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  }

  scroller() {
    // desktop: the transcript scrolls inside its panel; phone: the page scrolls
    const t = this.list;
    return t && t.scrollHeight > t.clientHeight + 1 && getComputedStyle(t).overflowY !== "visible" ? t : document.scrollingElement;
  }

  /** Bring the newest row into view on the next frame. The jump is instant on purpose: a
   * smooth scroll still under way made the next row's isNearBottom() false, so from the fourth
   * turn or so the newest reply stayed below the fold. */
  scrollToEnd() {
    if (this.scrollQueued) return;
    this.scrollQueued = true;
    requestAnimationFrame(() => {
      this.scrollQueued = false;
      const t = this.list;
      if (!t) return;
      t.scrollTo({ top: t.scrollHeight, behavior: "instant" });
      const last = this.activity.hidden ? this.activity.previousElementSibling : this.activity;
      if (last && getComputedStyle(t).overflowY === "visible") last.scrollIntoView({ block: "nearest", behavior: "instant" });
    });
  }

  /** The learner row of a turn, made once per turn_id (so a resume or replay never duplicates it). */
  turn(turnId, text) {
    let view = this.turns.get(turnId);
    if (view) return view;
    const row = learnerRow(text);
    row.dataset.turnId = String(turnId);
    view = { learnerRow: row, patientRow: null, grade: null };
    this.turns.set(turnId, view);
    this.addRow(row);
    return view;
  }

  patientReply(turnId, text) {
    const view = this.turns.get(turnId) || this.turn(turnId, "…");
    if (view.patientRow) return;
    view.patientRow = patientRow(this.ctx.persona.patient.name, text, turnId);
    if (view.interrupted) view.patientRow.classList.add("turn--interrupted");
    this.addRow(view.patientRow);
    if (view.interrupted) addInterruptedBadge(view.patientRow);
  }

  /** The turns a resumed session already has. */
  addResumed(turns) {
    for (const t of turns) {
      const view = this.turn(t.turn_id, t.learner_text);
      this.patientReply(t.turn_id, t.patient_text);
      if (t.retry_of !== null && t.retry_of !== undefined) markRetry(view, t.retry_of);
      if (t.rewound) this.markRewound(t.turn_id);
    }
  }

  /** The newest turn shown (a number), or null before the first. */
  lastTurnId() {
    let last = null;
    for (const id of this.turns.keys()) if (last === null || id > last) last = id;
    return last;
  }

  /** A turn taken back ("Try that again"): its exchange stays, greyed and labelled. */
  markRewound(turnId) {
    const view = this.turns.get(turnId);
    if (!view || view.rewound) return;
    view.rewound = true;
    for (const row of [view.learnerRow, view.patientRow]) row?.classList.add("turn--rewound");
    view.learnerRow.querySelector(".turn__foot").appendChild(
      h("span", { class: "badge badge--rewound", title: "You took this turn back; the patient's state went back to before it" },
        "Taken back"));
  }

  markInterrupted(turnId) {
    const view = this.turns.get(turnId);
    if (!view) return;
    view.interrupted = true;
    if (view.patientRow && !view.patientRow.classList.contains("turn--interrupted")) {
      view.patientRow.classList.add("turn--interrupted");
      addInterruptedBadge(view.patientRow);
    }
  }

  /** The patient's reply to `turnId` is audible (or has stopped). */
  markSpeaking(turnId, speaking) {
    const row = this.turns.get(turnId)?.patientRow;
    if (speaking) row?.classList.add("turn--speaking", "turn--heard");
    else row?.classList.remove("turn--speaking");
  }

  // -- typed turns before the server has them ------------------------------------------------

  /** A typed turn, shown as "Sending…" until its grade arrives. */
  addPending(cid, text) {
    const row = learnerRow(text);
    row.classList.add("turn--pending");
    row.querySelector(".turn__foot").appendChild(h("span", { class: "turn__status" }, "Sending…"));
    this.pending.set(cid, { text, row });
    this.addRow(row);
    this.scrollToEnd();
  }

  /** The oldest typed turn, which the server refused: its row goes; returns its words. */
  takeBackPending() {
    const [cid, p] = this.pending.entries().next().value;
    this.pending.delete(cid);
    p.row.remove();
    return p.text;
  }

  // -- grades --------------------------------------------------------------------------------

  /** A `grade.turn` event: a pending typed turn becomes that turn, and gets its chip. */
  addGrade(m) {
    let view = this.turns.get(m.turn_id);
    const pending = m.client_turn_id ? this.pending.get(m.client_turn_id) : null;
    if (pending) {
      this.pending.delete(m.client_turn_id);
      if (view) {
        pending.row.remove(); // already shown (from the resumed transcript)
      } else {
        pending.row.classList.remove("turn--pending");
        pending.row.dataset.turnId = String(m.turn_id);
        pending.row.querySelector(".turn__status")?.remove();
        view = { learnerRow: pending.row, patientRow: null, grade: null };
        this.turns.set(m.turn_id, view);
      }
    }
    if (!view) view = this.turn(m.turn_id, m.learner_text);
    if (m.retry_of !== null && m.retry_of !== undefined) markRetry(view, m.retry_of);
    if (!view.grade) this.attachGrade(view, m.grade);
  }

  attachGrade(view, grade) {
    const follow = this.list && (this.scrollQueued || this.isNearBottom());
    view.grade = grade;
    view.learnerRow.querySelector(".turn__foot").appendChild(gradeChip(grade));
    if (follow) this.scrollToEnd(); // the chip makes the row taller, which would push the reply down
  }

  /** After a resume: the grades (and interruptions) of shown turns that have none, from the API. */
  async backfillGrades(sessionId, token) {
    const missing = [...this.turns.entries()].filter(([, t]) => !t.grade).map(([id]) => id);
    if (!missing.length) return;
    try {
      const detail = await getSession(sessionId, token);
      for (const t of detail.turns) {
        const view = this.turns.get(t.turn_id);
        if (view && !view.grade) this.attachGrade(view, t.grade);
        if (t.interrupted) this.markInterrupted(t.turn_id);
      }
    } catch (_) { /* grades come back in the debrief anyway */ }
  }

  // -- the activity row ----------------------------------------------------------------------

  /** "Listening…", "<patient> is thinking…" and the like below the last turn; null hides it. */
  setActivity(kind, text, timeoutMs) {
    clearTimeout(this.activityTimer);
    if (!this.activity) return;
    if (!kind) {
      this.activity.hidden = true;
      this.ctx.thinking = false;
      return;
    }
    this.activity.hidden = false;
    this.activity.className = `activity activity--${kind}`;
    clear(this.activity).append(h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), text);
    if (this.isNearBottom()) this.scrollToEnd();
    if (timeoutMs) this.activityTimer = setTimeout(() => { this.setActivity(null); this.ctx.talk.updateMic(); }, timeoutMs);
  }

  /** "<patient> is <doing>…" in the activity row, for a while. */
  patientActivity(doing) {
    const name = this.ctx.persona?.patient?.name || "The patient";
    this.setActivity("patient", `${name} is ${doing}…`, ACTIVITY_TIMEOUT_MS);
  }

  stop() {
    clearTimeout(this.activityTimer);
  }
}

function learnerRow(text) {
  return h("li", { class: "turn turn--learner" },
    h("div", { class: "turn__who" }, "You"),
    h("div", { class: "bubble bubble--learner" }, text),
    h("div", { class: "turn__foot" }));
}

function patientRow(name, text, turnId) {
  return h("li", { class: "turn turn--patient", dataset: { turnId: String(turnId) } },
    h("div", { class: "turn__who" }, name, h("span", { class: "speaking-indicator", "aria-hidden": "true" }, h("i"), h("i"), h("i"))),
    h("div", { class: "bubble bubble--patient" }, text),
    h("div", { class: "turn__foot" }));
}

/** The learner row of a retry ("Try that again"): a "Retry" badge by its grade. */
function markRetry(view, of) {
  const foot = view.learnerRow.querySelector(".turn__foot");
  if (foot.querySelector(".badge--retry")) return;
  foot.prepend(h("span", { class: "badge badge--retry", title: `Said another way, in place of turn ${of}` }, "Retry"));
}

function addInterruptedBadge(row) {
  if (row.querySelector(".badge--interrupted")) return;
  row.querySelector(".turn__foot").appendChild(
    h("span", { class: "badge badge--interrupted", title: "You spoke over the patient, so the rest of this reply was not heard" },
      "Interrupted"));
}
