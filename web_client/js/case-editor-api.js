// The case editor's calls to /api/cases (educator token). A refused draft (422) comes back
// as a CaseError carrying the problems field by field, so the form can show them in place.

export class CaseError extends Error {
  constructor(status, detail, problems = []) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.problems = problems;
  }
}

async function call(method, path, token, body) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (_) {
    throw new CaseError(0, "The server could not be reached. Check your connection and try again.");
  }
  let json = null;
  try {
    json = await res.json();
  } catch (_) { /* not JSON */ }
  if (!res.ok) {
    const detail = json && typeof json.detail === "string" ? json.detail
      : json && Array.isArray(json.detail) ? json.detail.map((d) => d.msg).join("; ") : `HTTP ${res.status}`;
    throw new CaseError(res.status, detail, (json && json.problems) || []);
  }
  return json;
}

const enc = encodeURIComponent;

export const cases = {
  list: (t) => call("GET", "/api/cases", t),
  schema: (t) => call("GET", "/api/cases/schema", t),
  template: (t) => call("GET", "/api/cases/template", t),
  read: (t, id) => call("GET", `/api/cases/${enc(id)}`, t),
  check: (t, draft, full = false) => call("POST", "/api/cases/check", t, { ...draft, full }),
  tryTurn: (t, draft, state, text) => call("POST", "/api/cases/try", t, { ...draft, state, text }),
  save: (t, id, body) => call("PUT", `/api/cases/${enc(id)}`, t, body),
  versions: (t, id) => call("GET", `/api/cases/${enc(id)}/versions`, t),
  version: (t, id, v) => call("GET", `/api/cases/${enc(id)}/versions/${enc(v)}`, t),
  restore: (t, id, v) => call("POST", `/api/cases/${enc(id)}/versions/${enc(v)}/restore`, t),
};
