// The session websocket, with reconnection.
//
// `open(first)` connects and sends `first` (session.start or session.resume). If the
// socket drops before the session has ended, it reconnects with exponential backoff
// (plus jitter) and sends session.resume with the id and token it was given. Events go
// to `onEvent(msg)`, binary audio to `onAudio(buf)`, connection changes to
// `onStatus({state, attempt, delayMs})` where state is one of
// connecting | open | reconnecting | closed | failed | probing.
//
// After `maxAttempts` it reports `failed` (reason gave_up) but does not stop: it keeps probing
// quietly, every PROBE_MS (15 s, then 30 s), so a server that comes back is noticed without the
// learner doing anything; each probe reports `probing`, and `failed` again (with nextProbeMs)
// when it fails. A page may shorten these for tests with window.__bedsideReconnectTiming =
// {backoffMs: [...], maxAttempts, probeMs: [...]} set before the session starts.

const TIMING = {
  backoffMs: [500, 1000, 2000, 4000, 8000, 10000],
  maxAttempts: 12,             // about 1.5 minutes of trying
  probeMs: [15000, 30000],     // then a probe every 30 s for as long as the page is open
};

function timing() {
  const t = { ...TIMING, ...(globalThis.__bedsideReconnectTiming || {}) };
  if (!t.backoffMs.length || !t.probeMs.length || !(t.maxAttempts >= 1)) throw new Error("bad reconnect timing");
  return t;
}

const jitter = (ms) => Math.round(ms * (0.8 + Math.random() * 0.4));

export function wsUrl(path = "/ws/session") {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

export class SessionSocket {
  constructor({ onEvent, onAudio, onStatus }) {
    this.onEvent = onEvent;
    this.onAudio = onAudio;
    this.onStatus = onStatus || (() => {});
    this.ws = null;
    this.sessionId = null;
    this.token = null;
    this.ending = false;      // session.end sent; the server will close after the summary
    this.finished = false;    // no reconnecting any more
    this.attempt = 0;
    this.probes = 0;          // probes since giving up (0: still in the reconnect phase)
    this.timer = null;
    this.timing = timing();
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  open(first) {
    this._connect(first);
  }

  /** Remember the session so a reconnect can resume it. */
  bind(sessionId, token) {
    this.sessionId = sessionId;
    this.token = token;
  }

  _connect(first) {
    clearTimeout(this.timer);
    if (this.probes) this.onStatus({ state: "probing", probe: this.probes });
    else this.onStatus({ state: this.attempt ? "reconnecting" : "connecting", attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch (err) {
      this._scheduleRetry();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.probes = 0;
      this.onStatus({ state: "open" });
      ws.send(JSON.stringify(first));
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        let msg;
        try {
          msg = JSON.parse(e.data);
        } catch (_) {
          return;
        }
        if (msg.type === "session.summary") this.finished = true;
        this.onEvent(msg);
      } else {
        this.onAudio(e.data);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.finished) {
        this.onStatus({ state: "closed" });
        return;
      }
      this._scheduleRetry();
    };
    ws.onerror = () => { /* onclose follows and decides */ };
  }

  _scheduleRetry() {
    if (this.finished) return;
    if (!this.sessionId) {
      // never got a session: nothing to resume, so say so rather than loop
      this.finished = true;
      this.onStatus({ state: "failed", reason: "connect" });
      return;
    }
    const { backoffMs, maxAttempts, probeMs } = this.timing;
    if (this.attempt >= maxAttempts) {
      // given up on reconnecting now, but keep probing in the background
      const nextProbeMs = jitter(probeMs[Math.min(this.probes, probeMs.length - 1)]);
      this.probes += 1;
      this.onStatus({ state: "failed", reason: "gave_up", nextProbeMs });
      this.timer = setTimeout(() => this._connect(this._resumeMessage()), nextProbeMs);
      return;
    }
    const delayMs = jitter(backoffMs[Math.min(this.attempt, backoffMs.length - 1)]);
    this.attempt += 1;
    this.onStatus({ state: "reconnecting", attempt: this.attempt, delayMs });
    this.timer = setTimeout(() => this._connect(this._resumeMessage()), delayMs);
  }

  _resumeMessage() {
    return { type: "session.resume", session_id: this.sessionId, token: this.token };
  }

  /** Try again now (after `failed`, or to take a session back). */
  retryNow() {
    if (this.isOpen) {
      this.send(this._resumeMessage());
      return;
    }
    this.finished = false;
    this.attempt = Math.max(1, this.attempt);
    this.probes = 0;
    this._connect(this._resumeMessage());
  }

  send(msg) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  sendAudio(buf) {
    if (!this.isOpen) return false;
    // do not let audio pile up behind a stalled connection
    if (this.ws.bufferedAmount > 64 * 1024) return false;
    this.ws.send(buf);
    return true;
  }

  end() {
    this.ending = true;
    return this.send({ type: "session.end" });
  }

  /** Stop for good (page left, session over, or not resumable). */
  close() {
    this.finished = true;
    clearTimeout(this.timer);
    if (this.ws) {
      try { this.ws.close(1000); } catch (_) { /* closing anyway */ }
    }
    this.ws = null;
  }

  /** For tests and the "simulate drop" path: close the socket as if the network failed. */
  dropForTest() {
    if (this.ws) this.ws.close(4000, "test drop");
  }
}
