"""AgentClinic OSCE cases (one JSON object a line) as DRAFT persona packs.

What the patient would tell a clinician (history, symptoms, past history, medicines,
allergies, family and social history, review of systems) becomes facts, reworded in the first
person by `first_person`'s fixed rules; a sentence no rule recognises is kept, marked TODO,
for a person to word. Examination findings, test results and the diagnosis are the
examiner's: they go into a comment for the educator, never into what the patient can say.
The feelings (emotion, hidden concerns, cues), the objectives and the teaching notes are
TODO placeholders that still validate, so `bedside persona check` lists what to write.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .first_person import Rewrite, condition_list, rewrite_text, symptom_line
from .todos import MARKER

SOURCE = "agentclinic"
REQUIRED = ("OSCE_Examination", "OSCE_Examination.Patient_Actor", "OSCE_Examination.Patient_Actor.Demographics",
            "OSCE_Examination.Patient_Actor.History", "OSCE_Examination.Patient_Actor.Symptoms")
CHILD_UNDER = 12  # younger patients are spoken for (by a parent, say): who speaks is for a person to decide
_EMPTY = re.compile(r"^(?:information |no (?:relevant |pertinent |additional )?(?:social history|information|symptoms)?\s*)"
                    r"?(?:not |no )?(?:provided|specified|available|mentioned|noted)\b|^n/?a$|^none$", re.I)
_TODO_WORD = f"{MARKER}: word this as the patient would say it:"


class CaseError(ValueError):
    """A line that cannot be imported; the message names the file, line and what to fix."""


@dataclass
class Draft:
    line: int
    pack_id: str
    yaml: str
    todos: int = 0


@dataclass
class _Fact:
    id: str
    topic: str
    category: str
    questions: list[str]
    lines: list[Rewrite] = field(default_factory=list)
    short: Rewrite | None = None  # the guarded answer, when shorter than the first line


def read_cases(path: Path) -> list[tuple[int, dict]]:
    """(line number, case) for each non-blank line; the first bad line raises with what to fix."""
    path = Path(path)
    if not path.is_file():
        raise CaseError(f"{path}: no such file (hint: give the AgentClinic .jsonl file, one case a line)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(f"{path}: not UTF-8 text ({exc.reason}) (hint: the file must be JSON Lines, one case a line)") from None
    cases = []
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            case = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CaseError(f"{path}:{n}: not a JSON object ({exc.msg} at column {exc.colno}) "
                               "(hint: JSONL has one complete JSON object on each line, no pretty-printing)") from None
        for key in REQUIRED:
            if not isinstance(_get(case, key), (dict, str)):
                raise CaseError(f"{path}:{n}: missing {key} (hint: each line is one AgentClinic OSCE case: "
                                   '{"OSCE_Examination": {"Patient_Actor": {"Demographics", "History", "Symptoms", ...}, ...}})')
        cases.append((n, case))
    if not cases:
        raise CaseError(f"{path}: no cases (hint: the file is empty; it should hold one JSON object a line)")
    return cases


def draft_pack(case: dict, line: int, source_name: str) -> Draft:
    osce = case["OSCE_Examination"]
    actor = osce["Patient_Actor"]
    age, gender, child = _demographics(str(actor.get("Demographics", "")))
    symptoms = actor.get("Symptoms") or {}
    primary = _text(symptoms.get("Primary_Symptom")) if isinstance(symptoms, dict) else ""
    pack_id = _pack_id(line, primary)
    facts = _facts(actor, primary, symptoms if isinstance(symptoms, dict) else {})
    if child:  # the rules speak as the patient; a child's history is told by someone else
        for f in facts:
            f.lines = [Rewrite(r.text, False) for r in f.lines]
            f.short = None
    y = _Yaml()
    y.header(source_name, line, osce)
    y.top(pack_id, primary, age, gender, child, facts, _occupation(facts))
    y.facts(facts)
    y.rest(facts)
    text = y.text()
    return Draft(line=line, pack_id=pack_id, yaml=text, todos=text.count(MARKER))


def import_file(path: Path, out: Path, *, force: bool = False) -> list[Draft]:
    """Write one draft pack directory per case under `out`; refuse to overwrite without `force`."""
    path, out = Path(path), Path(out)
    drafts = [draft_pack(case, n, path.name) for n, case in read_cases(path)]
    existing = [d.pack_id for d in drafts if (out / d.pack_id / "persona.yaml").exists()]
    if existing and not force:
        raise CaseError(f"{out}: {len(existing)} draft(s) already exist, e.g. {existing[0]} "
                           "(hint: choose another --out, or add --force to overwrite them)")
    licence = next((p for p in (path.parent / "LICENSE.txt", path.parent / "LICENSE") if p.is_file()), None)
    for d in drafts:
        target = out / d.pack_id
        target.mkdir(parents=True, exist_ok=True)
        (target / "persona.yaml").write_text(d.yaml, encoding="utf-8")
        if licence is not None:
            (target / "SOURCE-LICENSE.txt").write_text(licence.read_text(encoding="utf-8"), encoding="utf-8")
    return drafts


# -- reading a case ------------------------------------------------------------------------------

def _get(d, dotted: str):
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def _text(v) -> str:
    if isinstance(v, list):
        return ", ".join(_text(x) for x in v if _text(x))
    return " ".join(str(v).split()) if v is not None else ""


def _given(v) -> bool:
    t = _text(v)
    return bool(t) and not _EMPTY.search(t.rstrip("."))


def _demographics(text: str) -> tuple[int, str, bool]:
    low = text.lower()
    m = re.search(r"(\d+)[- ]year[- ]old", low)
    young = re.search(r"\b(\d+)[- ](?:month|week|day)[- ]old|newborn|neonate|infant", low)
    age = int(m.group(1)) if m else 0
    gender = "female" if re.search(r"\b(female|woman|girl|mother|gravida)\b", low) else \
        "male" if re.search(r"\b(male|man|boy)\b", low) else ""
    return age, gender, bool(young) or (m is not None and age < CHILD_UNDER)


def _pack_id(line: int, primary: str) -> str:
    slug = "-".join(re.findall(r"[a-z0-9]+", primary.lower())[:4])
    return f"{SOURCE}-{line:03d}" + (f"-{slug}" if slug else "")[:40].rstrip("-")


def _facts(actor: dict, primary: str, symptoms: dict) -> list[_Fact]:
    facts: list[_Fact] = []
    story = rewrite_text(_text(actor.get("History")))
    if story or primary:
        facts.append(_Fact("presenting", "what brings the patient in", "symptom",
                           ["What brings you in today?", "What's been going on?", "Tell me what's been happening."],
                           story[:2] or [symptom_line(primary)], short=symptom_line(primary) if primary and story else None))
    if len(story) > 2:
        facts.append(_Fact("story", "more of the story", "history",
                           ["Can you tell me more about that?", "What happened next?", "Is there anything else about it?"],
                           story[2:]))
    secondary = symptoms.get("Secondary_Symptoms") or []
    for i, s in enumerate(secondary if isinstance(secondary, list) else [secondary], 1):
        name = _text(s).rstrip(".")
        if name:
            low = name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name
            facts.append(_Fact(f"symptom_{i}", low, "symptom", [f"Have you had any {low}?", f"Tell me about the {low}."],
                               [symptom_line(name)]))
    if _given(actor.get("Past_Medical_History")):
        facts.append(_Fact("past_history", "past medical history", "history",
                           ["Do you have any medical conditions?", "Have you had any illnesses or operations before?"],
                           _conditions(actor["Past_Medical_History"], "I have")))
    meds = actor.get("Current_Medications") or actor.get("Medications")
    if _given(meds):
        facts.append(_Fact("medications", "medicines taken", "medication",
                           ["Do you take any medicines?", "What medications are you on?"],
                           _conditions(meds, "I take")))
    if _given(actor.get("Allergies")):
        facts.append(_Fact("allergies", "allergies", "medication", ["Do you have any allergies?", "Are you allergic to anything?"],
                           _conditions(actor["Allergies"], "I'm allergic to")))
    if _given(actor.get("Family_History")):
        facts.append(_Fact("family_history", "illness in the family", "family",
                           ["Does anything run in your family?", "Has anyone in your family been ill?"],
                           rewrite_text(_text(actor["Family_History"]))))
    if _given(actor.get("Social_History")):
        facts += _social(rewrite_text(_text(actor["Social_History"])))
    if _given(actor.get("Review_of_Systems")):
        facts.append(_Fact("other_symptoms", "other symptoms", "symptom",
                           ["Have you had any other symptoms?", "Anything else you've noticed?"],
                           rewrite_text(_text(actor["Review_of_Systems"]))))
    return facts


def _conditions(value, lead: str) -> list[Rewrite]:
    """A list (or a comma list with no verb) of names after `lead`; sentences by the usual rules."""
    if isinstance(value, list):
        return [condition_list([_text(x) for x in value], lead)]
    out = []
    for r in rewrite_text(_text(value)):
        bare = not r.ok and not re.search(r"\b(is|was|has|have|had|being|with|managed|treated|performed|includes?|for|since)\b",
                                          r.text, re.I)
        out.append(condition_list(re.split(r",\s*", r.text.rstrip(".")), lead) if bare else r)
    return out


_SOCIAL = (  # (fact id, topic, category, words that place a sentence there, learner questions)
    ("smoking", "smoking", "lifestyle", r"smok|tobacco|cigar|pack", ["Do you smoke?", "Have you ever smoked?"]),
    ("alcohol", "alcohol", "lifestyle", r"alcohol|drink|wine|beer", ["Do you drink alcohol?", "How much alcohol do you drink?"]),
    ("drugs", "recreational drugs", "lifestyle", r"drug|cannabis|marijuana|cocaine|heroin", ["Do you use any recreational drugs?"]),
    ("sexual_history", "sexual history", "social", r"sexual|condom|partner", ["Are you sexually active?", "Can I ask about your sexual partners?"]),
    ("work", "work", "social", r"\bwork|job|employ|teacher|student|retired|school|grade", ["What do you do for work?", "What's your job?"]),
    ("home", "home and family", "social", r"\blive|married|wife|husband|children|family|sibling|parents", ["Who do you live with?", "How are things at home?"]),
    ("travel", "recent travel", "social", r"travel|trip|camping|returned|visit", ["Have you travelled recently?", "Have you been anywhere recently?"]),
)


def _social(lines: list[Rewrite]) -> list[_Fact]:
    """Each social-history sentence under the topic its words name (smoking, work, ...)."""
    facts: dict[str, _Fact] = {}
    for r in lines:
        pieces = [Rewrite(x, True) for x in re.split(r"(?<=\.)\s+", r.text)] if r.ok else [r]
        for piece in pieces:
            hit = next((s for s in _SOCIAL if re.search(s[3], piece.text, re.I)), None)
            fid, topic, cat, _, questions = hit or ("social_other", "life outside the illness", "social", "",
                                                    ["Tell me a bit about your life outside of this.", "How are things otherwise?"])
            facts.setdefault(fid, _Fact(fid, topic, cat, list(questions))).lines.append(piece)
    return list(facts.values())


def _occupation(facts: list[_Fact]) -> str:
    for f in facts:
        for r in f.lines:
            m = re.search(r"\bI (?:work|worked) as (?:an? )?([^.,;]+)", r.text) if r.ok else None
            if m:
                return m.group(1).strip()
    return ""


# -- writing the draft ---------------------------------------------------------------------------

def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _said(r: Rewrite) -> str:
    return r.text if r.ok else f"{_TODO_WORD} {r.text}"


def _answers(f: _Fact) -> tuple[str, str, str]:
    """guarded: the short line or the first; neutral: the first (two, without a short line); open: all of them."""
    said = [_said(r) for r in f.lines] or [f"{MARKER}: what the patient says"]
    if f.short is not None:
        return _said(f.short), said[0], " ".join(said)
    return said[0], " ".join(said[:2]), " ".join(said)


class _Yaml:
    def __init__(self):
        self.out: list[str] = []

    def add(self, *lines: str) -> None:
        self.out.extend(lines)

    def text(self) -> str:
        return "\n".join(self.out) + "\n"

    def header(self, source_name: str, line: int, osce: dict) -> None:
        self.add(f"# DRAFT persona pack imported by `bedside persona import {SOURCE}` from {source_name}, line {line}.",
                 "# Source: AgentClinic (MIT License, Copyright (c) 2024 Samuel Schmidgall; see SOURCE-LICENSE.txt).",
                 "# The facts are the case's history reworded in the first person by fixed rules: check every one.",
                 "# What a person must still write is marked; `bedside persona check` lists it field by field.",
                 "#",
                 "# For the educator, from the case (the examiner's, never said by the patient):")
        for label, key in (("Objective for the doctor", "Objective_for_Doctor"), ("Diagnosis", "Correct_Diagnosis")):
            if _text(osce.get(key)):
                self.add(f"#   {label}: {_text(osce.get(key))}")
        for label, key in (("Examination findings", "Physical_Examination_Findings"), ("Test results", "Test_Results")):
            if isinstance(osce.get(key), dict):
                self.add(f"#   {label}:")
                self.add(*(f"#     {k}: {v}" for k, v in _flatten(osce[key])))
        self.add("")

    def top(self, pack_id, primary, age, gender, child, facts, occupation) -> None:
        ident_note = (f"  # {MARKER}: the patient is a child: decide who speaks (a parent?) and word every fact in that voice"
                      if child else "")
        has_presenting = any(f.id == "presenting" for f in facts)
        opening = symptom_line(primary) if primary else Rewrite("", False)
        self.add("schema_version: 1",
                 f"id: {pack_id}",
                 f"title: {_q(MARKER + ': a short case title (the case: ' + (primary or 'see the facts') + ')')}",
                 f"setting: {_q(f'{MARKER}: where the encounter happens')}",
                 f"difficulty: intermediate  # {MARKER}: beginner, intermediate or advanced",
                 "learning_objectives:",
                 f"  - {_q(f'{MARKER}: what the learner should practise in this case')}",
                 "",
                 f"identity:{ident_note}",
                 f"  name: {_q(f'{MARKER}: the patient’s name')}",
                 f"  age: {age}" + (f"  # {MARKER}: the case gives no age in years" if age == 0 and not child else ""),
                 f"  gender: {_q(gender or f'{MARKER}: gender')}",
                 "  language: en",
                 f"  cultural_expression: explicit  # {MARKER}: explicit (names feelings) or indirect (body, family, duty)",
                 f"  speaking_style: {_q(f'{MARKER}: a sentence on how this person talks')}",
                 f"  occupation: {_q(occupation)}",
                 "",
                 "visit:",
                 f"  reason: {_q(primary or f'{MARKER}: the reason for the visit')}",
                 f"  opening_line: {_q(('Hello, doctor. ' + opening.text) if opening.ok and not child else f'{MARKER}: what the patient says first')}",
                 *(["  presenting: presenting"] if has_presenting else []),
                 "",
                 "voice:",
                 f"  espeak_voice: {'en-us+f3' if gender == 'female' else 'en-us'}",
                 "",
                 "emotion:",
                 f"  primary: fear  # {MARKER}: the feeling under the visit (a placeholder): fear sadness anger frustration "
                 "shame guilt overwhelm loneliness",
                 f"  baseline: {{trust: 0.5, distress: 0.5}}  # {MARKER}: where trust and distress start (placeholders)",
                 "")

    def facts(self, facts: list[_Fact]) -> None:
        self.add("facts:  # from the case's history; only what the patient would tell")
        for f in facts:
            guarded, neutral, open_ = _answers(f)
            self.add(f"  - id: {f.id}",
                     f"    topic: {_q(f.topic)}",
                     f"    category: {f.category}",
                     f"    example_questions: [{', '.join(_q(x) for x in f.questions)}]",
                     "    answers:",
                     f"      guarded: {_q(guarded)}",
                     f"      neutral: {_q(neutral)}",
                     f"      open: {_q(open_)}")
        self.add("")

    def rest(self, facts: list[_Fact]) -> None:
        ids = {f.id for f in facts}
        groups = (("hpc", "History of the presenting complaint", ["presenting", "story"]),
                  ("symptoms", "Associated symptoms", sorted(i for i in ids if i.startswith("symptom_"))),
                  ("past", "Past medical history", ["past_history"]),
                  ("medicines", "Medicines and allergies", ["medications", "allergies"]),
                  ("family", "Family history", ["family_history"]),
                  ("social", "Social history", [s[0] for s in _SOCIAL] + ["social_other"]),
                  ("review", "Review of systems", ["other_symptoms"]))
        social = {area: fid for area, fid in (("work", "work"), ("family", "home")) if fid in ids}
        self.add(f"hidden_concerns: []  # {MARKER}: the patient's real worry, with its gate (see `bedside persona new`)",
                 f"empathic_opportunities: []  # {MARKER}: the cues and feelings the patient voices, with their triggers",
                 "",
                 "social_context:" + ("" if social else " {}"),
                 *(f"  {area}: {fid}" for area, fid in social.items()),
                 "",
                 "uncovered:",
                 '  deny: ["No, nothing like that."]',
                 """  unsure: ["I'm not sure, nobody has told me."]""",
                 """  deflect: ["I'd rather not get into that right now."]""",
                 "",
                 "risk:",
                 f"  self_harm: {_q(f'{MARKER}: what the patient says when asked about suicide or self-harm')}",
                 f"  harm_to_others: {_q(f'{MARKER}: what the patient says when asked about harming others')}",
                 f"  safeguarding: {_q(f'{MARKER}: what the patient says when asked whether they are safe')}",
                 "",
                 "checklist:")
        for cid, item, members in groups:
            present = [m for m in members if m in ids]
            if present:
                self.add(f"  - id: {cid}", f"    item: {_q(item)}", f"    facts: [{', '.join(present)}]")
        self.add("",
                 "debrief_notes:",
                 f"  - {_q(f'{MARKER}: teaching notes for the debrief: what the case is about and what tends to help')}")


def _flatten(d: dict, prefix: str = ""):
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _flatten(v, key + ".")
        else:
            yield key, _text(v)
