// What the session page tells the learner outside the transcript: the dismissable notices
// above it, the connection pill in the header, and short toasts.

import { clear, h, toast } from "./dom.js";

export class Notices {
  /** `list`: the notices container; `pill`: the connection pill (both built by the layout). */
  constructor(list, pill) {
    this.list = list;
    this.pill = pill;
  }

  /** A notice; `actions` are buttons ({label, primary, onClick}); a `key` replaces the notice of that key. */
  show(kind, title, text, actions = [], key = null) {
    if (key) this.remove(key);
    const el = h("div", { class: ["notice", `notice--${kind}`], role: kind === "error" ? "alert" : "status",
      dataset: key ? { key } : {} },
    h("div", { class: "notice__text" }, h("strong", {}, title), h("span", {}, ` ${text}`)),
    h("div", { class: "notice__actions" },
      actions.map((a) => h("button", { type: "button", class: ["button", "button--small", a.primary && "button--primary"],
        onclick: () => { el.remove(); a.onClick(); } }, a.label)),
      h("button", { type: "button", class: "notice__close", "aria-label": "Dismiss", onclick: () => el.remove() }, "×")));
    this.list.appendChild(el);
    while (this.list.children.length > 3) this.list.firstElementChild.remove();
    return el;
  }

  remove(key) {
    this.list.querySelectorAll(`[data-key="${key}"]`).forEach((n) => n.remove());
  }

  clear() {
    clear(this.list);
  }

  toast(text, kind, ms) {
    toast(text, kind, ms);
  }

  /** The connection pill: `state` "warn" or "error" with its text, or null to hide it. */
  connection(state, text) {
    if (!state) {
      this.pill.hidden = true;
      return;
    }
    this.pill.hidden = false;
    this.pill.dataset.state = state;
    this.pill.textContent = text;
  }
}

/** The headline of a server `error` event, by its code. */
export function errorTitle(code) {
  return ({
    asr_failed: "We could not make out that turn.",
    turn_too_long: "That turn was very long.",
    audio_timeout: "The microphone went quiet mid-turn.",
    empty_turn: "Nothing to send.",
    text_too_long: "That message is too long.",
    unknown_persona: "This case is not available.",
    internal_error: "Something went wrong on the server.",
    no_session: "The session is not running.",
    learner_id_taken: "That name is taken.",
    learner_key_mismatch: "Your personal key is for another name.",
    bad_learner_key: "Your personal key was not recognised.",
    retry_not_allowed: "This case is played straight through.",
    retry_not_last: "Only your last turn can be taken back.",
    retry_not_ready: "Not yet.",
  })[code] || "The server reported a problem.";
}
