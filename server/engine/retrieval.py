"""Find the pack facts and hidden concerns a learner turn asks about.

Each fact's example questions, its topic and the general history wordings for its subject
(`phrasings`) are embedded once per pack; the fact the visit reason is about is also indexed
under the ways clinicians open ("what's been going on?"). A turn is matched by cosine
similarity to its nearest wording: the whole turn, and each of its questions on its own, so
"Any medicines, and any allergies?" finds both. A short follow-up that points back ("Where is
it?") is matched again with what it points to: the turn's own earlier words, else the last
fact's topic, else the visit reason. Below SURE_MATCH a match must share most of the
question's content words with the item's own words: the same stem, the same clinical word for a
lay one, or a word MiniLM puts next to one of them ("woken"/"waking"); the subjects of a
two-part question share its words out ("Do you smoke, or drink much?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..core.embedding import Embedder
from ..core.embedding_disk import embed_cached
from ..core.questions import REQUEST
from ..core.text import STOP_WORDS, repaired_question, stem, without_disfluencies, written
from ..persona.schema import PersonaPack
from .phrasings import ADHERENCE, CAUSE_ASKED, FORM_UNLESS, FORMS, OPENING, PRESENTING, WORRY, subject_facts, wordings
from .risk import WORDINGS as RISK_WORDINGS

MATCH_THRESHOLD = {"fact": 0.55, "concern": 0.65, "risk": 0.72}  # below these, the turn asks about nothing in the pack
NEAR_THRESHOLD = 0.40   # a fact this close is "maybe asked": never answer it with a flat denial
MARGIN = 0.05            # a second item is kept only when it scores within this of the best
CONCERN_MARGIN = 0.10    # ... and a fact behind a best-matching concern within this
_CLAUSE_SPLIT = re.compile(r"(?<=[?.!])\s+|,?\s+(?:and|or|also)\s+(?=(?:any|do|does|did|are|is|have|has|how|what|when|where|who|"
                           r"which|your|about|anything|anyone|anybody|roughly|ever)\b)|[;:]\s*|\s+[\u2014\u2013-]{1,2}\s+")
SUPPORT_SHARE = 0.5     # ... more than this share of the question's content words ("any pets at home?" is not about home)
SURE_MATCH = 0.72        # above this the wording alone decides; below, a content word must be shared
WORDS_MATCH = 0.45       # the nearest fact this close matches when it has every content word (2+) of the question
CLEAR_MARGIN = 0.15       # a fact this far ahead of every other item needs only one shared word
WORRY_NEAR = 0.50        # a worry question takes the nearest concern from this close ...
WORRY_FACT_MARGIN = 0.10  # ... when no fact is further ahead of it than this
WORD_SAME = 0.75         # two single words this close in MiniLM count as one ("woken"/"waking", "kids"/"children")
# Words that carry no subject: a match on them alone is how "Do you have any pets?" found the
# patient's family. What is left of a question is its subject.
_FUNCTION = STOP_WORDS | frozenset("""
above after again am anybody anyone anything away back before being d doing done else ever every gets
getting go goes going gone having hers him i'd i'll i've into kind know let ll lot m many may might mine
most much must myself nor now off once only other over own quite re right s said say see should since
something still such t tell that's these thing things think those through ve way well what's where which
while who's yes you'd you'll you're you've yours yourself okay ok sorry thanks thank please happen
happened bit little lately recently ask wondering wonder mind problem problems trouble troubles issue
issues health feel feeling felt notice noticed experience experienced usually usual normally generally
currently nowadays around moment typical typically roughly behind sort particular particularly otherwise
forgive mention mentioned able seen wise main
""".split())
_FUNCTION_STEMS = frozenset(w for w in _FUNCTION if len(w) > 2)  # "kinds", "asking", "seeing": a function word's other forms
# Lay words and their clinical equivalents, so a content word can be shared across registers (the
# project's own list from history-taking practice, not from any pack or bank).
_SAME = {"tummy": "stomach", "belly": "stomach", "gut": "stomach", "meds": "medication", "medicine": "medication",
         "medicines": "medication", "pills": "medication", "tablets": "medication", "drugs": "medication",
         "prescription": "medication", "booze": "alcohol", "drink": "alcohol", "drinking": "alcohol", "pints": "alcohol",
         "beer": "alcohol", "wine": "alcohol", "ciggies": "smoke", "cigarettes": "smoke", "fags": "smoke", "tobacco": "smoke",
         "vape": "smoke", "job": "work", "living": "work", "mum": "mother", "mom": "mother", "dad": "father",
         "active": "exercise", "exertion": "exercise", "exert": "exercise", "walking": "exercise", "stairs": "exercise",
         "eat": "appetite", "eating": "appetite", "food": "appetite", "hungry": "appetite", "sleeping": "sleep",
         "kids": "children", "wife": "partner", "husband": "partner", "allergic": "allergy", "allergies": "allergy",
         "surgery": "operation", "surgeries": "operation", "ops": "operation", "waterworks": "urine", "wee": "urine",
         "pee": "urine", "peeing": "urine", "weeing": "urine", "urinary": "urine", "urinating": "urine",
         "heartburn": "stomach", "indigestion": "stomach", "reflux": "stomach", "tired": "energy", "exhausted": "energy",
         "fatigue": "energy", "knackered": "energy", "drained": "energy", "hills": "exercise", "climb": "exercise",
         "meal": "appetite", "meals": "appetite", "asleep": "sleep", "insomnia": "sleep", "nap": "sleep",
         "doze": "sleep", "cash": "money", "finances": "money", "financially": "money", "afford": "money", "bills": "money",
         "skint": "money", "breathless": "breath", "puffed": "breath", "winded": "breath", "faint": "dizzy",
         "lightheaded": "dizzy", "blackout": "dizzy", "blacked": "dizzy", "vomit": "nausea", "vomiting": "nausea",
         "sickness": "nausea", "doc": "doctor", "gp": "doctor", "spouse": "partner", "girlfriend": "partner",
         "boyfriend": "partner", "house": "home", "relatives": "family",
         "ticker": "heart", "palpitations": "heart", "pounding": "heart", "fluttering": "heart", "bp": "pressure",
         "tipple": "alcohol", "sup": "alcohol", "bevvy": "alcohol", "bevvies": "alcohol", "drinker": "alcohol",
         "bowel": "stomach", "bowels": "stomach", "poo": "stomach", "stool": "stomach", "stools": "stomach",
         "constipated": "stomach", "constipation": "stomach", "diarrhoea": "stomach", "diarrhea": "stomach",
         "baggier": "weight", "looser": "weight", "thinner": "weight", "slimmer": "weight", "kilos": "weight", "pounds": "weight",
         "inhaler": "medication", "inhalers": "medication", "injections": "medication", "jabs": "medication",
         "travel": "transport", "lift": "transport", "taxi": "transport", "drive": "transport", "driving": "transport",
         "boss": "work", "firm": "work", "business": "work", "employer": "work", "colleagues": "work",
         "crushing": "pain", "stabbing": "pain", "throbbing": "pain", "aching": "pain", "ache": "pain", "sore": "pain",
         "reaction": "allergy", "reactions": "allergy", "reacted": "allergy", "flat": "mood", "running": "exercise",
         "jogging": "exercise", "gym": "exercise",
         "concentrate": "concentration", "concentrating": "concentration", "focus": "concentration"}
# Slang and lay words MiniLM puts far from what they mean, written plainly before the turn is
# embedded (the project's own list from history-taking practice, not from any pack or bank).
_PLAIN = {"waterworks": "urinary symptoms", "ticker": "heart", "tipple": "alcohol", "booze": "alcohol", "bevvy": "alcoholic drink",
          "bevvies": "alcoholic drinks", "ciggies": "cigarettes", "fags": "cigarettes", "baccy": "tobacco", "meds": "medication",
          "tummy": "stomach", "belly": "stomach", "wee": "urine", "pee": "urine", "peeing": "passing urine", "weeing": "passing urine",
          "poo": "stool", "knackered": "exhausted", "skint": "short of money", "gyp": "pain", "puffed": "breathless",
          "jabs": "injections", "grub": "food", "kip": "sleep", "shut-eye": "sleep", "bloods": "blood tests", "puffer": "inhaler",
          "the runs": "diarrhoea", "throwing up": "vomiting", "chucking up": "vomiting", "pins and needles": "tingling",
          "funny turns": "fainting", "funny turn": "faint", "out of puff": "breathless", "spend a penny": "pass urine",
          "on the tools": "at work", "back at the grindstone": "back at work", "the grindstone": "work", "old man": "father",
          "old dear": "mother", "missus": "wife", "the wife": "my wife", "hubby": "husband", "nan": "grandmother",
          "grandad": "grandfather", "water tablets": "diuretic medication", "what are you on": "what medication are you on",
          "are you on anything": "are you on any medication", "nod off": "fall asleep", "drop off": "fall asleep",
          # idioms for drinking, quitting, sleep and stress (the project's own list)
          "a pint": "alcohol", "pints": "alcohol", "the odd glass": "alcohol",
          "on the wagon": "not drinking alcohol", "pack it in": "quit", "packed it in": "quit", "packed in": "quit",
          "kicked the habit": "quit smoking", "kick the habit": "quit smoking", "knock it on the head": "quit",
          "knocked it on the head": "quit", "small hours": "early hours of the morning, awake at night",
          "tossing and turning": "trouble sleeping", "sleeping like a log": "sleeping well",
          "burning the candle at both ends": "overworking and tired", "piling on the pressure": "stress at work",
          "under pressure": "stressed", "under the weather": "unwell",
          # clinical shorthand a hurried learner says aloud
          "bp": "blood pressure", "sob": "short of breath", "meds list": "medication list", "obs": "observations"}
_SLANG = re.compile(r"(?i)\b(" + "|".join(sorted((re.escape(k) for k in _PLAIN), key=len, reverse=True)) + r")\b")
# A pronoun that points back to what was just said; "this year", "that kind of thing" and "chased
# it up" point nowhere.
_POINTS_BACK = re.compile(r"\b(it(?! up\b)|that(?! (kind|sort|type|much|many|long|often|far|bad|way)\b)|"
                          r"this(?! (year|week|month|morning|afternoon|evening|time|visit|kind|sort|type)\b)|they|them|he|she|him|her)\b")
# A short follow-up that names no subject: "And how much, roughly?", "How long does each one last?"
_DETAIL = re.compile(r"\b(how (many|much|long|often|far|bad|old)|what (sort|kind) of (amount|quantity)|"
                     r"roughly|about how|on average|typical(ly)?|each (one|time|bout|episode)|(get|got|go) back)\b")
_FOLLOW_ON = re.compile(r"^(and|so|but|ok(ay)?|right)\b|" + _DETAIL.pattern)
# A question about the relatives' health, not the patient's own.
_FAMILY_ASK = re.compile(r"(?i)\b(runs? in (the|your) family|family history|(anyone|anybody|someone|one|people) (else )?in (the|your) family|"
                         r"(your|any) (relatives|blood relatives|parents|siblings|brothers or sisters))\b")
# "Apart from the pain, ...": a lead-in naming what the question is not about.
# a welcome before the question: a greeting, the learner's name, "have a seat"; it names no subject,
# and its words ("Hello, I'm Sam.") would outnumber the question's own ("Tell me about the pain.")
_WELCOME = re.compile(r"(?i)^\s*(?:(?:hi|hello|hey|good (?:morning|afternoon|evening))\b[^.?!]*[.!]\s*|"
                      r"(?:i'm|i am|my name is) (?:dr\.? |doctor |nurse )?(?-i:[A-Z][a-z]+)\b(?:,? (?:one of|the|a|your)\b[^.?!]*)?[.!]\s*|"
                      r"(?:nice|good|pleased|lovely) to (?:meet|see) you\b[^.?!]*[.!]\s*|(?:thanks|thank you) for (?:coming|waiting)\b[^.?!]*[.!]\s*|"
                      r"(?:please )?(?:have|take) a seat\b[^.?!]*[.!]\s*)+")
# A finding on examination ("If I press here, is it sore?"): the case scripts the history, not what
# the clinician's hands find, so no history fact answers it unless one is asked for in so many words
_EXAMINED = re.compile(r"(?i)\b(if|when|as) (i|you|we) (press|push|prod|touch|tap|squeeze)( down)?( (here|there|on|over|around)\b[^?]*)?"
                       r"\b(sore|tender|hurt|hurts|painful|pain)\b|\b(sore|tender|hurt|hurts|painful)\b[^?]{0,30}\b(if|when|as) (i|you|we) "
                       r"(press|push|prod|touch|tap|squeeze)\b")
_APART_FROM = re.compile(r"(?i)^(?:and |so |okay,? )?(?:(?:apart|aside) from|other than|besides|except for) (?P<what>[^,?]{2,60}),\s*")
# A clause that asks: a question, or a request to tell ("Tell me more about that.").
_LEAD_IN = re.compile(r"^[^,?]{3,40},\s+")
_ASKS = re.compile(r"(?i)^(?:any|do|does|did|are|is|have|has|how|what|when|where|who|which|can|could|would|will|tell|describe|say|"
                   r"explain|talk|go on|walk me|remind me|point|show me|i'd like to|i would like to|i want to|i need to|let me|let's)\b")


@dataclass(frozen=True)
class Match:
    kind: str  # "fact" | "concern" | "risk" (id: the risk kind)
    id: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    matches: list[Match]
    best_fact_score: float  # so the planner can tell "not in the pack" from "nearly asked"
    concerns_by_nearness: tuple[str, ...] = ()  # every hidden concern, nearest the turn first, matched or not


class PackIndex:
    def __init__(self, pack: PersonaPack, embedder: Embedder):
        self.pack = pack
        self.embedder = embedder
        general = wordings(pack.facts)
        keys, texts = [], []
        for f in pack.facts:
            for q in dict.fromkeys([*f.example_questions, f.topic, *general.get(f.id, [])]):
                keys.append(("fact", f.id))
                texts.append(q)
        for c in pack.hidden_concerns:
            for q in dict.fromkeys([*c.example_questions, c.concern]):
                keys.append(("concern", c.id))
                texts.append(q)
        for kind, qs in RISK_WORDINGS.items():
            for q in qs:
                keys.append(("risk", kind))
                texts.append(q)
        self.presenting = self._presenting_fact(pack, embedder)
        self.subjects = subject_facts(pack.facts)
        if self.presenting:
            for q in PRESENTING:
                keys.append(("fact", self.presenting))
                texts.append(q)
        self.keys = keys
        self.matrix = embed_cached(embedder, texts) if texts else np.zeros((0, 1))
        own_text: dict[tuple[str, str], list[str]] = {}
        for key, text in zip(keys, texts):
            own_text.setdefault(key, []).append(text)
        for f in pack.facts:
            own_text[("fact", f.id)].append(f"{f.id.replace('_', ' ')} {f.answers.guarded} {f.answers.neutral} {f.answers.open}")
        for c in pack.hidden_concerns:
            own_text.setdefault(("concern", c.id), []).append(f"{c.concern} {c.disclosure}")
        self.vocab: dict[tuple[str, str], set[str]] = {k: self._words(" ".join(t)) for k, t in own_text.items()}
        self.raw_vocab: dict[tuple[str, str], set[str]] = {k: set(self._raw(" ".join(t))) for k, t in own_text.items()}
        self._lexicon = sorted(set().union(*self.raw_vocab.values())) if self.raw_vocab else []
        self._lexicon_matrix = embed_cached(embedder, self._lexicon) if self._lexicon else np.zeros((0, 1))
        self._near: dict[str, set[str]] = {}

    @staticmethod
    def _presenting_fact(pack: PersonaPack, embedder: Embedder) -> str | None:
        """The fact the visit reason is most about (a symptom or history fact when there is one)."""
        if pack.visit.presenting:
            return pack.visit.presenting
        facts = [f for f in pack.facts if f.category in ("symptom", "history")] or list(pack.facts)
        if not facts or not pack.visit.reason.strip():
            return None
        vecs = embed_cached(embedder, [pack.visit.reason, *[f"{f.topic}. {f.answers.neutral}" for f in facts]])
        return facts[int(np.argmax(vecs[1:] @ vecs[0]))].id

    @staticmethod
    def _raw(text: str) -> list[str]:
        """A text's content words as written (no function word, in any of its forms)."""
        return [w for w in re.findall(r"[a-z]+", text.lower().replace("'s", ""))
                if w not in _FUNCTION and len(w) > 2 and stem(w) not in _FUNCTION_STEMS]

    @classmethod
    def _words(cls, text: str) -> set[str]:
        words = cls._raw(text)
        return {stem(w) for w in words} | {stem(same) for w in words if (same := _clinical(w))}

    def _concepts(self, text: str) -> list[tuple[str, frozenset[str]]]:
        """Each content word of a question once, with its stem and its clinical word's stem:
        "surgeries" is one word, shared when an item says "surgery" or "operation"."""
        out: dict[str, frozenset[str]] = {}
        for w in self._raw(text):
            out.setdefault(w, frozenset({stem(w)} | ({stem(same)} if (same := _clinical(w)) else set())))
        return list(out.items())

    def _near_words(self, words: list[str]) -> dict[str, set[str]]:
        """Each word -> the pack's own words within WORD_SAME of it (MiniLM on the single words)."""
        new = [w for w in dict.fromkeys(words) if w not in self._near]
        if new and self._lexicon:
            sims = self.embedder.embed(new) @ self._lexicon_matrix.T
            for w, row in zip(new, sims):
                if len(self._near) < 5000:
                    self._near[w] = {self._lexicon[i] for i in np.flatnonzero(row >= WORD_SAME)}
        return {w: self._near.get(w, set()) for w in words}

    def _supported(self, best: dict[tuple[str, str], float], words: list[tuple[str, frozenset[str]]]) -> dict[tuple[str, str], float]:
        """The items of `best` the question's words support. Below SURE_MATCH an item needs more
        than SUPPORT_SHARE of the question's content words in its own words (its wordings, topic
        and answers): the same stem, the same clinical word, or a word MiniLM puts next to one of
        them. Items over their threshold may share the words out ("Do you smoke, or drink much?":
        one word each). A question with no content word at all supports every item."""
        if not words:
            return dict(best)
        share = {k: self._shared_words(k, words) for k, s in best.items() if s >= NEAR_THRESHOLD}  # below it, nothing matches
        over = {k: w for k, w in share.items() if w and best[k] >= MATCH_THRESHOLD[k[0]]}
        together = set().union(*over.values())
        enough = SUPPORT_SHARE * len(words)

        def own_word(key: tuple[str, str]) -> bool:  # a word no other item over its threshold shares
            return bool(over[key] - set().union(*(w for k, w in over.items() if k != key)))

        return {k: s for k, s in best.items()
                if s >= SURE_MATCH or len(share.get(k, ())) > enough or (k in over and len(together) > enough and own_word(k))}

    def _shared_words(self, key: tuple[str, str], words: list[tuple[str, frozenset[str]]]) -> set[str]:
        """The question's content words that are the item's own: the same stem, the same
        clinical word, or a word MiniLM puts next to one of the item's words."""
        own, raw = self.vocab.get(key, set()), self.raw_vocab.get(key, set())
        near = self._near_words([w for w, _ in words])
        return {w for w, stems in words if stems & own or near[w] & raw}

    def _short(self, question: str) -> bool:
        """Short enough to lean on what came before: "How much would that be, on a typical night?"."""
        n = len(question.split())
        return n <= 8 or n <= 12 and len(self._concepts(question)) <= 2

    def _by_form(self, question: str, best: dict[tuple[str, str], float]) -> tuple[tuple[str, str], float] | None:
        """What the question's form asks for (phrasings.FORMS), when the pack has it and its
        wordings are near: a worry question's nearest concern over its threshold, whatever fact
        it mentions ("Your brother had cancer. Does that worry you?"); a question on when the
        presenting complaint began, the onset fact; on the patient's ideas or expectations, that
        fact, unless another item (other than the presenting complaint) is a sure match."""
        low = question.strip().lower()
        if (worry := self._worry(low, best)) is not None:
            return worry
        cause = self._cause_asked(low, best)
        for subject, form in FORMS.items():
            fid = self.subjects.get(subject)
            outright = subject == "ideas" and cause  # no other item's wording outranks the cause asked outright
            if fid is None or not form.search(low) or best.get(("fact", fid), 0.0) < NEAR_THRESHOLD and not outright:
                continue
            if subject in FORM_UNLESS and FORM_UNLESS[subject].search(low):
                continue
            key = ("fact", fid)
            facts = sorted(((s, k) for k, s in best.items() if k[0] == "fact" and k != key), reverse=True)
            if subject == "onset":
                # the onset of the presenting complaint ("How long has there been blood in your
                # water?"), not the duration of anything else ("How long have you smoked?")
                if facts and facts[0][0] > best[key] and facts[0][1] != ("fact", self.presenting):
                    continue
            elif not outright and any(s >= SURE_MATCH and k not in (key, ("fact", self.presenting)) for k, s in best.items()):
                continue
            return key, max(best[key], MATCH_THRESHOLD["fact"])
        return None

    @staticmethod
    def _worry(low: str, best: dict[tuple[str, str], float]) -> tuple[tuple[str, str], float] | None:
        """A worry question's nearest concern over its threshold, or a little under it when no fact
        is much nearer ("What's worrying you most about all this?"), rather than the fact that
        happens to mention one; None for any other question."""
        if not WORRY.search(low):
            return None
        concerns = [(k, s) for k, s in best.items() if k[0] == "concern" and s >= MATCH_THRESHOLD["concern"]]
        if concerns:
            return max(concerns, key=lambda kv: kv[1])
        near = max(((k, s) for k, s in best.items() if k[0] == "concern"), key=lambda kv: kv[1], default=None)
        top_fact = max((s for k, s in best.items() if k[0] == "fact"), default=0.0)
        if near is not None and near[1] >= WORRY_NEAR and near[1] >= top_fact - WORRY_FACT_MARGIN:
            return near[0], MATCH_THRESHOLD["concern"]
        return None

    def _echoes(self, question: str, fact_id: str) -> bool:
        """The question repeats two words in a row of the fact's answers, neither a function word
        and one a content word ("last night", "the hospital letter" -> "hospital letter")."""
        fact = self.pack.fact(fact_id)

        def pairs(text: str) -> set[tuple[str, str]]:
            w = re.findall(r"[a-z']+", text.lower())
            return {(a, b) for a, b in zip(w, w[1:])
                    if a not in STOP_WORDS and b not in STOP_WORDS and not (a in _FUNCTION and b in _FUNCTION)}
        said = set().union(*(pairs(a) for a in (fact.answers.guarded, fact.answers.neutral, fact.answers.open) if a))
        return bool(pairs(question) & said)

    def _adherence_worry(self, best: dict[tuple[str, str], float]) -> str | None:
        """For a question on taking the medicines as meant: the nearest hidden concern, when it is
        near (WORRY_NEAR) and no fact but the medicine list is nearer; the list names the
        medicines, it does not say how they are taken."""
        near = max(((k, s) for k, s in best.items() if k[0] == "concern"), key=lambda kv: kv[1], default=None)
        others = [s for k, s in best.items() if k[0] == "fact" and self.pack.fact(k[1]).category != "medication"]
        if near is None or near[1] < WORRY_NEAR or near[1] < max(others, default=0.0) - WORRY_FACT_MARGIN:
            return None
        return near[0][1]

    def _cause_asked(self, low: str, best: dict[tuple[str, str], float]) -> bool:
        """The patient's view of the cause asked outright (phrasings.CAUSE_ASKED), with their ideas
        near, or about the complaint itself ("Why do you suppose it's come on now?"), not about
        another item ("Why do you think you're not sleeping?" after sleep is its own fact)."""
        if not CAUSE_ASKED.search(low):
            return False
        ideas = self.subjects.get("ideas")
        complaint = {("fact", f) for f in (self.presenting, self.subjects.get("onset"), self.subjects.get("site"),
                                           self.subjects.get("character")) if f}
        top_fact = max(((k, s) for k, s in best.items() if k[0] == "fact"), key=lambda kv: kv[1], default=(None, 0.0))[0]
        return best.get(("fact", ideas or ""), 0.0) >= NEAR_THRESHOLD or top_fact in complaint

    def _own_best(self, text: str, words_of: str | None = None) -> tuple[tuple[str, str], float] | None:
        """One question's best supported item at or over its threshold, or None."""
        words = self._concepts(words_of if words_of is not None else text)
        raw = self._best(self.matrix @ self.embedder.embed([text])[0])
        if (formed := self._by_form(words_of if words_of is not None else text, raw)) is not None:
            return formed
        own = self._supported(raw, words)
        if not own:
            return None
        key, sim = max(own.items(), key=lambda kv: kv[1])
        return (key, sim) if sim >= MATCH_THRESHOLD[key[0]] else None

    def _asked_part(self, text: str, parts: list[str]) -> str | None:
        """The asking clauses of a turn that also makes a remark, when they carry a subject of their
        own (two content words or more); None for a plain question, or one that leans on the
        remark ("You mentioned your dad. Tell me more?")."""
        asked = " ".join(p for p in parts if asks_something(p))
        if not asked or len(asked.split()) >= len(text.split()) - 2:
            return None
        return asked if len(self._concepts(asked)) >= 2 else None

    def _best(self, sims: np.ndarray) -> dict[tuple[str, str], float]:
        best: dict[tuple[str, str], float] = {}
        for key, sim in zip(self.keys, sims.tolist()):
            if sim > best.get(key, -1.0):
                best[key] = sim
        return best

    def concerns_by_nearness(self, text: str, vector: np.ndarray | None = None) -> tuple[str, ...]:
        """Every hidden concern, the one the turn is nearest first: a worry asked about but not
        matched is still the one the patient holds back ("Is part of you scared of going the
        same way?" is about the fear of following mum, not the first concern the pack lists)."""
        if not self.keys:
            return ()
        v = self.embedder.embed([written(text)])[0] if vector is None else vector
        best = self._best(self.matrix @ v)
        return tuple(k[1] for k, _ in sorted(((k, sc) for k, sc in best.items() if k[0] == "concern"), key=lambda kv: -kv[1]))

    def search(self, text: str, *, limit: int = 2, vector: np.ndarray | None = None, about: str | None = None,
               about_id: str | None = None) -> SearchResult:
        """`about`: what the conversation was last on (the last fact's topic), for a follow-up that
        points back ("How old was he then?"); the visit reason when absent. `about_id`: that fact."""
        if not self.keys:
            return SearchResult([], 0.0)
        text = written(text)
        if (alone := repaired_question(text)) is not None:
            # a self-repair that asks a question of its own ("... at all, sorry, I mean, have you
            # tried anything at home?") may be the question meant, or may only narrow the one before
            # it ("What are you hoping for today, I mean, what would put your mind at rest?"): the
            # reading that finds the nearer item is taken
            readings = [self.search(r, limit=limit, about=about, about_id=about_id) for r in (alone, without_disfluencies(text))]
            return max(readings, key=lambda r: max((m.score for m in r.matches), default=-1.0))
        if (meant := without_disfluencies(text)) != text:
            text, vector = meant, None  # "and, um, how did you get here?"
        if (welcome := _WELCOME.match(text)) is not None and welcome.end() < len(text.rstrip()):
            text, vector = text[welcome.end():], None
        if (plain := _plain(text)) != text:
            text, vector = plain, None  # MiniLM reads "waterworks" far from urine: embed the plain words
        if (lead := _APART_FROM.match(text.strip())) is not None and lead.end() < len(text.strip()):
            # "Apart from the chest pain, any other symptoms?": the rest is the question, and the
            # item the lead-in names is what it is not asking about
            named = self._best(self.matrix @ self.embedder.embed([lead.group("what")])[0])
            excluded = max(named.items(), key=lambda kv: kv[1])[0] if named else None
            found = self.search(text.strip()[lead.end():], limit=limit, about=about, about_id=about_id)
            return SearchResult([m for m in found.matches if (m.kind, m.id) != excluded], found.best_fact_score)
        v = self.embedder.embed([text])[0] if vector is None else vector
        parts = clauses(text)
        # the whole turn: "You mentioned your dad. Tell me more?" is about the dad; a request's
        # lead-in ("I need to run through ...") is not its subject
        lead = REQUEST.match(text.lower())
        words = self._concepts(text[lead.end():] if lead else text)
        raw = self._best(self.matrix @ v)
        if (asked := self._asked_part(text, parts)) is not None:
            # a question after a remark of its own ("Last night sounds like it rattled you. What
            # was different about it?"): its own words and meaning decide, the remark's add noise
            words = self._concepts(asked)
            own = self._best(self.matrix @ self.embedder.embed([asked])[0])
            raw = {k: max(s, own.get(k, s)) for k, s in raw.items()}
        # "What's causing the problems with your stomach and your sleep?" is one question, whatever its "and"
        whole = len(parts) > 1 and CAUSE_ASKED.search(text) and not any(CAUSE_ASKED.search(p) for p in parts[1:])
        if (len(parts) == 1 or whole) and (formed := self._by_form(text if whole else parts[0], raw)) is not None:
            key, sim = formed
            return SearchResult([Match(key[0], key[1], round(sim, 4))],
                                round(max((s for k, s in raw.items() if k[0] == "fact"), default=0.0), 4))
        if ADHERENCE.search(text) and (held := self._adherence_worry(raw)) is not None:
            # "Skipping any insulin doses?" in a case whose patient rations it: the worry, not the list
            return SearchResult([Match("concern", held, MATCH_THRESHOLD["concern"])],
                                round(max((s for k, s in raw.items() if k[0] == "fact"), default=0.0), 4))
        asking = [p for p in parts if asks_something(p)]
        if len(parts) > 1 and len(asking) == 1 and not whole and (worry := self._worry(asking[0].lower(), raw)):
            # a worry asked after a remark ("You went home that night. Does that weigh on you?"): the
            # worry, not the fact the remark recalls
            return SearchResult([Match(worry[0][0], worry[0][1], round(worry[1], 4))],
                                round(max((s for k, s in raw.items() if k[0] == "fact"), default=0.0), 4))
        best = self._supported(raw, words)
        if _EXAMINED.search(text) and not any(sc >= SURE_MATCH for sc in raw.values()):
            return SearchResult([], 0.0)
        if self.presenting and OPENING.search(text) and not any(
                s >= SURE_MATCH for k, s in best.items() if k != ("fact", self.presenting)):
            best[("fact", self.presenting)] = 1.0  # "what brings you in?" asks for the presenting complaint
        extra: list[tuple[tuple[str, str], float]] = []  # each question's own best item
        matched = any(s >= MATCH_THRESHOLD[k[0]] for k, s in best.items())
        # a statement that points back ("That sounds frightening.") asks for no fact
        points_back = parts and not matched and asks_something(parts[0]) and (
            _POINTS_BACK.search(parts[0].lower()) or _FOLLOW_ON.search(parts[0].lower()))
        if (about_id is not None and len(parts) == 1 and self._short(parts[0]) and asks_something(parts[0])
                and self._echoes(parts[0], about_id)
                and not any(s >= SURE_MATCH for k, s in best.items() if k != ("fact", about_id))):
            # a question on a phrase of the answer just given ("Last night was the worst." -> "What
            # happened last night?"): more of that answer
            return SearchResult([Match("fact", about_id, MATCH_THRESHOLD["fact"])], MATCH_THRESHOLD["fact"])
        follow_on = (about is not None and len(parts) == 1 and self._short(parts[0]) and asks_something(parts[0])
                     and (_FOLLOW_ON.search(parts[0].lower()) or _POINTS_BACK.search(parts[0].lower()))
                     and not any(s >= SURE_MATCH for s in best.values()))
        if follow_on:
            # "And roughly how many a day?" right after an answer: about what was just said, even
            # when its few words happen to fit another item a little
            # ... or about the turn's own words before it, when it has them ("People go over what
            # they might have done differently. Is there anything like that on your mind?")
            before = text[: text.find(parts[0])].strip() if text.find(parts[0]) > 0 else ""
            context = before if self._concepts(before) else about  # "I'm so sorry." points at nothing
            found = self._own_best(f"{parts[0]} ({context})", words_of=parts[0] + " " + context)
            if found is not None and found[0] == ("fact", about_id) and not _DETAIL.search(parts[0].lower()):
                # the fact just said again, when the question alone finds another fact: "You
                # chased it up since, I take it?" after the first visit asks about the chasing
                # (but "And roughly how many a day?" asks for the detail of the fact just said)
                alone = self.search(text, limit=limit, vector=v)
                if alone.matches and alone.matches[0].kind == "fact" and alone.matches[0].id != about_id:
                    return alone
            if found is not None:
                return SearchResult([Match(found[0][0], found[0][1], round(found[1], 4))],
                                    round(found[1] if found[0][0] == "fact" else 0.0, 4))
        for q in (parts if len(parts) > 1 or points_back else []):
            found = self._own_best(q) if len(parts) > 1 else None
            if found is None and (_POINTS_BACK.search(q.lower()) or _FOLLOW_ON.search(q.lower())) and self._short(q):
                # a short follow-up that points back: read it with what it points to, the turn's own
                # earlier words when it has them ("You mentioned a friend. Tell me about him.")
                before = text[: text.find(q)].strip() if text.find(q) > 0 else ""
                context = before or about or self.pack.visit.reason
                found = self._own_best(f"{q} ({context})", words_of=q + " " + (before or about or ""))
            if found is not None:
                extra.append(found)
                best[found[0]] = max(best.get(found[0], -1.0), found[1])
        best_fact = max((s for k, s in best.items() if k[0] == "fact"), default=0.0)
        ranked = [(k, s) for k, s in sorted(best.items(), key=lambda kv: kv[1], reverse=True) if s >= MATCH_THRESHOLD[k[0]]]
        if not ranked and len(words) >= 2:
            # a little under the threshold, but the only fact that holds every content word of the
            # question, two or more, and as near as the nearest within MARGIN ("Came on your own
            # today?"; "Ever blacked out?" when a past-history "ever" question is a shade nearer)
            facts = sorted(((k, s) for k, s in raw.items() if k[0] == "fact"), key=lambda kv: -kv[1])
            whole = [(k, s) for k, s in facts if s >= NEAR_THRESHOLD and len(self._shared_words(k, words)) == len(words)]
            if len(whole) == 1 and whole[0][1] >= WORDS_MATCH and facts[0][1] - whole[0][1] <= MARGIN:
                ranked = [whole[0]]
                best_fact = max(best_fact, whole[0][1])
        if not ranked and words and parts and asks_something(parts[-1]):
            # too few of its words shared, but one fact stands clear of every other item and
            # shares at least one ("How did you travel in this morning?", "Opening your bowels
            # all right?")
            (k1, s1), (_, s2) = (sorted(raw.items(), key=lambda kv: -kv[1]) + [(("", ""), 0.0)] * 2)[:2]
            shared = self._shared_words(k1, words) if k1[0] == "fact" else set()
            # ... or, a little under the threshold, when it holds every content word ("Off your food?")
            near_enough = s1 >= MATCH_THRESHOLD["fact"] or s1 >= WORDS_MATCH and len(shared) == len(words)
            if k1[0] == "fact" and near_enough and s1 - s2 >= CLEAR_MARGIN and shared:
                ranked = [(k1, s1)]
                best_fact = max(best_fact, s1)
            elif k1[0] == "fact" and s1 >= WORDS_MATCH and s1 - s2 >= MARGIN and len(shared) >= 2 and not any(
                    self._shared_words(k, words) & shared for k, s in raw.items() if k != k1 and s >= NEAR_THRESHOLD):
                # a chatty question, most of its words small talk, but two of them the nearest
                # fact's own and no other item's ("... reaching for a glass of wine at night, you
                # know. Has that been happening more lately?")
                ranked = [(k1, s1)]
                best_fact = max(best_fact, s1)
        if not ranked and about_id is not None and parts and asks_something(parts[-1]):
            # nothing matched alone, and the last fact said is among its nearest and shares its
            # words: the question goes on with it ("What was the last reading you got?" after the
            # sugar checks; "Any pets?" after smoking does not)
            raw = sorted(self._best(self.matrix @ v).items(), key=lambda kv: -kv[1])[:2]
            if any(k == ("fact", about_id) and NEAR_THRESHOLD <= s < SURE_MATCH and self._supported({k: s}, words) for k, s in raw):
                found = self._own_best(f"{text} ({about})", words_of=f"{text} {about}")
                if found is not None and found[0] == ("fact", about_id):
                    return SearchResult([Match("fact", about_id, round(found[1], 4))], round(found[1], 4))
        if _FAMILY_ASK.search(text):
            # "Does anyone in your family have depression?" asks about the relatives' health: only a
            # family-history fact answers, never the patient's own past or who is at home
            ranked = [(k, s) for k, s in ranked if not (k[0] == "fact" and self.pack.fact(k[1]).category != "family")]
        if not ranked:
            return SearchResult([], round(best_fact, 4))
        top = ranked[0][1]
        kept = [(k, s) for k, s in ranked[:limit] if top - s <= MARGIN]
        if ranked[0][0][0] == "concern":  # a worry asked about may not be said yet: the fact it touches still can be
            fact = next(((k, s) for k, s in ranked if k[0] == "fact" and top - s <= CONCERN_MARGIN), None)
            if fact is not None and fact not in kept:
                kept = [kept[0], fact]
        for key, sim in sorted(extra, key=lambda kv: -kv[1]):  # every question asked gets its answer
            if len(kept) < limit and all(key != k for k, _ in kept):
                kept.append((key, sim))
        return SearchResult([Match(k[0], k[1], round(s, 4)) for k, s in kept], round(best_fact, 4))


def clauses(text: str) -> list[str]:
    """The questions in a turn, one per clause: sentences that ask, split at "and"/"or" before a
    new question ("Do you smoke, and how much do you drink?")."""
    out = []
    for part in _CLAUSE_SPLIT.split(text.strip()):
        part = (part or "").strip(" ,")
        if len(part.split()) >= 2 or part.endswith("?"):
            out.append(part)
    asks = [p for p in out if asks_something(p)]
    return asks or out[-1:]


def asks_something(clause: str) -> bool:
    """A question, or a clause that asks after a short lead-in of its own ("In your own mind,
    what do you reckon is causing it")."""
    clause = clause.strip()
    lead = _LEAD_IN.match(clause)
    return clause.rstrip().endswith("?") or bool(_ASKS.match(clause)) or bool(lead and _ASKS.match(clause[lead.end():]))


def _plain(text: str) -> str:
    """The turn with slang the embedder does not place written plainly ("Waterworks okay?" as
    "Urine okay?"), for the nearest-meaning match; the words are matched as before."""
    return _SLANG.sub(lambda m: _PLAIN[m.group(0).lower()], text)


def _clinical(word: str) -> str | None:
    """The clinical word for a lay one, in any of its forms ("drinks" as "drink")."""
    return _SAME.get(word) or _SAME.get(stem(word))
