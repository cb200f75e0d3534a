"""`bedside persona check`, clashes: places where a pack makes the patient contradict itself.

- A cue's `emotion` and the feeling its own line puts into words differ ("I'm so angry they
  never rang" declared as fear): a learner who names the feeling they heard gets corrected.
- A cue's emotion is far from the pack's primary emotion and from everything the opening line
  says (calm or relief in a frightened case): the patient's corrections follow the cue, its
  voice and face the primary emotion.
- The opening line voices a feeling the primary emotion does not fit.
- A fact's own example question is sent by retrieval to another fact: a learner who asks it
  word for word gets the other answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..core.emotions import COMPATIBLE, voiced_emotions
from .patient import Engine

PLEASANT = {"calm", "relief"}


@dataclass(frozen=True)
class Clash:
    where: str  # a pydantic-style location: empathic_opportunities.2.emotion
    message: str
    hint: str

    def as_dict(self) -> dict:
        return asdict(self)


def _close(a: str, b: str) -> bool:
    return a == b or b in COMPATIBLE.get(a, set())


def emotion_clashes(pack) -> list[Clash]:
    primary = pack.emotion.primary.value
    opening = voiced_emotions(pack.visit.opening_line)
    out = []
    for fam in opening:
        if not _close(fam, primary) and not any(_close(fam, o.emotion.value) for o in pack.empathic_opportunities):
            out.append(Clash("visit.opening_line", f"the opening line voices {fam}, but the primary emotion is {primary} "
                             "and no cue carries it", f"set emotion.primary to {fam}, or reword the opening line"))
            break
    for i, o in enumerate(pack.empathic_opportunities):
        emo = o.emotion.value
        voiced = list(dict.fromkeys(voiced_emotions(o.line)))
        if voiced and not any(_close(v, emo) for v in voiced):
            out.append(Clash(f"empathic_opportunities.{i}.emotion", f"cue '{o.id}' is declared {emo}, but its line voices "
                             f"{', '.join(voiced)}: a learner who names what they heard is corrected",
                             f"set its emotion to {voiced[0]}, or reword the line"))
        elif (emo in PLEASANT) != (primary in PLEASANT) and not any(_close(emo, f) for f in opening):
            out.append(Clash(f"empathic_opportunities.{i}.emotion", f"cue '{o.id}' is {emo} in a case whose primary emotion "
                             f"is {primary}", "check the cue's emotion: the patient's voice and corrections follow them both"))
    return out


def retrieval_clashes(engine: Engine, pack) -> list[Clash]:
    """Each fact's example questions through the engine's retrieval, as a learner's first turn.
    (Taken out of the index one at a time, 29 of the five shipped packs' 334 example questions
    went to another fact: too noisy to report; the literal check finds what form rules and
    near-duplicate wordings do to them.)"""
    index = engine.index(pack)
    out = []
    for i, f in enumerate(pack.facts):
        for j, q in enumerate(f.example_questions):
            found = index.search(q)
            ids = [m.id for m in found.matches if m.kind == "fact"]
            if ids and f.id not in ids:
                out.append(Clash(f"facts.{i}.example_questions.{j}", f"'{q}' is answered with {', '.join(ids)}, not '{f.id}'",
                                 f"reword it, or move it to {ids[0]} if it asks for that"))
    return out


def clashes(engine: Engine, pack) -> list[Clash]:
    return emotion_clashes(pack) + retrieval_clashes(engine, pack)
