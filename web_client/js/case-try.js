// "Try it": a typed conversation with the case being edited, before it is saved. The server
// builds an engine for the draft on its loaded models and stores nothing; this panel keeps
// the conversation's state and sends it back with each turn. The chat runs on a snapshot of
// the draft taken when it starts, so a reply never mixes two versions of the case.

import { cases, CaseError } from "./case-editor-api.js";
import { clear, flagWord, h, nurseWord } from "./dom.js";

function gradeLine(r) {
  const g = r.grade;
  if (!g) return null;
  const bits = [
    g.eccs === null || g.eccs === undefined ? "no empathic opportunity" : `ECCS ${g.eccs}`,
    g.nurse.length ? `NURSE: ${g.nurse.map(nurseWord).join(", ")}` : null,
    g.flags.length ? `flags: ${g.flags.map(flagWord).join(", ")}` : null,
    r.disclosed.length ? `disclosed: ${r.disclosed.join(", ")}` : null,
    `trust ${Math.round(r.feeling.trust * 100)}%`,
  ].filter(Boolean);
  return h("p", { class: "ce-try__grade" }, bits.join(" · "), g.feedback ? h("span", { class: "ce-try__feedback" }, ` ${g.feedback}`) : null);
}

/** The panel; `draft()` returns the current {data} to try. Call `stale()` when the draft changes. */
export function tryPanel(token, draft) {
  let snapshot = null;
  let state = null;
  let busy = false;
  const log = h("ol", { class: "ce-try__log", role: "log", "aria-live": "polite", "aria-label": "Conversation with the draft" });
  const note = h("p", { class: "ce-try__note", hidden: true });
  const input = h("input", { id: "ce-try-text", type: "text", autocomplete: "off", maxlength: "2000", disabled: true,
    placeholder: "Start the chat first" });
  const send = h("button", { type: "submit", class: "button button--primary button--small", disabled: true }, "Send");
  const start = h("button", { type: "button", class: "button button--small" }, "Start chat");
  const form = h("form", { class: "ce-try__form" }, h("label", { for: "ce-try-text", class: "visually-hidden" }, "What you say"), input, send);
  const panel = h("section", { class: "ce-panel ce-try", "aria-labelledby": "ce-try-title" },
    h("h2", { id: "ce-try-title" }, "Try it"),
    h("p", { class: "field__help" }, "Talk to the patient as written so far. Nothing is saved and no learner session is made."),
    start, note, log, form);

  function say(who, text, extra = null) {
    log.appendChild(h("li", { class: ["ce-try__turn", `ce-try__turn--${who}`] },
      h("span", { class: "ce-try__who" }, who === "patient" ? "Patient" : who === "you" ? "You" : "Note"), h("span", {}, text), extra));
    log.scrollTop = log.scrollHeight;
  }

  function failed(err) {
    const problems = err instanceof CaseError && err.problems.length ? ` (${err.problems.length} problem${err.problems.length === 1 ? "" : "s"}: see the list)` : "";
    say("note", `${err.message}${problems}`);
  }

  start.addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    start.disabled = true;
    snapshot = JSON.parse(JSON.stringify(draft()));
    clear(log);
    note.hidden = true;
    start.textContent = "Starting…";
    try {
      const r = await cases.tryTurn(token, snapshot, null, null);
      state = r.state;
      say("patient", r.reply);
      input.disabled = false;
      send.disabled = false;
      input.placeholder = "Type what you say to the patient";
      input.focus();
    } catch (err) {
      failed(err);
    } finally {
      start.textContent = state ? "Restart chat" : "Start chat";
      busy = false;
      start.disabled = false;
    }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || busy || !state) return;
    busy = true;
    send.disabled = true;
    input.value = "";
    say("you", text);
    try {
      const r = await cases.tryTurn(token, snapshot, state, text);
      state = r.state;
      say("patient", r.reply, gradeLine(r));
    } catch (err) {
      failed(err);
      input.value = text;
    } finally {
      busy = false;
      send.disabled = false;
      input.focus();
    }
  });

  return {
    el: panel,
    stale() {
      if (!state || !note.hidden) return;
      note.textContent = "You have edited the case since this chat started. Restart the chat to try the edits.";
      note.hidden = false;
    },
  };
}
