"""How clinicians ask for the common parts of a history, for every pack.

A pack's example questions are a handful per fact, written by one author; learners ask in many
other ways ("any meds?", "who's at home with you?", "does anything run in the family?"). Each
pack fact whose id or topic names one of these subjects is also indexed under the wordings
below, so retrieval does not depend on the author having thought of them. The wordings are the
project's own, written from clinical history-taking practice, not taken from any pack.
"""

from __future__ import annotations

import re

from ..persona.schema import Fact

# subject -> (what in a fact's id, topic or category marks it, wordings)
SUBJECTS: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    "allergies": (re.compile(r"allerg"), (
        "Any allergies?", "Are you allergic to anything?", "Have you ever reacted badly to a medicine?",
        "Any drug allergies I should know about?", "Does any medication disagree with you?",
        "Are you okay with penicillin and other antibiotics?", "Ever come up in a rash or swelled up after a medicine?",
        "Is there any medicine you can't take?")),
    "medications": (re.compile(r"^(?!.*allerg).*(medic|medicine|tablet|prescri|remed|insulin|inhaler|pills)"), (
        "Any meds?", "Are you on any medication?", "Do you take anything regularly?", "What tablets are you on?",
        "Are you taking anything at the moment?", "Have you taken anything for it?", "Any over-the-counter stuff?",
        "What medicines do you use?", "Are you still taking your tablets every day?", "Any prescriptions at the moment?",
        "Do you use any inhalers, injections or creams?")),
    "smoking": (re.compile(r"smok|tobacco|cigar"), (
        "Do you smoke?", "Smoke?", "Any cigarettes?", "Have you ever been a smoker?", "Do you use tobacco or vape?")),
    "alcohol": (re.compile(r"alcohol|drink|substance"), (
        "Do you drink?", "How much alcohol do you have?", "How many drinks a week?", "Any alcohol?",
        "Do you use any recreational drugs?")),
    "family_history": (re.compile(r"family[ _]history|\bfamily\b.*(illness|disease|health|cancer|diabetes|heart)"), (
        "Does anything run in the family?", "Any family history of illness?", "Are your parents alive and well?",
        "Has anyone in your family had something similar?", "Any illnesses in your relatives?")),
    "past_history": (re.compile(r"past[ _]history|past medical|physical health history|operation|surgery|other medical problems"), (
        "Any medical problems?", "Any other health conditions?", "Have you been in hospital before?", "Any operations?",
        "Any long-term conditions?", "Have you had any illnesses in the past?", "Are you being treated for anything else?",
        "Do you see the doctor for anything else?", "Any ongoing problems, like blood pressure, asthma or arthritis?")),
    "work": (re.compile(r"\bwork|job|retire|shift|occupation|employ"), (
        "What do you do for a living?", "What's your job?", "Are you working at the moment?", "How's work?",
        "What kind of work do you do?", "Is work busy at the moment?", "Do you work shifts or nights?")),
    "home": (re.compile(r"home|living|household|lives alone|live with"), (
        "Who's at home with you?", "Who do you live with?", "What's your living situation?", "Do you live alone?",
        "Do you have family around you?")),
    "sleep": (re.compile(r"sleep"), (
        "How are you sleeping?", "How's your sleep?", "Any trouble sleeping?", "Do you wake up in the night?",
        "Can you get back to sleep when you wake?", "Are you waking early?")),
    "appetite": (re.compile(r"appetite|weight|\bdiet\b|eats"), (
        "How's your appetite?", "Are you eating okay?", "Have you lost any weight?", "What do you usually eat?")),
    "mood": (re.compile(r"mood|energy|interest|depress"), (
        "How's your mood?", "How have you been feeling in yourself?", "Do you still enjoy things?",
        "Have you been feeling down?", "How's your energy?", "Are you getting out much these days?",
        "Do you still see your friends?", "Have you been keeping yourself to yourself?", "Do you feel worn out during the day?",
        "Still getting out and about?", "Are you seeing people much?", "Been feeling flat?")),
    "site": (re.compile(r"\bwhere\b|location|\bsite\b"), (
        "Where is it?", "Where do you feel it?", "Can you show me where it is?", "Which part hurts?")),
    "character": (re.compile(r"feels? like|character|describ"), (
        "What does it feel like?", "How would you describe it?", "What kind of feeling is it?")),
    "onset": (re.compile(r"onset|when (it|the \w+ \w*) ?(started|began)|when .* start|began"), (
        "When did it start?", "How long has this been going on?", "When did you first notice it?",
        "How long have you had it?", "Since when?")),
    "triggers": (re.compile(r"exert|trigger|brings? (it )?on|better|worse|relie|aggravat|\bease"), (
        "What brings it on?", "Does anything make it better or worse?", "Is it worse when you're active?",
        "Does it come on when you exert yourself?", "Does anything ease it?", "Does anything set it off?",
        "Is it worse after eating?", "Does it come on when you're rushing about?")),
    "associated": (re.compile(r"associated|other (urinary )?symptoms|come with"), (
        "Any other symptoms?", "Anything else you've noticed with it?", "Have you noticed anything else?",
        "Does anything else come with it?")),
    "ideas": (re.compile(r"\bideas?\b|thinks|caus"), (
        "What do you think is causing it?", "Do you have any thoughts about what it might be?",
        "What's your own feeling about what's going on?")),
    "expectations": (re.compile(r"expect|hop(e|es|ing)|wants?\b"), (
        "What were you hoping we could do today?", "What are you expecting from today?",
        "What would you like to get out of today?")),
    "money": (re.compile(r"money|pension|afford|financ"), (
        "How are you managing for money?", "Are finances a worry?", "Can you afford everything you need?")),
    "transport": (re.compile(r"transport|get(s)? about|\bcar\b|\bbus"), (
        "How do you get around?", "Do you drive?", "How did you get here today?")),
    "insurance": (re.compile(r"insurance|medicaid|cover"), (
        "Do you have insurance?", "How do you pay for your medicines?", "Is your treatment covered?")),
}

# An opening question asks for the presenting complaint, however warm the words around it.
OPENING = re.compile(r"\b(what brings you|what('s| has)? brought you|what can i (do|help)|how can i help|what can we do|"
                     r"what('s| has| have)( been)? (going on|happening|the (problem|trouble|matter))|what seems to be|"
                     r"tell me (what's been|what has been|what brought|what brings|how you've been|how you have been|a bit about why)|"
                     r"how have you been (doing|getting on)(?!\s+(at|with|in)\s+(?!(things|everything|yourself)\b))|"
                     r"how have you been( keeping| doing| getting on)? since (we|i|you|your|the) [\w ]+(?=\W*$)|what would you like to talk about|why have you come|"
                     r"where (do|would|shall|should) (you|we) (like to |want to )?(start|begin)|from the (beginning|start)|"
                     r"(take|walk|talk) me through (everything|things|what happened)(?=\W*$)|what (made|makes|prompted) you (decide to )?(come|book)|"
                     r"how (have|are) things( been)?( going)?( with you)?( since [\w ]+)?(?=\W*$)|"
                     r"what (would|do) you (most )?(like|want|need) (to|us to) (talk about|cover|discuss|focus on|look at)( today)?(?=\W*$)|"
                     r"what would be (most )?helpful (to talk about|to cover|today)|"
                     # "Tell me about the problem in your own words.": the story, whatever comes first
                     r"\bin your own words\b|tell me (all )?about (the|this) (problem|trouble)(?=( in your own words)?\W*$)|"
                     # spoken openings asked whole: "So what's happened?", "How's it been going?"
                     r"what('s| has)? happened( to you)?( today| tonight)?(?=\W*$)|how('s| is| has) (it|everything|things) (been )?going( then)?(?=\W*$)|"
                     r"how (have|are) things (been )?(going|getting on) with (your|the) \w+( \w+)?(?=\W*$)|"
                     r"(anything|something) (in particular |specific )?(that )?you('d| would)? (want|like) to (make sure we )?(cover|talk about|discuss)|"
                     # "What is it that's been troubling you lately?" (not "worrying you": that asks for a worry)
                     r"what('s| is| has)( it)?( that)?('s| has)?( been)? (troubling|bothering|bugging|ailing) you( lately| recently| today| most)?(?=\W*$))\b", re.I)

# Asking for the presenting complaint: indexed under the fact the visit reason is most about.
PRESENTING = ("What brings you in today?", "So what's been going on?", "What can I do for you?",
              "Tell me what's been happening.", "What's the problem?", "How can I help?", "What's brought you here?")


# which fact categories a subject may belong to (a "home" in a blood-sugar topic is not where one lives)
CATEGORIES = {
    "allergies": {"medication"}, "medications": {"medication"}, "smoking": {"lifestyle"}, "alcohol": {"lifestyle"},
    "family_history": {"family"}, "past_history": {"history"}, "work": {"social"}, "home": {"social"},
    "sleep": {"symptom", "lifestyle"}, "appetite": {"symptom", "lifestyle"}, "mood": {"symptom", "lifestyle"},
    "site": {"symptom"}, "character": {"symptom"}, "onset": {"symptom"}, "triggers": {"symptom"}, "associated": {"symptom"}, "ideas": {"ideas"}, "expectations": {"ideas"}, "money": {"social"}, "transport": {"social"},
    "insurance": {"social"},
}


def _score(fact: Fact, subject: str) -> int:
    """2 when the fact's id names the subject, 1 when only its topic does, 0 otherwise."""
    if fact.category not in CATEGORIES[subject]:
        return 0
    pattern = SUBJECTS[subject][0]
    if pattern.search(fact.id.replace("_", " ")) or pattern.search(fact.id):
        return 2
    return 1 if pattern.search(fact.topic.lower()) else 0


def subject_facts(facts: list[Fact]) -> dict[str, str]:
    """subject -> the one fact of the pack it is indexed under: the fact whose id names it, else
    the one whose topic does; a subject two facts claim equally goes to the first, and the other
    keeps its own example questions."""
    out: dict[str, str] = {}
    for subject in SUBJECTS:
        scored = [(_score(f, subject), -i, f.id) for i, f in enumerate(facts)]
        best = max(scored, default=(0, 0, ""))
        if best[0] > 0 and sum(1 for s in scored if s[0] == best[0]) == 1 or best[0] == 2:
            out[subject] = best[2]
    return out


def wordings(facts: list[Fact]) -> dict[str, list[str]]:
    """fact id -> the general wordings it is also indexed under."""
    out: dict[str, list[str]] = {}
    for subject, fid in subject_facts(facts).items():
        out.setdefault(fid, []).extend(SUBJECTS[subject][1])
    return out

# The patient's own view of the cause, asked outright: no other item's wording outranks it
# ("What do you think might be causing the tightness?" is not about the tightness).
CAUSE_ASKED = re.compile(r"\b(what|why) (do|did) you (think|reckon|suppose|feel)\b[^?]{0,25}\b(caus\w*|behind (it|this|that|them)|brought (it|this|that) on|to blame)\b|"
                         r"\bwhy (do|would) you (think|reckon|suppose|imagine)\b(?! (so|that's a good idea|you should)\b)|"
                         r"\b(what|why) (have you been|are you|were you) thinking\b[^?]{0,25}\b(caus\w*|turn out to be|might be|could be)\b", re.I)

# What a question's form alone says it asks for, whatever its other words: "When did you first
# notice blood in your water?" asks for the onset, not the blood; "What do you think is going
# on?" for the patient's ideas; "Was there anything you were hoping for?" for expectations.
FORMS: dict[str, re.Pattern[str]] = {
    "onset": re.compile(r"^(and |so )?(when (did|was|has)|since when|how long ago)\b|\bhow long (has|have)\b|"
                        r"\bwhen did (it|this|that|you|the|your)\b[^?]*\b(start|begin|first|notice|come on)|"
                        # asked indirectly: "I was wondering when you first noticed it"
                        r"\b(wondering|wonder|ask|know|tell me) when (you )?(first )?(noticed|started|spotted|began)\b", re.I),
    "ideas": re.compile(r"\bwhat do you (think|reckon|suppose) (it |this |that )?(is|might|could|may|'s|will)\b|"
                        r"\b(any|your own) (ideas?|thoughts|theory|theories) (about |on |as to )?(what|why)\b|"
                        r"\bwhat do you think (is )?(going on|causing|behind|wrong)\b|" + CAUSE_ASKED.pattern + "|"
                        r"\bwhat (have you been|are you|were you) thinking (it|this|that) (is|might|could|may|will)\b", re.I),
    # where the complaint is, and what it is like: "Can you point to where you feel it?"
    "site": re.compile(r"^(and |so )?(where(abouts)?|which (part|side|bit))\b[^?]*\b(is it|is the|does it|do you (feel|get|have)|it is|hurts?|pain|ache|sore)\b|"
                       r"\b(point|show me) (to )?where\b|\bwhere (exactly )?(is|does) (it|the \w+) (hurt|ache|come|start)\b", re.I),
    "character": re.compile(r"\bwhat (does|did) (it|the \w+) feel like\b|\bhow (would|could|do|can) you describe (it|the \w+|what)\b|"
                            r"\bwhat (kind|sort|type) of (pain|feeling|discomfort|ache|sensation)\b", re.I),
    # the patient's own earlier episodes, not the family's: "Have you had anything like this before?"
    "past_history": re.compile(r"\b(had|get|got|experienced?)\b (anything|something|this|it|that|these|them|one)\b[^?]{0,30}\b(before|previously|in the past)\b|"
                               r"\bhappened (to you )?before\b|\b(is|was) (this|it|that) the first time\b|"
                               r"\bever (had|happened)\b[^?]*\b(like (this|that)|similar|the same)\b|"
                               # what else is going on with their health: "Anything else going on medically?"
                               r"\b(anything|what) else\b[^?]*\b(medically|health[- ]?wise|with your health|medical)\b|"
                               r"\bother (health|medical) (problems|issues|conditions|stuff|things)\b", re.I),
    # what sets the complaint off or settles it: "Does anything bring it on, or settle it?"
    "triggers": re.compile(r"\b(bring|brings|brought|set|sets|spark|sparks) (it|them|this|that|one|the \w+) (on|off)\b|"
                           r"\bmakes? (it|them|this|that|the \w+) (any )?(better|worse|ease|settle)\b|"
                           r"\b(settle|settles|ease|eases|relieve|relieves|calm|calms) (it|them|this|that|the \w+)( down)?\b", re.I),
    # what else comes with the complaint: "Does anything else happen when you get it?", "Ever been
    # sick with one?"
    "associated": re.compile(r"\b(anything|something) else\b[^?]{0,20}\b(happens?|happening|go(es)? on|going on|notice|feel|get)\b"
                             r"[^?]{0,20}\b(when|while|with|during) (you (get|have|feel) )?(it|that|them|one|the \w+)\b|"
                             r"\b(pass(ed|ing)? out|faint\w*|black(ed|ing)? out|dizz\w*|light-?headed|sick|nause\w*|vomit\w*|"
                             r"sweat\w*|clammy|breathless\w*|short of breath|palpitations?)\b[^?]{0,25}\b(with|when|during) "
                             r"(it|that|them|one|an? (attack|episode|bout))\b", re.I),
    "expectations": re.compile(r"\b(hop(e|ed|ing)|expect(ed|ing)?|want(ed|ing)?) (for|from|to get|to come out|me to|us to|i could|we could|"
                               r"to happen|out of)\b|\bwhat (were|are) you (hoping|expecting|after)\b", re.I),
}
# A form does not hold when the question names someone else's health ("Has anyone in your family
# had this before?" is family history).
FORM_UNLESS: dict[str, re.Pattern[str]] = {
    "past_history": re.compile(r"\b(family|relatives?|parents?|mum|mom|mother|dad|father|brothers?|sisters?|siblings?|"
                               r"grand\w+|aunts?|uncles?|cousins?|anyone|anybody|someone|run in)\b", re.I),
}
# Whether the patient takes the medicines as meant, not which they are: "Ever skip a dose?",
# "Managing to take it every night?". The medicine list does not answer it.
ADHERENCE = re.compile(r"\b(miss(ed|es|ing)?|skip(s|ped|ping)?|forg[eo]t(ting)?|stretch(es|ed|ing)?|ration(s|ed|ing)?|cut(ting)? back on|"
                       r"go(ing)? without)\b[^?]{0,30}\b(doses?|tablets?|pills?|insulin|medications?|medicines?|meds|injections?|jabs?)\b|"
                       r"\b(take|taking|took|use|using|have|having)\b[^?]{0,25}\b(as (prescribed|directed|you should|you're meant to|"
                       r"you're supposed to)|every (single )?(day|night|morning|evening|dose)|regularly)\b|"
                       r"\b(doses?|tablets?|pills?|insulin|injections?)\b[^?]{0,30}\b(missed|skipped|forgotten|gone without)\b|"
                       r"\bmanag(e|es|ed|ing) to take\b|\bmak(e|es|ing) (it|them|the \w+) last\b", re.I)
# A question about the patient's worry asks for a hidden concern before any fact it mentions.
WORRY = re.compile(r"\b(worr\w*|scar(ed|es|ing|y)|afraid|fear\w*|frighten\w*|concern\w*|on your mind|at the back of your mind|"
                   r"freak\w*( you)? out|stress\w* you out|eating (at|away at) you|playing on your mind|keep(s|ing)? you (up|awake) at night|"
                   # guilt and what goes round in the patient's head are asked the same way
                   r"guilt\w*|blam(e|es|ing) (yourself|themselves|herself|himself)|on your conscience|weigh(s|ing)? on you|"
                   r"go(es|ing)? (through|round) your (head|mind))\b", re.I)
