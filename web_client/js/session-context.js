// The consultation: the state the session page's modules share (passed to each of them), and
// its course: the brief or resume card, Start or Resume, typed turns, End, leaving the page.

import { audioSupport, describeAudioError } from "./audio.js";
import { SessionSocket } from "./connection.js";
import { randomId } from "./dom.js";
import { heldKey } from "./learner-key.js";
import { SessionEvents } from "./session-events.js";
import {
  autoGrow, buildComposer, buildPage, endingStatus, renderBrief, renderResume, unsupportedText,
} from "./session-layout.js";
import { Notices } from "./session-notices.js";
import { RetryControl } from "./session-retry.js";
import { Talk } from "./session-talk.js";
import { Transcript } from "./session-transcript.js";

export class Consultation {
  constructor(app, persona, mode, learnerId) {
    this.app = app;
    this.persona = persona;
    this.mode = mode;                 // "voice" | "text"
    this.learnerId = learnerId;
    this.sessionId = null;
    this.token = null;
    this.live = false;                // session started and not ended
    this.ending = false;
    this.offline = null;              // live and not connected: "reconnecting", or "offline" once it has given up (still probing)
    this.wasReconnecting = false;
    this.thinking = false;            // waiting for the patient's reply
    this.socket = null;
    this.startButton = null;
    this.textInput = null;
    this.transcript = new Transcript(this);
    this.talk = new Talk(this);
    this.retry = new RetryControl(this);
    this.events = new SessionEvents(this);
    this.events.listen();
    this.ui = buildPage(this);
    this.notices = new Notices(this.ui.noticeList, this.ui.connPill);
  }

  routeHooks() {
    return { canLeave: () => this.canLeave(), unmount: () => this.destroy() };
  }

  renderBrief() {
    this.startButton = renderBrief(this);
  }

  renderResume(active) {
    this.sessionId = active.session_id;
    this.token = active.token;
    this.startButton = renderResume(this, active);
  }

  // -- start / resume ------------------------------------------------------------------------

  async start() {
    this.notices.clear();
    this.startButton.disabled = true;
    if (this.mode === "voice") {
      const support = audioSupport();
      if (!support.ok) {
        this.showAudioProblem({ title: "Voice is not available in this browser", text: unsupportedText(support) });
        return;
      }
      // created and resumed here, inside the click (Safari)
      const err = await this.talk.openAudio();
      if (err) {
        this.showAudioProblem(describeAudioError(err));
        return;
      }
    }
    this.startButton.textContent = "Connecting…";
    const key = heldKey(); // the server ties the key to this name on its first session (learner-key.js)
    this.usedKey = Boolean(key);
    this.connect({ type: "session.start", persona_id: this.persona.id, learner_id: this.learnerId, mode: this.mode,
      learner_key: key ? key.key : undefined });
  }

  async resume() {
    this.notices.clear();
    this.startButton.disabled = true;
    if (this.mode === "voice" && audioSupport().ok) {
      const err = await this.talk.openAudio();
      if (err) {
        const problem = describeAudioError(err);
        this.notices.show("warn", problem.title, `${problem.text} Your session resumes with typing only.`);
      }
    }
    this.startButton.textContent = "Reconnecting…";
    this.connect({ type: "session.resume", session_id: this.sessionId, token: this.token }, true);
  }

  connect(first, resuming = false) {
    this.socket = new SessionSocket({
      onEvent: (m) => this.events.onEvent(m),
      onAudio: (buf) => this.events.onAudio(buf),
      onStatus: (s) => this.events.onStatus(s),
    });
    if (resuming) this.socket.bind(this.sessionId, this.token);
    this.socket.open(first);
  }

  showAudioProblem(problem) {
    this.startButton.disabled = false;
    this.startButton.textContent = "Try again";
    this.notices.show("error", problem.title, problem.text, [
      { label: "Continue by typing", primary: true, onClick: () => {
        this.mode = "text";
        const textRadio = this.ui.body.querySelector('input[name="mode"][value="text"]');
        if (textRadio) textRadio.checked = true;
        this.start();
      } },
    ], "audio-problem");
  }

  /** The session has started (the first `session.started`): the transcript and composer replace the brief. */
  showConversation(m) {
    const { ui, talk } = this;
    this.transcript.mount(ui.body, m.opening);
    const composer = buildComposer(this);
    this.textInput = composer.textInput;
    const retryBar = this.retry.build();
    if (retryBar) ui.composer.insertBefore(retryBar, ui.composer.querySelector(".text-form"));
    talk.attach(composer);
    talk.updateMic();
    ui.endButton.hidden = false;
    ui.page.classList.remove("session--prestart");
    this.notices.remove("audio-problem");
    ui.patient.set(m.state, true);
    (talk.talkMode === "ptt" || this.mode !== "voice" || !talk.audio ? this.textInput : talk.talkButton)?.focus();
  }

  // -- typed turns ---------------------------------------------------------------------------

  sendText() {
    const text = this.textInput.value.trim();
    if (!text || !this.live || this.ending) return;
    const cid = randomId();
    this.transcript.addPending(cid, text);
    this.textInput.value = "";
    autoGrow(this.textInput);
    // if the socket is down, the turn waits in `pending` and is sent on resume
    this.socket.send({ type: "learner.text", text, client_turn_id: cid });
    this.thinking = true;
    this.transcript.patientActivity("thinking");
    this.talk.updateMic();
  }

  /** Send again the typed turns the server has not answered (after a resume or a turn conflict). */
  resendPending() {
    for (const [cid, p] of this.transcript.pending) this.socket.send({ type: "learner.text", text: p.text, client_turn_id: cid });
  }

  // -- end -----------------------------------------------------------------------------------

  confirmEnd() {
    if (!this.live) return;
    const { dialog } = this.ui;
    if (typeof dialog.showModal === "function") dialog.showModal();
    else if (window.confirm("End this session and see your debrief?")) this.end();
  }

  end() {
    if (!this.live || this.ending) return;
    if (!this.socket.isOpen) {
      this.notices.show("warn", "Not connected", "The session will end as soon as the connection is back. Try again in a moment.");
      return;
    }
    const { ui, talk } = this;
    this.ending = true;
    ui.endButton.disabled = true;
    ui.endButton.textContent = "Ending…";
    talk.pttRelease();
    talk.closeAudio();
    talk.speakingTurns.clear();
    this.transcript.setActivity(null);
    talk.updateMic();
    ui.composer.querySelectorAll("button, textarea, input").forEach((el) => { el.disabled = true; });
    this.socket.end();
    ui.body.appendChild(endingStatus());
  }

  canLeave() {
    if (!this.live || this.ending) return true;
    return window.confirm("Leave this session? It stays open and you can return to it from the case list.");
  }

  destroy() {
    this.events.unlisten();
    this.transcript.stop();
    if (this.socket) this.socket.close();
    this.talk.closeAudio();
    this.live = false;
  }
}
