// Educator page: the educator token (asked once, kept in sessionStorage for this tab),
// then every stored session, filterable by learner, case and date; a session opens in
// the debrief view.

import { ApiError, getPersonas, getSession, listSessions } from "./api.js";
import { renderDebrief } from "./debrief.js";
import { capitalise, clear, formatDateTime, h, store } from "./dom.js";

const TOKEN_KEY = "bedside.educator";
const FILTER_KEY = "bedside.educator.filters";

export function mount(app, { sessionId }) {
  const token = store.get(TOKEN_KEY);
  if (!token) {
    signIn(app, sessionId);
    return null;
  }
  const ctl = { alive: true };
  if (sessionId) openSession(app, token, sessionId, ctl);
  else sessionList(app, token, ctl);
  return { unmount() { ctl.alive = false; } };
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
      const ctl = { alive: true };
      if (sessionId) openSession(app, token, sessionId, ctl);
      else sessionList(app, token, ctl);
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

function sessionList(app, token, ctl) {
  const saved = store.get(FILTER_KEY) || {};
  const learner = h("input", { id: "f-learner", type: "search", value: saved.learner || "", autocomplete: "off",
    list: "learner-options", placeholder: "Any learner" });
  const learnerOptions = h("datalist", { id: "learner-options" });
  const persona = h("select", { id: "f-persona" }, h("option", { value: "" }, "All cases"));
  const from = h("input", { id: "f-from", type: "date", value: saved.from || "" });
  const to = h("input", { id: "f-to", type: "date", value: saved.to || "" });
  const count = h("p", { class: "results-count", role: "status", "aria-live": "polite" }, "Loading sessions…");
  const results = h("div", { class: "results" });
  let personas = {};
  let rows = [];

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

  app.appendChild(h("div", { class: "educator" },
    h("div", { class: "page-head" },
      h("div", {}, h("p", { class: "eyebrow" }, "Educators"), h("h1", {}, "Sessions")),
      signOutButton()),
    filters, count, results));

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
    const params = {
      // until the case list has loaded, the select cannot hold the saved case yet
      persona_id: persona.options.length > 1 ? persona.value : saved.persona || "",
      since: from.value ? new Date(`${from.value}T00:00:00`).toISOString() : "",
      until: to.value ? new Date(`${to.value}T23:59:59.999`).toISOString() : "",
    };
    results.setAttribute("aria-busy", "true");
    try {
      rows = (await listSessions(token, params)).reverse(); // newest first
    } catch (err) {
      if (!ctl.alive) return;
      if (err.status === 401 || err.status === 403) return refused(app, err, null);
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
    const shown = q ? rows.filter((r) => r.learner_id.toLowerCase().includes(q)) : rows;
    if (persona.options.length > 1) store.set(FILTER_KEY, { learner: learner.value, persona: persona.value, from: from.value, to: to.value });
    count.textContent = `${shown.length} session${shown.length === 1 ? "" : "s"}${shown.length !== rows.length ? ` of ${rows.length}` : ""}`;
    clear(results);
    if (!shown.length) {
      results.appendChild(h("div", { class: "panel empty" },
        h("p", {}, rows.length || persona.value || from.value || to.value
          ? "No sessions match these filters."
          : "No sessions yet. They appear here as soon as a learner starts a case.")));
      return;
    }
    results.appendChild(h("table", { class: "table sessions-table" },
      h("caption", { class: "visually-hidden" }, "Sessions, newest first"),
      h("thead", {}, h("tr", {},
        ["Started", "Learner", "Case", "Mode", "Turns", "Status", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, shown.map((r) => {
        const p = personas[r.persona_id];
        return h("tr", {},
          h("td", { "data-label": "Started" }, formatDateTime(r.created_at)),
          h("td", { "data-label": "Learner", class: "strong" }, r.learner_id),
          h("td", { "data-label": "Case" }, p ? p.title : r.persona_id),
          h("td", { "data-label": "Mode" }, capitalise(r.mode)),
          h("td", { "data-label": "Turns" }, String(r.turns)),
          h("td", { "data-label": "Status" }, h("span", { class: ["status", `status--${r.status}`] },
            r.status === "ended" ? "Ended" : "In progress")),
          h("td", { class: "cell-action" }, h("a", { class: "button button--small", href: `#/educator/${encodeURIComponent(r.id)}`,
            "aria-label": `Open session of ${r.learner_id}, ${formatDateTime(r.created_at)}` }, "Open")));
      }))));
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
