// The session page's markup: header, conversation panel and patient panel; the brief (or
// resume card) before the session; the composer (voice bar and text box); the End dialog.

import { CalmAnnouncer, liveRegion } from "./announcer.js";
import { audioSupport } from "./audio.js";
import { capitalise, clear, h, store } from "./dom.js";
import { Face } from "./face.js";
import { feelingChange, feelingNow } from "./feeling-change.js";
import { glossaryButton } from "./glossary.js";
import { ACTIVE_KEY } from "./picker.js";
import { MIC_LABELS } from "./session-talk.js";

/**
 * The page, appended to `ctx.app`. Returns the parts the other modules fill in: `body`
 * (brief, then transcript), `composer`, `endButton`, `connPill`, `noticeList`, `dialog`
 * and `patient` (the patient panel: `patient.set(state, initial)`, `patient.speaking(level or null)`).
 */
export function buildPage(ctx) {
  const p = ctx.persona;
  const patient = p.patient || {};
  const endButton = h("button", { type: "button", class: "button button--danger", hidden: true,
    onclick: () => ctx.confirmEnd() }, "End session");
  const connPill = h("span", { class: "conn-pill", role: "status", hidden: true });
  const noticeList = h("div", { class: "notices", "aria-live": "assertive" });
  const body = h("div", { class: "conversation__body" });
  const composer = h("div", { class: "composer", hidden: true });

  const trustMeter = meter("trust", "Trust", "How much the patient trusts you");
  const distressMeter = meter("distress", "Distress", "How distressed the patient is");
  const emotionEl = h("p", { class: "feeling__word", id: "patient-emotion" }, "—");
  const styleEl = h("p", { class: "feeling__style" }, "");
  const feelingRegion = liveRegion("feeling-announcer");
  const feelingAnnouncer = new CalmAnnouncer(feelingRegion);
  const face = new Face(patient);
  const page = h("div", { class: "session session--prestart" },
    h("div", { class: "session-head" },
      h("div", { class: "session-head__text" },
        h("p", { class: "eyebrow" }, "Consultation"),
        h("h1", { class: "session-head__title" }, p.title),
        h("p", { class: "session-head__sub" },
          `${patient.name}, ${patient.age} · ${capitalise(p.difficulty)} · You are signed in as `,
          h("strong", {}, ctx.learnerId))),
      h("div", { class: "session-head__actions" }, connPill, glossaryButton(), endButton)),
    h("div", { class: "session-grid" },
      h("section", { class: "conversation panel", "aria-label": "Conversation" },
        noticeList, body, composer),
      h("aside", { class: "patient-panel panel", "aria-label": "Patient" },
        h("div", { class: "patient-id" },
          face.el,
          h("div", { class: "patient-id__text" },
            h("p", { class: "patient-id__name", id: "patient-name" }, patient.name),
            h("p", { class: "patient-id__meta" }, `${patient.age} · ${capitalise(patient.gender || "")}`))),
        h("div", { class: "feeling" },
          h("p", { class: "feeling__label" }, "Feeling now"),
          emotionEl, styleEl, feelingRegion),
        trustMeter.el,
        distressMeter.el,
        h("details", { class: "patient-panel__case" },
          h("summary", {}, "Case notes"),
          h("p", {}, p.setting),
          h("h3", {}, "Learning objectives"),
          h("ul", {}, p.learning_objectives.map((o) => h("li", {}, o)))))));
  ctx.app.appendChild(page);
  const dialog = buildEndDialog(ctx);
  page.appendChild(dialog);

  let shown = null; // the state on the panel, for the meters' change since the last one
  let shownTurn; // the turn it came with
  let announcedTurn = null; // a turn's change of feeling is announced once, however often its state comes
  let prior = null; // the panel before the last state, so a turn taken back shows it exactly as it was
  const sameState = (a, b) => !!a && ["trust", "distress", "emotion", "style"].every((k) => a[k] === b[k]);
  const patientPanel = {
    set(s, initial) {
      const before = shown;
      // the same state again (a replayed turn, a reconnection) keeps the words of its turn
      const same = sameState(before, s);
      if (!initial && same && (s.turn_id === undefined || s.turn_id === shownTurn)) return;
      prior = initial ? null : { shown, shownTurn, feeling: emotionEl.textContent, stance: styleEl.textContent };
      shownTurn = s.turn_id;
      shown = { trust: s.trust, distress: s.distress, emotion: s.emotion, style: s.style };
      const now = feelingNow(initial ? null : before, shown);
      if (!initial && before && s.turn_id !== undefined && s.turn_id !== announcedTurn) {
        const words = feelingChange(patient.name || "The patient", before, s, emotionEl.textContent);
        if (words) {
          announcedTurn = s.turn_id;
          feelingAnnouncer.say(words);
        }
      }
      trustMeter.set(s.trust, initial || !before ? null : s.trust - before.trust, true);
      distressMeter.set(s.distress, initial || !before ? null : s.distress - before.distress, false);
      emotionEl.textContent = now.feeling;
      styleEl.textContent = now.stance;
      face.show(shown, initial);
    },
    /** A turn taken back: the panel as it was before that turn (its words too), when the state matches. */
    rewind(s) {
      if (!prior || !sameState(prior.shown, s)) return this.set(s, false);
      ({ shown, shownTurn } = prior);
      trustMeter.set(s.trust, null, true);
      distressMeter.set(s.distress, null, false);
      emotionEl.textContent = prior.feeling;
      styleEl.textContent = prior.stance;
      face.show(shown, false);
      prior = null;
    },
    speaking(level) {
      face.speak(level);
    },
  };
  return { page, body, composer, endButton, connPill, noticeList, dialog, patient: patientPanel };
}

/** The brief and Start; returns the Start button. Voice needs browser support, else text only. */
export function renderBrief(ctx) {
  const support = audioSupport();
  const voiceOk = support.ok;
  const voiceNote = voiceOk ? null : h("p", { class: "field__help notice notice--warn", id: "voice-unsupported", role: "note" },
    unsupportedText(support));
  if (!voiceOk) ctx.mode = "text";
  const radio = (value, title, help, disabled) => h("label", { class: ["choice", disabled && "choice--disabled"] },
    h("input", { type: "radio", name: "mode", value, checked: ctx.mode === value, disabled,
      onchange: () => { ctx.mode = value; } }),
    h("span", { class: "choice__body" },
      h("span", { class: "choice__title" }, title),
      h("span", { class: "choice__help" }, help)));
  const startButton = h("button", { type: "button", class: "button button--primary button--large", id: "start-session",
    onclick: () => ctx.start() }, "Start session");
  const brief = h("div", { class: "brief" },
    h("h2", { class: "brief__title" }, "Before you begin"),
    h("p", { class: "brief__setting" }, ctx.persona.setting),
    h("fieldset", { class: "choices" },
      h("legend", {}, "How will you talk?"),
      radio("voice", "Voice", "Speak and listen, with captions. You can also type at any time.", !voiceOk),
      radio("text", "Text only", "Type your replies. Good for noisy rooms or without a microphone.", false)),
    voiceNote,
    h("div", { class: "brief__actions" },
      startButton,
      h("a", { class: "button button--ghost", href: "#/" }, "Choose another case")),
    h("p", { class: "muted small" },
      "The patient speaks first. Respond as you would in clinic; each of your turns gets brief feedback, and the debrief comes when you press End session."));
  clear(ctx.ui.body).appendChild(brief);
  return startButton;
}

/** The card offering to resume an interrupted session; returns the Resume button. */
export function renderResume(ctx, active) {
  const startButton = h("button", { type: "button", class: "button button--primary button--large", id: "resume-session",
    onclick: () => ctx.resume() }, "Resume session");
  clear(ctx.ui.body).appendChild(h("div", { class: "brief" },
    h("h2", { class: "brief__title" }, "Your session is still open"),
    h("p", {}, `Your conversation with ${active.persona?.patient?.name || "the patient"} was interrupted. ` +
      "Resume it to carry on where you left off; nothing you said has been lost."),
    h("div", { class: "brief__actions" },
      startButton,
      h("button", { type: "button", class: "button button--ghost", onclick: () => {
        store.remove(ACTIVE_KEY);
        location.hash = "#/";
      } }, "Abandon and choose another case"))));
  return startButton;
}

function buildEndDialog(ctx) {
  const d = h("dialog", { class: "dialog", "aria-labelledby": "end-title", "aria-describedby": "end-desc" },
    h("h2", { id: "end-title" }, "End this session?"),
    h("p", { id: "end-desc" }, "The conversation closes and your debrief is prepared. You cannot add turns afterwards."),
    h("div", { class: "dialog__actions" },
      h("button", { type: "button", class: "button", onclick: () => d.close() }, "Keep talking"),
      h("button", { type: "button", class: "button button--danger", id: "confirm-end", onclick: () => {
        d.close();
        ctx.end();
      } }, "End and see debrief")));
  return d;
}

/**
 * The composer, once the session has started: the mic state, and in voice mode the talk-mode
 * switch and talk button (wired by `ctx.talk`); then the text box. Returns `{micPill, micAnnouncer,
 * talkButton, level, textInput}` (no talk button or level without voice).
 */
export function buildComposer(ctx) {
  const { composer } = ctx.ui;
  const talk = ctx.talk;
  clear(composer);
  composer.hidden = false;
  const voice = ctx.mode === "voice" && talk.audio;
  // the pill shows every state at once; screen readers hear the settled ones, from micRegion
  const micPill = h("div", { class: "mic-state", id: "mic-state", dataset: { state: "off" } },
    h("span", { class: "mic-state__dot", "aria-hidden": "true" }),
    h("span", { class: "mic-state__text" }, MIC_LABELS.off));
  const micRegion = liveRegion("mic-announcer");
  composer.appendChild(micRegion);
  let talkButton;
  let level;
  if (voice) {
    const seg = (value, label) => h("label", { class: "seg__option" },
      h("input", { type: "radio", name: "talkmode", value, checked: talk.talkMode === value,
        onchange: () => talk.setTalkMode(value) }),
      h("span", {}, label));
    talkButton = h("button", { type: "button", class: "talk-button", id: "talk-button" });
    level = h("span", { class: "talk-button__level", "aria-hidden": "true" });
    talkButton.append(level, micIcon(), h("span", { class: "talk-button__label" }));
    talk.wireTalkButton(talkButton);
    composer.appendChild(h("div", { class: "voice-bar" },
      h("div", { class: "voice-bar__status" }, micPill,
        h("fieldset", { class: "seg", id: "talk-mode" },
          h("legend", { class: "visually-hidden" }, "How the microphone listens"),
          seg("handsfree", "Hands-free"), seg("ptt", "Push to talk"))),
      talkButton));
  } else {
    composer.appendChild(h("div", { class: "voice-bar voice-bar--text" }, micPill));
  }
  const textInput = h("textarea", { id: "learner-text", rows: "1", maxlength: "4000", autocomplete: "off",
    placeholder: voice ? "Or type your reply…" : "Type what you would say…", "aria-label": "Your reply",
    "aria-describedby": "text-help" });
  textInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ctx.sendText();
    }
  });
  textInput.addEventListener("input", () => autoGrow(textInput));
  const sendButton = h("button", { type: "submit", class: "button button--primary send-button", "aria-label": "Send reply" },
    sendIcon(), h("span", { class: "send-button__text" }, "Send"));
  composer.appendChild(h("form", { class: "text-form", onsubmit: (e) => { e.preventDefault(); ctx.sendText(); } },
    textInput, sendButton,
    h("p", { id: "text-help", class: "visually-hidden" }, "Press Enter to send, Shift and Enter for a new line.")));
  return { micPill, micAnnouncer: new CalmAnnouncer(micRegion), talkButton, level, textInput };
}

/** "Preparing your debrief…", below the transcript once End is confirmed. */
export function endingStatus() {
  return h("div", { class: "ending", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }),
    "Preparing your debrief…");
}

/** Why voice is unavailable in this browser, and what to do instead. */
export function unsupportedText(support) {
  if (support.insecure) {
    return "This page is not on a secure (https) address, so the browser blocks the microphone. " +
      "Ask for the https address, or use Text only.";
  }
  return `This browser lacks ${support.missing.join(", ")}, which voice needs. ` +
    "Use a current Chrome, Edge, Firefox or Safari for voice, or choose Text only.";
}

/** Fit the text box to its text, up to 160 px. */
export function autoGrow(ta) {
  ta.style.height = "auto";
  ta.style.height = `${Math.min(ta.scrollHeight, 160)}px`;
}

// -- pieces ---------------------------------------------------------------------------------

function meter(kind, label, description) {
  const id = `${kind}-meter`;
  const fill = h("span", { class: "meter__fill" });
  const value = h("span", { class: "meter__value" }, "—");
  const delta = h("span", { class: "meter__delta", "aria-hidden": "true" });
  const bar = h("div", { class: ["meter__bar", `meter--${kind}`], id, role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
    "aria-labelledby": `${id}-label`, "aria-describedby": `${id}-desc` }, fill);
  const el = h("div", { class: "meter" },
    h("div", { class: "meter__head" },
      h("span", { class: "meter__label", id: `${id}-label` }, label),
      h("span", { class: "meter__nums" }, delta, value)),
    bar,
    h("p", { class: "visually-hidden", id: `${id}-desc` }, description));
  return {
    el,
    set(v, change, upIsGood) {
      const n = Math.round(v * 100);
      fill.style.width = `${n}%`;
      value.textContent = `${n}`;
      bar.setAttribute("aria-valuenow", String(n));
      bar.setAttribute("aria-valuetext", `${n} out of 100`);
      bar.dataset.value = v.toFixed(4);
      if (change === null || change === undefined) {
        delta.textContent = "";
        delta.className = "meter__delta";
        return;
      }
      const d = Math.round(change * 100);
      if (d === 0) {
        delta.textContent = "±0";
        delta.className = "meter__delta meter__delta--flat";
      } else {
        const good = (d > 0) === upIsGood;
        delta.textContent = `${d > 0 ? "▲" : "▼"} ${Math.abs(d)}`;
        delta.className = `meter__delta meter__delta--${good ? "good" : "bad"}`;
      }
      el.classList.remove("meter--pulse");
      void el.offsetWidth; // restart the animation
      el.classList.add("meter--pulse");
    },
  };
}

function micIcon() {
  const s = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  s.setAttribute("viewBox", "0 0 24 24");
  s.setAttribute("aria-hidden", "true");
  s.setAttribute("class", "talk-button__icon");
  s.innerHTML = '<rect x="9" y="3" width="6" height="11" rx="3" fill="currentColor"/>' +
    '<path d="M6 11a6 6 0 0 0 12 0M12 17v4M9 21h6" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>';
  return s;
}

function sendIcon() {
  const s = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  s.setAttribute("viewBox", "0 0 24 24");
  s.setAttribute("aria-hidden", "true");
  s.setAttribute("class", "send-button__icon");
  s.innerHTML = '<path d="M4 12l16-8-6 16-2.5-6.5z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>';
  return s;
}
