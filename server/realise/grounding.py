"""The grounding check: may this generated reply be spoken?

A model realiser is asked to word the content plan, and nothing else. Before a reply is
spoken it must pass four groups of checks, each reported with a short reason:

1. content: no medical or case content that the planned pack lines do not license. Words
   are compared by a light stem. "Medical" means: a number or duration, or a word in the
   lexicons (lexicon.py: symptoms, body parts, drugs, diagnoses, tests and care, family
   members and other people, life events, substances), or a drug-like suffix, or a proper
   name. Beyond the lexicons, a reply that brings in too many new content words is rejected
   too (it is no longer a paraphrase), as is an emotion word outside the patient's current
   feeling, an unlicensed "yes", or a sentence whose negation flips the pack line it restates.
2. voice: the patient's own first-person voice. No AI talk, no echo of instructions, no
   doctor's voice, no stage directions, no role labels, no third-person narration (the
   patterns are voice_rules.py).
3. completeness: it says what the plan requires: the correction, each disclosed fact's and
   the concern's key content words, the opportunity cue, the patient's question, and the
   kind of answer an uncovered question gets (a denial, an uncertainty, a deflection).
4. form: within the persona's sentence limit, no repetition loops, no lists or markup.

The licence is the text of the plan's own pack lines (the template realisation), the
opening line, the patient's earlier replies in this session and the template's
content-free phrases. The learner's words license nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..core.emotions import ADJECTIVE, COMPATIBLE, FAMILY_WORDS
from ..core.text import split_sentences
from ..core.types import ContentPlan, SessionState
from ..persona.schema import PersonaPack
from . import template as T
from . import voice_rules as V
from .lexicon import (EMOTION_FAMILY, FILLER_STEMS, NEGATIONS, REPLY_STOP_WORDS, content_stems, is_negated, key_stems,
                      medical_category, normalise, numbers, stem, tokens)

# how an uncovered question's "I don't know" sounds
_UNSURE = re.compile(r"\b(not sure|no idea|do not know|dunno|can not (say|tell|remember)|could not (say|tell)|not certain|unsure|"
                     r"no clue|would not know|have not (really )?(noticed|paid attention|thought)|would know better|not the one)")  # on normalise()d text
# lists, links and markup: nothing a spoken reply holds
_FORMAT = re.compile(r"https?://|www\.|^\s*(\d+[.)]|[-•*])\s|#|```|\|", re.M)


# -- the check -----------------------------------------------------------------------------------

@dataclass
class Unit:
    kind: str            # "fact:<id>", "correction", ... (see TemplateRealiser.labelled_parts)
    text: str
    key: frozenset[str]  # the stems the reply must mostly carry
    required: bool


@dataclass
class Verdict:
    ok: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def polar_lines(texts: list[str]) -> list[tuple[set[str], bool]]:
    """Each sentence of `texts` as (its key stems, whether it is negated), for `flips_negation`."""
    return [(key_stems(s), is_negated(s)) for t in texts for s in split_sentences(t)]


def flips_negation(sentence: str, lines: list[tuple[set[str], bool]], shared: int) -> bool:
    """Whether `sentence` restates one of `lines` (shares `shared` key stems with it, or all of a
    shorter line's) with the opposite polarity: "it doesn't spread" said as "it spreads"."""
    mine = key_stems(sentence)
    if not mine:
        return False
    matched = [neg for stems, neg in lines if stems and len(mine & stems) >= min(shared, len(stems))]
    return bool(matched) and is_negated(sentence) not in matched


class Grounding:
    """Everything the check needs about one plan, built once and reused per sentence."""

    def __init__(self, pack: PersonaPack, plan: ContentPlan, state: SessionState | None = None):
        self.pack, self.plan = pack, plan
        parts = T.TemplateRealiser().kept_parts(pack, plan, state) if state is not None else \
            T.TemplateRealiser().labelled_parts(pack, plan, state)
        self.template_text = " ".join(t for _, _, t in parts)
        self.units: list[Unit] = []
        for _, kind, text in parts:
            key = frozenset(key_stems(text)) or frozenset(content_stems(text))
            required = kind.split(":")[0] in ("fact", "concern", "risk", "identity", "opportunity", "question", "correction", "uncovered", "deflect")
            self.units.append(Unit(kind, text, key, required))
        planned = [t for _, _, t in parts]
        said = [t for who, t in (state.history if state is not None else []) if who == "patient"]
        phrases = T.all_phrases(pack)
        self.licensed_texts = planned + [pack.visit.opening_line] + said + phrases
        lic = " ".join(self.licensed_texts)
        self.licensed_words = set(tokens(lic))
        self.licensed_stems = {stem(w) for w in self.licensed_words}
        self.licensed_numbers = numbers(lic)
        self.licensed_lower = normalise(lic)
        planned_keys = {" ".join(tokens(x)) for t in planned for x in split_sentences(t)}
        # what the patient said before and is not planned to say again: repeating it is a non-answer
        self.earlier = {k for t in said for x in split_sentences(t) if len((k := " ".join(tokens(x))).split()) >= 3} - planned_keys
        self.licensed_sentences = polar_lines(planned + said)
        self.limit = max(pack.emotion.max_reply_sentences, len(split_sentences(self.template_text)))
        self.planned_words = len(tokens(self.template_text))
        fams = {plan.emotion, pack.emotion.primary.value}
        for f in (plan.correction, plan.correction_to):
            if f:
                fams.add(f)
        if plan.opportunity:
            fams.add(pack.opportunity(plan.opportunity).emotion.value)
        for f in list(fams):
            fams |= COMPATIBLE.get(f, set())
        self.emotions = fams
        self.names = V.name_words(pack.identity.name)
        self.third_person_licensed = bool(re.search(r"\b(he|she|him|her|his)\b", self.licensed_lower))
        self.first_person_expected = bool(set(tokens(self.template_text)) & V.FIRST_PERSON)

    # ---- per sentence: what may never be spoken, even once ----------------------------
    def check_sentence(self, sentence: str) -> list[str]:
        reasons: list[str] = []
        raw = sentence
        low = normalise(raw)
        words = tokens(raw)
        # voice
        if V.AI_TALK.search(raw):
            reasons.append(f"AI voice: {V.AI_TALK.search(raw).group(0)!r}")
        m = V.INSTRUCTION_TALK.search(raw)
        if m and m.group(0).lower() not in self.licensed_lower:
            reasons.append(f"instruction echo: {m.group(0)!r}")
        for pat in V.DOCTOR_TALK:
            m = pat.search(raw)
            if m and not pat.search(self.licensed_lower):
                reasons.append(f"doctor's voice: {m.group(0)!r}")
                break
        for i, w in enumerate(words):
            if w == "your":
                for nxt in words[i + 1:i + 3]:
                    if medical_category(nxt) in V.DOCTORS_YOUR and f"your {nxt}" not in self.licensed_lower:
                        reasons.append(f"doctor's voice: 'your {nxt}'")
                        break
        m = V.STAGE_DIRECTION.search(raw)
        if m:
            reasons.append(f"stage direction: {m.group(0).strip()!r}")
        m = V.ROLE_LABEL.search(raw)
        if m and m.group(0).strip().lower() not in self.licensed_lower:
            reasons.append(f"role label or markup: {m.group(0).strip()!r}")
        m = V.NARRATION.search(raw)
        if m and not re.search(re.escape(m.group(0).lower()), self.licensed_lower):
            reasons.append(f"third-person narration: {m.group(0)!r}")
        for i, w in enumerate(words):
            if w in self.names and w not in self.licensed_words:
                before = " ".join(words[max(0, i - 3):i]) + " "
                if not V.NAME_INTRODUCTION.search(before):
                    reasons.append(f"names the patient in the third person: {w!r}")
                    break
        if not self.third_person_licensed and V.THIRD_PERSON.search(low):
            reasons.append("third person ('he'/'she') with no one to refer to")
        # content
        for i, w in enumerate(words):
            cat = medical_category(w)
            if cat is None:
                continue
            if cat == "number":
                if w not in self.licensed_words and not (numbers(w) <= self.licensed_numbers):
                    reasons.append(f"number not in the plan: {w!r}")
            elif stem(w) not in self.licensed_stems and w not in self.licensed_words:
                reasons.append(f"{cat} not in the plan: {w!r}")
        for w in re.findall(r"[A-Za-z][A-Za-z'-]*", raw)[1:]:  # a capital after the first word: a name
            lw = w.lower().replace("\u2019", "'").split("'")[0]
            if not w[0].isupper() or lw == "i" or lw in REPLY_STOP_WORDS or lw in self.names or medical_category(lw):
                continue
            if lw not in self.licensed_words and stem(lw) not in self.licensed_stems:
                reasons.append(f"name not in the plan: {w!r}")
        for w in words:
            fam = EMOTION_FAMILY.get(stem(w))
            if fam and fam not in self.emotions and stem(w) not in self.licensed_stems:
                reasons.append(f"feeling outside the patient's state: {w!r} ({fam})")
        if " ".join(words) in self.earlier:
            reasons.append(f"repeats an earlier reply instead of answering: {raw.strip()!r}")
        # a restated pack line must keep its polarity ("it doesn't spread" -> "it spreads")
        if flips_negation(raw, self.licensed_sentences, shared=2):
            reasons.append(f"negation differs from the pack line it restates: {raw.strip()!r}")
        return list(dict.fromkeys(reasons))

    # ---- the whole reply ------------------------------------------------------------------
    def check(self, text: str) -> Verdict:
        reasons: list[str] = []
        clean = text.strip()
        if not clean:
            return Verdict(False, ["empty reply"])
        sentences = split_sentences(clean)
        for s in sentences:
            reasons += self.check_sentence(s)
        reasons += self.check_form(clean, sentences)
        reasons += self.check_novelty(clean)
        reasons += self.missing(clean)
        if self.first_person_expected and len(tokens(clean)) >= 6 and not set(tokens(clean)) & V.FIRST_PERSON:
            reasons.append("not in the first person")
        reasons = list(dict.fromkeys(reasons))
        return Verdict(not reasons, reasons)

    def check_form(self, text: str, sentences: list[str]) -> list[str]:
        reasons = []
        if len(sentences) > self.limit:
            reasons.append(f"{len(sentences)} sentences, over the persona's limit of {self.limit}")
        n = len(tokens(text))
        if n > 1.6 * self.planned_words + 12:
            reasons.append(f"{n} words for {self.planned_words} planned")
        seen = set()
        for s in sentences:
            k = " ".join(tokens(s))
            if k in seen and len(k.split()) >= 2:
                reasons.append(f"repeats a sentence: {s!r}")
                break
            seen.add(k)
        ws = tokens(text)
        grams = [" ".join(ws[i:i + 3]) for i in range(len(ws) - 2)]
        if any(grams.count(g) >= 3 for g in set(grams)):
            reasons.append("repetition loop")
        if _FORMAT.search(text):
            reasons.append("list, link or markup")
        if re.search(r"[^\x00-\x7F\u2018\u2019\u201c\u201d\u2014\u2013\u2026]", text):
            reasons.append("characters outside plain English text")
        return reasons

    def check_novelty(self, text: str) -> list[str]:
        """A paraphrase may add a few words; more new content than that is new content."""
        content = [s for s in content_stems(text) if s not in FILLER_STEMS]
        new = [s for s in dict.fromkeys(content) if s not in self.licensed_stems and s not in EMOTION_FAMILY]
        allowed = max(2, int(0.25 * len(set(content))))
        if len(new) > allowed:
            return [f"too much new wording ({len(new)} new content words: {', '.join(new[:6])})"]
        return []

    def coverage(self, unit: Unit, text: str) -> float:
        if not unit.key:
            return 1.0
        have = set(content_stems(text))
        return len(unit.key & have) / len(unit.key)

    def unit_missing(self, u: Unit, text: str) -> str | None:
        """Why `text` does not carry required unit `u`, or None if it does."""
        if not u.required:
            return None
        kind = u.kind.split(":")[0]
        words = set(tokens(text))
        if kind == "correction":
            right = self.plan.correction_to or self.pack.emotion.primary.value
            fam_words = {stem(w) for w in FAMILY_WORDS.get(right, ()) if " " not in w} | {stem(ADJECTIVE.get(right, right))}
            if not ({stem(w) for w in words} & fam_words) or not words & NEGATIONS:
                return f"leaves out the correction to {ADJECTIVE.get(right, right)!r}"
        elif u.kind == "uncovered:deny":
            if not words & NEGATIONS:
                return "should deny, but has no denial"
        elif kind == "uncovered":
            if not (_UNSURE.search(normalise(text)) or self.coverage(u, text) >= 0.5):
                return "should say the patient does not know"
        elif kind == "deflect":
            return None  # nothing to carry; the content check keeps the gated fact out
        else:
            need = 0.5 if kind in ("opportunity", "question") else 0.6
            cov = self.coverage(u, text)
            if kind == "opportunity":  # a cue raised again may be said in any of its pack wordings
                opp = self.pack.opportunity(u.kind.split(":", 1)[1])
                cov = max([cov] + [self.coverage(Unit(u.kind, t, frozenset(key_stems(t)) or frozenset(content_stems(t)), True), text)
                                   for t in opp.again])
            if cov < need:
                return f"leaves out {u.kind} ({cov:.0%} of its key words)"
            if kind == "question" and "?" not in text:
                return f"leaves out the question {u.kind}"
        return None

    def missing(self, text: str) -> list[str]:
        """What the plan requires and the reply leaves out."""
        return [r for u in self.units if (r := self.unit_missing(u, text))]


def check_reply(pack: PersonaPack, plan: ContentPlan, state: SessionState | None, text: str) -> Verdict:
    """One-shot form of `Grounding(pack, plan, state).check(text)`."""
    return Grounding(pack, plan, state).check(text)


def clean_generation(text: str) -> str:
    """Light tidying of raw model text before the check: quotes, whitespace, a cut-off tail.

    Nothing is invented or reworded here; a reply that needs more than this fails the check.
    """
    t = text.replace("\r", " ").strip()
    t = t.replace("\u201c", '"').replace("\u201d", '"')
    if len(t) >= 2 and t[0] == '"' and t.count('"') in (1, 2) and (t.endswith('"') or t.count('"') == 1):
        t = t.strip('"').strip()
    t = re.sub(r"\s+", " ", t)
    sentences = split_sentences(t)
    if len(sentences) > 1 and not re.search(r"[.!?…]['\"]?$", sentences[-1]):
        t = " ".join(sentences[:-1])  # generation stopped mid-sentence: drop the unfinished tail
    return t.strip()
