// Patient voice playback on the audio thread.
//
// The main thread forwards each patient turn as: {cmd: "start", turn, rate}, then
// {cmd: "chunk", turn, pcm} (Int16 mono at `rate`), then {cmd: "end", turn}. Chunks are
// queued and played back to back, resampled from the announced rate to the context rate
// by linear interpolation. {cmd: "clear", turn} drops everything queued for that turn
// and every earlier one at once (barge-in). {cmd: "clear"} with no turn drops it all.
//
// Reports to the main thread: {event: "playing", turn} when a turn's first sample is
// heard, {event: "done", turn, cleared} once it has fully played or been dropped.

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];        // [{turn, data: Float32Array, step}]
    this.cur = null;
    this.t = 0;             // read position within cur.data, in source samples; -1 means `prev`
    this.prev = 0;
    this.turns = new Map(); // turn -> {rate, ended, started}
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(m) {
    if (!m) return;
    if (m.cmd === "start") {
      this.turns.set(m.turn, { step: m.rate / sampleRate, ended: false, started: false });
    } else if (m.cmd === "chunk") {
      const info = this.turns.get(m.turn);
      if (!info) return; // chunk of a turn already cleared
      const pcm = new Int16Array(m.pcm);
      const data = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 0x8000;
      this.queue.push({ turn: m.turn, data, step: info.step });
    } else if (m.cmd === "end") {
      const info = this.turns.get(m.turn);
      if (info) {
        info.ended = true;
        this.maybeDone(m.turn);
      }
    } else if (m.cmd === "clear") {
      const drop = (turn) => m.turn === undefined || m.turn === null || turn <= m.turn;
      this.queue = this.queue.filter((c) => !drop(c.turn));
      if (this.cur && drop(this.cur.turn)) {
        this.cur = null;
        this.t = 0;
        this.prev = 0;
      }
      for (const turn of [...this.turns.keys()]) {
        if (drop(turn)) {
          this.turns.delete(turn);
          this.port.postMessage({ event: "done", turn, cleared: true });
        }
      }
    }
  }

  maybeDone(turn) {
    const info = this.turns.get(turn);
    if (!info || !info.ended) return;
    const pending = (this.cur && this.cur.turn === turn) || this.queue.some((c) => c.turn === turn);
    if (!pending) {
      this.turns.delete(turn);
      this.port.postMessage({ event: "done", turn, cleared: false });
    }
  }

  next() {
    const finished = this.cur;
    this.cur = this.queue.shift() || null;
    if (finished && (!this.cur || this.cur.turn !== finished.turn)) this.maybeDone(finished.turn);
    if (this.cur) {
      const info = this.turns.get(this.cur.turn);
      if (info && !info.started) {
        info.started = true;
        this.port.postMessage({ event: "playing", turn: this.cur.turn });
      }
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!out) return true;
    let i = 0;
    while (i < out.length) {
      if (!this.cur) {
        this.next();
        if (!this.cur) break;
        if (this.t >= 0) this.t = 0;
      }
      const d = this.cur.data;
      const n = d.length;
      while (i < out.length && this.t < n - 1) {
        const k = Math.floor(this.t);
        const frac = this.t - k;
        const a = k < 0 ? this.prev : d[k];
        out[i++] = a + (d[k + 1] - a) * frac;
        this.t += this.cur.step;
      }
      if (this.t >= n - 1) {
        // carry the fractional position into the next chunk, bridging with this chunk's last sample
        this.prev = d[n - 1];
        this.t -= n;
        this.next();
        if (!this.cur) {
          this.t = 0;
          this.prev = 0;
        }
      }
    }
    for (; i < out.length; i++) out[i] = 0;
    // copy to any further channels
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor("bedside-playback", PlaybackProcessor);
