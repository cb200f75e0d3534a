// The session page: the case brief and Start, then the live consultation (voice and/or
// text), then End, which hands over to the debrief.
//
// This file is the entry main.js mounts; the page is built from session-context.js (the shared
// state and the course of the session), session-layout.js, session-events.js, session-transcript.js,
// session-talk.js and session-notices.js.

import { getPersonas } from "./api.js";
import { h, store } from "./dom.js";
import { ACTIVE_KEY, savedLearner } from "./picker.js";
import { Consultation } from "./session-context.js";

export function mount(app, { personaId }) {
  const active = store.get(ACTIVE_KEY);
  if (!personaId) {
    if (!active || !active.session_id) {
      location.replace("#/");
      return null;
    }
    const c = new Consultation(app, active.persona, active.mode, active.learner_id);
    c.renderResume(active);
    return c.routeHooks();
  }
  const learner = savedLearner();
  if (!learner) {
    location.replace("#/");
    return null;
  }
  const holder = h("div", { class: "panel", role: "status" }, "Loading the case…");
  app.appendChild(holder);
  let alive = true;
  let consultation = null;
  getPersonas().then(({ personas }) => {
    if (!alive) return;
    const persona = personas.find((p) => p.id === personaId);
    holder.remove();
    if (!persona) {
      app.appendChild(h("section", { class: "panel narrow notice notice--error", role: "alert" },
        h("h1", {}, "Case not found"),
        h("p", {}, `There is no case called “${personaId}” on this server.`),
        h("a", { class: "button", href: "#/" }, "Back to the cases")));
      return;
    }
    if (active && active.session_id && active.persona?.id === persona.id) {
      consultation = new Consultation(app, active.persona, active.mode, active.learner_id);
      consultation.renderResume(active);
      return;
    }
    consultation = new Consultation(app, persona, "voice", learner);
    consultation.renderBrief();
  }).catch((err) => {
    if (!alive) return;
    holder.className = "panel notice notice--error";
    holder.setAttribute("role", "alert");
    holder.textContent = `The case could not be loaded: ${err.message}`;
  });
  return {
    canLeave: () => (consultation ? consultation.canLeave() : true),
    unmount: () => {
      alive = false;
      if (consultation) consultation.destroy();
    },
  };
}
