"""The charts on a per-session page, each a function of SessionMetrics to inline SVG."""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.patches import Patch

from ..metrics.session import QuestionMix, SessionMetrics
from . import palette as C
from .svg import figure, to_svg


def state_chart(m: SessionMetrics) -> str:
    """Trust and distress over turns, with the patient's emotion as a coloured strip."""
    fig = figure(10.2, 3.5, top=0.45)
    ax = fig.add_subplot()
    xs = [0] + [v.turn for v in m.views]
    trust = [m.initial_trust if m.initial_trust is not None else float("nan")] + [v.trust for v in m.views]
    distress = [m.initial_distress if m.initial_distress is not None else float("nan")] + [v.distress for v in m.views]
    ax.plot(xs, trust, color=C.TRUST, lw=2, marker="o", ms=3.5, label="trust")
    ax.plot(xs, distress, color=C.DISTRESS, lw=2, marker="o", ms=3.5, label="distress")
    emotions = [v.emotion for v in m.views]
    ax.bar(xs[1:], 0.07, bottom=-0.2, width=0.9, color=[C.EMOTION.get(e, C.OTHER_EMOTION) for e in emotions], lw=0)
    ax.vlines([v.turn for v in m.views if v.disclosed], -0.05, 1.0, color="#cbd5e1", lw=0.8, ls=":", zorder=0)
    ax.set_ylim(-0.21, 1.02)
    ax.set_xlim(-0.5, max(xs) + 0.5)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("learner turn (0 = opening; dotted line = something disclosed)")
    handles = [Line2D([], [], color=C.TRUST, lw=2, label="trust"), Line2D([], [], color=C.DISTRESS, lw=2, label="distress")]
    handles += [Patch(color=C.EMOTION.get(e, C.OTHER_EMOTION), label=e) for e in dict.fromkeys(emotions)]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8, ncols=len(handles),
              handlelength=1.6, columnspacing=1.2, borderaxespad=0.3)
    ax.text(1.0, 1.03, "strip: patient's emotion", transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
            color=C.MUTED)
    return to_svg(fig, "Trust, distress and emotion over turns")


def eccs_chart(m: SessionMetrics) -> str:
    """ECCS level per learner turn; turns without an opportunity are marked, not scored."""
    fig = figure(10.2, 2.7)
    ax = fig.add_subplot()
    scored = [v for v in m.views if v.grade.eccs is not None]
    ax.bar([v.turn for v in scored], [max(v.grade.eccs, 0.12) for v in scored], width=0.7,
           color=[C.eccs_colour(v.grade.eccs) for v in scored])
    for v in scored:
        ax.text(v.turn, v.grade.eccs + 0.15, str(v.grade.eccs), ha="center", fontsize=7.5, color=C.INK)
    blank = [v.turn for v in m.views if v.grade.eccs is None]
    ax.plot(blank, [0.15] * len(blank), ls="none", marker="_", color=C.MUTED, ms=9)
    ax.axhline(3, color=C.MUTED, lw=0.8, ls="--")
    ax.text(0.995, 3.1, "acknowledges the feeling (3)", fontsize=7, color=C.MUTED, ha="right",
            transform=ax.get_yaxis_transform())
    ax.set_ylim(0, 6.8)
    ax.set_yticks(range(7))
    ax.set_xlim(0.3, max([v.turn for v in m.views], default=1) + 0.7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("learner turn (dash = no empathic opportunity to answer)")
    ax.set_ylabel("ECCS")
    return to_svg(fig, "ECCS level per turn")


def talk_chart(m: SessionMetrics) -> str:
    """Seconds of speech per turn for each side, with interruptions marked."""
    fig = figure(10.2, 2.7)
    ax = fig.add_subplot()
    turns = [v.turn for v in m.views]
    ax.bar([t - 0.2 for t in turns], [v.learner_s for v in m.views], width=0.4, color=C.LEARNER, label="learner")
    ax.bar([t + 0.2 for t in turns], [v.patient_s for v in m.views], width=0.4, color=C.PATIENT, label="patient")
    top = max([v.patient_s for v in m.views] + [v.learner_s for v in m.views] + [1])
    for v in m.views:
        if v.barged_in:
            ax.text(v.turn - 0.2, v.learner_s + top * 0.04, "▲", ha="center", color=C.DISTRESS, fontsize=8)
        if v.interrupted:
            ax.text(v.turn + 0.2, v.patient_s + top * 0.04, "✕", ha="center", color=C.DISTRESS, fontsize=8)
    ax.set_ylim(0, top * 1.2)
    ax.set_xlim(0.4, max(turns, default=1) + 0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("seconds")
    ax.set_xlabel("learner turn (▲ learner spoke over the patient, ✕ patient reply cut short)")
    ax.legend(loc="upper right", ncols=2, fontsize=8)
    return to_svg(fig, "Talk time per turn")


def question_chart(q: QuestionMix) -> str:
    fig = figure(10.2, 0.7, left=0.05, right=0.05, bottom=0.05, top=0.05)
    ax = fig.add_subplot()
    left = 0
    for n, label, colour in ((q.open, "open questions", C.OPEN), (q.closed, "closed questions", C.CLOSED),
                             (q.none, "no question", C.NONE)):
        if n:
            ax.barh(0, n, left=left, color=colour, height=0.8)
            if n / max(1, q.open + q.closed + q.none) >= 0.12:  # label only segments wide enough to hold it
                ax.text(left + n / 2, 0, f"{label}: {n}", ha="center", va="center", fontsize=9,
                        color="white" if colour != C.NONE else C.INK)
        left += n
    ax.set_xlim(0, max(left, 1))
    ax.axis("off")
    return to_svg(fig, "Question mix")


def care_chart(care: dict[str, int]) -> str:
    fig = figure(10.2, 3.4, left=2.7, bottom=0.45)
    ax = fig.add_subplot()
    items = list(care.items())[::-1]
    ax.barh([k for k, _ in items], [v for _, v in items], color=[C.care_colour(v) for _, v in items], height=0.6)
    for i, (_, v) in enumerate(items):
        ax.text(v + 0.06, i, str(v), va="center", fontsize=8)
    ax.set_xlim(0, 5.4)
    ax.set_xticks([1, 2, 3, 4, 5], ["poor", "fair", "good", "very good", "excellent"])
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", visible=False)
    return to_svg(fig, "CARE measure items")
