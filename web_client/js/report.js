// Downloads of a graded transcript: the raw JSON (GET /api/sessions/{id} plus the case
// title), and a standalone HTML report with its own print styles, so opening it and
// printing (or "Save as PDF") gives a clean document.

import { isRetry, isRewound } from "./branches.js";
import { missedVerdict } from "./debrief-figures.js";
import { objectiveVerdict } from "./debrief-objectives.js";
import { ECCS_LEVELS, actWord, emotionWord, flagWord, formatDateTime, formatDuration, nurseWord } from "./dom.js";

function save(name, type, text) {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

function baseName(detail) {
  const s = detail.session;
  const day = (s.created_at || "").slice(0, 10);
  const learner = String(s.learner_id).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "learner";
  return `bedside-${s.persona_id}-${learner}-${day}`;
}

export function downloadJson(detail, { persona } = {}) {
  const doc = { exported_at: new Date().toISOString(), persona: persona || null, ...detail };
  save(`${baseName(detail)}.json`, "application/json", JSON.stringify(doc, null, 2));
}

const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const pct = (v) => Math.round((v || 0) * 100);
const CARE_WORDS = ["Poor", "Fair", "Good", "Very good", "Excellent"];

export function reportHtml(detail, { persona = null, chart = "", summary = null } = {}) {
  const s = summary || detail.summary;
  const info = detail.session;
  const name = persona?.patient?.name || "Patient";
  const title = persona?.title || info.persona_id;
  const labels = detail.checklist_items || {};
  const gradeLine = (g) => {
    const bits = [g.eccs === null || g.eccs === undefined ? "No empathic cue" : `ECCS ${g.eccs} (${ECCS_LEVELS[g.eccs]?.short})`];
    if (g.nurse?.length) bits.push(`NURSE: ${g.nurse.map(nurseWord).join(", ")}`);
    if (g.flags?.length) bits.push(`Flags: ${g.flags.map(flagWord).join(", ")}`);
    return bits.join(" · ");
  };
  const scores = s ? `
    <table class="scores">
      <tr><th>Empathic responses (mean ECCS)</th><td>${s.mean_eccs === null ? "—" : esc(s.mean_eccs.toFixed(1))} / 6</td>
          <th>Patient rating (CARE)</th><td>${esc(s.care_total)} / 50</td></tr>
      <tr><th>History checklist covered</th><td>${pct(s.checklist_coverage)}%</td>
          <th>Open / closed questions</th><td>${esc(s.open_questions)} / ${esc(s.closed_questions)}</td></tr>
      <tr><th>Final trust</th><td>${pct(s.final_trust)} / 100</td>
          <th>Final distress</th><td>${pct(s.final_distress)} / 100 (${esc(emotionWord(s.final_emotion).toLowerCase())})</td></tr>
      <tr><th>Turns</th><td>${esc(s.turns)}</td><th>Interruptions</th><td>${esc(s.interruptions || 0)}</td></tr>
    </table>` : `<p class="note">This session had not ended when the report was made; there is no summary yet.</p>`;
  const missed = s && s.missed_opportunities?.length ? s.missed_opportunities.map((m) => `
    <div class="missed">
      <p class="label">Turn ${esc(m.turn)} · ECCS ${esc(m.eccs)}</p>
      <p><span class="who">${esc(name)} said:</span> “${esc(m.patient_said)}”</p>
      <p><span class="who">You said:</span> “${esc(m.learner_said)}”</p>
      <p class="better"><span class="who">You could try:</span> “${esc(m.better_option)}”</p>
    </div>`).join("") : s ? `<p>${esc(missedVerdict(s, name).text)}</p>` : "";
  const checklist = s ? Object.entries(s.checklist || {}).map(([id, ok]) =>
    `<li class="${ok ? "yes" : "no"}"><span>${ok ? "✓" : "✗"}</span> ${esc(labels[id] || id.replace(/_/g, " "))}</li>`).join("") : "";
  const care = s ? Object.entries(s.care || {}).map(([item, v]) =>
    `<tr><th>${esc(item.charAt(0).toUpperCase() + item.slice(1))}</th><td>${"●".repeat(v)}${"○".repeat(5 - v)}</td><td>${esc(CARE_WORDS[v - 1] || v)}</td></tr>`).join("") : "";
  const objectives = (s?.objectives || []).map((o) =>
    `<li class="${o.met ? "yes" : "no"}"><span>${o.met ? "✓" : "–"}</span> ${esc(o.text)} <em>(${esc(objectiveVerdict(o))})</em></li>`).join("");
  const notes = (s?.debrief_notes || []).map((n) => `<li>${esc(n)}</li>`).join("");
  const turns = detail.turns.map((t) => `
    <div class="turn learner">
      <p class="who">You <span>· turn ${esc(t.turn_id)} · ${esc(actWord(t.act))}</span></p>
      <p class="text">${esc(t.learner_text)}</p>
      <p class="grade">${esc(gradeLine(t.grade))}</p>
      ${t.grade.feedback ? `<p class="feedback">${esc(t.grade.feedback)}</p>` : ""}
      ${isRewound(t) ? `<p class="branch">Taken back${t.branch.retried_by ? ` (said again as turn ${esc(t.branch.retried_by)})` : ""}: shown, not counted</p>` : ""}
      ${isRetry(t) ? `<p class="branch">Retry of turn ${esc(t.retry_of)}</p>` : ""}
    </div>
    <div class="turn patient">
      <p class="who">${esc(name)} <span>· ${esc(emotionWord(t.state_after.emotion))} · trust ${pct(t.state_after.trust)} · distress ${pct(t.state_after.distress)}${t.interrupted ? " · interrupted" : ""}</span></p>
      <p class="text">${esc(t.reply)}</p>
    </div>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}: ${esc(info.learner_id)} (${esc((info.created_at || "").slice(0, 10))})</title>
<style>
  :root { color-scheme: light; }
  body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1b2a33;
         max-width: 820px; margin: 2rem auto; padding: 0 1.25rem; }
  h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #dde3e8; padding-bottom: .3rem; }
  .meta { color: #51606b; margin: 0 0 1rem; } .brand { color: #0d6b6b; font-weight: 700; letter-spacing: .02em; margin: 0 0 1rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #eef1f3; vertical-align: top; }
  .scores th { color: #51606b; font-weight: 500; width: 30%; } .scores td { font-weight: 650; }
  .legend { color: #51606b; font-size: .9rem; } .legend b.t { color: #1d5fa8; } .legend b.d { color: #b0462b; }
  .missed { border-left: 3px solid #c58a1a; padding: .2rem 0 .2rem .8rem; margin: 0 0 1rem; break-inside: avoid; }
  .missed p { margin: .2rem 0; } .label { font-weight: 650; } .who { color: #51606b; font-weight: 600; } .better { color: #17603a; }
  ul.check { list-style: none; padding: 0; columns: 2; } ul.check.objectives { columns: 1; } ul.check li { margin: .15rem 0; break-inside: avoid; } li.yes span { color: #17603a; font-weight: 700; } li.no { color: #51606b; }
  .turn { margin: 0 0 .8rem; padding: .5rem .8rem; border-radius: 8px; break-inside: avoid; }
  .turn.learner { background: #eef5f5; } .turn.patient { background: #f5f6f8; }
  .turn p { margin: .15rem 0; } .turn .who { font-size: .85rem; } .turn .who span { font-weight: 400; }
  .grade { font-size: .85rem; font-weight: 600; color: #0d4f4f; } .branch { font-size: .85rem; color: #51606b; } .feedback { font-size: .9rem; color: #33434e; font-style: italic; }
  /* on a phone the four-column score table folds into label / value pairs */
  @media (max-width: 560px) { .scores tr { display: grid; grid-template-columns: 1fr auto; } .scores th { width: auto; } }
  .note { background: #fff4dc; padding: .6rem .8rem; border-radius: 6px; }
  @page { margin: 16mm 14mm; }
  @media print { body { margin: 0; max-width: none; font-size: 11pt; } h2 { break-after: avoid; } .turn, .missed { break-inside: avoid; } }
</style></head>
<body>
<p class="brand">Bedside · graded transcript</p>
<h1>${esc(title)}</h1>
<p class="meta">Learner: ${esc(info.learner_id)} · Patient: ${esc(name)} · ${esc(formatDateTime(info.created_at))}
  ${info.ended_at ? `· ${esc(formatDuration(info.created_at, info.ended_at))}` : ""} · ${esc(info.mode)} session · ${esc(info.turns)} turns · session ${esc(info.id)}</p>
<h2>Summary</h2>${scores}
<h2>How the patient felt</h2>
<p class="legend"><b class="t">—— Trust</b> &nbsp; <b class="d">- - - Distress</b> &nbsp; (0 to 100, after each turn; shaded turns are missed opportunities)</p>
${chart}
<h2>Missed empathic opportunities</h2>${missed}
${s ? `<h2>History checklist (${pct(s.checklist_coverage)}% covered)</h2><ul class="check">${checklist}</ul>` : ""}
${objectives ? `<h2>Learning objectives</h2><ul class="check objectives">${objectives}</ul>` : ""}
${notes ? `<h2>Teaching notes</h2><ul>${notes}</ul>` : ""}
${s ? `<h2>The patient's rating (CARE-style, ${esc(s.care_total)} / 50)</h2><table>${care}</table>` : ""}
<h2>Transcript</h2>
<div class="turn patient"><p class="who">${esc(name)} <span>· opening</span></p><p class="text">${esc(detail.opening)}</p></div>
${turns}
<p class="meta" style="margin-top:2rem">Generated by Bedside on ${esc(new Date().toLocaleString())}. Grades are automatic and meant for reflection and discussion.</p>
</body></html>`;
}

export function downloadReport(detail, opts = {}) {
  save(`${baseName(detail)}.html`, "text/html", reportHtml(detail, opts));
}
