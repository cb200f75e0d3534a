// The educator page's downloads: the sessions listed (same filters) as CSV, xAPI or JSONL.
// Each file is fetched with the educator token in a header and saved from a Blob, so the
// token never appears in an address, the history or the server's access log.

import { ApiError, fetchDownload } from "./api.js";
import { h } from "./dom.js";

const FORMATS = [
  { path: "/api/export/csv", label: "CSV", what: "CSV, one row per session (opens in a spreadsheet)" },
  { path: "/api/export/xapi", label: "xAPI", what: "xAPI statements for a learning record store (JSON)" },
  { path: "/api/export/jsonl", label: "JSONL", what: "JSON Lines, one line per turn (for research)" },
];

/** Hand a Blob to the browser as a file download. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000); // long enough for the browser to start the save
}

/**
 * The three download buttons. scope() gives {filters, count} for the sessions listed now, or
 * null when none are; onRefused(err) handles a token the server no longer accepts.
 */
export function downloadBar({ token, scope, onRefused }) {
  const status = h("p", { class: "downloads__status", role: "status", "aria-live": "polite" });
  const buttons = FORMATS.map((f) => h("button", { type: "button", class: "button button--small", "data-format": f.label,
    "aria-label": `Download the sessions listed as ${f.what}`, title: f.what,
    onclick: () => get(f) }, f.label));
  const bar = h("section", { class: "downloads", "aria-labelledby": "downloads-title" },
    h("h2", { id: "downloads-title", class: "downloads__title" }, "Download the sessions listed"),
    h("div", { class: "downloads__buttons" }, buttons),
    status);

  async function get(format) {
    const now = scope();
    if (!now) return;
    for (const b of buttons) b.disabled = true;
    status.classList.remove("downloads__status--error");
    status.textContent = `Preparing the ${format.label} file…`;
    try {
      const { blob, filename } = await fetchDownload(format.path, token, now.filters);
      saveBlob(blob, filename);
      status.textContent = `Downloaded ${filename} (${now.count} session${now.count === 1 ? "" : "s"}).`;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        onRefused(err);
        return;
      }
      status.classList.add("downloads__status--error");
      status.textContent = `The ${format.label} file could not be made: ${err.message}`;
    } finally {
      update();
    }
  }

  /** Enable the buttons only when some sessions are listed. */
  function update() {
    const now = scope();
    for (const b of buttons) b.disabled = !now;
  }

  update();
  return { element: bar, update };
}
