"""Pydantic v2 schema of a persona pack (`persona_packs/<id>/persona.yaml`).

Educators author these files by hand, so every model forbids unknown keys (a typo must
be an error, not a silently ignored field) and cross-references are checked after parsing.
"""

from __future__ import annotations

import difflib
import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ..core.grade import NurseType

SCHEMA_VERSION = 1
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Emotion(str, Enum):
    """Emotion families the engine, grader and corrections share (VR-CoDES unpleasant emotions)."""

    fear = "fear"
    sadness = "sadness"
    anger = "anger"
    frustration = "frustration"
    shame = "shame"
    guilt = "guilt"
    overwhelm = "overwhelm"
    loneliness = "loneliness"
    calm = "calm"
    relief = "relief"


class ExpressionStyle(str, Enum):
    explicit = "explicit"
    indirect = "indirect"


class Difficulty(str, Enum):
    beginner = "beginner"
    intermediate = "intermediate"
    advanced = "advanced"


class Identity(Strict):
    name: str = Field(min_length=1, description="How the patient is addressed, e.g. 'Mrs Margaret Hill'.")
    age: int = Field(ge=0, le=120)
    gender: str = Field(min_length=1)
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$", description="BCP-47 language, e.g. 'en' or 'en-GB'.")
    cultural_expression: ExpressionStyle = Field(
        description="'explicit' names feelings; 'indirect' voices distress through the body, family or duty."
    )
    speaking_style: str = Field("", description="A sentence on how this person talks, for dialogue models.")
    occupation: str = ""


class Visit(Strict):
    reason: str = Field(min_length=1, description="The stated reason for today's visit.")
    opening_line: str = Field(min_length=1, description="What the patient says first.")
    presenting: str | None = Field(None, description="The fact an opening question (\"what brings you in?\") is answered "
                                                     "with; default: the symptom or history fact the reason is most about.")


class Voice(Strict):
    """Text-to-speech settings; the engine shifts rate and pitch with the emotional state."""

    espeak_voice: str = Field("en-us", description="espeak-ng voice id, e.g. 'en-us', 'en-gb', 'en-us+f3'.")
    rate_wpm: int = Field(160, ge=80, le=300)
    pitch: int = Field(50, ge=0, le=99)
    piper_voice: str | None = Field(None, description="Optional Piper voice name, used with the piper extra.")


SkinTone = Literal["light", "medium-light", "medium", "medium-dark", "dark"]
HairStyle = Literal["short", "long", "bald"]
HairColour = Literal["black", "brown", "auburn", "blonde", "grey", "white"]


class Appearance(Strict):
    """How the client draws the patient's face: an SVG made in the page, no images. Optional,
    and so is each field: what is left out follows from the identity (`resolved`)."""

    skin_tone: SkinTone = Field("medium", description="One of light, medium-light, medium, medium-dark, dark.")
    hair: HairStyle | None = Field(None, description="short, long or bald; default: long for a woman, else short.")
    hair_colour: HairColour | None = Field(None, description="Default: white from 75, grey from 60, else brown.")

    def resolved(self, identity: "Identity") -> "Appearance":
        """Every field filled in: the look a pack left out follows from age and gender."""
        woman = identity.gender.strip().lower() in ("female", "woman", "f")
        hair = self.hair or ("long" if woman else "short")
        colour = self.hair_colour or ("white" if identity.age >= 75 else "grey" if identity.age >= 60 else "brown")
        return Appearance(skin_tone=self.skin_tone, hair=hair, hair_colour=colour)


class Baseline(Strict):
    trust: float = Field(ge=0, le=1)
    distress: float = Field(ge=0, le=1)


class EmotionalProfile(Strict):
    primary: Emotion = Field(description="The feeling under the visit, used for corrections and accuracy.")
    baseline: Baseline
    sensitivity: float = Field(1.0, ge=0.2, le=2.0, description="Scales how far one turn moves trust and distress.")
    recovery_rate: float = Field(0.1, ge=0.0, le=1.0, description="Share of the gap to baseline closed each turn.")
    max_reply_sentences: int = Field(4, ge=1, le=10)


class Answers(Strict):
    """One answer line per disclosure style. The engine picks by trust: guarded < neutral < open."""

    guarded: str = Field(min_length=1)
    neutral: str = Field(min_length=1)
    open: str = Field(min_length=1)


_PREREQ_RE = re.compile(r"^(acknowledged|explored|disclosed):([a-z0-9][a-z0-9_-]*)$")


class Gate(Strict):
    """When a fact or concern may be revealed.

    `requires` items are `acknowledged:<opportunity id>` (the learner answered it at ECCS >= 3),
    `explored:<opportunity id>` (ECCS >= 4 or a NURSE explore on it) or `disclosed:<fact id>`.
    """

    min_trust: float = Field(0.0, ge=0, le=1)
    requires: list[str] = Field(default_factory=list)
    before: Literal["deflect", "guarded"] = Field(
        "deflect", description="What a fact's question gets while the gate is closed: a deflection, or its guarded "
                               "answer only (for a plain fact a wary patient would still state briefly)")

    @field_validator("requires")
    @classmethod
    def _prereq_form(cls, v: list[str]) -> list[str]:
        for item in v:
            if not _PREREQ_RE.match(item):
                raise ValueError(
                    f"'{item}' is not a prerequisite; write acknowledged:<opportunity id>, "
                    "explored:<opportunity id> or disclosed:<fact id>"
                )
        return v


FactCategory = Literal["history", "symptom", "medication", "family", "social", "lifestyle", "ideas", "other"]


class Fact(Strict):
    id: str = Field(pattern=ID_PATTERN)
    topic: str = Field(min_length=1)
    category: FactCategory = "history"
    example_questions: list[str] = Field(min_length=1, description="Learner wordings that ask for this fact.")
    answers: Answers
    gate: Gate = Field(default_factory=Gate)


class HiddenConcern(Strict):
    id: str = Field(pattern=ID_PATTERN)
    concern: str = Field(min_length=1, description="Educator-facing summary of the real worry.")
    disclosure: str = Field(min_length=1, description="What the patient says once the gate opens.")
    example_questions: list[str] = Field(default_factory=list)
    gate: Gate


class Trigger(Strict):
    """When an opportunity or a patient question comes up.

    on: opening (in the opening turn), turn (after learner turn `turn`), fact (with the
    disclosure of `fact`), distress (when distress rises above `distress` unacknowledged).
    """

    on: Literal["opening", "turn", "fact", "distress"]
    turn: int | None = Field(None, ge=1)
    fact: str | None = None
    distress: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _needs_param(self) -> "Trigger":
        need = {"turn": "turn", "fact": "fact", "distress": "distress"}.get(self.on)
        if need and getattr(self, need) is None:
            raise ValueError(f"a trigger with on: {self.on} needs '{need}'")
        return self


class Opportunity(Strict):
    """An empathic opportunity (Suchman 1997): explicit emotion, or an indirect cue."""

    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["explicit", "cue"]
    emotion: Emotion
    line: str = Field(min_length=1, description="What the patient says.")
    again: list[str] = Field(default_factory=list, description="Other wordings of the same cue, for when the patient "
                                                                 "raises it again (never the same words twice).")
    trigger: Trigger


class PatientQuestion(Strict):
    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)
    trigger: Trigger


class SocialContext(Strict):
    """Life context areas, each pointing at the fact that holds it (structural competency)."""

    work: str | None = None
    money: str | None = None
    transport: str | None = None
    family: str | None = None
    insurance: str | None = None
    housing: str | None = None


class Uncovered(Strict):
    """Lines for questions the pack does not cover: deny or unsure, never invent."""

    deny: list[str] = Field(min_length=1, description="For 'do you have X?' questions about symptoms.")
    unsure: list[str] = Field(min_length=1, description="For questions about things the patient does not know.")
    deflect: list[str] = Field(min_length=1, description="For questions whose fact is still gated.")


class Risk(Strict):
    """What the patient says to a risk question, however it is worded. Required in every pack: a
    clinician must be able to ask about risk in any case, and a content-free "Okay." to a
    suicide question is the worst reply a simulated patient can give. Never gated."""

    self_harm: str = Field(min_length=1, description="Asked about suicide, self-harm or not wanting to be here.")
    harm_to_others: str = Field(min_length=1, description="Asked about thoughts of harming someone else.")
    safeguarding: str = Field(min_length=1, description="Asked whether anyone hurts or threatens them, or whether they feel safe.")


ReactionLine = Annotated[str, Field(min_length=1, max_length=160)]


class BandLines(Strict):
    """Interchangeable wordings by trust band; the patient picks one not said lately. An empty
    band falls back to the built-in wordings."""

    guarded: list[ReactionLine] = Field(default_factory=list)
    neutral: list[ReactionLine] = Field(default_factory=list)
    open: list[ReactionLine] = Field(default_factory=list)


class Reactions(Strict):
    """How this patient, in their own voice, reacts to the learner's content-free moves. Optional:
    anything left out uses the built-in wordings. Lines carry no case facts (facts live in
    `facts`), so they are short and checked for length only."""

    empathy: dict[Emotion | Literal["any"], BandLines] = Field(
        default_factory=dict, description="To an empathic statement or a warm turn, keyed by the patient's current emotion "
                                          "(or `any`), then trust band.")
    summary: BandLines = Field(default_factory=BandLines, description="To the learner's summary.")
    plan: BandLines = Field(default_factory=BandLines, description="To the learner's plan or next steps.")


class ChecklistItem(Strict):
    id: str = Field(pattern=ID_PATTERN)
    item: str = Field(min_length=1)
    facts: list[str] = Field(min_length=1, description="Fact or concern ids whose disclosure covers the item.")


class MetWhen(Strict):
    """What in a session shows a learning objective met (docs/debrief.md#objectives). Every key
    given must be seen; the objective counts as met at the turn the last of them was first seen.
    The vocabulary is what each turn's grade and disclosures carry, nothing inferred."""

    eccs_at_least: int | None = Field(None, ge=0, le=6, description="A turn answering an empathic opportunity at this "
                                                                    "ECCS level or higher.")
    opportunity: str | None = Field(None, description="With eccs_at_least: only an answer to this opportunity counts.")
    nurse: list[NurseType] = Field(default_factory=list, description="A turn graded with any of these NURSE types.")
    concern_revealed: str | None = Field(None, description="The turn this hidden concern came out.")
    fact_disclosed: str | None = Field(None, description="The turn this fact was first said.")
    checklist: str | None = Field(None, description="The turn this checklist item was first covered.")

    @model_validator(mode="after")
    def _some_evidence(self) -> "MetWhen":
        if self.opportunity is not None and self.eccs_at_least is None:
            raise ValueError("'opportunity' needs 'eccs_at_least' (the ECCS level an answer to it must reach)")
        if not (self.eccs_at_least is not None or self.nurse or self.concern_revealed or self.fact_disclosed or self.checklist):
            raise ValueError("met_when needs at least one of eccs_at_least, nurse, concern_revealed, fact_disclosed, checklist")
        return self


class LearningObjective(Strict):
    """An objective, optionally with the evidence that shows it met. A plain string in a pack is
    read as `{text: <string>}`, so packs written before objectives carried evidence still load."""

    text: str = Field(min_length=1)
    met_when: MetWhen | None = None


def _objective_from_text(value):
    return {"text": value} if isinstance(value, str) else value


ObjectiveItem = Annotated[LearningObjective, BeforeValidator(_objective_from_text, json_schema_input_type=str | LearningObjective)]


class PersonaPack(Strict):
    schema_version: Literal[1] = 1
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    setting: str = Field(min_length=1)
    difficulty: Difficulty = Difficulty.intermediate
    learning_objectives: list[ObjectiveItem] = Field(min_length=1, description="Plain strings, or {text, met_when} "
                                                                       "objects the debrief marks met or not yet.")
    allow_retry: bool = Field(True, description="Whether a learner may take back their last turn (\"Try that again\") "
                              "and say it another way; false for a case meant to be played straight through.")
    identity: Identity
    visit: Visit
    voice: Voice = Field(default_factory=Voice)
    appearance: Appearance = Field(default_factory=Appearance, description="How the client draws the patient's face.")
    emotion: EmotionalProfile
    facts: list[Fact] = Field(min_length=1)
    hidden_concerns: list[HiddenConcern] = Field(default_factory=list)
    empathic_opportunities: list[Opportunity] = Field(default_factory=list)
    patient_questions: list[PatientQuestion] = Field(default_factory=list)
    social_context: SocialContext = Field(default_factory=SocialContext)
    uncovered: Uncovered
    risk: Risk = Field(description="Answers to risk questions (suicide, self-harm, harm to others, safeguarding).")
    reactions: Reactions = Field(default_factory=Reactions)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    debrief_notes: list[str] = Field(default_factory=list)

    # -- lookups -----------------------------------------------------------------------
    def fact(self, fact_id: str) -> Fact:
        return next(f for f in self.facts if f.id == fact_id)

    def opportunity(self, opp_id: str) -> Opportunity:
        return next(o for o in self.empathic_opportunities if o.id == opp_id)

    def concern(self, concern_id: str) -> HiddenConcern:
        return next(c for c in self.hidden_concerns if c.id == concern_id)

    def objective_texts(self) -> list[str]:
        return [o.text for o in self.learning_objectives]


def cross_reference_problems(data) -> list[tuple[tuple, str, str]]:
    """Dangling references and duplicate ids, as (location, message, hint) triples.

    `data` is a validated pack or the plain data of one that failed validation: the references
    are read leniently (a malformed item is skipped; the schema reports it), so an author sees
    the schema's problems and the dangling references in one pass. Locations are
    pydantic-style tuples so the loader can map them to YAML lines.
    """
    if isinstance(data, PersonaPack):
        data = data.model_dump()

    def use_one_of(ref: str, pool: set[str]) -> str:
        close = difflib.get_close_matches(ref, sorted(pool), n=1, cutoff=0.6)
        listed = f"use one of: {', '.join(sorted(pool)) or '(none defined)'}"
        return f"did you mean '{close[0]}'? {listed}" if close else listed

    problems: list[tuple[tuple, str, str]] = []

    def items(coll: str) -> list[tuple[int, dict]]:
        value = data.get(coll) if isinstance(data, dict) else None
        return [(i, x) for i, x in enumerate(value) if isinstance(x, dict)] if isinstance(value, list) else []

    def ids(coll: str) -> set[str]:
        return {x["id"] for _, x in items(coll) if isinstance(x.get("id"), str)}

    seen: dict[str, tuple] = {}
    for coll in ("facts", "hidden_concerns", "empathic_opportunities", "patient_questions", "checklist"):
        for i, item in items(coll):
            ident, loc = item.get("id"), (coll, i, "id")
            if not isinstance(ident, str):
                continue
            if ident in seen:
                problems.append((loc, f"duplicate id '{ident}'", f"ids must be unique in a pack; it is already used at {'.'.join(map(str, seen[ident]))}"))
            else:
                seen[ident] = loc
    fact_ids, opp_ids, concern_ids = ids("facts"), ids("empathic_opportunities"), ids("hidden_concerns")

    def check_gate(gate, loc: tuple) -> None:
        requires = gate.get("requires") if isinstance(gate, dict) else None
        for j, req in enumerate(requires if isinstance(requires, list) else []):
            m = _PREREQ_RE.match(req) if isinstance(req, str) else None
            if m is None:
                continue  # the schema reports its form
            kind, ref = m.groups()
            pool, what = (fact_ids, "fact") if kind == "disclosed" else (opp_ids, "empathic opportunity")
            if ref not in pool:
                problems.append((loc + ("gate", "requires", j), f"'{req}' names no {what} '{ref}'", use_one_of(ref, pool)))

    def check_trigger(trig, loc: tuple) -> None:
        if isinstance(trig, dict) and trig.get("on") == "fact" and isinstance(trig.get("fact"), str) and trig["fact"] not in fact_ids:
            problems.append((loc + ("trigger", "fact"), f"trigger names no fact '{trig['fact']}'", use_one_of(trig["fact"], fact_ids)))

    for coll in ("facts", "hidden_concerns"):
        for i, item in items(coll):
            check_gate(item.get("gate"), (coll, i))
    for coll in ("empathic_opportunities", "patient_questions"):
        for i, item in items(coll):
            check_trigger(item.get("trigger"), (coll, i))
    visit = data.get("visit") if isinstance(data.get("visit"), dict) else {}
    if isinstance(visit.get("presenting"), str) and visit["presenting"] not in fact_ids:
        problems.append((("visit", "presenting"), f"names no fact '{visit['presenting']}'", use_one_of(visit["presenting"], fact_ids)))
    social = data.get("social_context") if isinstance(data.get("social_context"), dict) else {}
    for area, ref in social.items():
        if isinstance(ref, str) and ref not in fact_ids:
            problems.append((("social_context", area), f"names no fact '{ref}'", use_one_of(ref, fact_ids)))
    for i, item in items("checklist"):
        refs = item.get("facts")
        for j, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, str) and ref not in fact_ids | concern_ids:
                problems.append((("checklist", i, "facts", j), f"names no fact or hidden concern '{ref}'",
                                 use_one_of(ref, fact_ids | concern_ids)))
    problems += _objective_reference_problems(items("learning_objectives"), {
        "opportunity": (opp_ids, "empathic opportunity"), "concern_revealed": (concern_ids, "hidden concern"),
        "fact_disclosed": (fact_ids, "fact"), "checklist": (ids("checklist"), "checklist item")}, use_one_of)
    return problems


def _objective_reference_problems(objectives, pools: dict, use_one_of) -> list[tuple[tuple, str, str]]:
    """Each met_when id that names nothing in the pack (read leniently, like the other references)."""
    problems = []
    for i, item in objectives:
        met = item.get("met_when")
        for key, (pool, what) in pools.items():
            ref = met.get(key) if isinstance(met, dict) else None
            if isinstance(ref, str) and ref not in pool:
                problems.append((("learning_objectives", i, "met_when", key), f"names no {what} '{ref}'", use_one_of(ref, pool)))
    return problems
