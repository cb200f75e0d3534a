// What the debrief's summary figures say, worked out from the session summary alone so each
// label says exactly what it counts (docs/debrief.md):
// - the mean ECCS is over every turn that followed a feeling the patient offered (ECCS 0-2
//   included); how many of those met the feeling (ECCS 3+) is said next to it;
// - "you answered every feeling" only when feelings were offered, none was missed (ECCS 2 or
//   below) and no flag says a feeling was closed down (premature reassurance and the like).

export const CLOSING_FLAGS = ["premature_reassurance", "dismissive", "sympathy_only", "false_understanding"];

/** The empathy card's caption: what the mean is over, and how many turns met the feeling. */
export function empathyCaption(s) {
  const n = s.opportunities_answered || 0;
  if (!n) return "No turn followed a feeling the patient offered";
  const met = n - (s.missed_opportunities || []).length;
  return `Mean ECCS over the ${n} turn${n === 1 ? "" : "s"} after a feeling the patient offered; ` +
    `${met} of them met it (ECCS 3 or more)`;
}

/** The missed-opportunities verdict: {kind: "none_offered" | "all_met" | "flagged" | "missed", text}. */
export function missedVerdict(s, patientName = "The patient") {
  const missed = (s.missed_opportunities || []).length;
  const closing = CLOSING_FLAGS.filter((f) => (s.flag_counts || {})[f]);
  if (missed) {
    return { kind: "missed", text: `${missed} moment${missed === 1 ? "" : "s"} where ${patientName} offered a feeling and the reply did not meet it.` };
  }
  if (closing.length) {
    const what = closing.map((f) => `${f.replace(/_/g, " ")} ×${s.flag_counts[f]}`).join(", ");
    return { kind: "flagged", text: `No reply fell to ECCS 2 or below, but some replies closed a feeling down (${what}); see Things to watch.` };
  }
  if (!s.opportunities_answered) return { kind: "none_offered", text: `${patientName} offered no feeling to answer in this session.` };
  return { kind: "all_met", text: "None. You answered every feeling the patient offered." };
}
