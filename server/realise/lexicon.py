"""The checker's lexicon: how a reply is cut into words, and which words carry what.

The grounding check (grounding.py) and the fidelity bench compare a reply with the pack word by
word, so both read words the same way here: opened-up contractions, a deliberately crude stem
(the same on both sides of every comparison is what counts), numbers in digits or words, and
the word classes written for Bedside that make a word "medical" or "case" content. Words
that carry no content (function words, conversational filler) are listed here too, so the
content stems of a text mean one thing everywhere.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..core.emotions import ADJECTIVE, FAMILY_WORDS
from ..core.text import STOP_WORDS

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
    """The words and numbers of `text`, normalised, possessive "'s" dropped."""
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

# words that carry no content in a reply: function words (core's STOP_WORDS, extended here,
# never copied) and conversational words
REPLY_STOP_WORDS = STOP_WORDS | frozenset("""
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
_STOP_STEMS = frozenset(stem(w) for w in REPLY_STOP_WORDS)
# words a paraphrase may add freely ("really", "I guess", "worried"): never key content
FILLER_STEMS = frozenset(stem(w) for w in _FILLER)
# the stem of a feeling word -> its emotion family ("scared" -> "fear")
EMOTION_FAMILY = {stem(w): fam for fam, ws in FAMILY_WORDS.items() for w in ws if " " not in w}
EMOTION_FAMILY.update({stem(a): fam for fam, a in ADJECTIVE.items()})
NEGATIONS = frozenset({"not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "without", "nowhere"})


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


def content_stems(text: str) -> list[str]:
    """The stems of the words of `text` that carry content, in order (stop words dropped)."""
    out = []
    for w in tokens(text):
        s = stem(w)
        if s in _STOP_STEMS or w in REPLY_STOP_WORDS:
            continue
        out.append(s)
    return out


def key_stems(text: str) -> set[str]:
    """What a sentence is about: its content stems less filler. Two sentences sharing these
    say the same thing, whatever the paraphrase around them."""
    return set(content_stems(text)) - FILLER_STEMS


def is_negated(text: str) -> bool:
    """Whether `text` has a negation word ("not", "never", "nothing", ...) once opened up."""
    return bool(set(tokens(text)) & NEGATIONS)
