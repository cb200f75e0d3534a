// Entry point: a tiny hash router over the five pages.
//
//   #/                      case picker
//   #/session/<persona_id>  session page (brief, Start, live conversation, End)
//   #/debrief/<session_id>  the learner's debrief (their session token, kept in sessionStorage, or personal key)
//   #/me                    the learner's own sessions (their personal key, kept in localStorage)
//   #/educator              educator session list (educator token, kept in sessionStorage)
//   #/educator/<session_id> a session's debrief, for the educator
//   #/educator/cases[/<id>] the case editor (educator token)

import { clear, h } from "./dom.js";
import * as picker from "./picker.js";
import * as session from "./session.js";
import * as debrief from "./debrief.js";
import * as educator from "./educator.js";
import * as caseEditor from "./case-editor.js";
import * as mySessions from "./my-sessions.js";

const app = document.getElementById("app");
let current = null; // {unmount, canLeave}
let currentHash = null;

function parse(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [page, arg, sub] = parts;
  switch (page) {
    case undefined:
      return { view: picker, nav: "picker", params: {} };
    case "session":
      return { view: session, nav: "picker", params: { personaId: arg || null } };
    case "debrief":
      return { view: debrief, nav: "picker", params: { sessionId: arg, audience: "learner" } };
    case "me":
      return { view: mySessions, nav: "me", params: {} };
    case "educator":
      if (arg === "cases") return { view: caseEditor, nav: "educator", params: { caseId: sub || null } };
      return { view: educator, nav: "educator", params: { sessionId: arg || null } };
    default:
      return { view: null, nav: null, params: {} };
  }
}

function notFound() {
  return h("section", { class: "panel narrow" },
    h("h1", { tabindex: "-1" }, "Page not found"),
    h("p", {}, "That address does not match a Bedside page."),
    h("p", {}, h("a", { class: "button button--primary", href: "#/" }, "Choose a case")));
}

function render() {
  const hash = location.hash || "#/";
  if (current && current.canLeave && hash !== currentHash && !current.canLeave()) {
    history.replaceState(null, "", currentHash); // stay on the page
    return;
  }
  if (current && current.unmount) current.unmount();
  current = null;
  currentHash = hash;
  const route = parse(hash);
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === route.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  clear(app);
  clear(document.getElementById("toasts")); // a toast belongs to the page it was shown on
  if (!route.view) {
    app.appendChild(notFound());
  } else {
    current = route.view.mount(app, route.params) || null;
  }
  window.scrollTo(0, 0);
  // put keyboard and screen-reader focus on the new page's heading
  requestAnimationFrame(() => {
    const heading = app.querySelector("h1");
    if (heading && !app.contains(document.activeElement)) {
      if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  });
}

if (!("WebSocket" in window)) {
  clear(app).appendChild(h("div", { class: "panel notice notice--error", role: "alert" },
    h("h1", {}, "This browser is not supported"),
    h("p", {}, "Bedside needs WebSockets, which this browser does not provide. Use a current version of Chrome, Edge, Firefox or Safari.")));
} else {
  window.addEventListener("hashchange", render);
  render();
}
