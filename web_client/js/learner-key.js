// The learner's personal key (docs/protocol.md, "Personal keys"): the server makes it on the
// first visit, this browser keeps it in localStorage, the learner sees it once to keep it,
// and types it in on another device to see the same sessions there. The first session
// started with it ties it to the name used; the server then refuses that name to anyone else.

import { ApiError, createLearnerKey, mySessions } from "./api.js";
import { h, store } from "./dom.js";

const KEY = "bedside.personalKey"; // {key, learner_id (null until its first session), shown}

/** The key this browser holds: {key, learner_id, shown}, or null. */
export function heldKey() {
  const k = store.get(KEY, localStorage);
  return k && typeof k.key === "string" && k.key ? k : null;
}

function keep(record) {
  store.set(KEY, record, localStorage);
}

export function forgetKey() {
  store.remove(KEY, localStorage);
}

/** After a session started with the key: the name it is now tied to (the server ties it on the first). */
export function tieKey(learnerId) {
  const k = heldKey();
  if (k && !k.learner_id) keep({ ...k, learner_id: learnerId });
}

/** The held key, made by the server first if this browser has none. Null if that failed: the
 * app works without a key (sessions are then not in a history), and the next visit tries again. */
let making = null; // one request at a time from this page

export function ensureKey() {
  const held = heldKey();
  if (held) return Promise.resolve(held);
  if (!making) {
    making = createLearnerKey().then((made) => {
      if (!heldKey()) keep({ key: made.key, learner_id: null, shown: false }); // another tab may have made one meanwhile
      return heldKey();
    }).catch(() => null).finally(() => { making = null; });
  }
  return making;
}

/** The held key if it has not been shown yet, marked shown: the panel appears once. */
export function takeUnshownKey() {
  const k = heldKey();
  if (!k || k.shown) return null;
  keep({ ...k, shown: true });
  return k;
}

/** The key in a read-only box with a Copy button; the result is announced politely. */
export function keyDisplay(key, id = "personal-key") {
  const input = h("input", { id, type: "text", class: "key-input", readonly: true, value: key, spellcheck: "false",
    autocomplete: "off", autocapitalize: "off", "aria-describedby": `${id}-status` });
  const status = h("p", { class: "field__help key-copy-status", id: `${id}-status`, role: "status" });
  const copy = h("button", { type: "button", class: "button button--small", onclick: async () => {
    input.select();
    let ok = false;
    try {
      await navigator.clipboard.writeText(key);
      ok = true;
    } catch (_) {
      try { ok = document.execCommand("copy"); } catch (__) { ok = false; }
    }
    status.textContent = ok ? "Copied. Keep it somewhere private." : "Copy did not work here: select the key and copy it by hand.";
  } }, "Copy");
  return h("div", { class: "field key-field" },
    h("label", { for: id }, "Your personal key"),
    h("div", { class: "key-row" }, input, copy),
    status);
}

/** The panel shown once, on the visit that made the key. `onDone` runs when it is dismissed. */
export function keyPanel(record, onDone) {
  const panel = h("section", { class: "panel key-panel", "aria-labelledby": "key-panel-title", id: "key-panel" },
    h("h2", { id: "key-panel-title" }, "Your personal key"),
    h("p", {}, "This is your personal key. Keep it to see your sessions on another device."),
    h("p", { class: "muted small" }, "It is shown only this once. Save it somewhere private, such as a password manager: "
      + "anyone with it can read your sessions. This browser remembers it, and My sessions lists your sessions here."),
    keyDisplay(record.key),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "button button--primary", id: "key-panel-done", onclick: () => {
        panel.remove();
        if (onDone) onDone();
      } }, "I have kept it")));
  return panel;
}

/** "Enter your key": checks the key with the server, keeps it, then `onAccepted(mySessionsBody)`. */
export function keyForm(onAccepted, { id = "enter-key", submit = "Use this key" } = {}) {
  const error = h("p", { class: "field__error", id: `${id}-error`, role: "alert", hidden: true });
  const input = h("input", { id, name: "key", type: "password", autocomplete: "current-password", spellcheck: "false",
    autocapitalize: "off", required: true, "aria-describedby": `${id}-help ${id}-error` });
  const button = h("button", { type: "submit", class: "button button--primary" }, submit);
  const fail = (text) => {
    error.textContent = text;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  };
  const form = h("form", { class: "key-form", novalidate: true },
    h("div", { class: "field" },
      h("label", { for: id }, "Personal key"),
      input,
      h("p", { class: "field__help", id: `${id}-help` },
        "The key shown when you first used Bedside. This browser keeps it until you clear its data."),
      error),
    h("div", { class: "form-actions" }, button));
  input.addEventListener("input", () => {
    error.hidden = true;
    input.removeAttribute("aria-invalid");
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return fail("Enter your personal key.");
    button.disabled = true;
    try {
      const body = await mySessions(key);
      keep({ key, learner_id: body.learner_id, shown: true });
      onAccepted(body);
    } catch (err) {
      button.disabled = false;
      fail(err instanceof ApiError && (err.status === 401 || err.status === 403)
        ? "That key was not recognised. Check it (it is case-sensitive) and try again."
        : `The server could not be reached: ${err.message}`);
    }
  });
  return form;
}
