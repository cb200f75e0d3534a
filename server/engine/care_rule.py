"""The debrief's consistency rule: a CARE item never reads better than the session's own
evidence allows, so a debrief does not praise what the grades or the patient's state contradict
(docs/debrief.md#care-evidence-rule).

`care.care_rating` turns the session into ten 1-5 items (docs/grading.md#care); this caps each
item, and nothing here raises one. `summary.summarise` applies it to every summary it makes.
Each item is at most the lowest of:

1. Enough to go on: with fewer than `MIN_TURNS_FOR_PRAISE` turns, 3 ("Good"). Three turns
   cannot show "Excellent" at helping the patient take control.
2. The patient's trust: one band above the final trust on the same scale,
   `scale(final trust) + 1` (trust 1/100 allows at most 2, "Fair").
3. No contradicting flag: 3 if any turn raised a flag that contradicts the item
   (`CONTRADICTED_BY`; e.g. premature reassurance contradicts "helping me take control").
4. For the empathy items (`EMPATHY_ITEMS`), the feelings met: one band above the share of the
   turns after a feeling that answered it at ECCS 3+, when there were any.

It reads only the summary (a `summary.SessionSummary`, not imported here: summary applies this), so it gives the same result when applied again, and it can be applied
to a summary stored before the rule existed.
"""

from __future__ import annotations

from .care import CARE_ITEMS, scale

MIN_TURNS_FOR_PRAISE = 5
PRAISE_CAP = 3  # "Good": the highest rating that is not praise

CONTRADICTED_BY: dict[str, frozenset[str]] = {
    CARE_ITEMS[0]: frozenset({"dismissive", "premature_reassurance"}),              # at ease
    CARE_ITEMS[1]: frozenset({"interrupted", "topic_switch"}),                      # tell my story
    CARE_ITEMS[2]: frozenset({"dismissive", "topic_switch", "false_understanding"}),  # really listening
    CARE_ITEMS[3]: frozenset({"assumption_or_stereotype"}),                         # whole person
    CARE_ITEMS[4]: frozenset({"dismissive", "premature_reassurance", "false_understanding"}),  # my concerns
    CARE_ITEMS[5]: frozenset({"dismissive", "sympathy_only", "false_understanding"}),  # care and compassion
    CARE_ITEMS[6]: frozenset({"dismissive"}),                                       # being positive
    CARE_ITEMS[7]: frozenset({"jargon"}),                                           # explaining clearly
    CARE_ITEMS[8]: frozenset({"advice_before_exploring", "premature_reassurance"}),  # take control
    CARE_ITEMS[9]: frozenset({"advice_before_exploring"}),                          # plan of action
}
EMPATHY_ITEMS = frozenset({CARE_ITEMS[2], CARE_ITEMS[4], CARE_ITEMS[5]})


def feelings_met(summary) -> int:
    """Turns after a feeling that answered it at ECCS 3+ (the ones at 2 or below are the missed ones)."""
    return summary.opportunities_answered - len(summary.missed_opportunities)


def care_caps(summary) -> dict[str, tuple[int, str]]:
    """Per CARE item, the highest rating the evidence allows and why (the tightest cap)."""
    caps: dict[str, tuple[int, str]] = {}
    flagged = {f for f, n in summary.flag_counts.items() if n}
    for item in CARE_ITEMS:
        limits = [(5, "")]
        if summary.turns < MIN_TURNS_FOR_PRAISE:
            limits.append((PRAISE_CAP, f"only {summary.turns} turn{'' if summary.turns == 1 else 's'}"))
        limits.append((min(5, scale(summary.final_trust) + 1), f"final trust {round(summary.final_trust * 100)}/100"))
        against = sorted(CONTRADICTED_BY.get(item, frozenset()) & flagged)
        if against:
            limits.append((PRAISE_CAP, "flagged: " + ", ".join(f.replace("_", " ") for f in against)))
        if item in EMPATHY_ITEMS and summary.opportunities_answered:
            share = feelings_met(summary) / summary.opportunities_answered
            limits.append((min(5, scale(share) + 1),
                           f"{feelings_met(summary)} of {summary.opportunities_answered} feelings met"))
        caps[item] = min(limits, key=lambda c: c[0])
    return caps


def apply_care_rule(summary):
    """The summary with each CARE item capped by the evidence (and the total to match)."""
    if not summary.care:
        return summary
    caps = care_caps(summary)
    care = {item: min(value, caps[item][0]) if item in caps else value for item, value in summary.care.items()}
    return summary.model_copy(update={"care": care, "care_total": sum(care.values())})
