// Case picker: the learner's name or id, then one of the loaded personas.

import { getPersonas } from "./api.js";
import { capitalise, clear, h, store } from "./dom.js";
import { ensureKey, heldKey, keyPanel, takeUnshownKey } from "./learner-key.js";

const LEARNER_KEY = "bedside.learner";
export const ACTIVE_KEY = "bedside.active";

/** The name to practise under: the one the personal key is tied to, else the one last typed here. */
export function savedLearner() {
  return heldKey()?.learner_id || store.get(LEARNER_KEY, localStorage) || "";
}

export function mount(app) {
  const nameError = h("p", { class: "field__error", id: "learner-error", hidden: true });
  const tied = Boolean(heldKey()?.learner_id); // the key decides the name (learner-key.js)
  const nameInput = h("input", {
    id: "learner-id", name: "learner", type: "text", autocomplete: "nickname", maxlength: "200",
    spellcheck: "false", "aria-describedby": "learner-help learner-error", value: savedLearner(), readonly: tied,
  });
  nameInput.addEventListener("input", () => {
    nameError.hidden = true;
    nameInput.removeAttribute("aria-invalid");
  });

  const list = h("div", { class: "case-grid", "aria-busy": "true" },
    [1, 2, 3].map(() => h("div", { class: "case-card case-card--skeleton", "aria-hidden": "true" })));
  const status = h("div", { class: "picker__status", role: "status" }, "Loading cases…");

  function choose(persona) {
    const name = nameInput.value.trim();
    if (!name) {
      nameError.textContent = "Enter your name or student ID before choosing a case.";
      nameError.hidden = false;
      nameInput.setAttribute("aria-invalid", "true");
      nameInput.focus();
      return;
    }
    store.set(LEARNER_KEY, name, localStorage);
    location.hash = `#/session/${encodeURIComponent(persona.id)}`;
  }

  const active = store.get(ACTIVE_KEY);
  const resume = active && active.session_id
    ? h("div", { class: "banner", role: "region", "aria-label": "Session in progress" },
      h("div", {},
        h("strong", {}, "You have a session in progress"),
        h("span", {}, ` with ${active.persona?.patient?.name || "your patient"}.`)),
      h("a", { class: "button button--primary button--small", href: "#/session" }, "Return to it"))
    : null;

  const step = (n, title, text) => h("li", { class: "steps__item" },
    h("span", { class: "steps__num", "aria-hidden": "true" }, String(n)),
    h("span", {}, h("strong", {}, title), h("span", { class: "muted" }, ` ${text}`)));
  const page = h("div", { class: "picker" },
    resume,
    h("div", { class: "picker-top" },
      h("section", { class: "hero" },
        h("p", { class: "eyebrow" }, "Clinical communication practice"),
        h("h1", {}, "Choose a case"),
        h("p", { class: "lede" },
          "Each case is a simulated patient with a story to tell and feelings behind it. Talk with them as you would on the ward."),
        h("ol", { class: "steps" },
          step(1, "Talk.", "By voice or by typing; the patient answers aloud, with captions."),
          step(2, "Notice.", "Each of your turns gets brief feedback on how it met the patient’s feelings."),
          step(3, "Reflect.", "End the session for a debrief you can download or print."))),
      h("section", { class: "panel learner-panel", "aria-labelledby": "learner-heading" },
      h("h2", { id: "learner-heading", class: "visually-hidden" }, "About you"),
      h("div", { class: "field" },
        h("label", { for: "learner-id" }, "Your name or student ID"),
        nameInput,
        h("p", { class: "field__help", id: "learner-help" }, tied
          ? "Tied to your personal key: your sessions are kept under this name, and your educators see them under it."
          : "Your educators see your sessions under this name. A student ID or pseudonym is fine."),
        nameError))),
    h("section", { "aria-labelledby": "cases-heading" },
      h("div", { class: "section-head" },
        h("h2", { id: "cases-heading" }, "Cases"),
        status),
      list));
  app.appendChild(page);

  let alive = true;
  ensureKey().then(() => {
    const fresh = alive && takeUnshownKey();
    if (fresh) page.prepend(keyPanel(fresh, () => nameInput.focus()));
  });
  function load() {
    list.setAttribute("aria-busy", "true");
    status.textContent = "Loading cases…";
    getPersonas().then(({ personas, refused }) => {
      if (!alive) return;
      clear(list);
      list.removeAttribute("aria-busy");
      status.textContent = `${personas.length} case${personas.length === 1 ? "" : "s"} available`;
      if (!personas.length) {
        list.appendChild(h("div", { class: "panel notice" },
          h("p", {}, "No cases are loaded on this server. Ask your educator to add persona packs.")));
      }
      for (const p of personas) list.appendChild(card(p, choose));
      if (refused && refused.length) {
        list.appendChild(h("p", { class: "muted small refused-note" },
          `${refused.length} case file${refused.length === 1 ? "" : "s"} on the server failed validation and ${refused.length === 1 ? "is" : "are"} not shown.`));
      }
    }).catch((err) => {
      if (!alive) return;
      clear(list);
      list.removeAttribute("aria-busy");
      status.textContent = "";
      list.appendChild(h("div", { class: "panel notice notice--error", role: "alert" },
        h("p", {}, `The cases could not be loaded: ${err.message}`),
        h("button", { class: "button", type: "button", onclick: load }, "Try again")));
    });
  }
  load();
  return { unmount() { alive = false; } };
}

function card(p, choose) {
  const titleId = `case-${p.id}-title`;
  const patient = p.patient || {};
  return h("article", { class: "case-card", "aria-labelledby": titleId },
    h("div", { class: "case-card__top" },
      h("span", { class: ["badge", `badge--${p.difficulty}`] }, capitalise(p.difficulty)),
      h("span", { class: "case-card__patient" }, `${patient.name}, ${patient.age}`)),
    h("h3", { id: titleId, class: "case-card__title" }, p.title),
    h("p", { class: "case-card__setting" }, p.setting),
    h("details", { class: "case-card__objectives" },
      h("summary", {}, `Learning objectives (${p.learning_objectives.length})`),
      h("ul", {}, p.learning_objectives.map((o) => h("li", {}, o)))),
    h("div", { class: "case-card__actions" },
      h("button", { class: "button button--soft", type: "button", onclick: () => choose(p),
        "aria-label": `Choose case: ${p.title}` }, "Choose this case")));
}
