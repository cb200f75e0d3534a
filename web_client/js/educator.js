// Educator page: the educator token (asked once, kept in sessionStorage for this tab),
// then every stored session with its scores, filterable by learner, case and date, or the
// cohort report of the same sessions (#/educator/cohort); both offer the sessions as CSV,
// xAPI or JSONL downloads. A session opens in the debrief view.

import { ApiError, getCohort, getPersonas, getSession, listSessions } from "./api.js";
import { renderDebrief } from "./debrief.js";
import { capitalise, clear, formatDateTime, h, store } from "./dom.js";
import { renderCohort } from "./educator-cohort.js";
import { downloadBar } from "./educator-downloads.js";

const TOKEN_KEY = "bedside.educator";
const FILTER_KEY = "bedside.educator.filters";
const COHORT = "cohort"; // #/educator/cohort; session ids are UUIDs, so never this word
const STATUS = { ended: "Ended", active: "In progress", abandoned: "Abandoned" };

export function mount(app, { sessionId }) {
  const token = store.get(TOKEN_KEY);
  if (!token) {
    signIn(app, sessionId);
    return null;
  }
  const ctl = { alive: true };
  show(app, token, sessionId, ctl);
  return { unmount() { ctl.alive = false; } };
}

function show(app, token, sessionId, ctl) {
  if (!sessionId) workspace(app, token, ctl, "sessions");
  else if (sessionId === COHORT) workspace(app, token, ctl, COHORT);
  else openSession(app, token, sessionId, ctl);
}

function refused(app, err, sessionId) {
  store.remove(TOKEN_KEY);
  clear(app);
  signIn(app, sessionId, err.status === 401 || err.status === 403
    ? "The saved educator token was not accepted (the server may have a new one). Enter it again."
    : null);
}

function signIn(app, sessionId, message = null) {
  const error = h("p", { class: "field__error", id: "token-error", role: "alert", hidden: !message }, message || "");
  const input = h("input", { id: "educator-token", name: "token", type: "password", autocomplete: "current-password",
    spellcheck: "false", required: true, "aria-describedby": "token-help token-error" });
  const button = h("button", { type: "submit", class: "button button--primary" }, "Open sessions");
  const form = h("form", { class: "panel narrow signin", "aria-labelledby": "signin-title" },
    h("p", { class: "eyebrow" }, "Educators"),
    h("h1", { id: "signin-title" }, "Review learners’ sessions"),
    h("p", { class: "muted" }, "Enter the educator token to see every session, filter them, and open any debrief."),
    h("div", { class: "field" },
      h("label", { for: "educator-token" }, "Educator token"),
      input,
      h("p", { class: "field__help", id: "token-help" },
        "Saved in the server’s data directory as educator_token (and printed once if the server first started in a terminal). " +
        "It is kept only in this browser tab until you close it or sign out."),
      error),
    h("div", { class: "form-actions" }, button));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = "Enter the educator token.";
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Checking…";
    try {
      await listSessions(token, { since: new Date(Date.now() + 864e5).toISOString() }); // cheap check: an empty list
      store.set(TOKEN_KEY, token);
      clear(app);
      show(app, token, sessionId, { alive: true });
    } catch (err) {
      button.disabled = false;
      button.textContent = "Open sessions";
      error.textContent = err instanceof ApiError && (err.status === 401 || err.status === 403)
        ? "That token was not accepted. Check it and try again."
        : `The server could not be reached: ${err.message}`;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      input.select();
    }
  });
  app.appendChild(form);
  requestAnimationFrame(() => input.focus());
}

function signOutButton() {
  return h("button", { type: "button", class: "button button--ghost button--small", onclick: () => {
    store.remove(TOKEN_KEY);
    if (location.hash === "#/educator") window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = "#/educator";
  } }, "Sign out");
}

/** A score cell's text, or a dash read out as "not ended" when the session has no summary yet. */
function scoreCell(label, scores, text) {
  return h("td", { "data-label": label, class: "num" }, scores
    ? text(scores)
    : [h("span", { "aria-hidden": "true" }, "–"), h("span", { class: "visually-hidden" }, "no score yet: not ended")]);
}

function viewTabs(view) {
  const tab = (href, name, label) => h("a", { href, class: "view-tabs__tab", "aria-current": view === name ? "page" : null }, label);
  return h("nav", { class: "view-tabs", "aria-label": "Educator views" },
    tab("#/educator", "sessions", "Sessions"), tab(`#/educator/${COHORT}`, COHORT, "Cohort report"));
}

// The session list and the cohort report share the filters and the downloads: each shows, and
// each download holds, exactly the sessions the filters match.
function workspace(app, token, ctl, view) {
  const saved = store.get(FILTER_KEY) || {};
  const learner = h("input", { id: "f-learner", type: "search", value: saved.learner || "", autocomplete: "off",
    list: "learner-options", placeholder: "Any learner" });
  const learnerOptions = h("datalist", { id: "learner-options" });
  const persona = h("select", { id: "f-persona" }, h("option", { value: "" }, "All cases"));
  const from = h("input", { id: "f-from", type: "date", value: saved.from || "" });
  const to = h("input", { id: "f-to", type: "date", value: saved.to || "" });
  const count = h("p", { class: "results-count", role: "status", "aria-live": "polite" }, "Loading sessions…");
  const results = h("div", { class: view === COHORT ? "results results--cohort" : "results" });
  let personas = {};
  let rows = [];
  let shown = [];
  let serverParams = {};
  let cohortAsked = 0; // only the newest cohort request may draw
  let cohortTimer = null;

  const field = (id, label, control) => h("div", { class: "field field--inline" }, h("label", { for: id }, label), control);
  const filters = h("form", { class: "filters panel", role: "search", "aria-label": "Filter sessions",
    onsubmit: (e) => { e.preventDefault(); load(); } },
  field("f-learner", "Learner", learner), learnerOptions,
  field("f-persona", "Case", persona),
  field("f-from", "From", from),
  field("f-to", "To", to),
  h("div", { class: "filters__actions" },
    h("button", { type: "submit", class: "button button--primary" }, "Apply"),
    h("button", { type: "button", class: "button button--ghost", onclick: () => {
      learner.value = ""; persona.value = ""; from.value = ""; to.value = "";
      load();
    } }, "Clear")));

  /** The filters for the cohort report and the downloads, or null when no session is listed. */
  function scope() {
    if (!shown.length) return null;
    const typed = learner.value.trim();
    // the learner box matches part of an id; the server takes exact ids, so send those listed
    const learners = typed ? [...new Set(shown.map((r) => r.learner_id))] : [];
    return { filters: { ...serverParams, learner_id: learners }, count: shown.length };
  }
  const downloads = downloadBar({ token, scope, onRefused: (err) => refused(app, err, view === COHORT ? COHORT : null) });

  app.appendChild(h("div", { class: "educator" },
    h("div", { class: "page-head" },
      h("div", {}, h("p", { class: "eyebrow" }, "Educators"), h("h1", {}, view === COHORT ? "Cohort report" : "Sessions")),
      h("div", { class: "ce-head-actions" },
        h("a", { class: "button button--small", href: "#/educator/cases" }, "Edit cases"), signOutButton())),
    viewTabs(view), filters, downloads.element, count, results));

  learner.addEventListener("input", () => render());
  persona.addEventListener("change", () => load());
  from.addEventListener("change", () => load());
  to.addEventListener("change", () => load());

  getPersonas().then(({ personas: list }) => {
    personas = Object.fromEntries(list.map((p) => [p.id, p]));
    for (const p of list) persona.appendChild(h("option", { value: p.id, selected: saved.persona === p.id }, p.title));
    render();
  }).catch(() => { /* titles fall back to ids */ });

  async function load() {
    if (persona.options.length > 1) store.set(FILTER_KEY, { learner: learner.value, persona: persona.value, from: from.value, to: to.value });
    serverParams = {
      // until the case list has loaded, the select cannot hold the saved case yet
      persona_id: persona.options.length > 1 ? persona.value : saved.persona || "",
      since: from.value ? new Date(`${from.value}T00:00:00`).toISOString() : "",
      until: to.value ? new Date(`${to.value}T23:59:59.999`).toISOString() : "",
    };
    results.setAttribute("aria-busy", "true");
    try {
      rows = (await listSessions(token, serverParams)).reverse(); // newest first
    } catch (err) {
      if (!ctl.alive) return;
      if (err.status === 401 || err.status === 403) return refused(app, err, view === COHORT ? COHORT : null);
      count.textContent = "";
      clear(results).appendChild(h("div", { class: "notice notice--error", role: "alert" },
        `The sessions could not be loaded: ${err.message}`));
      return;
    }
    if (!ctl.alive) return;
    results.removeAttribute("aria-busy");
    clear(learnerOptions);
    for (const id of [...new Set(rows.map((r) => r.learner_id))].sort()) learnerOptions.appendChild(h("option", { value: id }));
    render();
  }

  function render() {
    const q = learner.value.trim().toLowerCase();
    shown = q ? rows.filter((r) => r.learner_id.toLowerCase().includes(q)) : rows;
    if (persona.options.length > 1) store.set(FILTER_KEY, { learner: learner.value, persona: persona.value, from: from.value, to: to.value });
    downloads.update();
    const counted = `${shown.length} session${shown.length === 1 ? "" : "s"}${shown.length !== rows.length ? ` of ${rows.length}` : ""}`;
    if (!shown.length) {
      count.textContent = counted;
      cohortAsked += 1; // a report still on its way is for other filters
      clear(results).appendChild(h("div", { class: "panel empty" },
        h("p", {}, rows.length || persona.value || from.value || to.value
          ? "No sessions match these filters."
          : "No sessions yet. They appear here as soon as a learner starts a case.")));
      return;
    }
    if (view === COHORT) {
      clearTimeout(cohortTimer);
      cohortTimer = setTimeout(() => drawCohort(counted), 250); // typing in the learner box asks once
      return;
    }
    count.textContent = counted;
    clear(results).append(h("table", { class: "table sessions-table" },
      h("caption", { class: "visually-hidden" }, "Sessions, newest first"),
      h("thead", {}, h("tr", {},
        ["Started", "Learner", "Case", "Mode", "Turns", "Mean ECCS", "Opportunities met", "Concerns found", "Status", ""]
          .map((c, i) => h("th", { scope: "col", class: i >= 4 && i <= 7 ? "num" : null }, c)))),
      h("tbody", {}, shown.map((r) => {
        const p = personas[r.persona_id];
        return h("tr", { dataset: { status: r.status } },
          h("td", { "data-label": "Started" }, formatDateTime(r.created_at)),
          h("td", { "data-label": "Learner", class: "strong" }, r.learner_id),
          h("td", { "data-label": "Case" }, p ? p.title : r.persona_id),
          h("td", { "data-label": "Mode" }, capitalise(r.mode)),
          h("td", { "data-label": "Turns", class: "num" }, String(r.turns)),
          scoreCell("Mean ECCS", r.scores, (s) => (s.mean_eccs === null ? "none graded" : s.mean_eccs.toFixed(2))),
          scoreCell("Opportunities met", r.scores, (s) => `${s.opportunities_met} of ${s.opportunities}`),
          scoreCell("Concerns found", r.scores, (s) => `${s.concerns_found} of ${s.concerns_total}`),
          h("td", { "data-label": "Status" }, h("span", { class: ["status", `status--${r.status}`] },
            STATUS[r.status] || capitalise(r.status))),
          h("td", { class: "cell-action" }, h("a", { class: "button button--small", href: `#/educator/${encodeURIComponent(r.id)}`,
            "aria-label": `Open session of ${r.learner_id}, ${formatDateTime(r.created_at)}` }, "Open")));
      }))),
    h("p", { class: "results-note" },
      "Scores are read from the summary kept when a session ends. Mean ECCS: the mean empathy level (0–6) over the " +
      "turns that answered an empathic opportunity. Opportunities met: those turns at ECCS 3 or more, of all of them. " +
      "Concerns found: the case’s hidden concerns the patient revealed. Abandoned: never ended, and no turn for longer " +
      "than the server’s abandon time (two hours unless set otherwise)."));
  }

  async function drawCohort(counted) {
    const now = scope();
    if (!now || !ctl.alive) return;
    const asked = ++cohortAsked;
    results.setAttribute("aria-busy", "true");
    let report;
    try {
      report = await getCohort(token, now.filters);
    } catch (err) {
      if (!ctl.alive || asked !== cohortAsked) return;
      if (err.status === 401 || err.status === 403) return refused(app, err, COHORT);
      results.removeAttribute("aria-busy");
      count.textContent = "";
      clear(results).appendChild(h("div", { class: "notice notice--error", role: "alert" }, err.status === 404
        ? "This server does not offer the cohort report (its evaluation routes are not installed)."
        : `The cohort report could not be made: ${err.message}`));
      return;
    }
    if (!ctl.alive || asked !== cohortAsked) return;
    results.removeAttribute("aria-busy");
    count.textContent = `Cohort report of ${counted}`;
    clear(results).appendChild(renderCohort(report, { personas }));
  }

  load();
}

function openSession(app, token, sessionId, ctl) {
  const holder = h("div", { class: "panel loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Loading the session…");
  app.appendChild(holder);
  Promise.all([getSession(sessionId, token), getPersonas().catch(() => ({ personas: [] }))]).then(([detail, { personas }]) => {
    if (!ctl.alive) return;
    holder.remove();
    const persona = personas.find((p) => p.id === detail.session.persona_id) || null;
    app.appendChild(renderDebrief(detail, { audience: "educator", persona, backHref: "#/educator" }));
    const version = detail.session.pack_version; // which wording of the case this learner met (case editor)
    if (version) app.appendChild(h("p", { class: "session-pack-version field__help" }, "Case version ", h("code", {}, version), " · ",
      h("a", { href: `#/educator/cases/${encodeURIComponent(detail.session.persona_id)}` }, "open the case and its history")));
  }).catch((err) => {
    if (!ctl.alive) return;
    if (err.status === 401 || err.status === 403) return refused(app, err, sessionId);
    clear(holder);
    holder.className = "panel notice notice--error";
    holder.setAttribute("role", "alert");
    holder.append(h("p", {}, err.status === 404 ? "There is no such session." : `The session could not be loaded: ${err.message}`),
      h("a", { class: "button", href: "#/educator" }, "Back to sessions"));
  });
}
