// Turns taken back with "Try that again" (turn.retry), as GET /api/sessions/{id} marks them:
// a taken-back turn has `branch: {status: "rewound", retried_by}`, its retry `retry_of`.
// Shown everywhere, counted nowhere (docs/debrief.md#retried-turns).

export function isRewound(t) {
  return !!t.branch && t.branch.status === "rewound";
}

export function isRetry(t) {
  return t.retry_of !== null && t.retry_of !== undefined;
}
