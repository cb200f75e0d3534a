"""The grounding check: may this generated reply be spoken?

A model realiser is asked to word the content plan, and nothing else. Before a reply is
spoken it must pass four groups of checks, each reported with a short reason:

1. content: no medical or case content that the planned pack lines do not license. Words
   are compared by a light stem. "Medical" means: a number or duration, or a word in the
   lexicons below (symptoms, body parts, drugs, diagnoses, tests and care, family members and
   other people, life events, substances), or a drug-like suffix, or a proper name. Beyond
   the lexicons, a reply that brings in too many new content words is rejected too (it is
   no longer a paraphrase), as is an emotion word outside the patient's current feeling,
   an unlicensed "yes", or a sentence whose negation flips the pack line it restates.
2. voice: the patient's own first-person voice. No AI talk, no echo of instructions, no
   doctor's voice, no stage directions, no role labels, no third-person narration.
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
from functools import lru_cache

from ..core.emotions import ADJECTIVE, COMPATIBLE, FAMILY_WORDS
from ..core.text import STOP_WORDS, split_sentences
from ..core.types import ContentPlan, SessionState
from ..persona.schema import PersonaPack
from . import template as T

# -- words -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+(?:[.:,]\d+)*|[a-z]+(?:['-][a-z]+)*")
_CONTRACTIONS = (("n't", " not"), ("'m", " am"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"))


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, contractions opened up ("can't" -> "can not")."""
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("\u2014", " ").replace("\u2013", " ")
    t = t.replace("cannot", "can not").replace("can't", "can not").replace("won't", "will not").replace("shan't", "shall not")
    for short, full in _CONTRACTIONS:
        t = t.replace(short, full)
    return t


def tokens(text: str) -> list[str]:
    out = []
    for w in _TOKEN.findall(normalise(text)):
        if w.endswith("'s"):
            w = w[:-2]
        out.append(w.strip("'"))
    return [w for w in out if w]


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """A deliberately crude stem: the same on both sides of every comparison is what counts."""
    w = word.lower()
    if len(w) <= 3 or w[0].isdigit():
        return w
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ying", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""),
                         ("es", ""), ("s", ""), ("ly", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not (suffix == "s" and w.endswith("ss")):
            w = w[: len(w) - len(suffix)] + repl
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsaeiou":  # stopp -> stop, fatt -> fat
        w = w[:-1]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORDS = (set(_UNITS) - {"one"}) | set(_TENS) | set(_SCALE) | {"dozen", "twice", "half", "couple", "thrice"}


def numbers(text: str) -> set[str]:
    """Every number in the text, digits or words, as canonical strings ("forty-seven" -> "47")."""
    out: set[str] = set()
    for w in tokens(text):
        if w[0].isdigit():
            out.add(w.replace(",", ""))
            continue
        parts = w.split("-")
        if w == "one":
            continue  # "no one", "the one who": too common to count as a number
        if all(p in _UNITS or p in _TENS for p in parts) and parts:
            out.add(str(sum(_UNITS.get(p, 0) + _TENS.get(p, 0) for p in parts)))
        elif w in _SCALE or w in ("dozen", "twice", "half", "couple", "thrice"):
            out.add(w)
    return out


# -- lexicons (written for Bedside; stems are compared, so list one form of each word) ---------

_SYMPTOMS = """
pain painful ache aching sore tight tightness tighten pressure pressing squeeze crushing breath breathless breathing
wheeze wheezy cough coughing phlegm fever fevers temperature chills shiver sweat sweats sweating sweaty clammy nausea
nauseous queasy sick sickness vomit vomiting throw dizzy dizziness lightheaded faint fainted fainting blackout
palpitation palpitations racing races pounding pound flutter fluttering numb numbness tingle tingling pins needles
swelling swollen rash itch itchy bleed bleeding blood bloody bruise bruising headache headaches migraine tired
tiredness fatigue exhausted exhaustion weak weakness insomnia sleepless nightmare nightmares appetite weight thirsty
thirst diarrhoea diarrhea constipation constipated bloated bloating heartburn indigestion reflux burning cramp cramps
stiff stiffness shaking shaky tremor seizure seizures confusion confused forgetful memory blurry blurred vision
hearing deaf lump lumps discharge urine wee pee bladder bowel bowels stool flush flushes spasm collapse
collapsed unconscious clot clots passed-out jaundice limp limping spread spreads radiate radiates burn burns sting
"""
_BODY = """
chest heart arm arms jaw neck shoulder shoulders stomach belly tummy abdomen head leg legs foot feet toe toes
finger fingers hand hands wrist knee knees hip hips lung lungs kidney kidneys liver skin eye eyes throat mouth teeth
tooth ear ears bone bones joint joints muscle muscles brain spine rib ribs pulse prostate breast breasts womb ovary
pelvis groin nose sinus tongue lip lips gut guts
"""
_DRUGS = """
aspirin ibuprofen paracetamol acetaminophen tylenol codeine morphine tramadol insulin metformin glargine statin statins
simvastatin atorvastatin lisinopril ramipril amlodipine bisoprolol atenolol propranolol warfarin apixaban rivaroxaban
clopidogrel nitroglycerin gtn spray omeprazole lansoprazole antacid antacids gaviscon penicillin amoxicillin antibiotic
antibiotics steroid steroids prednisolone prednisone inhaler inhalers salbutamol ventolin sertraline citalopram
fluoxetine antidepressant antidepressants diazepam valium lorazepam zopiclone melatonin hrt pill pills tablet tablets
medication medications medicine medicines drug drugs dose doses dosage milligram milligrams mg prescription prescribed
prescribe injection injections jab vaccine cocaine cannabis weed heroin thinner thinners herbal supplement supplements
vitamin vitamins sulfa chemo chemotherapy radiotherapy dialysis patch patches pump painkiller painkillers sleeping-tablet
cream ointment drops laxative laxatives opioid opioids
"""
_DIAGNOSES = """
cancer cancers tumour tumor diabetes diabetic stroke strokes attack attacks infarction angina asthma asthmatic copd
emphysema bronchitis pneumonia infection infections covid flu arthritis dementia alzheimer alzheimers parkinson
parkinsons epilepsy epileptic hypertension cholesterol thrombosis embolism aneurysm failure disease diseases condition
syndrome disorder ulcer ulcers gallstone gallstones gallbladder hernia stone stones cataract cataracts glaucoma menopause
pregnancy pregnant miscarriage allergy allergic allergies anaemia anemia thyroid hepatitis hiv sepsis lupus gout ibs
crohn crohns colitis depression depressed psychosis schizophrenia bipolar ptsd adhd autism obesity overweight sugar
sugars fracture fractured broken sprain injury injuries concussion terminal benign malignant leukaemia leukemia
lymphoma dvt heartbeat arrhythmia fibrillation murmur pressure-problem anxiety-disorder illness ill poorly
"""
_CARE = """
ecg ekg x-ray xray scan scans mri ct ultrasound biopsy bloods test tests tested result results operation operations
surgery surgeries surgeon hospital hospitals ambulance a&e emergency icu ward clinic specialist cardiologist referral
referred appointment appointments gp nurse nurses physio physiotherapy therapy counselling counseling counsellor
therapist psychiatrist psychologist symptom symptoms diagnosis diagnosed prognosis treatment treatments chemist pharmacy pharmacist stent
bypass pacemaker transplant amputation check-up checkup health-check screening monitor monitoring admitted discharged
paramedic paramedics consultant insurance medicaid medicare
"""
_PEOPLE = """
mother mum mom mam mummy mommy father dad daddy papa parent parents brother brothers sister sisters sibling siblings son
sons daughter daughters child children kid kids baby babies wife husband partner spouse boyfriend girlfriend fiance
fiancee grandmother grandma gran nan nana granny grandfather grandpa grandad granddad grandson granddaughter grandchild
grandchildren grandkids aunt auntie uncle cousin cousins niece nephew in-law in-laws daughter-in-law son-in-law
stepmother stepfather stepson stepdaughter stepmum stepdad twin twins widow widower friend friends mate mates
neighbour neighbours neighbor neighbors boss colleague colleagues girl girls boy boys carer landlord family
"""
_EVENTS = """
died dead death deaths die dying killed kill funeral passed-away accident accidents crash crashed
divorce divorced separated married marriage wedding born birth fired sacked redundant redundancy evicted eviction
arrested prison jail assault assaulted attacked suicide overdose drunk alcohol alcoholic beer beers wine pint pints
smoke smoked smoking smoker cigarette cigarettes vape vaping drink drinks drinking drinker coffee coffees caffeine
units lost loss abuse abused homeless
"""
_TIME = """
second seconds minute minutes hour hours day days week weeks fortnight month months year years decade decades ago
yesterday tonight overnight weekend weekends monday tuesday wednesday thursday friday saturday sunday january february
march april june july august september october november december o'clock midnight lately recently
"""
_AFFIRM = "yes yeah yep yup aye"
_DRUG_SUFFIXES = ("pril", "sartan", "statin", "olol", "cillin", "mycin", "prazole", "azepam", "oxetine", "floxacin",
                  "tidine", "dronate", "gliptin", "glitazone", "formin", "parin", "xaban", "profen", "codone", "triptyline",
                  "dipine", "azole", "semide", "thiazide", "olone", "sone", "zumab", "ximab", "tinib")

# words that carry no case content: function words and conversational filler
_STOP = STOP_WORDS | frozenset("""
these those mine myself ours yours him hers theirs whom whose which where am being doing having shall
should may might must nor down over under into onto off only quite rather both each every few most much
many other another such own same again ever never always still yet already now well oh ah um uh er hmm
okay ok right sure getting go going gone went come comes came coming make made let say said tell told
think thought know knew see saw seem seems feel felt feeling thing things something anything nothing
everything someone anyone nobody somebody everybody bit lot lots little kind sort way time times maybe
perhaps probably actually honestly guess suppose mean yeah yes please thank thanks sorry doctor dr mr
mrs ms miss sir madam hello hi hey bye goodbye good morning afternoon evening night today tomorrow back
around away because while though although even enough else whatever whoever anyway anyhow somehow
anywhere everywhere somewhere nowhere
""".split())
_FILLER = set("""
really honestly truly just simply totally completely absolutely pretty fairly quite terribly awfully so very
basically actually literally definitely certainly clearly obviously frankly mind know mean guess suppose think hope
wish try trying tried want wanted need needed bit little lot much worried worry sorry afraid fine okay alright right
true things stuff say talk talking said tell telling understand listen listening help helps helped kind nice better
worse bad hard easy difficult tough sure certain unsure idea clue remember forget forgot forgotten happen happened
happening keep keeps kept start started stop stopped thank thanks wonder wondering
""".split())


def _stems(block: str) -> frozenset[str]:
    return frozenset(stem(w) for w in block.split())


LEXICON: dict[str, frozenset[str]] = {
    "symptom": _stems(_SYMPTOMS), "body part": _stems(_BODY), "drug": _stems(_DRUGS), "diagnosis": _stems(_DIAGNOSES),
    "care": _stems(_CARE), "person": _stems(_PEOPLE), "event": _stems(_EVENTS), "time": _stems(_TIME),
    "yes": _stems(_AFFIRM),
}
_STOP_STEMS = frozenset(stem(w) for w in _STOP)
_FILLER_STEMS = frozenset(stem(w) for w in _FILLER)
_EMOTION_FAMILY = {stem(w): fam for fam, ws in FAMILY_WORDS.items() for w in ws if " " not in w}
_EMOTION_FAMILY.update({stem(a): fam for fam, a in ADJECTIVE.items()})
_NEGATIONS = frozenset({"not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "without", "nowhere"})


def medical_category(word: str) -> str | None:
    """Which lexicon a (normalised) word belongs to, if any."""
    s = stem(word)
    for name, lex in LEXICON.items():
        if s in lex or word in lex:
            return name
    if word in _NUMBER_WORDS or word[0].isdigit():
        return "number"
    if len(word) > 6 and word.endswith(_DRUG_SUFFIXES):
        return "drug"
    return None


# -- voice -------------------------------------------------------------------------------

_AI = re.compile(r"\b(as an ai|an ai\b|a\.?i\.? (model|assistant)|language model|artificial intelligence|chat ?bot|"
                 r"virtual assistant|i('m| am) (just |only )?(an? )?(ai|assistant|bot|program|computer|machine|model)\b|"
                 r"openai|chatgpt|gpt|smollm|hugging ?face|trained by|my training)", re.I)
_META = re.compile(r"\b(hidden concerns?|my concerns are|(my|your|these|the) instructions|system prompt|prompt|content plan|"
                   r"the plan\b|persona|role[- ]?play|in character|the script|simulat(ion|ed|or)|standardi[sz]ed patient|"
                   r"training exercise|the learner|as instructed|i was told to say|say this|in your own words|reword|"
                   r"first person|add nothing|keep every (fact|detail)|ignore (your|my|all|previous))", re.I)
_DOCTOR = [
    re.compile(r"\bi('d| would)? ?(recommend|suggest|advise)\b", re.I),
    re.compile(r"\bi('ll| will| am going to|'m going to| can| could)? ?(prescribe|refer you|order (some|a|an)|examine you)\b", re.I),
    re.compile(r"\b(let me|i('ll| will| need to)) (examine|take a look at you|listen to your|check your)\b", re.I),
    re.compile(r"\byou (should|must|ought to|need to) (take|see|get|have|try|stop|start|rest|avoid|come back|book)\b", re.I),
    re.compile(r"\b(what brings you|how can i help you|how are you feeling today|what seems to be|do you have any (other )?"
               r"symptoms|on a scale of|the patient|my patient|as (a|your) doctor|i('m| am) (a|the|your) (doctor|gp|nurse))\b", re.I),
    re.compile(r"\b(the|your) (diagnosis|prognosis|treatment plan) is\b", re.I),
]
_STAGE = re.compile(r"\*[^*\n]{0,80}\*?|\([^)\n]{0,80}\)?|\[[^\]\n]{0,80}\]?|"
                    r"^\s*(sighs|pauses|laughs|smiles|nods|shrugs|coughs|cries|sobs|winces|looks down)\b", re.I | re.M)
_LABEL = re.compile(r"(^|[\n.!?\"]\s*)([A-Za-z][A-Za-z .']{0,30}):\s|<\|?[a-z_]+\|?>|\b(im_start|im_end|endoftext)\b")
_NARRATION = re.compile(r"\b(he|she|they) (feels|is feeling|felt|says|said|looks|seems|sighs|thinks|wonders|pauses|explains|"
                        r"replies|answers|nods|admits|adds|continues|whispers|smiles|shrugs)\b", re.I)
_FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "we", "us", "our"})
_NAME_OK = re.compile(r"\b(i am|i'm|my name is|name's|call me|it's) $", re.I)
_UNSURE = re.compile(r"\b(not sure|no idea|do not know|dunno|can not (say|tell|remember)|could not (say|tell)|not certain|unsure|"
                     r"no clue|would not know|have not (really )?(noticed|paid attention|thought)|would know better|not the one)")  # on normalise()d text
_FORMAT = re.compile(r"https?://|www\.|^\s*(\d+[.)]|[-•*])\s|#|```|\|", re.M)
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "mx"}


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


def _content_stems(text: str) -> list[str]:
    out = []
    for w in tokens(text):
        s = stem(w)
        if s in _STOP_STEMS or w in _STOP:
            continue
        out.append(s)
    return out


class Grounding:
    """Everything the check needs about one plan, built once and reused per sentence."""

    def __init__(self, pack: PersonaPack, plan: ContentPlan, state: SessionState | None = None):
        self.pack, self.plan = pack, plan
        parts = T.TemplateRealiser().kept_parts(pack, plan, state) if state is not None else \
            T.TemplateRealiser().labelled_parts(pack, plan, state)
        self.template_text = " ".join(t for _, _, t in parts)
        self.units: list[Unit] = []
        for _, kind, text in parts:
            key = frozenset(_content_stems(text)) - _FILLER_STEMS or frozenset(_content_stems(text))
            required = kind.split(":")[0] in ("fact", "concern", "risk", "opportunity", "question", "correction", "uncovered", "deflect")
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
        self.licensed_sentences = [(set(_content_stems(s)) - _FILLER_STEMS, self._negated(s))
                                   for t in planned + said for s in split_sentences(t)]
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
        name_parts = [p for p in re.findall(r"[A-Za-z][A-Za-z'-]+", pack.identity.name) if p.lower() not in _TITLES]
        self.names = {p.lower() for p in name_parts}
        self.third_person_licensed = bool(re.search(r"\b(he|she|him|her|his)\b", self.licensed_lower))
        self.first_person_expected = bool(set(tokens(self.template_text)) & _FIRST_PERSON)

    @staticmethod
    def _negated(text: str) -> bool:
        return bool(set(tokens(text)) & _NEGATIONS)

    # ---- per sentence: what may never be spoken, even once ----------------------------
    def check_sentence(self, sentence: str) -> list[str]:
        reasons: list[str] = []
        raw = sentence
        low = normalise(raw)
        words = tokens(raw)
        # voice
        if _AI.search(raw):
            reasons.append(f"AI voice: {_AI.search(raw).group(0)!r}")
        m = _META.search(raw)
        if m and m.group(0).lower() not in self.licensed_lower:
            reasons.append(f"instruction echo: {m.group(0)!r}")
        for pat in _DOCTOR:
            m = pat.search(raw)
            if m and not pat.search(self.licensed_lower):
                reasons.append(f"doctor's voice: {m.group(0)!r}")
                break
        for i, w in enumerate(words):
            if w == "your":
                for nxt in words[i + 1:i + 3]:
                    if medical_category(nxt) in ("symptom", "body part", "drug", "diagnosis", "care") and \
                            f"your {nxt}" not in self.licensed_lower:
                        reasons.append(f"doctor's voice: 'your {nxt}'")
                        break
        m = _STAGE.search(raw)
        if m:
            reasons.append(f"stage direction: {m.group(0).strip()!r}")
        m = _LABEL.search(raw)
        if m and m.group(0).strip().lower() not in self.licensed_lower:
            reasons.append(f"role label or markup: {m.group(0).strip()!r}")
        m = _NARRATION.search(raw)
        if m and not re.search(re.escape(m.group(0).lower()), self.licensed_lower):
            reasons.append(f"third-person narration: {m.group(0)!r}")
        for i, w in enumerate(words):
            if w in self.names and w not in self.licensed_words:
                before = " ".join(words[max(0, i - 3):i]) + " "
                if not _NAME_OK.search(before):
                    reasons.append(f"names the patient in the third person: {w!r}")
                    break
        if not self.third_person_licensed and re.search(r"\b(he|she|him|her|his|hers)\b", low):
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
            if not w[0].isupper() or lw == "i" or lw in _STOP or lw in self.names or medical_category(lw):
                continue
            if lw not in self.licensed_words and stem(lw) not in self.licensed_stems:
                reasons.append(f"name not in the plan: {w!r}")
        for w in words:
            fam = _EMOTION_FAMILY.get(stem(w))
            if fam and fam not in self.emotions and stem(w) not in self.licensed_stems:
                reasons.append(f"feeling outside the patient's state: {w!r} ({fam})")
        if " ".join(words) in self.earlier:
            reasons.append(f"repeats an earlier reply instead of answering: {raw.strip()!r}")
        # a restated pack line must keep its polarity ("it doesn't spread" -> "it spreads")
        mine = set(_content_stems(raw)) - _FILLER_STEMS
        if mine:
            matched = [neg for lic, neg in self.licensed_sentences if len(mine & lic) >= min(2, len(lic)) and lic]
            if matched and self._negated(raw) not in matched:
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
        if self.first_person_expected and len(tokens(clean)) >= 6 and not set(tokens(clean)) & _FIRST_PERSON:
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
        content = [s for s in _content_stems(text) if s not in _FILLER_STEMS]
        new = [s for s in dict.fromkeys(content) if s not in self.licensed_stems and s not in _EMOTION_FAMILY]
        allowed = max(2, int(0.25 * len(set(content))))
        if len(new) > allowed:
            return [f"too much new wording ({len(new)} new content words: {', '.join(new[:6])})"]
        return []

    def coverage(self, unit: Unit, text: str) -> float:
        if not unit.key:
            return 1.0
        have = set(_content_stems(text))
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
            if not ({stem(w) for w in words} & fam_words) or not words & _NEGATIONS:
                return f"leaves out the correction to {ADJECTIVE.get(right, right)!r}"
        elif u.kind == "uncovered:deny":
            if not words & _NEGATIONS:
                return "should deny, but has no denial"
        elif kind == "uncovered":
            if not (_UNSURE.search(normalise(text)) or self.coverage(u, text) >= 0.5):
                return "should say the patient does not know"
        elif kind == "deflect":
            return None  # nothing to carry; the content check keeps the gated fact out
        else:
            need = 0.5 if kind in ("opportunity", "question") else 0.6
            cov = self.coverage(u, text)
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
