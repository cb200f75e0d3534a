// Polite screen-reader announcements kept apart from what is shown. The visible voice status
// may change several times a second (speaking, a pause, thinking...); announcing each change
// is noise. A state is announced only once it has held for SETTLE_MS, and only if it differs
// from the last one announced.

import { h } from "./dom.js";

export const SETTLE_MS = 400;

/** A visually hidden polite live region; put it in the page before anything is said. */
export function liveRegion(id) {
  return h("div", { class: "visually-hidden", id, role: "status", "aria-live": "polite", "aria-atomic": "true" });
}

export class CalmAnnouncer {
  constructor(region, settleMs = SETTLE_MS) {
    this.region = region;
    this.settleMs = settleMs;
    this.pending = null;
    this.said = "";
    this.timer = null;
  }

  /** The current state's words, or null for a state not worth announcing (it cancels a pending one). */
  settle(text) {
    if (text === this.pending) return;
    clearTimeout(this.timer);
    this.pending = text;
    if (text === null || text === this.said) return;
    this.timer = setTimeout(() => {
      this.said = text;
      this.region.textContent = text;
    }, this.settleMs);
  }

  /** Say `text` now (a one-off, e.g. once per turn); emptied first so a repeat is read again. */
  say(text) {
    clearTimeout(this.timer);
    this.pending = null;
    this.region.textContent = "";
    this.timer = setTimeout(() => {
      this.said = text;
      this.region.textContent = text;
    }, 50);
  }
}
