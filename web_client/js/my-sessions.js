// My sessions: the learner's past sessions from GET /api/me/sessions, newest first, with the
// case and headline scores; each opens its debrief. Works on any device with the personal key
// (learner-key.js): a browser without one asks for it.

import { mySessions } from "./api.js";
import { capitalise, clear, focusHeading, formatDateTime, h } from "./dom.js";
import { forgetKey, heldKey, keyDisplay, keyForm, tieKey } from "./learner-key.js";

export function mount(app) {
  const ctl = { alive: true };
  const body = h("div", { class: "history-body" });
  app.appendChild(h("div", { class: "history" },
    h("div", { class: "page-head" },
      h("div", {}, h("p", { class: "eyebrow" }, "Your practice"), h("h1", {}, "My sessions")),
      h("a", { class: "button button--soft", href: "#/" }, "Practise a case")),
    body));
  show(body, ctl);
  return { unmount() { ctl.alive = false; } };
}

function show(body, ctl, focus = false) {
  clear(body);
  const key = heldKey();
  if (!key) {
    body.appendChild(h("section", { class: "panel key-gate", "aria-labelledby": "enter-key-title" },
      h("h2", { id: "enter-key-title" }, "Enter your personal key"),
      h("p", {}, "Your sessions are listed with the personal key you were shown the first time you used Bedside. "
        + "This browser does not hold it yet."),
      keyForm(() => show(body, ctl, true), { submit: "Show my sessions" }),
      h("p", { class: "muted small" }, "New here? Choose a case: a key is made for you on your first visit.")));
    return;
  }
  const status = h("div", { class: "panel loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }), "Loading your sessions…");
  body.appendChild(status);
  mySessions(key.key).then((mine) => {
    if (!ctl.alive) return;
    clear(body);
    if (mine.learner_id) tieKey(mine.learner_id); // e.g. tied by a session started in another tab
    body.append(sessionList(mine), keySection(key, !mine.learner_id, body, ctl));
    if (focus) focusHeading(body); // the form that had focus is gone
  }).catch((err) => {
    if (!ctl.alive) return;
    clear(body);
    if (err.status === 401 || err.status === 403) {
      body.appendChild(h("section", { class: "panel key-gate notice--error", "aria-labelledby": "enter-key-title" },
        h("h2", { id: "enter-key-title" }, "Your key was not recognised"),
        h("p", {}, "This server does not know the personal key saved in this browser (it may have been deleted with your "
          + "data). Enter your key again, or forget this one: a new key is made when you next choose a case."),
        keyForm(() => show(body, ctl, true), { submit: "Show my sessions" }),
        h("button", { type: "button", class: "button button--ghost", onclick: () => { forgetKey(); show(body, ctl); } },
          "Forget the saved key")));
      return;
    }
    body.appendChild(h("div", { class: "panel notice notice--error", role: "alert" },
      h("p", {}, `Your sessions could not be loaded: ${err.message}`),
      h("button", { type: "button", class: "button", onclick: () => show(body, ctl) }, "Try again")));
  });
}

function sessionList(mine) {
  const n = mine.sessions.length;
  const head = h("div", { class: "section-head" },
    h("h2", { id: "history-heading" }, "Sessions"),
    h("p", { class: "muted small", id: "history-count", role: "status" },
      mine.learner_id ? `${n} session${n === 1 ? "" : "s"} as ${mine.learner_id}` : "No sessions yet"));
  if (!n) {
    return h("section", { "aria-labelledby": "history-heading" }, head,
      h("div", { class: "panel empty" }, h("p", {}, "Sessions you start with this key appear here, newest first."),
        h("a", { class: "button button--primary", href: "#/" }, "Choose a case")));
  }
  return h("section", { "aria-labelledby": "history-heading" }, head,
    h("ol", { class: "history-list" }, mine.sessions.map(sessionItem)));
}

const STATUS = { ended: "Ended", active: "In progress", abandoned: "Not finished" };

function sessionItem(item) {
  const s = item.session;
  const when = formatDateTime(s.created_at);
  const titleId = `history-${s.id}`;
  return h("li", { class: "history-item panel", dataset: { sessionId: s.id } },
    h("div", { class: "history-item__head" },
      h("h3", { id: titleId, class: "history-item__title" }, item.title),
      h("span", { class: ["status", `status--${s.status}`] }, STATUS[s.status] || s.status)),
    h("p", { class: "history-item__meta" }, [when, item.patient_name && `with ${item.patient_name}`,
      `${capitalise(s.mode)} · ${s.turns} turn${s.turns === 1 ? "" : "s"}`].filter(Boolean).join(" · ")),
    s.scores ? scoreList(s.scores)
      : h("p", { class: "muted small" }, "Not ended yet: scores appear once it ends."),
    h("a", { class: "button button--small history-item__open", href: `#/debrief/${encodeURIComponent(s.id)}`,
      "aria-describedby": titleId }, s.scores ? "Open debrief" : "Open transcript"));
}

function scoreList(sc) {
  const row = (label, value) => h("div", { class: "history-score" }, h("dt", {}, label), h("dd", {}, value));
  return h("dl", { class: "history-scores" },
    row("Empathy (mean ECCS)", sc.mean_eccs === null ? "—" : `${sc.mean_eccs.toFixed(1)} / 6`),
    row("Feelings met", `${sc.opportunities_met} of ${sc.opportunities}`),
    row("Concerns found", `${sc.concerns_found} of ${sc.concerns_total}`));
}

function keySection(key, unused, body, ctl) {
  return h("section", { class: "panel key-section", "aria-labelledby": "key-section-title" },
    h("h2", { id: "key-section-title" }, "Your personal key"),
    h("p", { class: "muted small" }, "To see these sessions on another device, open My sessions there and enter this key. "
      + "Anyone with it can read your sessions, so keep it private."),
    h("details", { class: "key-details" }, h("summary", {}, "Show my key"), keyDisplay(key.key, "my-key")),
    // a key with no session yet is most likely this device's new one: offer the learner's own at once
    h("details", { class: "key-details", open: unused }, h("summary", {}, "Use a different key"),
      h("p", { class: "muted small" }, "This browser then forgets the key it holds now: keep that one first if you still need it."),
      keyForm(() => show(body, ctl, true), { id: "other-key", submit: "Use this key" })));
}
