// HTTP API calls (docs/protocol.md, "HTTP API").

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

async function request(path, token, accept, method = "GET") {
  const headers = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, cache: "no-store" });
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
  return res;
}

async function getJson(path, token, method = "GET") {
  return (await request(path, token, "application/json", method)).json();
}

/** "?a=1&b=x&b=y" from {a: 1, b: ["x", "y"]}; empty values are left out. */
function query(filters) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) {
    if (Array.isArray(v)) for (const item of v) q.append(k, item);
    else if (v) q.set(k, v);
  }
  const qs = q.toString();
  return qs ? "?" + qs : "";
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
  return getJson(`/api/sessions${query(filters)}`, token);
}

/** The cohort report (educator token): {filters, abandon_after_min, cohort, sessions}. */
export function getCohort(token, filters = {}) {
  return getJson(`/api/cohort${query(filters)}`, token);
}

/**
 * A download from an educator route, fetched with the token in the Authorization header (never
 * in the address, where it would reach the history and the server's logs): {blob, filename}.
 */
export async function fetchDownload(path, token, filters = {}) {
  const res = await request(`${path}${query(filters)}`, token, "*/*");
  const named = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  return { blob: await res.blob(), filename: named ? named[1] : path.split("/").pop() };
}

export function getSession(id, token) {
  return getJson(`/api/sessions/${encodeURIComponent(id)}`, token);
}

/** A new personal key: {key, created_at}. The server keeps only its digest. */
export function createLearnerKey() {
  return getJson("/api/learner-keys", null, "POST");
}

/** The key holder's sessions, newest first: {learner_id, sessions: [{session (with its scores), title, patient_name}]}. */
export function mySessions(key) {
  return getJson("/api/me/sessions", key);
}
