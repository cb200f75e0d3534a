"""One session as a self-contained, printable HTML page."""

from __future__ import annotations

from ..metrics.session import SessionMetrics, TurnView
from . import session_charts as charts
from .html import badge, card, cards, chart, esc, num, page, pct, section, table

TOC = [("overview", "Overview"), ("feelings", "Trust & emotion"), ("eccs", "ECCS"), ("talk", "Talk time"),
       ("questions", "Questions"), ("disclosure", "Disclosure"), ("checklist", "Checklist"),
       ("missed", "Missed opportunities"), ("care", "CARE rating"), ("transcript", "Transcript")]


def _eccs_badge(level: int | None) -> str:
    if level is None:
        return badge("no opportunity", "grey", "the patient's previous turn held no empathic opportunity")
    tone = "red" if level <= 2 else "amber" if level == 3 else "green"
    return badge(f"ECCS {level}", tone, "Empathic Communication Coding System level, 0-6")


def grade_badges(v: TurnView) -> str:
    g = v.grade
    out = [_eccs_badge(g.eccs)]
    if v.act not in ("open_question", "closed_question"):  # those are shown by the question badge
        out.append(badge(v.act.replace("_", " "), "grey", "dialogue act"))
    if g.question_type != "none":
        out.append(badge(f"{g.question_type} question", "green" if g.question_type == "open" else "amber"))
    out += [badge(f"NURSE {n}", "blue") for n in g.nurse]
    out += [badge(f.replace("_", " "), "red") for f in g.flags]
    e = g.epitome
    out.append(badge(f"EPITOME ER {e.emotional_reactions} · IP {e.interpretations} · EX {e.explorations}", "grey",
                     "emotional reactions, interpretations, explorations (0-2)"))
    if g.space != "neutral":
        out.append(badge(f"{g.space} space", "green" if g.space == "provides" else "red", "VR-CoDES"))
    if g.named_emotion:
        ok = {True: " ✓", False: " ✗", None: ""}[g.empathic_accuracy]
        out.append(badge(f"named {g.named_emotion}{ok}", "green" if g.empathic_accuracy else "amber"))
    if v.barged_in:
        out.append(badge("spoke over the patient", "red"))
    return "".join(out)


def _overview(m: SessionMetrics) -> str:
    trust_change = (m.final_trust - m.initial_trust) if m.final_trust is not None and m.initial_trust is not None else None
    concerns = m.coverage.concerns
    found = sum(c.turn is not None for c in concerns)
    items = [
        card("mean ECCS", num(m.mean_eccs), f"{m.opportunities} empathic opportunities answered"),
        card("acknowledged (ECCS ≥ 3)", pct(m.eccs_pass_share), f"{len(m.missed)} missed"),
        card("final trust", num(m.final_trust), f"{'+' if (trust_change or 0) >= 0 else ''}{num(trust_change)} over the session"),
        card("final distress", num(m.final_distress), m.final_emotion or ""),
        card("CARE rating", f"{m.care_total}/50" if m.care_total is not None else "–", "patient's view, 10 items"),
        card("history checklist", pct(m.coverage.checklist_coverage), f"{sum(c.done for c in m.coverage.checklist)} of {len(m.coverage.checklist)} items"),
        card("hidden concerns", f"{found}/{len(concerns)}" if concerns else "–", "elicited"),
        card("learner talk share", pct(m.talk.learner_share), "measured" if m.talk.learner_measured else "estimated from words"),
    ]
    meta = table(["learner", "persona", "mode", "started", "turns", "status", "grader", "source layout"], [[
        esc(m.learner_id), esc(m.persona_title), esc(m.mode), esc(m.started_at.strftime("%Y-%m-%d %H:%M UTC")),
        str(m.turns), esc(m.status), esc(", ".join(m.grader_versions) or "–"), f"v{m.schema_version}"]])
    return cards(items) + meta


def _talk(m: SessionMetrics) -> str:
    t = m.talk
    how = ("Learner speech is measured from the stored audio; " if t.learner_measured
           else "Learner speech is estimated from words at 150 words per minute; ")
    how += ("patient speech is measured." if t.patient_measured
            else "patient speech is estimated from words at the persona's speaking rate.")
    rows = [[num(t.learner_s, 1, " s"), num(t.patient_s, 1, " s"), pct(t.learner_share), str(t.barge_ins), str(t.interruptions)]]
    return chart(charts.talk_chart(m), how) + table(
        ["learner", "patient", "learner share", "learner spoke over patient", "patient replies cut short"], rows, {0, 1, 2, 3, 4})


def _questions(m: SessionMetrics) -> str:
    q = m.questions
    note = (f"{q.open} open, {q.closed} closed, {q.none} turns without a question. "
            + (f"Open questions make up {pct(q.open_share)} of the questions asked." if q.open_share is not None else ""))
    return chart(charts.question_chart(q), note)


def _disclosure(m: SessionMetrics) -> str:
    def rows(items):
        for d in items:
            got = f'<span class="yes">turn {d.turn}</span>' if d.turn is not None else '<span class="no">not elicited</span>'
            yield [esc(d.id), esc(d.label), got]
    c = m.coverage
    facts = f"<h3>Facts ({pct(c.facts_share)} elicited)</h3>" + table(["id", "topic", "elicited"], rows(c.facts))
    concerns = (f"<h3>Hidden concerns ({pct(c.concerns_share)} elicited)</h3>" + table(["id", "concern", "elicited"], rows(c.concerns))
                if c.concerns else "")
    return facts + concerns


def _checklist(m: SessionMetrics) -> str:
    if not m.coverage.checklist:
        return '<p class="note">The persona pack has no history checklist (or is not installed).</p>'
    rows = [[esc(r.item), '<span class="yes">✓ done</span>' if r.done else '<span class="no">✗ missing</span>',
             f"turn {r.turn}" if r.turn else "–"] for r in m.coverage.checklist]
    return f'<p class="note">{pct(m.coverage.checklist_coverage)} of the history checklist covered.</p>' + table(
        ["item", "status", "completed at"], rows)


def _missed(m: SessionMetrics) -> str:
    if not m.missed:
        return '<p class="note">No missed empathic opportunities: every one was acknowledged (ECCS ≥ 3).</p>'
    out = []
    for x in m.missed:
        out.append(
            f'<div class="missed"><div class="who">Turn {x.turn} · ECCS {x.eccs}'
            f'{" · " + esc(x.opportunity_id) if x.opportunity_id else ""}</div>'
            f"<div><b>Patient:</b> {esc(x.patient_said)}</div><div><b>Learner:</b> {esc(x.learner_said)}</div>"
            f'<div class="better"><b>A better option:</b> {esc(x.better_option)}</div></div>')
    return "".join(out)


def _care(m: SessionMetrics) -> str:
    if not m.care:
        return '<p class="note">No CARE rating: the session has no summary and its persona pack is not installed.</p>'
    return (f'<p class="note">The patient\'s CARE-measure-style rating of the learner: {m.care_total}/50 '
            "(10 items, 1 = poor to 5 = excellent), derived from what happened in the session.</p>"
            + chart(charts.care_chart(m.care)))


def _transcript(m: SessionMetrics) -> str:
    out = [f'<div class="turn"><div class="pt"><span class="who">Patient · opening</span><br>{esc(m.opening or "(not recorded)")}</div></div>']
    for v in m.views:
        answering = f' {badge("answering " + v.opportunity, "amber")}' if v.opportunity else ""
        disclosed = f" · disclosed: {esc(', '.join(v.disclosed))}" if v.disclosed else ""
        cut = " · reply cut short" if v.interrupted else ""
        out.append(
            f'<div class="turn" id="turn-{v.turn}"><div class="ln"><span class="who">Learner · turn {v.turn}</span>{answering}'
            f"<div>{esc(v.learner_text)}</div><div>{grade_badges(v)}</div>"
            f'<div class="fb">{esc(v.grade.feedback)}</div></div>'
            f'<div class="pt"><span class="who">Patient</span><br>{esc(v.reply)}'
            f'<div class="meta">trust {v.trust:.2f} · distress {v.distress:.2f} · {esc(v.emotion)}{disclosed}{cut}</div></div></div>')
    return "".join(out)


def session_page(m: SessionMetrics) -> str:
    body = "".join([
        section("overview", "Overview", _overview(m)),
        section("feelings", "Trust, distress and emotion over turns", chart(charts.state_chart(m))),
        section("eccs", "ECCS level per turn", chart(charts.eccs_chart(m),
                "ECCS: 0-2 missed the feeling, 3 acknowledged it, 4 pursued it, 5-6 confirmed or validated it.")),
        section("talk", "Talk time and interruptions", _talk(m)),
        section("questions", "Question mix", _questions(m)),
        section("disclosure", "Disclosure coverage", _disclosure(m)),
        section("checklist", "History checklist", _checklist(m)),
        section("missed", "Missed empathic opportunities", _missed(m)),
        section("care", "CARE-style patient rating", _care(m)),
        section("transcript", "Transcript with grades and feedback", _transcript(m)),
    ])
    subtitle = f"Learner {m.learner_id} · {m.started_at.strftime('%d %b %Y, %H:%M UTC')} · {m.mode} session · {m.turns} turns"
    return page(f"Session report: {m.persona_title}", subtitle, body, TOC,
                footer=f"Session {m.session_id}. Generated by `bedside eval`.")
