"""The charts on the cohort page. Each takes the cohort's metrics and returns inline SVG;
they stay readable from a handful of sessions up to thousands."""

from __future__ import annotations

import random
from statistics import mean

import matplotlib
from matplotlib.ticker import MaxNLocator

from ..metrics.cohort import CohortMetrics, GroupStats, Progress
from ..metrics.session import SessionMetrics
from . import palette as C
from .svg import figure, to_svg

MAX_NAMED_LEARNERS = 10
# matplotlib 3.10 renamed boxplot's vert=False to orientation="horizontal"
_HORIZONTAL = ({"orientation": "horizontal"} if tuple(map(int, matplotlib.__version__.split(".")[:2])) >= (3, 10)
               else {"vert": False})


def _short(label: str, n: int = 34) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def eccs_by_persona(ms: list[SessionMetrics], order: list[GroupStats]) -> str:
    """Session mean ECCS per persona, hardest persona at the top: a box and every session as a dot."""
    fig = figure(10.2, 0.8 + 0.55 * max(1, len(order)), left=2.3, bottom=0.55, top=0.1)
    ax = fig.add_subplot()
    rng = random.Random(7)
    keys = [g.key for g in order][::-1]
    data = [[m.mean_eccs for m in ms if m.persona_id == k and m.mean_eccs is not None] for k in keys]
    ax.boxplot([d or [float("nan")] for d in data], **_HORIZONTAL, widths=0.55, showfliers=False, patch_artist=True,
               boxprops={"facecolor": "#e0f2f1", "edgecolor": C.LEARNER}, medianprops={"color": C.LEARNER, "lw": 2},
               whiskerprops={"color": C.MUTED}, capprops={"color": C.MUTED})
    for i, d in enumerate(data, 1):
        ax.scatter(d, [i + rng.uniform(-0.18, 0.18) for _ in d], s=9, color=[C.eccs_colour(round(x)) for x in d],
                   alpha=0.75 if len(d) < 200 else 0.35, lw=0, zorder=3)
    labels = {g.key: g.label for g in order}
    ax.set_yticks(range(1, len(keys) + 1), [_short(labels[k], 46) for k in keys])
    ax.axvline(3, color=C.MUTED, lw=0.8, ls="--")
    ax.set_xlim(-0.1, 6.1)
    ax.set_xlabel("session mean ECCS (dashed line: acknowledging the feeling, level 3)")
    ax.grid(axis="y", visible=False)
    return to_svg(fig, "Session mean ECCS by persona")


def distributions(ms: list[SessionMetrics]) -> str:
    """Small multiples: how sessions spread on the headline measures."""
    fig = figure(10.2, 2.6, left=0.6, bottom=0.45, top=0.35, right=0.1, wspace=0.3)
    panels = [
        ("session mean ECCS", [m.mean_eccs for m in ms], (0, 6), C.LEARNER),
        ("final trust", [m.final_trust for m in ms], (0, 1), C.TRUST),
        ("CARE total (10-50)", [m.care_total for m in ms], (10, 50), "#7c3aed"),
        ("history checklist covered", [m.coverage.checklist_coverage for m in ms], (0, 1), "#ea580c"),
    ]
    axes = fig.subplots(1, 4)
    for ax, (title, values, rng, colour) in zip(axes, panels):
        xs = [v for v in values if v is not None]
        ax.hist(xs, bins=12, range=rng, color=colour, alpha=0.85, edgecolor="white")
        if xs:
            ax.axvline(mean(xs), color=C.INK, lw=1.2, ls="--")
        ax.set_title(title, fontsize=9, color=C.INK)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel("sessions")
    return to_svg(fig, "Distributions of session measures")


def progress_chart(progress: list[Progress]) -> str:
    """Each learner's session mean ECCS in session order. Up to ten learners are named;
    beyond that every learner is a grey line and the cohort's mean per session is drawn."""
    fig = figure(10.2, 3.4, right=1.9 if len(progress) <= MAX_NAMED_LEARNERS else 0.2)
    ax = fig.add_subplot()
    named = sorted(progress, key=lambda p: -len(p.points))[:MAX_NAMED_LEARNERS] if len(progress) <= MAX_NAMED_LEARNERS else []
    by_n: dict[int, list[float]] = {}
    for i, p in enumerate(sorted(progress, key=lambda p: p.learner_id)):
        pts = [(x.n, x.mean_eccs) for x in p.points if x.mean_eccs is not None]
        for n, y in pts:
            by_n.setdefault(n, []).append(y)
        if not pts:
            continue
        xs, ys = zip(*pts)
        if p in named:
            arrow = {"growing": " ↗", "declining": " ↘", "steady": " →"}.get(p.trend, "")
            ax.plot(xs, ys, marker="o", ms=4, lw=1.8, color=C.SERIES[i % len(C.SERIES)], label=_short(p.learner_id, 22) + arrow)
        else:
            ax.plot(xs, ys, lw=0.8, color="#cbd5e1", alpha=0.7)
    if not named and by_n:
        ns = sorted(by_n)
        ax.plot(ns, [mean(by_n[n]) for n in ns], color=C.LEARNER, lw=2.5, marker="o", ms=4, label="cohort mean")
    ax.axhline(3, color=C.MUTED, lw=0.8, ls="--")
    ax.set_ylim(-0.1, 6.1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("learner's session number")
    ax.set_ylabel("session mean ECCS")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return to_svg(fig, "Learner progress across sessions")


def struggle_chart(order: list[GroupStats]) -> str:
    """Per persona, hardest first: share of empathic opportunities missed, and of hidden concerns elicited."""
    fig = figure(10.2, 0.9 + 0.5 * max(1, len(order)), left=2.3, top=0.35, bottom=0.4, wspace=0.12)
    left, right = fig.subplots(1, 2, sharey=True)
    keys = order[::-1]
    ys = range(len(keys))
    missed = [g.missed_share or 0 for g in keys]
    concerns = [g.concerns_share or 0 for g in keys]
    left.barh(ys, missed, color="#dc2626", height=0.6)
    right.barh(ys, concerns, color=C.LEARNER, height=0.6)
    for y, a, b in zip(ys, missed, concerns):
        left.text(a + 0.01, y, f"{100 * a:.0f}%", va="center", fontsize=8)
        right.text(b + 0.01, y, f"{100 * b:.0f}%", va="center", fontsize=8)
    left.set_yticks(list(ys), [_short(g.label, 40) for g in keys])
    left.set_xlim(0, 1.12)
    right.set_xlim(0, 1.12)
    left.set_title("empathic opportunities missed (ECCS ≤ 2)", fontsize=9)
    right.set_title("hidden concerns elicited", fontsize=9)
    for ax in (left, right):
        ax.grid(axis="y", visible=False)
        ax.set_xticks([0, 0.5, 1], ["0%", "50%", "100%"])
    return to_svg(fig, "Where learners struggle, by persona")


def flags_heatmap(c: CohortMetrics, ms: list[SessionMetrics]) -> str | None:
    """How often each problem flag appears per 10 learner turns, per persona."""
    flags = sorted({f for m in ms for f in m.flag_counts})
    if not flags:
        return None
    personas = [g for g in c.struggle]
    grid = []
    for g in personas:
        turns = max(1, g.turns)
        counts = {f: sum(m.flag_counts.get(f, 0) for m in ms if m.persona_id == g.key) for f in flags}
        grid.append([10 * counts[f] / turns for f in flags])
    fig = figure(10.2, 1.5 + 0.42 * len(personas), left=2.3, bottom=1.1, top=0.1, right=0.3)
    ax = fig.add_subplot()
    im = ax.imshow(grid, aspect="auto", cmap="Reds", vmin=0)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=8, color="white" if v > max(map(max, grid)) * 0.6 else C.INK)
    ax.set_xticks(range(len(flags)), [f.replace("_", " ") for f in flags], rotation=20, ha="right", fontsize=8)
    ax.set_yticks(range(len(personas)), [_short(g.label, 40) for g in personas], fontsize=8)
    ax.grid(False)
    fig.colorbar(im, ax=ax, shrink=0.8, label="per 10 turns")
    return to_svg(fig, "Problem flags per persona")
