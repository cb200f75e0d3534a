// The session page: the case brief and Start, then the live consultation (voice and/or
// text), then End, which hands over to the debrief.

import { getPersonas, getSession } from "./api.js";
import { AudioEngine, CHUNK_MS, audioSupport, describeAudioError } from "./audio.js";
import { gradeChip } from "./chips.js";
import { SessionSocket } from "./connection.js";
import { capitalise, clear, emotionWord, h, randomId, store, styleWord, toast } from "./dom.js";
import { ACTIVE_KEY, savedLearner } from "./picker.js";
import { rememberSummary, rememberToken } from "./debrief.js";

const PTT_TAIL_MS = 600;        // silence after a push-to-talk release, so 500 ms endpointing closes the turn
const ACTIVITY_TIMEOUT_MS = 9000;
const MODE_KEY = "bedside.talkmode";

const MIC_LABELS = {
  off: "Microphone off",
  ptt_idle: "Hold Space or the button to talk",
  listening: "Listening",
  speaking: "You are speaking",
  thinking: "Patient is thinking",
  patient: "Patient is speaking",
  text: "Text only: type your replies",
  offline: "Reconnecting…",
};

export function mount(app, { personaId }) {
  const active = store.get(ACTIVE_KEY);
  if (!personaId) {
    if (!active || !active.session_id) {
      location.replace("#/");
      return null;
    }
    const c = new Consultation(app, active.persona, active.mode, active.learner_id);
    c.renderResume(active);
    return c.routeHooks();
  }
  const learner = savedLearner();
  if (!learner) {
    location.replace("#/");
    return null;
  }
  const holder = h("div", { class: "panel", role: "status" }, "Loading the case…");
  app.appendChild(holder);
  let alive = true;
  let consultation = null;
  getPersonas().then(({ personas }) => {
    if (!alive) return;
    const persona = personas.find((p) => p.id === personaId);
    holder.remove();
    if (!persona) {
      app.appendChild(h("section", { class: "panel narrow notice notice--error", role: "alert" },
        h("h1", {}, "Case not found"),
        h("p", {}, `There is no case called “${personaId}” on this server.`),
        h("a", { class: "button", href: "#/" }, "Back to the cases")));
      return;
    }
    if (active && active.session_id && active.persona?.id === persona.id) {
      consultation = new Consultation(app, active.persona, active.mode, active.learner_id);
      consultation.renderResume(active);
      return;
    }
    consultation = new Consultation(app, persona, "voice", learner);
    consultation.renderBrief();
  }).catch((err) => {
    if (!alive) return;
    holder.className = "panel notice notice--error";
    holder.setAttribute("role", "alert");
    holder.textContent = `The case could not be loaded: ${err.message}`;
  });
  return {
    canLeave: () => (consultation ? consultation.canLeave() : true),
    unmount: () => {
      alive = false;
      if (consultation) consultation.destroy();
    },
  };
}

class Consultation {
  constructor(app, persona, mode, learnerId) {
    this.app = app;
    this.persona = persona;
    this.mode = mode;                 // "voice" | "text"
    this.learnerId = learnerId;
    this.sessionId = null;
    this.token = null;
    this.live = false;                // session started and not ended
    this.ending = false;
    this.state = null;
    this.turns = new Map();           // turn_id -> {learnerRow, patientRow, grade}
    this.pending = new Map();         // client_turn_id -> {text, row}
    this.audio = null;
    this.audioTurn = null;
    this.speakingTurns = new Set();   // patient turns audible right now
    this.talkMode = store.get(MODE_KEY, localStorage) === "ptt" ? "ptt" : "handsfree";
    this.muted = false;
    this.pttHeld = false;
    this.tailFrames = 0;
    this.vadSpeaking = false;
    this.thinking = false;
    this.activityTimer = null;
    this.onKeyDown = this.onKeyDown.bind(this);
    this.onKeyUp = this.onKeyUp.bind(this);
    this.onBeforeUnload = this.onBeforeUnload.bind(this);
    this.onBlur = () => this.pttRelease();
    window.addEventListener("keydown", this.onKeyDown);
    window.addEventListener("keyup", this.onKeyUp);
    window.addEventListener("beforeunload", this.onBeforeUnload);
    window.addEventListener("blur", this.onBlur);
    this.buildLayout();
  }

  routeHooks() {
    return { canLeave: () => this.canLeave(), unmount: () => this.destroy() };
  }

  // -- layout ---------------------------------------------------------------------------

  buildLayout() {
    const p = this.persona;
    const patient = p.patient || {};
    this.endButton = h("button", { type: "button", class: "button button--danger", hidden: true,
      onclick: () => this.confirmEnd() }, "End session");
    this.connPill = h("span", { class: "conn-pill", role: "status", hidden: true });
    this.notices = h("div", { class: "notices", "aria-live": "assertive" });
    this.body = h("div", { class: "conversation__body" });
    this.composer = h("div", { class: "composer", hidden: true });

    this.trustMeter = meter("trust", "Trust", "How much the patient trusts you");
    this.distressMeter = meter("distress", "Distress", "How distressed the patient is");
    this.emotionEl = h("p", { class: "feeling__word", id: "patient-emotion" }, "—");
    this.styleEl = h("p", { class: "feeling__style" }, "");

    const initials = (patient.name || "?").replace(/^(Mr|Mrs|Ms|Miss|Dr|Mx)\.?\s+/i, "").split(/\s+/).map((w) => w[0]).slice(0, 2).join("");
    this.page = h("div", { class: "session session--prestart" },
      h("div", { class: "session-head" },
        h("div", { class: "session-head__text" },
          h("p", { class: "eyebrow" }, "Consultation"),
          h("h1", { class: "session-head__title" }, p.title),
          h("p", { class: "session-head__sub" },
            `${patient.name}, ${patient.age} · ${capitalise(p.difficulty)} · You are signed in as `,
            h("strong", {}, this.learnerId))),
        h("div", { class: "session-head__actions" }, this.connPill, this.endButton)),
      h("div", { class: "session-grid" },
        h("section", { class: "conversation panel", "aria-label": "Conversation" },
          this.notices, this.body, this.composer),
        h("aside", { class: "patient-panel panel", "aria-label": "Patient" },
          h("div", { class: "patient-id" },
            h("div", { class: "avatar", "aria-hidden": "true" }, initials),
            h("div", {},
              h("p", { class: "patient-id__name", id: "patient-name" }, patient.name),
              h("p", { class: "patient-id__meta" }, `${patient.age} · ${capitalise(patient.gender || "")}`))),
          h("div", { class: "feeling" },
            h("p", { class: "feeling__label" }, "Feeling now"),
            this.emotionEl, this.styleEl),
          this.trustMeter.el,
          this.distressMeter.el,
          h("details", { class: "patient-panel__case" },
            h("summary", {}, "Case notes"),
            h("p", {}, p.setting),
            h("h3", {}, "Learning objectives"),
            h("ul", {}, p.learning_objectives.map((o) => h("li", {}, o)))))));
    this.app.appendChild(this.page);
    this.dialog = this.buildEndDialog();
    this.page.appendChild(this.dialog);
  }

  renderBrief() {
    const support = audioSupport();
    const voiceOk = support.ok;
    const voiceNote = voiceOk ? null : h("p", { class: "field__help notice notice--warn", id: "voice-unsupported", role: "note" },
      unsupportedText(support));
    if (!voiceOk) this.mode = "text";
    const radio = (value, title, help, disabled) => h("label", { class: ["choice", disabled && "choice--disabled"] },
      h("input", { type: "radio", name: "mode", value, checked: this.mode === value, disabled,
        onchange: () => { this.mode = value; } }),
      h("span", { class: "choice__body" },
        h("span", { class: "choice__title" }, title),
        h("span", { class: "choice__help" }, help)));
    this.startButton = h("button", { type: "button", class: "button button--primary button--large", id: "start-session",
      onclick: () => this.start() }, "Start session");
    const brief = h("div", { class: "brief" },
      h("h2", { class: "brief__title" }, "Before you begin"),
      h("p", { class: "brief__setting" }, this.persona.setting),
      h("fieldset", { class: "choices" },
        h("legend", {}, "How will you talk?"),
        radio("voice", "Voice", "Speak and listen, with captions. You can also type at any time.", !voiceOk),
        radio("text", "Text only", "Type your replies. Good for noisy rooms or without a microphone.", false)),
      voiceNote,
      h("div", { class: "brief__actions" },
        this.startButton,
        h("a", { class: "button button--ghost", href: "#/" }, "Choose another case")),
      h("p", { class: "muted small" },
        "The patient speaks first. Respond as you would in clinic; each of your turns gets brief feedback, and the debrief comes when you press End session."));
    clear(this.body).appendChild(brief);
  }

  renderResume(active) {
    this.sessionId = active.session_id;
    this.token = active.token;
    this.startButton = h("button", { type: "button", class: "button button--primary button--large", id: "resume-session",
      onclick: () => this.resume() }, "Resume session");
    clear(this.body).appendChild(h("div", { class: "brief" },
      h("h2", { class: "brief__title" }, "Your session is still open"),
      h("p", {}, `Your conversation with ${active.persona?.patient?.name || "the patient"} was interrupted. ` +
        "Resume it to carry on where you left off; nothing you said has been lost."),
      h("div", { class: "brief__actions" },
        this.startButton,
        h("button", { type: "button", class: "button button--ghost", onclick: () => {
          store.remove(ACTIVE_KEY);
          location.hash = "#/";
        } }, "Abandon and choose another case"))));
  }

  buildEndDialog() {
    const d = h("dialog", { class: "dialog", "aria-labelledby": "end-title", "aria-describedby": "end-desc" },
      h("h2", { id: "end-title" }, "End this session?"),
      h("p", { id: "end-desc" }, "The conversation closes and your debrief is prepared. You cannot add turns afterwards."),
      h("div", { class: "dialog__actions" },
        h("button", { type: "button", class: "button", onclick: () => d.close() }, "Keep talking"),
        h("button", { type: "button", class: "button button--danger", id: "confirm-end", onclick: () => {
          d.close();
          this.end();
        } }, "End and see debrief")));
    return d;
  }

  buildComposer() {
    clear(this.composer);
    this.composer.hidden = false;
    const voice = this.mode === "voice" && this.audio;
    this.micPill = h("div", { class: "mic-state", id: "mic-state", role: "status", "aria-live": "polite", dataset: { state: "off" } },
      h("span", { class: "mic-state__dot", "aria-hidden": "true" }),
      h("span", { class: "mic-state__text" }, MIC_LABELS.off));
    if (voice) {
      const seg = (value, label) => h("label", { class: "seg__option" },
        h("input", { type: "radio", name: "talkmode", value, checked: this.talkMode === value,
          onchange: () => this.setTalkMode(value) }),
        h("span", {}, label));
      this.talkButton = h("button", { type: "button", class: "talk-button", id: "talk-button" });
      this.level = h("span", { class: "talk-button__level", "aria-hidden": "true" });
      this.talkButton.append(this.level, micIcon(), h("span", { class: "talk-button__label" }));
      this.wireTalkButton(this.talkButton);
      this.composer.appendChild(h("div", { class: "voice-bar" },
        h("div", { class: "voice-bar__status" }, this.micPill,
          h("fieldset", { class: "seg", id: "talk-mode" },
            h("legend", { class: "visually-hidden" }, "How the microphone listens"),
            seg("handsfree", "Hands-free"), seg("ptt", "Push to talk"))),
        this.talkButton));
    } else {
      this.composer.appendChild(h("div", { class: "voice-bar voice-bar--text" }, this.micPill));
    }
    this.textInput = h("textarea", { id: "learner-text", rows: "1", maxlength: "4000", autocomplete: "off",
      placeholder: voice ? "Or type your reply…" : "Type what you would say…", "aria-label": "Your reply",
      "aria-describedby": "text-help" });
    this.textInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.sendText();
      }
    });
    this.textInput.addEventListener("input", () => autoGrow(this.textInput));
    this.sendButton = h("button", { type: "submit", class: "button button--primary send-button", "aria-label": "Send reply" },
      sendIcon(), h("span", { class: "send-button__text" }, "Send"));
    this.composer.appendChild(h("form", { class: "text-form", onsubmit: (e) => { e.preventDefault(); this.sendText(); } },
      this.textInput, this.sendButton,
      h("p", { id: "text-help", class: "visually-hidden" }, "Press Enter to send, Shift and Enter for a new line.")));
    this.updateMic();
  }

  // -- start / resume / end ------------------------------------------------------------

  async start() {
    this.clearNotices();
    this.startButton.disabled = true;
    if (this.mode === "voice") {
      const support = audioSupport();
      if (!support.ok) {
        this.showAudioProblem({ title: "Voice is not available in this browser", text: unsupportedText(support) });
        return;
      }
      // created and resumed here, inside the click (Safari)
      this.audio = new AudioEngine();
      try {
        await this.audio.startMicrophone();
        await this.audio.startPlayback();
      } catch (err) {
        const audio = this.audio;
        this.audio = null;
        audio.close();
        this.showAudioProblem(describeAudioError(err));
        return;
      }
      this.wireAudio();
    }
    this.startButton.textContent = "Connecting…";
    this.connect({ type: "session.start", persona_id: this.persona.id, learner_id: this.learnerId, mode: this.mode });
  }

  async resume() {
    this.clearNotices();
    this.startButton.disabled = true;
    if (this.mode === "voice" && audioSupport().ok) {
      this.audio = new AudioEngine();
      try {
        await this.audio.startMicrophone();
        await this.audio.startPlayback();
        this.wireAudio();
      } catch (err) {
        const audio = this.audio;
        this.audio = null;
        audio.close();
        const problem = describeAudioError(err);
        this.notice("warn", problem.title, `${problem.text} Your session resumes with typing only.`);
      }
    }
    this.startButton.textContent = "Reconnecting…";
    this.connect({ type: "session.resume", session_id: this.sessionId, token: this.token }, true);
  }

  connect(first, resuming = false) {
    this.socket = new SessionSocket({
      onEvent: (m) => this.onEvent(m),
      onAudio: (buf) => this.onAudio(buf),
      onStatus: (s) => this.onStatus(s),
    });
    if (resuming) this.socket.bind(this.sessionId, this.token);
    this.socket.open(first);
  }

  showAudioProblem(problem) {
    this.startButton.disabled = false;
    this.startButton.textContent = "Try again";
    this.notice("error", problem.title, problem.text, [
      { label: "Continue by typing", primary: true, onClick: () => {
        this.mode = "text";
        const textRadio = this.body.querySelector('input[name="mode"][value="text"]');
        if (textRadio) textRadio.checked = true;
        this.start();
      } },
    ], "audio-problem");
  }

  wireAudio() {
    this.audio.onChunk = (pcm, level) => this.onMicChunk(pcm, level);
    this.audio.onPlayer = (m) => this.onPlayer(m);
    this.audio.onTrackEnded = () => {
      this.notice("error", "The microphone stopped", "The microphone was disconnected or switched off. Reconnect it and reload the page to resume, or keep going by typing.");
      this.muted = true;
      this.updateMic();
    };
  }

  confirmEnd() {
    if (!this.live) return;
    if (typeof this.dialog.showModal === "function") this.dialog.showModal();
    else if (window.confirm("End this session and see your debrief?")) this.end();
  }

  end() {
    if (!this.live || this.ending) return;
    if (!this.socket.isOpen) {
      this.notice("warn", "Not connected", "The session will end as soon as the connection is back. Try again in a moment.");
      return;
    }
    this.ending = true;
    this.endButton.disabled = true;
    this.endButton.textContent = "Ending…";
    this.pttRelease();
    if (this.audio) {
      this.audio.close();
      this.audio = null;
    }
    this.speakingTurns.clear();
    this.setActivity(null);
    this.updateMic();
    this.composer.querySelectorAll("button, textarea, input").forEach((el) => { el.disabled = true; });
    this.socket.end();
    this.body.appendChild(h("div", { class: "ending", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }),
      "Preparing your debrief…"));
  }

  canLeave() {
    if (!this.live || this.ending) return true;
    return window.confirm("Leave this session? It stays open and you can return to it from the case list.");
  }

  destroy() {
    window.removeEventListener("keydown", this.onKeyDown);
    window.removeEventListener("keyup", this.onKeyUp);
    window.removeEventListener("beforeunload", this.onBeforeUnload);
    window.removeEventListener("blur", this.onBlur);
    clearTimeout(this.activityTimer);
    if (this.socket) this.socket.close();
    if (this.audio) this.audio.close();
    this.audio = null;
    this.live = false;
  }

  onBeforeUnload(e) {
    if (this.live && !this.ending) {
      e.preventDefault();
      e.returnValue = "";
    }
  }

  // -- server events ---------------------------------------------------------------------

  onStatus(s) {
    const pill = this.connPill;
    this.offline = this.live && (s.state === "reconnecting" || s.state === "failed");
    this.updateMic();
    if (s.state === "open") {
      if (this.wasReconnecting) toast("Reconnected", "success");
      this.wasReconnecting = false;
      pill.hidden = true;
      this.removeNotice("conn");
    } else if (s.state === "reconnecting" && this.live) {
      this.wasReconnecting = true;
      pill.hidden = false;
      pill.dataset.state = "warn";
      const secs = s.delayMs ? Math.max(1, Math.round(s.delayMs / 1000)) : 0;
      pill.textContent = secs ? `Reconnecting in ${secs} s…` : "Reconnecting…";
      this.notice("warn", "Connection lost", "Trying to reconnect. Your session is saved; carry on once it is back.", [], "conn");
      this.setActivity(null);
      // the reply being streamed stops with the socket: let what arrived play out, then finish
      if (this.audio && this.audioTurn !== null) this.audio.playEnd(this.audioTurn);
      this.vadSpeaking = false;
      this.updateMic();
    } else if (s.state === "failed") {
      pill.hidden = false;
      pill.dataset.state = "error";
      pill.textContent = "Offline";
      if (s.reason === "connect" && !this.live) {
        this.startButton.disabled = false;
        this.startButton.textContent = "Try again";
        this.notice("error", "Could not reach the server", "Check your connection, then press Try again.", [], "conn");
        if (this.audio) { this.audio.close(); this.audio = null; }
      } else {
        this.notice("error", "Still offline", "Your session is saved on the server.", [
          { label: "Try again", primary: true, onClick: () => this.socket.retryNow() }], "conn");
      }
    }
  }

  onEvent(m) {
    switch (m.type) {
      case "session.started": return this.onStarted(m);
      case "grade.turn": return this.onGrade(m);
      case "state.update": return this.onState(m);
      case "patient.text": return this.onPatientText(m);
      case "session.summary": return this.onSummary(m);
      case "error": return this.onError(m);
      case "vad.speech_started":
        this.vadSpeaking = true;
        this.setActivity("learner", "Listening…");
        return this.updateMic();
      case "vad.speech_stopped":
        this.vadSpeaking = false;
        this.setActivity("learner", "Transcribing…", ACTIVITY_TIMEOUT_MS);
        return this.updateMic();
      case "vad.discarded":
        this.setActivity(null);
        toast("No words were recognised; try again a little closer to the microphone.", "info", 3000);
        return this.updateMic();
      case "learner.transcript":
        this.turn(m.turn_id, m.text);
        this.thinking = true;
        this.setActivity("patient", `${this.shortName()} is thinking…`, ACTIVITY_TIMEOUT_MS);
        return this.updateMic();
      case "patient.audio.start":
        this.audioTurn = m.turn_id;
        if (this.audio) this.audio.playStart(m.turn_id, m.sample_rate);
        if (this.thinking) {
          // a model realiser speaks while it still generates; its words (patient.text) follow
          this.thinking = false;
          this.setActivity("patient", `${this.shortName()} is speaking…`, ACTIVITY_TIMEOUT_MS);
          this.updateMic();
        }
        return undefined;
      case "patient.audio.end":
        if (this.audio) this.audio.playEnd(m.turn_id);
        if (m.interrupted) this.markInterrupted(m.turn_id);
        return undefined;
      case "playback.clear":
        if (this.audio) this.audio.playClear(m.turn_id);
        this.speakingTurns.delete(m.turn_id);
        this.markInterrupted(m.turn_id);
        return this.updateMic();
      default:
        return undefined; // metrics.turn and anything new: not shown
    }
  }

  onAudio(buf) {
    if (this.audio && this.audioTurn !== null) this.audio.playChunk(this.audioTurn, buf);
  }

  onStarted(m) {
    const firstStart = !this.live;
    this.sessionId = m.session_id;
    this.token = m.token;
    this.persona = m.persona;
    this.socket.bind(m.session_id, m.token);
    rememberToken(m.session_id, m.token);
    store.set(ACTIVE_KEY, { session_id: m.session_id, token: m.token, persona: m.persona, mode: this.mode,
      learner_id: this.learnerId });
    this.live = true;
    // for tests and support: simulate a dropped network connection
    window.__bedsideDropConnection = () => this.socket && this.socket.dropForTest();
    if (firstStart) {
      this.transcript = h("ol", { class: "transcript", id: "transcript", "aria-label": "Transcript", "aria-live": "polite",
        "aria-relevant": "additions" });
      this.activity = h("li", { class: "activity", hidden: true, "aria-hidden": "true" });
      clear(this.body).appendChild(this.transcript);
      this.transcript.appendChild(this.activity);
      this.addRow(patientRow(this.persona.patient.name, m.opening, "opening"));
      this.buildComposer();
      this.endButton.hidden = false;
      this.page.classList.remove("session--prestart");
      this.removeNotice("audio-problem");
      this.setState(m.state, true);
      (this.talkMode === "ptt" || this.mode !== "voice" || !this.audio ? this.textInput : this.talkButton)?.focus();
    } else {
      this.setState(m.state, false);
    }
    if (m.resumed) this.mergeResumed(m.turns || []);
    if (this.ending) this.socket.end(); // the connection dropped between End and the summary
  }

  mergeResumed(turns) {
    for (const t of turns) {
      this.turn(t.turn_id, t.learner_text);
      this.patientReply(t.turn_id, t.patient_text);
    }
    // a typed turn whose answer never came back: send it again; the server replays it if stored
    for (const [cid, p] of this.pending) this.socket.send({ type: "learner.text", text: p.text, client_turn_id: cid });
    this.backfillGrades();
  }

  async backfillGrades() {
    const missing = [...this.turns.entries()].filter(([, t]) => !t.grade).map(([id]) => id);
    if (!missing.length) return;
    try {
      const detail = await getSession(this.sessionId, this.token);
      for (const t of detail.turns) {
        const view = this.turns.get(t.turn_id);
        if (view && !view.grade) this.attachGrade(view, t.grade);
        if (t.interrupted) this.markInterrupted(t.turn_id);
      }
    } catch (_) { /* grades come back in the debrief anyway */ }
  }

  onGrade(m) {
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
    if (!view.grade) this.attachGrade(view, m.grade);
  }

  onState(m) {
    this.setState(m, false);
  }

  onPatientText(m) {
    this.thinking = false;
    this.setActivity(null);
    this.patientReply(m.turn_id, m.text);
    this.updateMic();
  }

  onSummary(m) {
    this.live = false;
    store.remove(ACTIVE_KEY);
    rememberSummary(m.session_id, m.summary);
    this.socket.close();
    location.hash = `#/debrief/${encodeURIComponent(m.session_id)}`;
  }

  onError(m) {
    const code = m.code;
    if (code === "session_ended") {
      store.remove(ACTIVE_KEY);
      this.live = false;
      this.socket.close();
      location.hash = `#/debrief/${encodeURIComponent(this.sessionId)}`;
      return;
    }
    if (code === "unknown_session" || code === "bad_token") {
      store.remove(ACTIVE_KEY);
      this.live = false;
      this.socket.close();
      this.notice("error", "This session cannot be resumed", m.message, [
        { label: "Choose a case", primary: true, onClick: () => { location.hash = "#/"; } }]);
      return;
    }
    if (code === "session_taken_over") {
      this.notice("warn", "This session continued in another tab", m.message, [
        { label: "Continue here", primary: true, onClick: () => { this.removeNotice("takeover"); this.socket.retryNow(); } }], "takeover");
      return;
    }
    if (!this.live && this.startButton) {
      this.startButton.disabled = false;
      this.startButton.textContent = "Try again";
      if (this.audio) { this.audio.close(); this.audio = null; }
      this.socket.close();
    }
    // a typed turn the server refused: take it out of the transcript and give the words back
    if ((code === "text_too_long" || code === "empty_turn") && this.pending.size) {
      const [cid, p] = this.pending.entries().next().value;
      this.pending.delete(cid);
      p.row.remove();
      if (this.textInput && !this.textInput.value) {
        this.textInput.value = p.text;
        autoGrow(this.textInput);
      }
      this.setActivity(null);
      this.updateMic();
    }
    if (code === "turn_conflict") {
      for (const [cid, p] of this.pending) this.socket.send({ type: "learner.text", text: p.text, client_turn_id: cid });
    }
    if (code === "asr_failed" || code === "turn_too_long" || code === "audio_timeout") this.setActivity(null);
    this.notice(code === "turn_too_long" || code === "audio_timeout" ? "warn" : "error", errorTitle(code), m.message);
  }

  // -- transcript ------------------------------------------------------------------------

  addRow(row) {
    const nearBottom = this.isNearBottom();
    this.transcript.insertBefore(row, this.activity);
    if (nearBottom) this.scrollToEnd();
  }

  isNearBottom() {
    const el = this.scroller();
    return el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  }

  scroller() {
    // desktop: the transcript scrolls inside its panel; phone: the page scrolls
    const t = this.transcript;
    return t && t.scrollHeight > t.clientHeight + 1 && getComputedStyle(t).overflowY !== "visible" ? t : document.scrollingElement;
  }

  scrollToEnd() {
    requestAnimationFrame(() => {
      const t = this.transcript;
      if (!t) return;
      t.scrollTop = t.scrollHeight;
      const last = this.activity.hidden ? this.activity.previousElementSibling : this.activity;
      if (last && getComputedStyle(t).overflowY === "visible") last.scrollIntoView({ block: "nearest" });
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
    view.patientRow = patientRow(this.persona.patient.name, text, turnId);
    if (view.interrupted) view.patientRow.classList.add("turn--interrupted");
    this.addRow(view.patientRow);
    if (view.interrupted) addInterruptedBadge(view.patientRow);
  }

  attachGrade(view, grade) {
    view.grade = grade;
    view.learnerRow.querySelector(".turn__foot").appendChild(gradeChip(grade));
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

  sendText() {
    const text = this.textInput.value.trim();
    if (!text || !this.live || this.ending) return;
    const cid = randomId();
    const row = learnerRow(text);
    row.classList.add("turn--pending");
    row.querySelector(".turn__foot").appendChild(h("span", { class: "turn__status" }, "Sending…"));
    this.pending.set(cid, { text, row });
    this.addRow(row);
    this.scrollToEnd();
    this.textInput.value = "";
    autoGrow(this.textInput);
    // if the socket is down, the turn waits in `pending` and is sent on resume
    this.socket.send({ type: "learner.text", text, client_turn_id: cid });
    this.thinking = true;
    this.setActivity("patient", `${this.shortName()} is thinking…`, ACTIVITY_TIMEOUT_MS);
    this.updateMic();
  }

  setActivity(kind, text, timeoutMs) {
    clearTimeout(this.activityTimer);
    if (!this.activity) return;
    if (!kind) {
      this.activity.hidden = true;
      this.thinking = false;
      return;
    }
    this.activity.hidden = false;
    this.activity.className = `activity activity--${kind}`;
    clear(this.activity).append(h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), text);
    if (this.isNearBottom()) this.scrollToEnd();
    if (timeoutMs) this.activityTimer = setTimeout(() => { this.setActivity(null); this.updateMic(); }, timeoutMs);
  }

  shortName() {
    const name = this.persona?.patient?.name || "The patient";
    return name;
  }

  // -- patient panel ---------------------------------------------------------------------

  setState(s, initial) {
    const before = this.state;
    this.state = { trust: s.trust, distress: s.distress, emotion: s.emotion, style: s.style };
    this.trustMeter.set(s.trust, initial || !before ? null : s.trust - before.trust, true);
    this.distressMeter.set(s.distress, initial || !before ? null : s.distress - before.distress, false);
    this.emotionEl.textContent = emotionWord(s.emotion);
    this.styleEl.textContent = styleWord(s.style);
  }

  // -- microphone --------------------------------------------------------------------------

  onMicChunk(pcm, level) {
    if (this.level) this.level.style.setProperty("--level", Math.min(1, level * 6).toFixed(3));
    if (!this.live || this.ending || !this.socket || !this.socket.isOpen) return;
    if (this.talkMode === "handsfree") {
      if (!this.muted) this.socket.sendAudio(pcm);
    } else if (this.pttHeld) {
      this.socket.sendAudio(pcm);
    } else if (this.tailFrames > 0) {
      this.tailFrames -= 1;
      this.socket.sendAudio(new ArrayBuffer(pcm.byteLength)); // zeros: silence
    }
  }

  onPlayer(m) {
    if (m.event === "playing") {
      this.speakingTurns.add(m.turn);
      this.turns.get(m.turn)?.patientRow?.classList.add("turn--speaking", "turn--heard");
    } else if (m.event === "done") {
      this.speakingTurns.delete(m.turn);
      this.turns.get(m.turn)?.patientRow?.classList.remove("turn--speaking");
    }
    this.updateMic();
  }

  setTalkMode(mode) {
    if (mode === this.talkMode) return;
    if (this.talkMode === "handsfree" && !this.muted) this.tailFrames = Math.ceil(PTT_TAIL_MS / CHUNK_MS);
    this.talkMode = mode;
    this.pttHeld = false;
    this.muted = false;
    store.set(MODE_KEY, mode, localStorage);
    this.updateMic();
  }

  wireTalkButton(btn) {
    btn.addEventListener("pointerdown", (e) => {
      if (this.talkMode !== "ptt" || e.button > 0) return;
      e.preventDefault();
      btn.setPointerCapture?.(e.pointerId);
      btn.focus();
      this.pttPress();
    });
    const up = () => { if (this.talkMode === "ptt") this.pttRelease(); };
    btn.addEventListener("pointerup", up);
    btn.addEventListener("pointercancel", up);
    btn.addEventListener("lostpointercapture", up);
    btn.addEventListener("contextmenu", (e) => { if (this.talkMode === "ptt") e.preventDefault(); });
    btn.addEventListener("click", (e) => {
      if (this.talkMode === "handsfree") {
        this.muted = !this.muted;
        if (this.muted) this.tailFrames = Math.ceil(PTT_TAIL_MS / CHUNK_MS);
        this.updateMic();
      } else {
        e.preventDefault();
      }
    });
    btn.addEventListener("keydown", (e) => {
      if (this.talkMode === "ptt" && (e.key === "Enter") && !e.repeat) {
        e.preventDefault();
        this.pttPress();
      }
    });
    btn.addEventListener("keyup", (e) => {
      if (this.talkMode === "ptt" && e.key === "Enter") {
        e.preventDefault();
        this.pttRelease();
      }
    });
  }

  onKeyDown(e) {
    if (e.code !== "Space" && e.key !== " ") return;
    if (!this.live || this.ending || this.mode !== "voice" || !this.audio || this.talkMode !== "ptt") return;
    if (!spaceIsOurs(e.target, this.talkButton)) return;
    e.preventDefault();
    if (!e.repeat) this.pttPress();
  }

  onKeyUp(e) {
    if (e.code !== "Space" && e.key !== " ") return;
    if (!this.pttHeld) return;
    e.preventDefault();
    this.pttRelease();
  }

  pttPress() {
    if (!this.live || this.ending || !this.audio) return;
    this.pttHeld = true;
    this.tailFrames = 0;
    this.updateMic();
  }

  pttRelease() {
    if (!this.pttHeld) return;
    this.pttHeld = false;
    this.tailFrames = Math.ceil(PTT_TAIL_MS / CHUNK_MS);
    this.updateMic();
  }

  micState() {
    if (this.offline) return "offline";
    if (this.mode !== "voice" || !this.audio) return "text";
    if (this.vadSpeaking && (this.talkMode === "handsfree" ? !this.muted : this.pttHeld || this.tailFrames > 0)) return "speaking";
    if (this.speakingTurns.size) return "patient";
    if (this.thinking) return "thinking";
    if (this.talkMode === "handsfree") return this.muted ? "off" : "listening";
    return this.pttHeld ? "listening" : "ptt_idle";
  }

  updateMic() {
    if (!this.micPill) return;
    const state = this.micState();
    if (this.micPill.dataset.state !== state) {
      this.micPill.dataset.state = state;
      this.micPill.querySelector(".mic-state__text").textContent = MIC_LABELS[state];
    }
    const b = this.talkButton;
    if (!b) return;
    const label = b.querySelector(".talk-button__label");
    b.dataset.mode = this.talkMode;
    if (this.talkMode === "handsfree") {
      b.setAttribute("aria-label", this.muted ? "Unmute microphone" : "Mute microphone");
      label.textContent = this.muted ? "Unmute" : "Mute";
      b.classList.toggle("talk-button--live", !this.muted);
    } else {
      b.setAttribute("aria-label", this.pttHeld ? "Talking. Release to send" : "Hold to talk (or hold Space)");
      label.textContent = this.pttHeld ? "Release to send" : "Hold to talk";
      b.classList.toggle("talk-button--live", this.pttHeld);
    }
  }

  // -- notices -----------------------------------------------------------------------------

  notice(kind, title, text, actions = [], key = null) {
    if (key) this.removeNotice(key);
    const el = h("div", { class: ["notice", `notice--${kind}`], role: kind === "error" ? "alert" : "status",
      dataset: key ? { key } : {} },
    h("div", { class: "notice__text" }, h("strong", {}, title), h("span", {}, ` ${text}`)),
    h("div", { class: "notice__actions" },
      actions.map((a) => h("button", { type: "button", class: ["button", "button--small", a.primary && "button--primary"],
        onclick: () => { el.remove(); a.onClick(); } }, a.label)),
      h("button", { type: "button", class: "notice__close", "aria-label": "Dismiss", onclick: () => el.remove() }, "×")));
    this.notices.appendChild(el);
    while (this.notices.children.length > 3) this.notices.firstElementChild.remove();
    return el;
  }

  removeNotice(key) {
    this.notices.querySelectorAll(`[data-key="${key}"]`).forEach((n) => n.remove());
  }

  clearNotices() {
    clear(this.notices);
  }
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

function addInterruptedBadge(row) {
  if (row.querySelector(".badge--interrupted")) return;
  row.querySelector(".turn__foot").appendChild(
    h("span", { class: "badge badge--interrupted", title: "You spoke over the patient, so the rest of this reply was not heard" },
      "Interrupted"));
}

function unsupportedText(support) {
  if (support.insecure) {
    return "This page is not on a secure (https) address, so the browser blocks the microphone. " +
      "Ask for the https address, or use Text only.";
  }
  return `This browser lacks ${support.missing.join(", ")}, which voice needs. ` +
    "Use a current Chrome, Edge, Firefox or Safari for voice, or choose Text only.";
}

function errorTitle(code) {
  return ({
    asr_failed: "We could not make out that turn.",
    turn_too_long: "That turn was very long.",
    audio_timeout: "The microphone went quiet mid-turn.",
    empty_turn: "Nothing to send.",
    text_too_long: "That message is too long.",
    unknown_persona: "This case is not available.",
    internal_error: "Something went wrong on the server.",
    no_session: "The session is not running.",
  })[code] || "The server reported a problem.";
}

function spaceIsOurs(target, talkButton) {
  if (!target || target === document.body || target === talkButton) return true;
  if (target.isContentEditable) return false;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return false;
  if (tag === "INPUT") return target.type === "radio" || target.type === "checkbox" ? target.name === "talkmode" : false;
  if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY") return false;
  return true;
}

function autoGrow(ta) {
  ta.style.height = "auto";
  ta.style.height = `${Math.min(ta.scrollHeight, 160)}px`;
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
