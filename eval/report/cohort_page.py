"""The cohort page: the per-session figures aggregated per learner and per persona."""

from __future__ import annotations

from ..metrics.cohort import CohortMetrics, GroupStats
from ..metrics.session import SessionMetrics
from . import cohort_charts as charts
from .html import badge, card, cards, chart, esc, num, page, pct, section, table

TOC = [("overview", "Overview"), ("struggle", "Where learners struggle"), ("distributions", "Distributions"),
       ("learners", "Learners"), ("personas", "Personas"), ("flags", "Flags"), ("sessions", "Sessions")]

_STATUS_TONE = {"ended": "green", "abandoned": "amber", "active": "blue"}
_TREND_TONE = {"growing": ("green", "↗ growing"), "declining": ("red", "↘ declining"), "steady": ("grey", "→ steady"),
               "too few sessions": ("grey", "too few sessions")}


def _overview(c: CohortMetrics) -> str:
    o = c.overall
    return cards([
        # the span of dates is in the page's subtitle; abandoned sessions are counted apart from completed ones
        card("sessions", str(c.sessions), f"{o.completed} completed, {o.abandoned} abandoned, {o.active} in progress"),
        card("learners", str(c.learners), f"{c.personas} personas"),
        card("learner turns", str(c.turns), f"{o.opportunities} empathic opportunities"),
        card("mean ECCS", num(o.mean_eccs), f"{pct(o.eccs_pass_share)} acknowledged (≥ 3)"),
        card("final trust", num(o.final_trust), f"mean change {num(o.trust_gain)}"),
        card("CARE rating", num(o.care_total, 1), "mean, out of 50"),
        card("history checklist", pct(o.checklist_coverage), "mean coverage"),
        card("hidden concerns", pct(o.concerns_share), "mean share elicited"),
    ])


def _group_rows(groups: list[GroupStats], interruptions: bool) -> list[list[str]]:
    rows = []
    for g in groups:
        row = [f'<span title="{esc(g.title)}">{esc(g.label)}</span>', str(g.sessions), str(g.completed), str(g.abandoned),
               num(g.mean_eccs),
               pct(g.eccs_pass_share), num(g.final_trust), num(g.care_total, 1), pct(g.checklist_coverage),
               pct(g.concerns_share), pct(g.open_share), pct(g.learner_talk_share)]
        if interruptions:
            row.append(num(g.interruptions_per_session, 1))
        flags = ", ".join(f"{f.replace('_', ' ')} ({n})" for f, n in g.top_flags)
        rows.append(row + [f'<span class="small">{esc(flags) or "–"}</span>'])
    return rows


def _group_head(first: str, interruptions: bool) -> list[str]:
    head = [first, "sessions", "completed", "abandoned", "mean ECCS", "ECCS ≥ 3", "final trust", "CARE", "checklist", "concerns", "open Qs",
            "learner talk"]
    return head + (["interruptions / session"] if interruptions else []) + ["most frequent flags"]


def _any_interruptions(c: CohortMetrics) -> bool:
    return bool(c.overall.interruptions_per_session)


def _struggle(c: CohortMetrics, ms: list[SessionMetrics]) -> str:
    hardest = c.struggle[0] if c.struggle else None
    lead = (f'<p class="note">Hardest persona for this cohort: <b>{esc(hardest.title)}</b> '
            f"(mean ECCS {num(hardest.mean_eccs)}, {pct(hardest.missed_share)} of opportunities missed). "
            "Personas are ordered hardest first: lowest mean ECCS, then most opportunities missed.</p>" if hardest else "")
    return (lead + chart(charts.struggle_chart(c.struggle))
            + chart(charts.eccs_by_persona(ms, c.struggle), "Each dot is one session; boxes show the middle half."))


def _learners(c: CohortMetrics) -> str:
    trend = {p.learner_id: p for p in c.progress}
    inter = _any_interruptions(c)
    rows = _group_rows(c.by_learner, inter)
    for row, g in zip(rows, c.by_learner):
        p = trend[g.key]
        tone, text = _TREND_TONE[p.trend]
        slope = f" ({p.slope:+.2f}/session)" if p.slope is not None else ""
        row.insert(1, badge(text, tone) + f'<span class="note">{slope}</span>')
    head = _group_head("learner", inter)
    head.insert(1, "empathy trend")
    growing = sum(p.trend == "growing" for p in c.progress)
    declining = sum(p.trend == "declining" for p in c.progress)
    note = (f"{growing} learner(s) growing, {declining} declining: the fitted change in session mean ECCS per session "
            "beyond ±0.1 levels, from three or more sessions.")
    return chart(charts.progress_chart(c.progress), note) + table(head, rows, set(range(2, len(head) - 1)))


def _personas(c: CohortMetrics) -> str:
    inter = _any_interruptions(c)
    head = _group_head("persona", inter)
    return table(head, _group_rows(c.by_persona, inter), set(range(1, len(head) - 1)))


def _sessions(ms: list[SessionMetrics], links: dict[str, str] | None) -> str:
    rows = []
    for m in sorted(ms, key=lambda m: (m.learner_id, m.started_at)):
        name = esc(m.session_id[:8])
        if links and m.session_id in links:
            name = f'<a href="{esc(links[m.session_id])}">{name}</a>'
        rows.append([name, esc(m.learner_id), esc(m.persona_id), esc(f"{m.started_at:%Y-%m-%d %H:%M}"),
                     badge(m.status, _STATUS_TONE.get(m.status, "grey")), str(m.turns),
                     num(m.mean_eccs), str(len(m.missed)), num(m.final_trust), num(m.care_total),
                     pct(m.coverage.checklist_coverage)])
    return table(["session", "learner", "persona", "started (UTC)", "status", "turns", "mean ECCS", "missed",
                  "final trust", "CARE", "checklist"], rows, {5, 6, 7, 8, 9, 10})


def cohort_page(c: CohortMetrics, ms: list[SessionMetrics], *, title: str = "Cohort report",
                links: dict[str, str] | None = None, source: str = "") -> str:
    """`links` maps session ids to per-session pages (relative URLs), when they were written."""
    heat = charts.flags_heatmap(c, ms)
    body = "".join([
        section("overview", "Overview", _overview(c)),
        section("struggle", "Where learners struggle", _struggle(c, ms)),
        section("distributions", "Distributions", chart(charts.distributions(ms),
                "Dashed line: cohort mean. CARE is the patient's rating of the learner (10 items, 1-5 each).")),
        section("learners", "Learners: progress across sessions", _learners(c)),
        section("personas", "Personas", _personas(c)),
        section("flags", "Problem flags", chart(heat, "Flags per 10 learner turns.") if heat else '<p class="note">No flags raised.</p>'),
        section("sessions", "Sessions", _sessions(ms, links)),
    ])
    span = f"{c.first:%d %b %Y} – {c.last:%d %b %Y}" if c.first and c.last else ""
    return page(title, f"{c.sessions} sessions · {c.learners} learners · {c.personas} personas · {span}", body, TOC,
                footer=f"Source: {source}. Generated by `bedside eval cohort`.")
