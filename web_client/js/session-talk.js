// Talking to the patient by voice: the audio engine (microphone to the socket, the patient's
// replies to the speakers), hands-free or push-to-talk, and the mic state the learner sees.

import { AudioEngine, CHUNK_MS } from "./audio.js";
import { store } from "./dom.js";

const PTT_TAIL_MS = 600;        // silence after a push-to-talk release, then learner.audio.commit ends the turn whatever the detector thinks
const TAIL_FRAMES = Math.ceil(PTT_TAIL_MS / CHUNK_MS);
const MODE_KEY = "bedside.talkmode";

export const MIC_LABELS = {
  off: "Microphone off",
  ptt_idle: "Hold Space or the button to talk",
  listening: "Listening",
  speaking: "You are speaking",
  thinking: "Patient is thinking",
  patient: "Patient is speaking",
  text: "Text only: type your replies",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

// What a screen reader hears of those: the states a learner acts on. The learner's own speech,
// "thinking" and the connection (the connection pill announces it) are left out.
const MIC_ANNOUNCED = {
  off: "Microphone off",
  ptt_idle: "Your turn: hold Space or the button to talk",
  listening: "Listening",
  patient: "Patient is speaking",
};

export class Talk {
  /** `ctx`: the consultation (mode, live, ending, offline, thinking, socket, transcript, notices). */
  constructor(ctx) {
    this.ctx = ctx;
    this.audio = null;
    this.audioTurn = null;
    this.speakingTurns = new Set();   // patient turns audible right now
    this.talkMode = store.get(MODE_KEY, localStorage) === "ptt" ? "ptt" : "handsfree";
    this.muted = false;
    this.pttHeld = false;
    this.tailFrames = 0;
    this.vadSpeaking = false;
    this.micPill = null;
    this.micAnnouncer = null;
    this.talkButton = null;
    this.level = null;
  }

  /** The composer's mic state pill and its announcer, talk button and its level bar (built by the layout). */
  attach({ micPill, micAnnouncer, talkButton, level }) {
    this.micPill = micPill;
    this.micAnnouncer = micAnnouncer;
    this.talkButton = talkButton;
    this.level = level;
  }

  // -- the audio engine --------------------------------------------------------------------

  /** Start microphone and playback (inside the learner's click, for Safari); the error, or null. */
  async openAudio() {
    this.audio = new AudioEngine();
    try {
      await this.audio.startMicrophone();
      await this.audio.startPlayback();
    } catch (err) {
      const audio = this.audio;
      this.audio = null;
      audio.close();
      return err;
    }
    this.audio.onChunk = (pcm, level) => this.onMicChunk(pcm, level);
    this.audio.onPlayer = (m) => this.onPlayer(m);
    this.audio.onTrackEnded = () => {
      this.ctx.notices.show("error", "The microphone stopped", "The microphone was disconnected or switched off. Reconnect it and reload the page to resume, or keep going by typing.");
      this.muted = true;
      this.updateMic();
    };
    return null;
  }

  closeAudio() {
    if (this.audio) {
      this.audio.close();
      this.audio = null;
    }
    this.ctx.ui?.patient.speaking(null);
  }

  /** A patient reply's audio begins; its chunks follow. */
  replyStart(turnId, sampleRate) {
    this.audioTurn = turnId;
    if (this.audio) this.audio.playStart(turnId, sampleRate);
  }

  replyChunk(buf) {
    if (this.audio && this.audioTurn !== null) this.audio.playChunk(this.audioTurn, buf);
  }

  replyEnd(turnId) {
    if (this.audio) this.audio.playEnd(turnId);
  }

  /** The connection dropped: let what arrived of the current reply play out, then finish. */
  replyCut() {
    if (this.audio && this.audioTurn !== null) this.audio.playEnd(this.audioTurn);
  }

  /** Stop a reply at once (the learner spoke over it). */
  replyClear(turnId) {
    if (this.audio) this.audio.playClear(turnId);
    this.speakingTurns.delete(turnId);
  }

  onMicChunk(pcm, level) {
    const { live, ending, socket } = this.ctx;
    if (this.level) this.level.style.setProperty("--level", Math.min(1, level * 6).toFixed(3));
    if (!live || ending || !socket || !socket.isOpen) return;
    if (this.talkMode === "handsfree") {
      if (!this.muted) socket.sendAudio(pcm);
    } else if (this.pttHeld) {
      socket.sendAudio(pcm);
    } else if (this.tailFrames > 0) {
      this.tailFrames -= 1;
      socket.sendAudio(new ArrayBuffer(pcm.byteLength)); // zeros: silence
      // a released push-to-talk is the end of the turn, even to a server that would take the
      // pause for thinking (the semantic turn detector); outside a turn it does nothing
      if (this.tailFrames === 0 && this.talkMode === "ptt") socket.send({ type: "learner.audio.commit" });
    }
  }

  onPlayer(m) {
    if (m.event === "playing") {
      this.speakingTurns.add(m.turn);
      this.ctx.transcript.markSpeaking(m.turn, true);
    } else if (m.event === "done") {
      this.speakingTurns.delete(m.turn);
      this.ctx.transcript.markSpeaking(m.turn, false);
    }
    // the face's mouth moves with the voice while a reply is heard
    this.ctx.ui.patient.speaking(this.speakingTurns.size && this.audio ? () => (this.audio ? this.audio.playbackLevel() : 0) : null);
    this.updateMic();
  }

  // -- hands-free and push-to-talk --------------------------------------------------------

  setTalkMode(mode) {
    if (mode === this.talkMode) return;
    if (this.talkMode === "handsfree" && !this.muted) this.tailFrames = TAIL_FRAMES;
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
        if (this.muted) this.tailFrames = TAIL_FRAMES;
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

  /** Space anywhere on the page (but in a text field or on another control) is push-to-talk. */
  onKeyDown(e) {
    const { live, ending, mode } = this.ctx;
    if (e.code !== "Space" && e.key !== " ") return;
    if (!live || ending || mode !== "voice" || !this.audio || this.talkMode !== "ptt") return;
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
    if (!this.ctx.live || this.ctx.ending || !this.audio) return;
    this.pttHeld = true;
    this.tailFrames = 0;
    this.updateMic();
  }

  pttRelease() {
    if (!this.pttHeld) return;
    this.pttHeld = false;
    this.tailFrames = TAIL_FRAMES;
    this.updateMic();
  }

  // -- what the learner sees ----------------------------------------------------------------

  micState() {
    const { offline, mode, thinking } = this.ctx;
    if (offline) return offline; // "reconnecting" or "offline", as the connection pill says
    if (mode !== "voice" || !this.audio) return "text";
    if (this.vadSpeaking && (this.talkMode === "handsfree" ? !this.muted : this.pttHeld || this.tailFrames > 0)) return "speaking";
    if (this.speakingTurns.size) return "patient";
    if (thinking) return "thinking";
    if (this.talkMode === "handsfree") return this.muted ? "off" : "listening";
    return this.pttHeld ? "listening" : "ptt_idle";
  }

  updateMic() {
    this.ctx.retry?.update(); // whatever moves the mic state also decides whether a turn can be taken back
    if (!this.micPill) return;
    const state = this.micState();
    if (this.micPill.dataset.state !== state) {
      this.micPill.dataset.state = state;
      this.micPill.querySelector(".mic-state__text").textContent = MIC_LABELS[state];
    }
    this.micAnnouncer?.settle(MIC_ANNOUNCED[state] ?? null);
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
