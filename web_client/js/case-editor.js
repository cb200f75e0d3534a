// Case editor (#/educator/cases, educator token): the list of cases and ways to start one
// (a blank case, a copy of a case, pasted YAML), then a form generated from the pack schema
// with live validation, the full `bedside persona check` on demand, a "try it" chat with the
// unsaved draft, save (comments in the YAML kept) and the history of versions.

import { cases, CaseError } from "./case-editor-api.js";
import { createForm } from "./case-form.js";
import { historyPanel } from "./case-history.js";
import { tryPanel } from "./case-try.js";
import { clear, h, store, toast } from "./dom.js";

const TOKEN_KEY = "bedside.educator"; // shared with the educator page: one sign-in for both
const CHECK_DELAY_MS = 350;
const ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
let pending = null; // a draft started on the list page (blank, copy, paste), opened at #/educator/cases/new

export function mount(app, { caseId }) {
  const token = store.get(TOKEN_KEY);
  const ctl = { alive: true, dirty: false };
  if (!token) signIn(app, () => route(app, caseId, ctl));
  else route(app, caseId, ctl);
  return {
    unmount() { ctl.alive = false; },
    canLeave() { return !ctl.dirty || window.confirm("Leave the case editor? Your unsaved changes will be lost."); },
  };
}

function route(app, caseId, ctl) {
  const token = store.get(TOKEN_KEY);
  if (!caseId) caseList(app, token, ctl);
  else if (caseId === "new") {
    if (pending) editor(app, token, ctl, pending);
    else location.hash = "#/educator/cases";
  } else loading(app, token, ctl, caseId);
}

function refused(app, ctl, err) {
  if (err.status === 401 || err.status === 403) {
    store.remove(TOKEN_KEY);
    clear(app);
    signIn(app, () => route(app, null, ctl), "The saved educator token was not accepted. Enter it again.");
    return true;
  }
  return false;
}

function signIn(app, then, message = "") {
  const error = h("p", { class: "field__error", id: "ce-token-error", role: "alert", hidden: !message }, message);
  const input = h("input", { id: "ce-token", type: "password", autocomplete: "current-password", spellcheck: "false",
    "aria-describedby": "ce-token-error" });
  const form = h("form", { class: "panel narrow signin", "aria-labelledby": "ce-signin-title" },
    h("p", { class: "eyebrow" }, "Educators"),
    h("h1", { id: "ce-signin-title" }, "Edit cases"),
    h("div", { class: "field" }, h("label", { for: "ce-token" }, "Educator token"), input, error),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button button--primary" }, "Open the case editor")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    try {
      await cases.list(token);
      store.set(TOKEN_KEY, token);
      clear(app);
      then();
    } catch (err) {
      error.textContent = err.status === 401 || err.status === 403 ? "That token was not accepted. Check it and try again."
        : `The server could not be reached: ${err.message}`;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  });
  app.appendChild(form);
  requestAnimationFrame(() => input.focus());
}

function head(title, ...actions) {
  return h("div", { class: "page-head" },
    h("div", {}, h("p", { class: "eyebrow" }, "Case editor"), typeof title === "string" ? h("h1", {}, title) : title),
    h("div", { class: "ce-head-actions" }, actions));
}

// -- the list page ----------------------------------------------------------------------

function caseList(app, token, ctl) {
  const body = h("div", { class: "ce-start" }, h("p", { role: "status" }, "Loading the cases…"));
  app.appendChild(h("div", { class: "case-editor" },
    head("Cases", h("a", { class: "button button--ghost button--small", href: "#/educator" }, "Sessions")), body));
  cases.list(token).then((list) => {
    if (!ctl.alive) return;
    clear(body).append(startOptions(token, list), caseTable(token, list));
  }).catch((err) => {
    if (!refused(app, ctl, err)) clear(body).appendChild(h("div", { class: "notice notice--error", role: "alert" }, `The cases could not be loaded: ${err.message}`));
  });
}

function open(draft) {
  pending = draft;
  if (location.hash === "#/educator/cases/new") window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = "#/educator/cases/new";
}

function caseTable(token, list) {
  const rows = list.cases.map((c) => {
    const copy = h("button", { type: "button", class: "button button--small", "aria-label": `Copy ${c.title} (${c.id})` }, "Copy");
    copy.addEventListener("click", () => copyForm(token, c, copy));
    return h("tr", {},
      h("td", { "data-label": "Case", class: "strong" }, c.title, h("br"), h("code", {}, c.id)),
      h("td", { "data-label": "Version" }, h("code", {}, c.pack_version || "—"), c.versions ? ` (${c.versions} earlier)` : ""),
      h("td", { class: "cell-action" },
        h("a", { class: "button button--small button--primary", href: `#/educator/cases/${encodeURIComponent(c.id)}`, "aria-label": `Edit ${c.title} (${c.id})` }, "Edit"),
        " ", copy));
  });
  const refusedRows = list.refused.map((id) => h("tr", {},
    h("td", { "data-label": "Case", class: "strong" }, h("code", {}, id), " (does not load)"),
    h("td", { "data-label": "Version" }, "—"),
    h("td", { class: "cell-action" }, h("a", { class: "button button--small", href: `#/educator/cases/${encodeURIComponent(id)}` }, "Fix"))));
  return h("table", { class: "table ce-cases" },
    h("caption", { class: "visually-hidden" }, "Cases in the persona directory"),
    h("thead", {}, h("tr", {}, ["Case", "Version", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows, refusedRows));
}

function copyForm(token, c, button) {
  const row = button.closest("tr");
  if (row.nextElementSibling && row.nextElementSibling.classList.contains("ce-copy-row")) return;
  const input = h("input", { id: `ce-copy-${c.id}`, type: "text", value: `${c.id}-copy`, spellcheck: "false", "aria-describedby": `ce-copy-err-${c.id}` });
  const err = h("p", { class: "field__error", id: `ce-copy-err-${c.id}`, role: "alert", hidden: true });
  const form = h("form", { class: "ce-copy" },
    h("label", { for: input.id }, `New id for the copy of “${c.title}”`), input, err,
    h("button", { type: "submit", class: "button button--primary button--small" }, "Make the copy"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = input.value.trim();
    if (!ID_RE.test(id)) {
      err.textContent = "Use lower-case letters, digits, '-' or '_' (starting with a letter or digit).";
      err.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    try {
      const src = await cases.read(token, c.id);
      open({ id, data: { ...src.data, id }, baseYaml: src.yaml, expectedVersion: null, create: true, from: `a copy of ${c.id}` });
    } catch (e2) {
      err.textContent = e2.message;
      err.hidden = false;
    }
  });
  row.after(h("tr", { class: "ce-copy-row" }, h("td", { colspan: "3" }, form)));
  input.focus();
  input.select();
}

function startOptions(token, list) {
  const blank = h("button", { type: "button", class: "button button--primary" }, "New blank case");
  blank.addEventListener("click", async () => {
    const t = await cases.template(token);
    open({ id: t.id, data: t.data, baseYaml: t.yaml, expectedVersion: null, create: true, from: "the template" });
  });
  const paste = h("textarea", { id: "ce-paste", rows: 6, spellcheck: "false" });
  const pasteErr = h("p", { class: "field__error", role: "alert", hidden: true });
  const importForm = h("form", { class: "ce-paste" },
    h("label", { for: "ce-paste" }, "Import: paste a case as YAML"),
    h("p", { class: "field__help" }, "From another Bedside server, or a converter such as `bedside persona import` where it is installed. Its comments are kept."),
    paste, pasteErr, h("button", { type: "submit", class: "button button--small" }, "Open the pasted case"));
  importForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await cases.check(token, { yaml: paste.value });
      if (!r.data) throw new CaseError(422, r.problems.map((p) => `line ${p.line}: ${p.message} (${p.hint})`).join("; "));
      const id = typeof r.data.id === "string" && ID_RE.test(r.data.id) ? r.data.id : "imported-case";
      const taken = list.cases.some((c) => c.id === id);
      open({ id: taken ? `${id}-imported` : id, data: { ...r.data, id: taken ? `${id}-imported` : id }, baseYaml: paste.value,
        expectedVersion: null, create: true, from: "pasted YAML" });
    } catch (err) {
      pasteErr.textContent = `This text cannot be opened: ${err.message}`;
      pasteErr.hidden = false;
    }
  });
  return h("div", { class: "panel ce-start__options" }, h("h2", {}, "Start a case"),
    h("p", {}, blank, " or copy a case below."), h("details", {}, h("summary", {}, "Import pasted YAML"), importForm));
}

// -- the editor ----------------------------------------------------------------------------

async function loading(app, token, ctl, caseId) {
  app.appendChild(h("div", { class: "panel loading", role: "status" }, "Loading the case…"));
  try {
    const c = await cases.read(token, caseId);
    if (!ctl.alive) return;
    clear(app);
    editor(app, token, ctl, { id: c.id, data: c.data || {}, baseYaml: c.yaml, expectedVersion: c.pack_version, create: false });
  } catch (err) {
    if (!ctl.alive || refused(app, ctl, err)) return;
    clear(app).appendChild(h("div", { class: "panel notice notice--error", role: "alert" },
      h("h1", {}, "This case cannot be opened"), h("p", {}, err.message), h("a", { href: "#/educator/cases" }, "All cases")));
  }
}

async function editor(app, token, ctl, draft) {
  let info;
  try {
    info = await cases.schema(token);
  } catch (err) {
    if (!refused(app, ctl, err)) app.appendChild(h("div", { class: "notice notice--error", role: "alert" }, err.message));
    return;
  }
  if (!ctl.alive) return;
  clear(app);
  const doc = { ...draft, data: JSON.parse(JSON.stringify(draft.data || {})) };
  const status = h("p", { class: "ce-status", role: "status", "aria-live": "polite" }, "Checking…");
  const problemList = h("ol", { class: "ce-problems__list" });
  const title = h("h1", {}, doc.create ? `New case (${doc.from || "draft"})` : `Edit: ${doc.data.title || doc.id}`);
  const save = h("button", { type: "button", class: "button button--primary" }, "Save");
  const fullButton = h("button", { type: "button", class: "button button--small" }, "Run the full check");
  const report = h("div", { class: "ce-report", "aria-live": "polite" });
  let seq = 0;
  let timer = null;
  let lastCount = -1;

  const form = createForm({ schema: info.schema, references: info.references, keys: info.keys, data: doc.data, onChange });
  const trial = tryPanel(token, () => ({ data: doc.data }));
  const versions = historyPanel(token, doc.create ? null : doc.id, async (saved) => {
    toast(`Version ${saved.pack_version} restored.`, "success");
    ctl.dirty = false;
    clear(app);
    loading(app, token, ctl, doc.id);
  });

  function onChange() {
    ctl.dirty = true;
    trial.stale();
    clearTimeout(timer);
    timer = setTimeout(check, CHECK_DELAY_MS);
  }

  function showProblems(problems) {
    form.showProblems(problems);
    clear(problemList);
    for (const p of problems) {
      const go = h("button", { type: "button", class: "button button--ghost button--small" }, p.path);
      go.addEventListener("click", () => form.focusPath(p.path));
      problemList.appendChild(h("li", {}, go, " ", h("span", {}, `${p.message}. `), h("span", { class: "field__help" }, p.hint)));
    }
    // announced once per change of the count, not on every keystroke
    const text = problems.length ? `${problems.length} problem${problems.length === 1 ? "" : "s"} to fix` : "No problems: the case is valid";
    if (problems.length !== lastCount) status.textContent = text;
    lastCount = problems.length;
    status.classList.toggle("ce-status--bad", problems.length > 0);
  }

  async function check() {
    const mine = ++seq;
    try {
      const r = await cases.check(token, { data: doc.data });
      if (mine === seq && ctl.alive) showProblems(r.problems);
    } catch (err) {
      if (mine === seq && ctl.alive && !refused(app, ctl, err)) status.textContent = `The check failed: ${err.message}`;
    }
  }

  fullButton.addEventListener("click", async () => {
    fullButton.disabled = true;
    report.setAttribute("aria-busy", "true");
    clear(report).appendChild(h("p", {}, "Playing simulated learners through the case… this takes a while."));
    try {
      const r = await cases.check(token, { data: doc.data }, true);
      showProblems(r.problems);
      clear(report);
      if (!r.report) report.appendChild(h("p", {}, "Fix the problems above first: the full check needs a valid case."));
      else {
        const rep = r.report;
        report.append(
          h("p", { class: rep.errors.length ? "ce-status--bad" : "" }, rep.errors.length ? `${rep.errors.length} error${rep.errors.length === 1 ? "" : "s"}` : "Everything hidden can be reached.",
            ` Coverage: ${Math.round(rep.covered_share * 100)}% of generic history questions answered or gated; ${rep.simulated_turns} simulated turns.`),
          rep.errors.length ? h("ul", { class: "ce-report__errors" }, rep.errors.map((e) => h("li", {}, e))) : null,
          rep.warnings.length ? h("details", {}, h("summary", {}, `${rep.warnings.length} warning${rep.warnings.length === 1 ? "" : "s"}`),
            h("ul", {}, rep.warnings.map((w) => h("li", {}, w)))) : null);
      }
    } catch (err) {
      clear(report).appendChild(h("p", { class: "field__error" }, `The full check failed: ${err.message}`));
    } finally {
      report.removeAttribute("aria-busy");
      fullButton.disabled = false;
    }
  });

  save.addEventListener("click", async () => {
    save.disabled = true;
    const id = doc.data.id;
    try {
      if (typeof id !== "string" || !ID_RE.test(id)) throw new CaseError(422, "the case needs a valid id before it can be saved", [{ path: "id", message: "Not a valid id", hint: "lower-case letters, digits, '-' or '_'" }]);
      const saved = await cases.save(token, id, { data: doc.data, base_yaml: doc.baseYaml, expected_version: doc.expectedVersion, create: doc.create });
      const fresh = await cases.read(token, id);
      Object.assign(doc, { id, baseYaml: fresh.yaml, expectedVersion: saved.pack_version, create: false });
      ctl.dirty = false;
      title.textContent = `Edit: ${doc.data.title || id}`;
      versions.setCase(id);
      versions.show(saved);
      history.replaceState(null, "", `#/educator/cases/${encodeURIComponent(id)}`);
      toast(`Saved: version ${saved.pack_version}. Sessions use it from now on.`, "success");
    } catch (err) {
      if (refused(app, ctl, err)) return;
      if (err.problems && err.problems.length) showProblems(err.problems);
      toast(`Not saved: ${err.message}`, "error", 7000);
    } finally {
      save.disabled = false;
    }
  });

  app.appendChild(h("div", { class: "case-editor" },
    head(title, h("a", { class: "button button--ghost button--small", href: "#/educator/cases" }, "All cases"), save),
    h("div", { class: "ce-layout" },
      h("div", { class: "ce-main" }, status, form.el),
      h("aside", { class: "ce-side", "aria-label": "Checks, try it and history" },
        h("section", { class: "ce-panel ce-problems", "aria-labelledby": "ce-problems-title" },
          h("h2", { id: "ce-problems-title" }, "Problems"), problemList,
          h("div", { class: "ce-full" }, fullButton, h("p", { class: "field__help" }, "Reachability, coverage and clashes, as `bedside persona check` reports them.")),
          report),
        trial.el, versions.el))));
  check();
  versions.refresh();
}
