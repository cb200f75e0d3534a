// Microphone capture on the audio thread.
//
// Input: whatever rate the AudioContext runs at (44.1 or 48 kHz usually; we never force
// it). Output to the main thread: Int16Array chunks of 16 kHz mono PCM, `chunkMs` long,
// plus the chunk's RMS level for the on-screen meter.
//
// Steps per render quantum: mix the channels down to mono, low-pass below the new
// Nyquist (two cascaded 2nd-order Butterworth sections, i.e. 4th order), then resample
// by linear interpolation. The filter keeps energy above 8 kHz from folding back into
// the speech band when we drop to 16 kHz.

const TARGET_RATE = 16000;

// Biquad low-pass coefficients after the Audio EQ Cookbook (R. Bristow-Johnson).
function lowpass(cutoff, rate, q) {
  const w = (2 * Math.PI * cutoff) / rate;
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return {
    b0: (1 - cos) / 2 / a0,
    b1: (1 - cos) / a0,
    b2: (1 - cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
  };
}

class Section {
  constructor(c) {
    this.c = c;
    this.x1 = this.x2 = this.y1 = this.y2 = 0;
  }
  run(buf) {
    const { b0, b1, b2, a1, a2 } = this.c;
    let { x1, x2, y1, y2 } = this;
    for (let i = 0; i < buf.length; i++) {
      const x = buf[i];
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1; x1 = x; y2 = y1; y1 = y;
      buf[i] = y;
    }
    // keep denormals away on long silences
    this.x1 = x1; this.x2 = x2;
    this.y1 = Math.abs(y1) < 1e-20 ? 0 : y1;
    this.y2 = Math.abs(y2) < 1e-20 ? 0 : y2;
  }
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    const chunkMs = opts.chunkMs || 20;
    this.step = sampleRate / TARGET_RATE;          // input samples per output sample
    this.chunk = new Int16Array((TARGET_RATE * chunkMs) / 1000);
    this.filled = 0;
    this.energy = 0;
    this.pos = 0;       // where the next output sample sits, in input samples from this block's start
    this.last = 0;      // last filtered input sample of the previous block (position -1)
    this.mono = new Float32Array(128);
    this.sections = [];
    if (sampleRate > TARGET_RATE) {
      const cutoff = Math.min(7200, sampleRate * 0.45);
      // Butterworth 4th order = two sections with these Qs
      this.sections = [new Section(lowpass(cutoff, sampleRate, 0.5412)), new Section(lowpass(cutoff, sampleRate, 1.3066))];
    }
    this.port.onmessage = (e) => {
      if (e.data && e.data.cmd === "stop") this.stopped = true;
    };
  }

  process(inputs) {
    if (this.stopped) return false;
    const input = inputs[0];
    if (!input || input.length === 0 || !input[0]) return true;
    const n = input[0].length;
    if (this.mono.length !== n) this.mono = new Float32Array(n);
    const mono = this.mono;
    mono.set(input[0]);
    for (let c = 1; c < input.length; c++) {
      const ch = input[c];
      for (let i = 0; i < n; i++) mono[i] += ch[i];
    }
    if (input.length > 1) {
      const k = 1 / input.length;
      for (let i = 0; i < n; i++) mono[i] *= k;
    }
    for (const s of this.sections) s.run(mono);

    // Linear interpolation; positions in [-1, n-1) use `last` for index -1.
    let t = this.pos;
    while (t < n - 1) {
      const i = Math.floor(t);
      const frac = t - i;
      const a = i < 0 ? this.last : mono[i];
      const b = mono[i + 1];
      this.push(a + (b - a) * frac);
      t += this.step;
    }
    this.pos = t - n;
    this.last = mono[n - 1];
    return true;
  }

  push(v) {
    const s = v < -1 ? -1 : v > 1 ? 1 : v;
    this.energy += s * s;
    this.chunk[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    if (this.filled === this.chunk.length) {
      const level = Math.sqrt(this.energy / this.filled);
      const size = this.chunk.length;
      const buffer = this.chunk.buffer;
      this.chunk = new Int16Array(size); // before the transfer detaches the old one
      this.port.postMessage({ pcm: buffer, level }, [buffer]);
      this.filled = 0;
      this.energy = 0;
    }
  }
}

registerProcessor("bedside-capture", CaptureProcessor);
