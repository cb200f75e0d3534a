// The case's earlier versions (each save keeps the file it replaced): view one, restore one.

import { cases } from "./case-editor-api.js";
import { clear, formatDateTime, h } from "./dom.js";

/** `onRestored(saved)` runs after a restore so the editor can load the restored case. */
export function historyPanel(token, caseId, onRestored) {
  const list = h("ol", { class: "ce-history__list" });
  const status = h("p", { class: "field__help", role: "status" }, "");
  const current = h("p", { class: "ce-history__current" });
  const panel = h("section", { class: "ce-panel ce-history", "aria-labelledby": "ce-history-title" },
    h("h2", { id: "ce-history-title" }, "History"), current, status, list);

  function show(v) {
    current.textContent = v.current ? `Current version: ${v.current}` : "Not saved yet.";
    clear(list);
    status.textContent = v.versions.length ? "" : "No earlier versions yet: each save keeps the one it replaces.";
    for (const ver of v.versions) {
      const pre = h("pre", { class: "ce-history__yaml", tabindex: "0" }, "Loading…");
      const view = h("details", { class: "ce-history__view" }, h("summary", {}, "View"), pre);
      view.addEventListener("toggle", async () => {
        if (!view.open || pre.dataset.loaded) return;
        try {
          pre.textContent = (await cases.version(token, caseId, ver.version_id)).yaml;
          pre.dataset.loaded = "1";
        } catch (err) {
          pre.textContent = `Could not load this version: ${err.message}`;
        }
      });
      const restore = h("button", { type: "button", class: "button button--ghost button--small",
        "aria-label": `Restore version ${ver.pack_version} from ${formatDateTime(ver.saved_at)}` }, "Restore");
      restore.addEventListener("click", async () => {
        if (!window.confirm(`Make version ${ver.pack_version} current again? The current file is kept in the history.`)) return;
        restore.disabled = true;
        try {
          const saved = await cases.restore(token, caseId, ver.version_id);
          show(saved);
          onRestored(saved);
        } catch (err) {
          status.textContent = `Not restored: ${err.message}`;
          restore.disabled = false;
        }
      });
      list.appendChild(h("li", { class: "ce-history__item" },
        h("span", { class: "ce-history__when" }, formatDateTime(ver.saved_at)),
        h("code", {}, ver.pack_version), restore, view));
    }
  }

  async function refresh() {
    if (!caseId) {
      show({ current: null, versions: [] });
      return;
    }
    try {
      show(await cases.versions(token, caseId));
    } catch (err) {
      status.textContent = `The history could not be loaded: ${err.message}`;
    }
  }

  return { el: panel, show, refresh, setCase(id) { caseId = id; } };
}
