// The session websocket, with reconnection.
//
// `open(first)` connects and sends `first` (session.start or session.resume). If the
// socket drops before the session has ended, it reconnects with exponential backoff
// (plus jitter) and sends session.resume with the id and token it was given. Events go
// to `onEvent(msg)`, binary audio to `onAudio(buf)`, connection changes to
// `onStatus({state, attempt, delayMs})` where state is one of
// connecting | open | reconnecting | closed | failed.

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 10000];
const MAX_ATTEMPTS = 12; // about 1.5 minutes of trying

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
    this.timer = null;
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
    this.onStatus({ state: this.attempt ? "reconnecting" : "connecting", attempt: this.attempt });
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
    if (this.attempt >= MAX_ATTEMPTS) {
      this.onStatus({ state: "failed", reason: "gave_up" });
      return;
    }
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delayMs = Math.round(base * (0.8 + Math.random() * 0.4));
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
