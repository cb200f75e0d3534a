// HTTP API calls (docs/protocol.md, "HTTP API").

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

async function getJson(path, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { headers, cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, "The server could not be reached. Check your connection and try again.");
  }
  if (!res.ok) {
    let detail = "";
    try {
      detail = (await res.json()).detail;
    } catch (_) { /* not JSON */ }
    throw new ApiError(res.status, typeof detail === "string" ? detail : `HTTP ${res.status}`);
  }
  return res.json();
}

let personasPromise = null;

/** {personas, refused}; cached for the page's life, retried after a failure. */
export function getPersonas() {
  if (!personasPromise) {
    personasPromise = getJson("/api/personas").catch((err) => {
      personasPromise = null;
      throw err;
    });
  }
  return personasPromise;
}

export async function personaById() {
  const { personas } = await getPersonas();
  return Object.fromEntries(personas.map((p) => [p.id, p]));
}

export function listSessions(token, filters = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  const qs = q.toString();
  return getJson(`/api/sessions${qs ? "?" + qs : ""}`, token);
}

export function getSession(id, token) {
  return getJson(`/api/sessions/${encodeURIComponent(id)}`, token);
}
