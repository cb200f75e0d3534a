"""Case notes in the third person ("The patient reports chest pain for 2 days") reworded as
the patient would say them ("I've had chest pain for 2 days"), by fixed rules.

Deterministic on purpose: an imported draft must hold only what the case says, so nothing
here adds content. A sentence no rule recognises is returned as not rewritten (`ok` False)
and the importer marks it for a person to word; the rules never guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# verbs that only introduce what the patient said: "She notes that X" -> "X"
_REPORTING = r"(?:reports?|notes?|mentions?|states?|says?|recalls?|describes?|reveals?|admits?|explains?|believes?|cites?)"
_ADVERBS = {"also", "still", "now", "then", "often", "never", "recently", "occasionally", "rarely", "regularly",
            "frequently", "currently", "previously", "usually", "sometimes", "additionally", "further", "later"}
_SUBJECT = re.compile(r"^(?:the\s+)?patient\b|^(?:she|he)\b", re.I)
_PRONOUNS = {"she": "I", "he": "I", "his": "my", "him": "me", "herself": "myself", "himself": "myself"}
_HER_OBJECT_NEXT = {"", "to", "and", "or", "at", "in", "on", "with", "for", "that", "up", "down", "off", "out", "back",
                    "a", "an", "the", "about", "after", "before", "from", "into", "as", "by", "if", "when", "while"}
_IRREGULAR = {"has": "have", "is": "am", "was": "was", "does": "do", "goes": "go"}
# third-person verbs a note may open with, the patient understood: "Denies fever." "Works as a teacher."
_FRAGMENT_VERBS = {"does", "denies", "reports", "notes", "mentions", "smokes", "drinks", "works", "lives", "admits", "complains",
                   "experiences", "describes", "takes", "uses", "has", "is", "was", "recently", "enjoys", "plays",
                   "frequently", "regularly", "occasionally", "rarely", "recalls", "states", "endorses"}
# words that give away an examiner's observation rather than something a patient says
_OBSERVED = re.compile(r"\b(appears?|looks?|seems?|noted on|on examination|upon examination|palpation|tender(?:ness)?\b|"
                       r"bowel sounds|murmur|icterus|erythema|ataxia|macules?|dilated|tortuous|pitting|oedema|edema|"
                       r"violaceous|vesiculopustular|conjunctiva|scratch marks|alert and|resting position|adducted|"
                       r"internally rotated|distended|distension)\b", re.I)
_LEFT_OVER = re.compile(r"\b(patient|patient's|reports|denies|presents|mentions|notes|complains|endorses)\b", re.I)
_COORDINATED = {"reports": "have had", "complains of": "have had", "denies any": "haven't had any", "denies": "haven't had",
                "has": "have", "is": "am", "does": "do", "presents": "present", "mentions": "mention", "notes": "note",
                "describes": "describe", "takes": "take", "plays": "play", "drinks": "drink", "smokes": "smoke",
                "works": "work", "lives": "live", "uses": "use", "enjoys": "enjoy"}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


@dataclass(frozen=True)
class Rewrite:
    text: str
    ok: bool  # False: no rule recognised it; `text` is the original, for a person to word


def sentences(text: str) -> list[str]:
    """Sentences of a case note ("1.5 kg" and "e.g." do not split)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9'\"(])", " ".join(str(text).split()))
    return [p.strip() for p in parts if p.strip()]


def rewrite_sentence(sentence: str) -> Rewrite:
    """One sentence of history in the patient's first person, or not rewritten."""
    s = sentence.strip().rstrip(".")
    if not s:
        return Rewrite(sentence, False)
    if _OBSERVED.search(s):
        return Rewrite(sentence, False)
    s = re.sub(r"^(?:additionally|also|furthermore|however|moreover),?\s+", "", s, flags=re.I)
    s = re.sub(r"^(sexually active|married|single|divorced|widowed|retired|a student|student)\b",
               lambda m: "I'm " + ("a student" if m.group(1).lower() == "student" else m.group(1).lower()), s, flags=re.I)
    first = s.split()[0].lower()
    if re.match(r"^non-?smoker\b", s, re.I):
        rest = re.sub(r"^non-?smoker\W*(?:and\s+)?", "", s, flags=re.I)
        tails = [rewrite_sentence(_capitalise(c)) for c in re.split(r",\s*", rest) if c.strip()]
        if not all(t.ok for t in tails):
            return Rewrite(sentence, False)
        return Rewrite(" ".join(["I don't smoke.", *(t.text for t in tails)]), True)
    if re.match(r"^(no|not|none|nothing|never)\b", s, re.I):
        return Rewrite(_sentence(_pronouns(s)), True)
    s = re.sub(r"\bthe patient's\b", lambda m: "My" if m.start() == 0 else "my", s, flags=re.I)
    s = re.sub(r"\b(?:the\s+)?patient\b", lambda m: m.group(0) if m.start() == 0 else "I", s, flags=re.I)  # "Additionally, the patient noticed"
    had_subject = bool(_SUBJECT.match(s))
    if had_subject:
        s = _SUBJECT.sub("I", s, count=1)
    elif first in _FRAGMENT_VERBS:
        s = "I " + s[0].lower() + s[1:]
    else:
        converted = _pronouns(s)
        if converted != sentence.strip().rstrip(".") and re.match(r"^(my|i)\b", converted, re.I) and not _LEFT_OVER.search(converted):
            return Rewrite(_sentence(_agree_after_subjects(converted)), True)  # "His wife found him" -> "My wife found me"
        if re.match(r"^(the|these|this|those|there)\b", s, re.I) and not _LEFT_OVER.search(s):
            return Rewrite(_sentence(s), True)  # an event told as it happened: "The rash resolved."
        habit = re.match(r"^(moderate|occasional|social|heavy|light|minimal|regular) (alcohol|tobacco|cannabis) (?:use|consumption|intake)$", s, re.I)
        if habit:
            return Rewrite(f"My {habit.group(2).lower()} use is {habit.group(1).lower()}.", True)
        return Rewrite(sentence, False)
    s = _coordinated(_reported(_agree_after_subjects(_pronouns(s))))
    return Rewrite(sentence, False) if _LEFT_OVER.search(s) else Rewrite(_sentence(s), True)


def rewrite_text(text: str) -> list[Rewrite]:
    return [rewrite_sentence(x) for x in sentences(text)]


def symptom_line(phrase: str) -> Rewrite:
    """A symptom from a case's symptom list ("Double vision") as a sentence ("I've had double vision.")."""
    p = " ".join(str(phrase).split()).rstrip(".")
    if not p or _OBSERVED.search(p):
        return Rewrite(phrase, False)
    low = _lower_first(p)
    if re.match(r"^(no|not)\b", p, re.I):
        return Rewrite(_sentence("It's " + low if low.startswith("not ") else p), True)
    low = re.sub(r"^presence of ", "", low)
    if re.match(r"^history of\b", p, re.I):
        return Rewrite(_sentence("I've had " + re.sub(r"^history of\s+", "", low)), True)
    if re.search(r"\b(has|have|is|are|was|were|worsens|improves|began|started|resolved)\b", p, re.I):
        return Rewrite(_sentence("The " + low if not re.match(r"^(the|my|a|an)\b", low) else low), True)
    if re.match(r"^[A-Za-z]+ed\b", p) or re.match(r"^[A-Za-z]+ing\b", p):
        return Rewrite(phrase, False)  # "Regained consciousness…": whose action it was needs a person
    return Rewrite(_sentence("I've had " + low), True)


def condition_list(items: list[str] | str, lead: str) -> Rewrite:
    """A list of conditions or medicines ("Hypertension, Ulcerative Colitis") after `lead` ("I have")."""
    names = [" ".join(str(x).split()).rstrip(".") for x in (items if isinstance(items, list) else [items])]
    names = [n for n in names if n]
    if not names:
        return Rewrite("", False)
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return Rewrite(_sentence(f"{lead} {_lower_first(joined) if joined.split()[0].isalpha() and not _proper(joined) else joined}"), True)


# -- helpers ---------------------------------------------------------------------------------

def _pronouns(s: str) -> str:
    words = re.split(r"(\W+)", s)
    out = []
    for i, w in enumerate(words):
        low = w.lower()
        if low == "her":
            nxt = next((x for x in words[i + 1:] if x.strip()), "")
            rep = "me" if not re.match(r"\w", nxt) or nxt.lower() in _HER_OBJECT_NEXT else "my"
        elif low in _PRONOUNS:
            rep = _PRONOUNS[low]
        else:
            out.append(w)
            continue
        out.append(rep if rep == "I" or w[0].islower() else rep.capitalize())
    return "".join(out)


def _agree_after_subjects(s: str) -> str:
    """"I has" -> "I have", "I drinks" -> "I drink", skipping adverbs ("I also reports")."""
    tokens = s.split(" ")
    for i, tok in enumerate(tokens):
        if tok != "I":
            continue
        j = i + 1
        while j < len(tokens) and tokens[j].lower() in _ADVERBS:
            j += 1
        if j < len(tokens):
            tokens[j] = _base_form(tokens[j])
    return " ".join(tokens)


def _base_form(verb: str) -> str:
    low = verb.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low.endswith("ies") and len(low) > 4:
        return verb[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|z|o)es$", low):
        return verb[:-2]
    if low.endswith("s") and not low.endswith("ss") and len(low) > 3 and low not in ("this", "was", "has", "always"):
        return verb[:-1]
    return verb


def _reported(s: str) -> str:
    """Drop what only introduces speech, and word the common openings as speech."""
    s = re.sub(rf"^I (?:(?:also|further|additionally) )?{_REPORTING} that\s+", "", s)
    s = re.sub(r"^I (?:also )?(?:report|complain of|describe) (?:a |an )?((?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
               r")-(day|week|month|year) history of (?:experiencing )?", _history_for, s)
    s = re.sub(r"^I (?:also )?report (?:noticing|having noticed) ", "I noticed ", s)
    s = re.sub(r"^I (?:also )?report (?:experiencing|having) ", "I've been having ", s)
    s = re.sub(r"^I (?:also )?report (?:feeling) ", "I've been feeling ", s)
    s = re.sub(r"^I (?:also )?report (\w+ing) ", lambda m: f"I was {m.group(1)} " if " ago" in s else f"I've been {m.group(1)} ", s)
    s = re.sub(r"^I (?:also )?(?:report|complain of|endorse) ", "I've had ", s)
    s = re.sub(r"^I (?:also )?deny (?:experiencing |having )?(?:any |an? )?", "I haven't had any ", s)
    s = re.sub(r"^I do(?: not|n't) report (?:any )?", "I haven't had any ", s)
    s = re.sub(r"^I present with ", "I've come in with ", s)
    s = re.sub(r"^I present (for|to|because) ", r"I've come in \1 ", s)
    s = re.sub(r"^I have been ", "I've been ", s)
    s = re.sub(r"^I (?:also )?mention being ", "I'm ", s)
    s = re.sub(r"^I admit to being ", "I'm ", s)
    s = re.sub(r"^I am ", "I'm ", s)
    return s


def _coordinated(s: str) -> str:
    """A second verb of the patient's, after "and", "but" or a comma: "...and has difficulty" -> "...and have difficulty"."""
    words = "|".join(sorted(map(re.escape, _COORDINATED), key=len, reverse=True))
    adverbs = "|".join(sorted(_ADVERBS))
    return re.sub(rf"(\b(?:and|but|or)|,) ((?:(?:{adverbs}) )?)({words})\b",
                  lambda m: f"{m.group(1)} {m.group(2)}{_COORDINATED[m.group(3).lower()]}", s)


def _history_for(m: re.Match) -> str:
    n = _NUMBERS.get(m.group(1).lower(), None) or int(m.group(1))
    unit = m.group(2)
    span = f"the past {unit}" if n == 1 else f"the past {n} {unit}s"
    return f"For {span}, I've had "


def _sentence(s: str) -> str:
    s = s.strip()
    s = s[0].upper() + s[1:] if s else s
    return s if s.endswith((".", "!", "?")) else s + "."


def _capitalise(s: str) -> str:
    s = s.strip()
    return s[0].upper() + s[1:] if s else s


def _lower_first(s: str) -> str:
    return s[0].lower() + s[1:] if len(s) > 1 and s[1].islower() else s


def _proper(s: str) -> bool:
    """A name that keeps its capital: "Crohn's disease", "Kaposi's sarcoma"."""
    return bool(re.match(r"^[A-Z][a-z]+'s\b|^[A-Z][a-z]+ (disease|syndrome|sarcoma)\b", s))
