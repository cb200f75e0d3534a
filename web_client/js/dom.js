// Small DOM and wording helpers shared by every view. Text always goes in through
// textContent (never innerHTML), so nothing a learner or patient says can become markup.

/**
 * h("div", {class: "x", onclick: fn, "aria-label": "y"}, child, "text", [more])
 * Attributes: `class`, `dataset`, `style` (object), `on<event>` handlers, booleans,
 * everything else via setAttribute. Null / false children are skipped.
 */
export function h(tag, attrs, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function svgEl(tag, attrs, ...children) {
  return h("svg:" + tag, attrs, ...children);
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Move focus to the first heading in `root` (after a form that had focus was replaced). */
export function focusHeading(root) {
  const heading = root.querySelector("h1, h2");
  if (!heading) return;
  if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
  heading.focus();
}

let uid = 0;
export function newId(prefix = "id") {
  uid += 1;
  return `${prefix}-${uid}`;
}

export function randomId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Announce a short message to screen readers and show it as a toast. */
export function toast(text, kind = "info", ms = 4000) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const t = h("div", { class: ["toast", `toast--${kind}`], role: kind === "error" ? "alert" : "status" }, text);
  box.appendChild(t);
  setTimeout(() => t.classList.add("toast--leaving"), ms);
  setTimeout(() => t.remove(), ms + 400);
}

// -- wording -------------------------------------------------------------------------------

const EMOTION_WORDS = {
  fear: "Frightened",
  sadness: "Sad",
  anger: "Angry",
  frustration: "Frustrated",
  shame: "Ashamed",
  guilt: "Guilty",
  overwhelm: "Overwhelmed",
  loneliness: "Lonely",
  calm: "Calm",
  relief: "Relieved",
};

export function emotionWord(e) {
  if (!e) return "—";
  return EMOTION_WORDS[e] || e.charAt(0).toUpperCase() + e.slice(1).replace(/_/g, " ");
}

const STYLE_WORDS = { guarded: "Guarded", neutral: "Cautious", open: "Opening up" };
export function styleWord(s) {
  return STYLE_WORDS[s] || s || "";
}

// Empathic Communication Coding System levels (Bylund & Makoul 2002), in brief.
export const ECCS_LEVELS = [
  { short: "Dismissed", long: "the feeling was denied or brushed aside" },
  { short: "Perfunctory", long: "a token nod to the feeling, then moving on" },
  { short: "Implicit", long: "the content was followed but the feeling was not named" },
  { short: "Acknowledged", long: "the feeling was recognised out loud" },
  { short: "Explored", long: "the feeling was acknowledged and the patient invited to say more" },
  { short: "Validated", long: "the feeling was acknowledged and affirmed as understandable" },
  { short: "Shared", long: "a genuine shared feeling or experience was offered" },
];

export function eccsTone(level) {
  if (level === null || level === undefined) return "none";
  if (level <= 2) return "low";
  if (level <= 4) return "mid";
  return "high";
}

const NURSE_WORDS = { name: "Name", understand: "Understand", respect: "Respect", support: "Support", explore: "Explore" };
export function nurseWord(n) {
  return NURSE_WORDS[n] || n;
}

const FLAG_WORDS = {
  sympathy_only: "Sympathy only",
  false_understanding: "Claimed understanding",
  premature_reassurance: "Early reassurance",
  dismissive: "Dismissive",
  topic_switch: "Topic switch",
  jargon: "Jargon",
  advice_before_exploring: "Advice before exploring",
  interrupted: "Spoke over patient",
  assumption_or_stereotype: "Assumption",
};
export function flagWord(f) {
  return FLAG_WORDS[f] || f.replace(/_/g, " ");
}

const ACT_WORDS = {
  greeting: "Greeting",
  open_question: "Open question",
  closed_question: "Closed question",
  empathic_statement: "Empathic statement",
  explanation: "Explanation",
  reassurance: "Reassurance",
  advice: "Advice",
  teach_back_request: "Teach-back",
  closing: "Closing",
  other: "Other",
};
export function actWord(a) {
  return ACT_WORDS[a] || a;
}

export function pct(x) {
  return `${Math.round((x || 0) * 100)}`;
}

export function capitalise(s) {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

export function formatDateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function formatDuration(startIso, endIso) {
  if (!startIso || !endIso) return "";
  const s = Math.max(0, Math.round((new Date(endIso) - new Date(startIso)) / 1000));
  const m = Math.floor(s / 60);
  return m ? `${m} min ${s % 60} s` : `${s} s`;
}

// -- storage (sessionStorage may be unavailable in private modes) --------------------------

export const store = {
  get(key, area = sessionStorage) {
    try {
      const v = area.getItem(key);
      return v === null ? null : JSON.parse(v);
    } catch (_) {
      return null;
    }
  },
  set(key, value, area = sessionStorage) {
    try {
      area.setItem(key, JSON.stringify(value));
    } catch (_) { /* storage full or blocked: the app still works, without resume */ }
  },
  remove(key, area = sessionStorage) {
    try {
      area.removeItem(key);
    } catch (_) { /* ignore */ }
  },
};
