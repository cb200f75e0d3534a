// What happens to a running session, routed to the parts of the page: the server's messages
// and connection changes, and the window's keys (push-to-talk), blur and unload.

import { store } from "./dom.js";
import { rememberSummary, rememberToken } from "./debrief.js";
import { tieKey } from "./learner-key.js";
import { ACTIVE_KEY } from "./picker.js";
import { autoGrow } from "./session-layout.js";
import { errorTitle } from "./session-notices.js";
import { ACTIVITY_TIMEOUT_MS } from "./session-transcript.js";

export class SessionEvents {
  /** `ctx`: the consultation, with its `transcript`, `talk` and `notices`. */
  constructor(ctx) {
    this.ctx = ctx;
    this.onKeyDown = (e) => ctx.talk.onKeyDown(e);
    this.onKeyUp = (e) => ctx.talk.onKeyUp(e);
    this.onBlur = () => ctx.talk.pttRelease();
    this.onBeforeUnload = (e) => {
      if (ctx.live && !ctx.ending) {
        e.preventDefault();
        e.returnValue = "";
      }
    };
  }

  // -- the window ----------------------------------------------------------------------------

  listen() {
    window.addEventListener("keydown", this.onKeyDown);
    window.addEventListener("keyup", this.onKeyUp);
    window.addEventListener("beforeunload", this.onBeforeUnload);
    window.addEventListener("blur", this.onBlur);
  }

  unlisten() {
    window.removeEventListener("keydown", this.onKeyDown);
    window.removeEventListener("keyup", this.onKeyUp);
    window.removeEventListener("beforeunload", this.onBeforeUnload);
    window.removeEventListener("blur", this.onBlur);
  }

  // -- the socket ----------------------------------------------------------------------------

  onStatus(s) {
    const { ctx } = this;
    const { notices, talk } = ctx;
    // one connection state for every status text: the pill, the notice and the mic state
    const wasOffline = ctx.offline === "offline";
    if (s.state === "open" || s.state === "closed" || !ctx.live) ctx.offline = null;
    else if (s.state === "reconnecting") ctx.offline = "reconnecting";
    else if (s.state === "failed" || s.state === "probing") ctx.offline = "offline";
    talk.updateMic();
    if (s.state === "open") {
      if (ctx.wasReconnecting) notices.toast("Reconnected", "success");
      ctx.wasReconnecting = false;
      notices.connection(null);
      notices.remove("conn");
    } else if (s.state === "reconnecting" && ctx.live) {
      ctx.wasReconnecting = true;
      const secs = s.delayMs ? Math.max(1, Math.round(s.delayMs / 1000)) : 0;
      notices.connection("warn", secs ? `Reconnecting in ${secs} s…` : "Reconnecting…");
      notices.show("warn", "Connection lost", "Trying to reconnect. Your session is saved; carry on once it is back.", [], "conn");
      ctx.transcript.setActivity(null);
      // the reply being streamed stops with the socket: let what arrived play out, then finish
      talk.replyCut();
      talk.vadSpeaking = false;
      talk.updateMic();
    } else if (s.state === "probing" && ctx.live) {
      notices.connection("error", "Offline · checking…");
    } else if (s.state === "failed") {
      const secs = s.nextProbeMs ? Math.max(1, Math.round(s.nextProbeMs / 1000)) : 0;
      notices.connection("error", secs ? `Offline · checking again in ${secs} s` : "Offline");
      if (s.reason === "connect" && !ctx.live) {
        ctx.startButton.disabled = false;
        ctx.startButton.textContent = "Try again";
        notices.show("error", "Could not reach the server", "Check your connection, then press Try again.", [], "conn");
        talk.closeAudio();
      } else if (!wasOffline) { // once: the quiet probes that follow do not repeat it
        notices.show("error", "Still offline", "Your session is saved on the server. We keep checking, and reconnect as soon as it is back.", [
          { label: "Try again", primary: true, onClick: () => ctx.socket.retryNow() }], "conn");
      }
    }
  }

  onAudio(buf) {
    this.ctx.talk.replyChunk(buf);
  }

  onEvent(m) {
    const { talk, transcript } = this.ctx;
    switch (m.type) {
      case "session.started": return this.onStarted(m);
      case "grade.turn": return transcript.addGrade(m);
      case "state.update": return this.ctx.ui.patient.set(m, false);
      case "patient.text": return this.onPatientText(m);
      case "turn.rewound": return this.ctx.retry.onRewound(m);
      case "session.summary": return this.onSummary(m);
      case "error": return this.onError(m);
      case "vad.speech_started":
        talk.vadSpeaking = true;
        transcript.setActivity("learner", "Listening…");
        return talk.updateMic();
      case "vad.pause":
        // the semantic turn detector is listening through a pause: "Listening", not "speaking"
        talk.vadSpeaking = !m.waiting;
        return talk.updateMic();
      case "vad.speech_stopped":
        talk.vadSpeaking = false;
        transcript.setActivity("learner", "Transcribing…", ACTIVITY_TIMEOUT_MS);
        return talk.updateMic();
      case "vad.discarded":
        transcript.setActivity(null);
        this.ctx.notices.toast("No words were recognised; try again a little closer to the microphone.", "info", 3000);
        return talk.updateMic();
      case "learner.transcript":
        transcript.turn(m.turn_id, m.text);
        this.ctx.thinking = true;
        transcript.patientActivity("thinking");
        return talk.updateMic();
      case "patient.audio.start":
        talk.replyStart(m.turn_id, m.sample_rate);
        if (this.ctx.thinking) {
          // a model realiser speaks while it still generates; its words (patient.text) follow
          this.ctx.thinking = false;
          transcript.patientActivity("speaking");
          talk.updateMic();
        }
        return undefined;
      case "patient.audio.end":
        talk.replyEnd(m.turn_id);
        if (m.interrupted) transcript.markInterrupted(m.turn_id);
        return undefined;
      case "playback.clear":
        talk.replyClear(m.turn_id);
        transcript.markInterrupted(m.turn_id);
        return talk.updateMic();
      default:
        return undefined; // metrics.turn and anything new: not shown
    }
  }

  // -- server events ---------------------------------------------------------------------------

  onStarted(m) {
    const { ctx } = this;
    const firstStart = !ctx.live;
    ctx.sessionId = m.session_id;
    ctx.token = m.token;
    ctx.persona = m.persona;
    ctx.socket.bind(m.session_id, m.token);
    rememberToken(m.session_id, m.token);
    store.set(ACTIVE_KEY, { session_id: m.session_id, token: m.token, persona: m.persona, mode: ctx.mode,
      learner_id: ctx.learnerId });
    if (!m.resumed && ctx.usedKey) tieKey(ctx.learnerId);
    ctx.live = true;
    // for tests and support: simulate a dropped network connection
    window.__bedsideDropConnection = () => ctx.socket && ctx.socket.dropForTest();
    if (firstStart) ctx.showConversation(m);
    else ctx.ui.patient.set(m.state, false);
    if (m.resumed) {
      ctx.transcript.addResumed(m.turns || []);
      ctx.retry.reset();
      // a typed turn whose answer never came back: send it again; the server replays it if stored
      ctx.resendPending();
      ctx.transcript.backfillGrades(ctx.sessionId, ctx.token);
    }
    if (ctx.ending) ctx.socket.end(); // the connection dropped between End and the summary
  }

  onPatientText(m) {
    const { transcript } = this.ctx;
    this.ctx.thinking = false;
    transcript.setActivity(null);
    transcript.patientReply(m.turn_id, m.text);
    this.ctx.talk.updateMic();
  }

  onSummary(m) {
    const { ctx } = this;
    ctx.live = false;
    store.remove(ACTIVE_KEY);
    rememberSummary(m.session_id, m.summary);
    ctx.socket.close();
    location.hash = `#/debrief/${encodeURIComponent(m.session_id)}`;
  }

  onError(m) {
    const { ctx } = this;
    const { notices, talk, transcript } = ctx;
    const code = m.code;
    if (code === "session_ended") {
      store.remove(ACTIVE_KEY);
      ctx.live = false;
      ctx.socket.close();
      location.hash = `#/debrief/${encodeURIComponent(ctx.sessionId)}`;
      return;
    }
    if (code === "unknown_session" || code === "bad_token") {
      store.remove(ACTIVE_KEY);
      ctx.live = false;
      ctx.socket.close();
      notices.show("error", "This session cannot be resumed", m.message, [
        { label: "Choose a case", primary: true, onClick: () => { location.hash = "#/"; } }]);
      return;
    }
    if (code === "session_taken_over") {
      notices.show("warn", "This session continued in another tab", m.message, [
        { label: "Continue here", primary: true, onClick: () => { notices.remove("takeover"); ctx.socket.retryNow(); } }], "takeover");
      return;
    }
    if (!ctx.live && ctx.startButton) {
      ctx.startButton.disabled = false;
      ctx.startButton.textContent = "Try again";
      talk.closeAudio();
      ctx.socket.close();
    }
    // a typed turn the server refused: take it out of the transcript and give the words back
    if ((code === "text_too_long" || code === "empty_turn") && transcript.pending.size) {
      const text = transcript.takeBackPending();
      const box = ctx.textInput;
      if (box && !box.value) {
        box.value = text;
        autoGrow(box);
      }
      transcript.setActivity(null);
      talk.updateMic();
    }
    if (code === "learner_id_taken" || code === "bad_learner_key" || code === "learner_key_mismatch") {
      notices.show("error", errorTitle(code), keyProblem(code, ctx.learnerId), [
        { label: "Enter your key", primary: true, onClick: () => { location.hash = "#/me"; } }], "learner-key");
      return;
    }
    if (code === "turn_conflict") ctx.resendPending();
    if (code.startsWith("retry_")) ctx.retry.reset();
    if (code === "asr_failed" || code === "turn_too_long" || code === "audio_timeout") transcript.setActivity(null);
    notices.show(code === "turn_too_long" || code === "audio_timeout" ? "warn" : "error", errorTitle(code), m.message);
  }
}

/** What a learner can do about a refused personal key or name (the server's message names protocol fields). */
function keyProblem(code, name) {
  if (code === "learner_id_taken") {
    return `“${name}” belongs to another learner’s personal key. If it is yours, enter your key under My sessions; `
      + "if not, go back to the cases and use another name.";
  }
  if (code === "learner_key_mismatch") {
    return "The personal key in this browser belongs to another name. Enter the key for this name under My sessions.";
  }
  return "This server does not know the personal key saved in this browser. Enter your key under My sessions.";
}
