// "Try that again": take back the last turn (turn.retry) and say it another way. The button
// sits in the composer, outside the transcript's live region, so it is not read out after
// every reply. It appears with the first turn (not at all when the case forbids retries) and
// stays, so the composer does not jump, but it works only when the last turn can be taken
// back: its reply has arrived, no typed turn is waiting, the learner is not talking and the
// patient is not thinking or speaking.
// docs/protocol.md#retrying-a-turn; the rule for summaries is in docs/debrief.md#retried-turns.

import { h } from "./dom.js";

export class RetryControl {
  /** `ctx`: the consultation (its persona, transcript, talk, socket, patient panel and notices). */
  constructor(ctx) {
    this.ctx = ctx;
    this.bar = null;
    this.button = null;
    this.waiting = null; // the turn id a turn.retry was sent for, until turn.rewound or an error
  }

  /** Whether this case lets a learner take a turn back (the pack's allow_retry, default yes). */
  allowed() {
    return this.ctx.persona?.allow_retry !== false;
  }

  /** The composer's retry row (hidden until a turn can be taken back), or null if the case forbids it. */
  build() {
    if (!this.allowed()) return null;
    const name = this.ctx.persona?.patient?.name || "the patient";
    this.button = h("button", { type: "button", class: "button button--small retry-button", id: "retry-turn",
      "aria-describedby": "retry-help", onclick: () => this.press() },
    h("span", { class: "retry-button__icon", "aria-hidden": "true" }, "↶"), "Try that again");
    this.bar = h("div", { class: "retry-bar", hidden: true },
      this.button,
      h("p", { class: "retry-bar__help", id: "retry-help" },
        `Take back your last turn: ${name} goes back to how they felt before it, and you say it another way.`));
    return this.bar;
  }

  /** The last turn that could be taken back now, or null. */
  candidate() {
    const { ctx } = this;
    const { transcript, talk } = ctx;
    if (!ctx.live || ctx.ending || ctx.offline || ctx.thinking || transcript.pending.size) return null;
    // voice: not while the learner talks, a turn is transcribed or the reply is still being heard
    if (talk.speakingTurns.size || talk.vadSpeaking || (transcript.activity && !transcript.activity.hidden)) return null;
    const id = transcript.lastTurnId();
    const view = id === null ? null : transcript.turns.get(id);
    if (!view || !view.patientRow || view.rewound) return null;
    return id;
  }

  /** Show, enable or disable the button for the current state (called whenever the mic state is worked out). */
  update() {
    if (!this.bar) return;
    const { ctx } = this;
    const id = this.waiting === null ? this.candidate() : null;
    this.bar.hidden = !ctx.live || ctx.ending || ctx.transcript.lastTurnId() === null;
    this.button.disabled = id === null;
    this.button.dataset.turnId = id === null ? "" : String(id);
  }

  press() {
    const id = this.candidate();
    if (id === null || this.waiting !== null) return;
    if (!this.ctx.socket.send({ type: "turn.retry", turn_id: id })) return;
    this.waiting = id;
    this.update();
  }

  /** `turn.rewound`: grey the exchange out, put the patient back as they were, and hand over the words. */
  onRewound(m) {
    const { ctx } = this;
    // the button was pressed, so it had the focus (or lost it to <body> when it was disabled);
    // it hides now, so the focus goes to the text box, where the learner says it another way
    const active = document.activeElement;
    const lost = !active || active === document.body || active === this.button;
    this.waiting = null;
    ctx.transcript.markRewound(m.turn_id);
    ctx.ui.patient.rewind(m.state);
    const name = ctx.persona?.patient?.name || "The patient";
    ctx.notices.toast(`Taken back. ${name} feels as before; say it another way.`, "info", 4000);
    this.update();
    if (lost) ctx.textInput?.focus();
  }

  /** A `retry_*` error (the notice says why), or a resume: the button is live again. */
  reset() {
    this.waiting = null;
    this.update();
  }
}
