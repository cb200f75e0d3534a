"""The patient's voice: the patterns that say a reply is out of character.

A reply is spoken by the patient, in the first person, as a person in a consultation. These
patterns name what a dialogue model writes when it slips out of that: AI talk, echoes of its
instructions, the doctor's voice, stage directions, role labels, third-person narration.
The grounding check (grounding.py) rejects a reply that matches one, unless the case's own
lines say the same; the fidelity bench (eval/bench/bench_fidelity.py) counts matches with
these same patterns, so its "voice" figure is the check's, not an independent judge.
"""

from __future__ import annotations

import re

# talking as a model or assistant ("as an AI", "language model", "my training")
AI_TALK = re.compile(r"\b(as an ai|an ai\b|a\.?i\.? (model|assistant)|language model|artificial intelligence|chat ?bot|"
                     r"virtual assistant|i('m| am) (just |only )?(an? )?(ai|assistant|bot|program|computer|machine|model)\b|"
                     r"openai|chatgpt|gpt|smollm|hugging ?face|trained by|my training)", re.I)

# echoing the instructions or naming the exercise ("my hidden concerns", "role-play", "say this")
INSTRUCTION_TALK = re.compile(r"\b(hidden concerns?|my concerns are|(my|your|these|the) instructions|system prompt|prompt|"
                              r"content plan|the plan\b|persona|role[- ]?play|in character|the script|simulat(ion|ed|or)|"
                              r"standardi[sz]ed patient|training exercise|the learner|as instructed|i was told to say|"
                              r"say this|in your own words|reword|first person|add nothing|keep every (fact|detail)|"
                              r"ignore (your|my|all|previous))", re.I)

# the doctor's side of the consultation: advice, prescribing, examining, the doctor's questions
DOCTOR_TALK = (
    re.compile(r"\bi('d| would)? ?(recommend|suggest|advise)\b", re.I),
    re.compile(r"\bi('ll| will| am going to|'m going to| can| could)? ?(prescribe|refer you|order (some|a|an)|examine you)\b", re.I),
    re.compile(r"\b(let me|i('ll| will| need to)) (examine|take a look at you|listen to your|check your)\b", re.I),
    re.compile(r"\byou (should|must|ought to|need to) (take|see|get|have|try|stop|start|rest|avoid|come back|book)\b", re.I),
    re.compile(r"\b(what brings you|how can i help you|how are you feeling today|what seems to be|do you have any (other )?"
               r"symptoms|on a scale of|the patient|my patient|as (a|your) doctor|i('m| am) (a|the|your) (doctor|gp|nurse))\b", re.I),
    re.compile(r"\b(the|your) (diagnosis|prognosis|treatment plan) is\b", re.I),
)

# "your" before a word of these lexicon classes is the doctor talking ("your symptoms", "your chest")
DOCTORS_YOUR = ("symptom", "body part", "drug", "diagnosis", "care")

# actions written out instead of spoken: *sighs*, (pauses), [smiles], a leading "Nods."
STAGE_DIRECTION = re.compile(r"\*[^*\n]{0,80}\*?|\([^)\n]{0,80}\)?|\[[^\]\n]{0,80}\]?|"
                             r"^\s*(sighs|pauses|laughs|smiles|nods|shrugs|coughs|cries|sobs|winces|looks down)\b", re.I | re.M)

# a speaker label ("Patient:") or a chat-template token (<|im_start|>)
ROLE_LABEL = re.compile(r"(^|[\n.!?\"]\s*)([A-Za-z][A-Za-z .']{0,30}):\s|<\|?[a-z_]+\|?>|\b(im_start|im_end|endoftext)\b")

# the patient narrated from outside ("he feels", "she says")
NARRATION = re.compile(r"\b(he|she|they) (feels|is feeling|felt|says|said|looks|seems|sighs|thinks|wonders|pauses|explains|"
                       r"replies|answers|nods|admits|adds|continues|whispers|smiles|shrugs)\b", re.I)

# "he" or "she" in a reply: narration, unless the licence has someone it can refer to
THIRD_PERSON = re.compile(r"\b(he|she|him|her|his|hers)\b")

# the patient's own voice: a reply the plan words in the first person keeps one of these
FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "we", "us", "our"})

# the patient may say their own name when introducing themselves ("I'm", "my name is" just before it)
NAME_INTRODUCTION = re.compile(r"\b(i am|i'm|my name is|name's|call me|it's) $", re.I)

_TITLES = {"mr", "mrs", "ms", "miss", "dr", "mx"}


def name_words(name: str) -> set[str]:
    """The words of the patient's name, lower case, titles left out ("Mr Daniel Reyes" ->
    {"daniel", "reyes"}): the patient saying them is talking about themselves from outside."""
    return {p.lower() for p in re.findall(r"[A-Za-z][A-Za-z'-]+", name) if p.lower() not in _TITLES}
