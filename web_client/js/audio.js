// Browser audio: one AudioContext, a capture worklet for the microphone and a playback
// worklet for the patient's voice. The context must be created and resumed inside the
// click that starts the session (Safari), and is never given a sample rate (Firefox
// refuses contexts whose rate differs from the microphone's).

const WORKLET_BASE = "/static/js/worklets/";
export const CHUNK_MS = 20;

/** What this browser can do; `missing` lists the features voice mode lacks. */
export function audioSupport() {
  const missing = [];
  if (!("WebSocket" in window)) missing.push("WebSocket");
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) missing.push("Web Audio");
  if (!window.AudioWorkletNode || !(Ctx && "audioWorklet" in Ctx.prototype)) missing.push("AudioWorklet");
  const hasGum = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  if (!hasGum) missing.push("microphone access (getUserMedia)");
  return { ok: missing.length === 0, missing, insecure: !window.isSecureContext };
}

/** A learner-facing explanation for a getUserMedia / audio start-up failure. */
export function describeAudioError(err) {
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return {
      code: "mic_denied",
      title: "Microphone access is blocked",
      text: "Bedside needs your microphone to hear you. Allow microphone access for this site " +
        "(the camera or lock icon in the address bar), then press Start again. Or continue by typing.",
    };
  }
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
    return {
      code: "no_mic",
      title: "No microphone found",
      text: "Connect a microphone or headset and press Start again, or continue by typing.",
    };
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return {
      code: "mic_busy",
      title: "The microphone is in use",
      text: "Another application seems to be using the microphone. Close it and press Start again, or continue by typing.",
    };
  }
  return {
    code: "audio_failed",
    title: "Audio could not start",
    text: `The browser reported: ${(err && err.message) || name || "an unknown error"}. You can continue by typing.`,
  };
}

export class AudioEngine {
  /** Call synchronously at the top of a click handler, before any await. */
  constructor() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    this.ctx = new Ctx({ latencyHint: "interactive" });
    this.resumed = this.ctx.resume(); // inside the gesture: Safari starts suspended otherwise
    this.stream = null;
    this.capture = null;
    this.player = null;
    this.analyser = null;  // on the playback path, for playbackLevel()
    this.onChunk = null;   // (ArrayBuffer pcm16, level) => void
    this.onPlayer = null;  // ({event, turn, cleared}) => void
    this._modules = null;
  }

  _loadModules() {
    if (!this._modules) {
      this._modules = Promise.all([
        this.ctx.audioWorklet.addModule(WORKLET_BASE + "capture.js"),
        this.ctx.audioWorklet.addModule(WORKLET_BASE + "playback.js"),
      ]);
    }
    return this._modules;
  }

  /** Ask for the microphone and start capturing. Throws the getUserMedia error as is. */
  async startMicrophone() {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: { ideal: 1 } },
      video: false,
    });
    this.stream = stream;
    await this._loadModules();
    await this.resumed;
    const source = this.ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(this.ctx, "bedside-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      processorOptions: { chunkMs: CHUNK_MS },
    });
    node.port.onmessage = (e) => {
      if (this.onChunk) this.onChunk(e.data.pcm, e.data.level);
    };
    source.connect(node);
    this.capture = { source, node };
    const track = stream.getAudioTracks()[0];
    if (track) {
      track.addEventListener("ended", () => this.onTrackEnded && this.onTrackEnded());
    }
  }

  /** The playback worklet for the patient's voice (voice sessions, even without a mic). */
  async startPlayback() {
    await this._loadModules();
    const node = new AudioWorkletNode(this.ctx, "bedside-playback", {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
    });
    node.port.onmessage = (e) => this.onPlayer && this.onPlayer(e.data);
    // the voice passes through an analyser on its way out: its loudness moves the face's mouth
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.samples = new Float32Array(this.analyser.fftSize);
    node.connect(this.analyser);
    this.analyser.connect(this.ctx.destination);
    this.player = node;
  }

  /** The loudness (RMS, 0..1) of the patient's voice being played now; 0 without playback. */
  playbackLevel() {
    if (!this.analyser) return 0;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const x of this.samples) sum += x * x;
    return Math.sqrt(sum / this.samples.length);
  }

  playStart(turn, rate) { this.player && this.player.port.postMessage({ cmd: "start", turn, rate }); }
  playChunk(turn, buf) { this.player && this.player.port.postMessage({ cmd: "chunk", turn, pcm: buf }, [buf]); }
  playEnd(turn) { this.player && this.player.port.postMessage({ cmd: "end", turn }); }
  playClear(turn) { this.player && this.player.port.postMessage({ cmd: "clear", turn }); }

  async close() {
    if (this.capture) {
      this.capture.node.port.postMessage({ cmd: "stop" });
      try { this.capture.source.disconnect(); } catch (_) { /* already gone */ }
      this.capture = null;
    }
    if (this.stream) {
      for (const t of this.stream.getTracks()) t.stop();
      this.stream = null;
    }
    if (this.player) {
      this.playClear();
      try { this.player.disconnect(); } catch (_) { /* already gone */ }
      this.player = null;
      this.analyser = null;
    }
    try { await this.ctx.close(); } catch (_) { /* already closed */ }
  }
}
