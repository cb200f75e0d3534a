"""Phrase patterns from the coding manuals (NURSE, ECCS, EPITOME, VR-CoDES), shared by the
rule grader and by the trained grader's features. See docs/grading.md for sources."""

from __future__ import annotations

import re

from ..core.text import STOP_WORDS, stem


def _rx(*alts: str) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(alts) + r")\b")


UNDERSTAND = _rx(r"i (can )?understand( why| that| how)?", r"that makes( a lot of)? sense", r"it makes sense", r"i can see why",
                 r"helps me understand", r"i can (only )?imagine", r"i get (why|that)", r"i hear (you|that|what)",
                 r"understandabl[ey]", r"i can see (that|how) (this|it|that)", r"what i'm hearing is", r"so what you're saying",
                 r"if i('ve| have) understood")
RESPECT = _rx(r"i can see how hard you", r"you've (been|done) (so |really )?(well|everything|a lot|your best)", r"you('ve| have) been (so |very |really )?(strong|brave)",
              r"i (really )?(admire|respect)", r"that took (courage|a lot)", r"you('ve| have) coped", r"you've been trying",
              r"credit to you", r"you've done a (great|good|remarkable) job", r"you('ve| have) been through a lot",
              r"thank you for (telling|sharing|being honest|trusting)", r"it takes courage", r"you clearly care",
              # an apology that owns a failure (to an angry patient, NURSE respect)
              r"i('m| am) (so |really |very |truly )?sorry (that )?(we|you('ve| have)? had to|you were (kept|left|told)|nobody|no one|it took|this (wasn't|was not|hasn't))",
              r"i (do )?apologi[sz]e", r"(that|this) (shouldn't|should not) have happened", r"we (should have|let you down|got (it|that) wrong)")
SUPPORT = _rx(r"i('ll| will) (be here|help|support|make sure|stay|work with you)", r"we('ll| will| can) (work|figure|get through|sort|find|face|do this|tackle)",
              r"i('m| am) here (for|to help|with) you", r"you('re| are) not alone", r"together", r"we're in this",
              r"i('m| am) not going anywhere", r"whatever happens", r"i('ll| will) be with you", r"let's (work|figure|find|face)")
EXPLORE = _rx(r"tell me more", r"say more", r"what do you mean", r"how (are|have) you (been )?(feeling|coping|doing with)",
              r"how (has|is) (that|this|it) been for you", r"what('s| is| has) (been )?(worrying|troubling|bothering|frightening|scaring) you",
              r"what worries you", r"what concerns you", r"what('s| is| has) (been )?(going through|on) your mind", r"what is it about",
              r"what are you (most )?(worried|afraid|scared|concerned)", r"what('s| is| has been| was) the (hardest|worst|most difficult)",
              r"how does (that|this|it) (make|leave) you feel", r"how do you feel about", r"what was (that|it) like",
              r"what (goes|went) through your (mind|head)", r"can you tell me (more )?about (that|what|how)", r"what are your (thoughts|worries|fears|concerns)",
              r"what (else|matters most|would help)", r"is there something (else|more)", r"what do you think (is|might be) (going on|causing)",
              r"what('s| is) most important to you", r"help me understand", r"(is|has) (it|this|that|all this|all that) (been )?(getting|got|bringing) you down", r"how('s| is| has| have)( been)? (your|you in your) (mood|spirits)",
              r"how did (that|it|you) (make you )?feel", r"(alleviate|relieve|cope with|deal with|manage|handle) (the |your |that |this |all that )?(stress|worry|worries|anxiety|pressure)",
              r"(is|was) there (something|anything) (in particular )?(you're|you are|that's|that is) (worried|worrying|concerned|afraid|scared)")
# A continuer that invites more of what the patient was saying (ECCS 3 by the conventions), not a
# symptom prompt ("tell me more about the pain" asks for history).
CONTINUER = _rx(r"tell me more(?! about (the|your) (pain|symptoms?|cough|rash|headaches?|medications?|medicines?))", r"say (a (bit|little) )?more",
                r"(can|could) you tell me (a (bit|little) )?more about (that|it|this|what|how you|why)", r"go on,? i('m| am) listening")
# A question about the feeling or worry itself: acknowledgment and pursuit in one (ECCS 4), where a
# bare continuer ("tell me more") is ECCS 3.
FEELING_QUESTION = _rx(r"how (are|have) you (been )?(feeling|coping)", r"what('s| is| has) (been )?(worrying|troubling|frightening|scaring) you",
                       r"what worries you", r"what concerns you", r"what are you (most )?(worried|afraid|scared|concerned)",
                       r"how does (that|this|it) (make|leave) you feel", r"how do you feel about", r"how did (that|it|you) (make you )?feel",
                       r"what (goes|went) through your (mind|head)", r"what are your (thoughts|worries|fears|concerns)",
                       r"(is|has) (it|this|that|all this|all that) (been )?(getting|got|bringing) you down", r"how('s| is| has| have)( been)? (your|you in your) (mood|spirits)", r"what was (that|it) like",
                       r"(alleviate|relieve|cope with|deal with|manage|handle) (the |your |that |this |all that )?(stress|worry|worries|anxiety|pressure)",
                       r"(is|was) there (something|anything) (in particular )?(you're|you are|that's|that is) (worried|worrying|concerned|afraid|scared)")
LEGITIMISE = _rx(r"any(one|body) (would|in your (position|shoes|situation))", r"(it's|it is|that's|that is) (completely |perfectly |totally |very )?(natural|normal|understandable|okay|ok|reasonable|human) to (feel|be|worry)",
                 r"of course you('re| are| feel| would)", r"no wonder", r"makes (complete |perfect |total )?sense (that you|you('d| would))",
                 r"who wouldn't", r"most people (would|in your)", r"(it's|that's) (a )?(very |completely |perfectly |totally )?(natural|normal|understandable) (reaction|response|feeling|worry|concern|fear|thing to (feel|worry about))",
                 r"your (feelings|reaction|worry|fear|anger) (is|are) (completely |totally )?(valid|understandable|natural)", r"you have every right",
                 # "I can see why" is the conventions' own example of legitimising (ECCS 5)
                 r"i can (certainly |absolutely |totally |completely |definitely |really )?see why", r"i (can )?(certainly |really )?understand why you",
                 r"i (don't|do not|can't|cannot) blame you", r"you('re| are) doing (the|your) (very )?best", r"you feel (how|what) you feel",
                 r"that makes (a lot of|total|perfect|complete) sense",
                 # understanding given with its reason: "I can imagine it would be, given how much the running means to you"
                 r"i can (certainly |absolutely |totally |really |well )?(understand|imagine) (that|it|how|this)\b(?! (better|more|clearer)\b)[^.?!]{0,30}\b(because|when you|since you|given (that|how|what))\b")
SHARED = _rx(r"i('d| would) (feel|be) (the same|just as|exactly the same|worried|scared|frightened|angry|upset|frustrated)( too| as well)?",
             r"i('d| would) (feel|be) (\w+ )?(too|as well)", r"in your (shoes|position),? i('d| would)", r"if i were (you|in your)",
             r"i('ve| have) (felt|been through) (something )?(similar|the same|that too)", r"i (felt|remember feeling) (the same|like that)")
SYMPATHY = _rx(r"i('m| am) so sorry for you", r"i feel (so )?(sorry|bad) for you", r"(you )?poor (you|thing)", r"how awful for you",
               r"i pity you", r"i feel (so )?sad for you", r"that's (so )?(awful|terrible|tragic)", r"what a shame", r"i('m| am) (so |really |very )?sorry( to hear( that)?)?",
               r"(so |very |really )?sorry to hear( that| about)?")
FALSE_UNDERSTANDING = _rx(r"i know (exactly |just )?(how|what) you('re| are)? ?(feel|feeling|going through|mean)", r"i (completely|totally|fully) understand( how| what)?",
                          r"i know exactly", r"i know how (that|it) (is|feels)", r"i've been there", r"i know what it's like", r"i understand (exactly|completely|perfectly)")
REASSURE = _rx(r"don't worry", r"do not worry", r"no need to worry", r"nothing to worry", r"probably nothing", r"i'm sure (it's|it is|you're|you are) (nothing|fine|ok|okay|alright)",
               r"you('ll| will) be (fine|ok|okay|alright)", r"everything (will|is going to) be (fine|ok|okay|alright)", r"it('s| is|'ll| will) (going to be )?(be )?(fine|okay|ok|alright)(?! to\b)",
               r"it's nothing serious", r"i('m| am) sure it('s| is) nothing", r"try not to worry", r"there's no reason to worry", r"it's very unlikely to be",
               r"(we('ll| will)|let's|let us) (try )?(and |to )?do (our|my) best", r"(let's|let us|we('ll| will)|i('ll| will)) (try )?(and |to )?get you (well|better|sorted|fixed|right)",
               r"(let's|let us) try our best", r"(won't|will not|doesn't|does not) (necessarily )?(mean it('ll| will) )?happen to you",
               # explained away before it is explored: "it's probably just stress", "you're probably just eating less"
               r"(it's|it is|that's|that is|you're|you are|it'll be|it will be)( probably| most likely| likely| almost certainly)? (just|only) "
               r"(a bit of |some )?(stress|nerves|anxiety|a virus|a bug|wear and tear|in your head|tired(ness)?|age|your age|old age|getting older|"
               r"eating less|not sleeping|indigestion|a pulled muscle|muscular|hormones|your hormones)\b",
               r"(you're|you are|it's|it is) probably just (\w+ing)\b")
DISMISSIVE = _rx(r"calm down", r"you('re| are) overreacting", r"(it's|it is) not that bad", r"let's not dwell", r"(that's|that is) (not relevant|irrelevant|not important|not the point)",
                 r"we don't have (time|long)", r"you shouldn't (feel|be)", r"there's no (reason|point) (to be|in being|getting)", r"just relax", r"get over",
                 r"stop (worrying|crying|complaining)", r"it happens to everyone", r"let's (just )?(stick to|get back to|focus on) (the|your) (facts|medical|symptoms|questions)",
                 r"anyway,", r"moving on", r"that's in the past", r"pull yourself together", r"you're being (silly|dramatic|unreasonable)", r"i don't have time",
                 r"not my (problem|department|fault)", r"nothing i can do about", r"don't (get|be) (so )?(upset|emotional|worked up)",
                 r"no need to get (upset|emotional|worked up)", r"(i'm|i am) (just )?giving you the facts", r"(let's|let us) not make excuses",
                 r"(isn't|is not|aren't|are not) (really |that |very )?relevant",
                 # a brush-off: the wait or the system is how it is, and nothing follows for the patient
                 r"it('ll| will) (come|happen|arrive|get done)( through| back)? when it (comes|happens|arrives|gets done)", r"it is what it is",
                 r"(that's|that is|it's|it is) (just )?(the way|how) (it is|it goes|things are|the system works)",
                 # shutting the feeling down: "let's not get emotional", "no point dwelling on it", "you're overthinking it"
                 r"(let's|let us) not (get|go) (emotional|upset|into (feelings|emotions|all that|that|it))", r"no point (in )?dwelling",
                 r"no need to go into (all )?(that|it|this)\b", r"you('re| are) (probably |just )?over-?thinking")
# Closing the visit with a safety net ("come back if it gets worse") and "is that all?": a move to
# the end of the consultation, not an invitation to say more about the feeling
CLOSING = _rx(r"come back (and see (me|us) )?if", r"(book|make) (another|a follow[- ]up|a new) appointment",
              r"if (it's|it is|things are|you're|you are) (still )?(no|not any) better")
CLOSING_ASK = _rx(r"(is|was) (that|there) (all|everything|it|anything else)(?=\s*\?)", r"anything else( i can do( for you)?)?(?=\s*\?)")
ADVICE = _rx(r"you should", r"you need to", r"you have to", r"you must(?! (really |so |surely )?(miss|be|have|feel|find|know|think|wonder|worry|hate|love|wish))", r"i (would )?recommend", r"i'd recommend", r"i (would )?suggest", r"i'd suggest",
             r"try to", r"make sure you", r"it's important that you", r"i want you to", r"start taking", r"stop taking", r"you ought to", r"the best thing (is|would be)")
STEREOTYPE = _rx(r"people (like you|your age|of your age|from your|in your community)", r"at your age,? (you|people|it's|most)", r"(women|men|older people|elderly people|the elderly|old people|young people|your generation|your culture|your community|your people|you people|patients like you|people in your situation) (usually|always|often|tend to|never|are|don't|can't|won't|all)",
                 r"(in|from) your culture", r"someone (like you|of your background)", r"typical (for|of) (your|someone)", r"i'm sure you (don't|can't|won't|wouldn't) (understand|cope|manage|afford)",
                 r"as a (woman|man|mother|father|pensioner),? you", r"(that's|that is|it's|it is)( probably| all)? (just )?(your )?(age|old age|getting older)\b")
PERFUNCTORY = re.compile(r"^\s*(ok|okay|right|alright|i see|mm+|hmm+|uh[- ]huh|sure|got it|noted|fine|yes|yeah|oh)\b[.,!]?")
ACK_GENERIC = _rx(r"must (be|feel|have been|make (it|things|life)|have made (it|things|life)) (really |so |very |incredibly |quite )?(hard|difficult|tough|awful|painful|lonely|frightening|scary|worrying|stressful|exhausting|overwhelming|upsetting)",
                  r"you must (really |so )?(miss|be missing) (him|her|them|it)",
                  r"(that|this|it) (sounds|seems|must be|must have been|is|was) (really |so |very |incredibly |quite )?(hard|difficult|tough|awful|painful|a lot|distressing|upsetting|overwhelming|frightening|scary|worrying|stressful|exhausting|heartbreaking)",
                  r"(that|this|it)('s| is| was| must be| must have been| sounds like| seems like)( such| quite| really)? ((a|an awful|such a|a whole|quite a) lot to (take in|process|hear)|"
                  r"(a )?((huge|big|real|terrible|awful|horrible|nasty|massive|complete) )?(shock|blow)|shocking|devastating( news)?|(really |very |so )?hard (news )?to hear)",
                  r"i can (see|hear|tell) (that|how|this|you)", r"i('m| am) (so |very |really )?sorry (about|for) (your|the) loss", r"i('m| am) sorry (that )?(this|that|you)")
JARGON = _rx(r"myocardial infarction", r"\bmi\b", r"acute coronary syndrome", r"\bacs\b", r"troponins?", r"hba1c", r"a1c", r"idiopathic", r"prognosis", r"metasta(tic|sis|ses|sized)",
             r"neoplasm", r"hypertension", r"hyperglyc(a)?emi(a|c)", r"glyc(a)?emic", r"nephropathy", r"neuropathy", r"retinopathy", r"angina pectoris", r"isch(a)?emi(a|c)",
             r"(a)?etiology", r"differential diagnosis", r"comorbid(ity|ities)?", r"contraindicat(ed|ion)", r"titrat(e|ion)", r"sublingual", r"n?stemi", r"echocardiogra(m|phy)",
             r"cabg", r"\bpci\b", r"dyspn(o)?ea", r"syncope", r"tachycardi(a|c)", r"bradycardi(a|c)", r"arrhythmi(a|as)", r"dyslipid(a)?emia", r"hyperlipid(a)?emia", r"\bhtn\b",
             r"t2dm", r"\begfr\b", r"microalbuminuria", r"lipid panel", r"\bprn\b", r"\bbid\b", r"\btid\b", r"\bnpo\b", r"exacerbation", r"benign", r"malignan(t|cy)",
             r"palliative", r"oncolog(y|ist)", r"pathology", r"bereavement reaction", r"somati[sz](ation|ing)", r"psychosomatic", r"adherence", r"non-?compliance", r"sequelae",
             r"cardiac enzymes", r"ejection fraction", r"stenosis", r"thrombo(sis|lysis|embolism)", r"statins?", r"beta[- ]blockers?", r"anticoagula(nt|tion)", r"insulin resistance",
             r"biopsy", r"sepsis", r"nosocomial", r"iatrogenic", r"gfr")

_STOP = STOP_WORDS | frozenset("""
being these those where which should may might yes okay ok right well oh um uh much many that's i've
you're you've didn't doesn't isn't wasn't i'd i'll we're they're what's there's know think want said
tell feel felt way thing things something even still
""".split())


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if w not in _STOP and len(w) > 2}


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


def stem_overlap(a: str, b: str) -> float:
    """Share of b's content stems that a takes up: "how much do you smoke?" takes up "the smoking"."""
    sb = content_stems(b)
    return len(content_stems(a) & sb) / len(sb) if sb else 0.0


def overlap(a: str, b: str) -> float:
    """Share of b's content words that a takes up (used for 'relates to the patient's turn')."""
    wb = content_words(b)
    return len(content_words(a) & wb) / len(wb) if wb else 0.0


# Moving the consultation on to the doctor's agenda ("let's start with your sore throat first").
REDIRECT = _rx(r"let's (start|focus|begin|concentrate) (with|on)", r"let us (start|focus|begin) (with|on)", r"first things first", r"for now let's")

# Questions on the presenting complaint itself (onset, duration, place, character, what changes it):
# they take up the patient's own complaint (ECCS 2, never a topic switch) even when the patient's
# last turn did not name it ("When did the chest pain start?" after "I'm sure it's nothing").
SYMPTOM_QUESTION = _rx(r"when (did|does) (it|this|that|the [a-z]+( [a-z]+)?|your [a-z]+( [a-z]+)?) (first )?(start|begin|come on|happen)",
                       r"how long (have|has|did|does|do) (you|it|this|that|they|(the|an?|each|every|your|these|those) [a-z]+)", r"where (is|does|did|was) (it|the [a-z]+|your [a-z]+)",
                       r"how would you describe (it|the [a-z]+|what)", r"what (kind|sort|type) of (pain|feeling|discomfort|ache|sensation)",
                       r"what (makes|made) (it|the [a-z]+|that|this) (better|worse)", r"(does|did|is|was) (it|the pain) (spread|radiate|go|move|get worse|get better|come and go)",
                       r"how (bad|severe|often|frequent) (is|was|are|were) (it|the [a-z]+|they|these)", r"on a scale", r"what (does|did) (it|the pain) feel like",
                       r"(anything|something) (that )?(makes|made|helps|helped) (it|the [a-z]+)")

# Inviting the patient's own story ("What's brought you in today?", "Tell me about the pain"):
# it takes up the patient's complaint, whatever the last words were.
STORY_INVITE = _rx(r"what('s| has| have)? (brought|brings|bring) you", r"(tell|talk) me (a (bit|little) )?(more )?(about|what)",
                   r"what can (i|we) (do|help)", r"how can (i|we) help", r"what('s| has) been (going on|happening)",
                   r"how have (you|things) been( keeping| doing| getting on| going)? since (we|i|you|your|the) (last|saw|were|came|visit)")

# Routine history topics: a question on one of these, sharing nothing with the patient's turn,
# moves away from what the patient raised (a topic switch when an opening was there).
CHECKLIST = _rx(r"smok(e|es|ing|er)", r"drink(s|ing)?", r"alcohol", r"allerg(y|ies|ic)", r"(any|other) medications?", r"medications? (do|are) you",
                r"family history", r"(your|any) (job|occupation|work)", r"what do you do for (a living|work)", r"blood pressure", r"recreational drugs",
                r"surgeries", r"operations", r"(on|taking|take) any (tablets|pills|medicines?)", r"any (tablets|pills)", r"immuni[sz]ations|vaccin", r"diet", r"exercise", r"weight", r"date of birth", r"insurance",
                r"bowel|urin(e|ation)|pee", r"stools?", r"blood in (your|the)", r"(past|previous) medical", r"scales", r"your weight")

# Greetings and courtesies: with nothing else in the turn, there is no empathic move to grade and
# nothing to penalise (a greeting is not a topic switch).
COURTESY = re.compile(r"\b(hi|hello|hey|good (morning|afternoon|evening)|nice to (meet|see) you|pleased to meet you|have a seat|take a seat|"
                      r"sit (down|yourself down)|come (on )?in|thanks? (you )?for (coming|waiting)|my name is|i'm (dr|doctor)|i am (dr|doctor)|"
                      r"welcome|how are you( (doing|today))?|make yourself comfortable|take your time|(there's |there is )?no (rush|hurry)|what('s| is) your (full )?name|"
                      r"(can|could|may) i (just )?(check|confirm|take|have) your (full )?(name|date of birth)( please)?|"
                      r"(can|could|would) you (just )?(tell me|give me|confirm|remind me of) your (full )?(name|date of birth)(,? please)?|"
                      r"what (would you like|do you prefer|should i) (me )?(to )?call you|is it ok(ay)? if i call you [a-z]+)\b")
_NAME_TITLE = re.compile(r"\b(mr|mrs|ms|miss|dr|doctor)\.?\s+[a-z]+")
# "I'm Sam, one of the junior doctors here": an introduction is courtesy too
_INTRO = re.compile(r"\b(i'm|i am|my name is|this is|name's)\s+[a-z]+,?(\s+(and\s+)?(i'm\s+)?(one of the|a|the|your)\s+"
                    r"((junior|senior|trainee|student|medical|foundation|ward|duty|on-call|final-year|year)\s+)*"
                    r"(doctors?|nurses?|students?|registrar|resident|physician|gp|clinician|team|intern)"
                    r"(\s+(here|on the ward|on the team|looking after you|today|on duty|working today|"
                    r"(in|on|from) (the )?(emergency department|emergency room|a&e|clinic|surgery|practice|ward|department|[a-z]+ (ward|team|clinic))))?)?")


def is_courtesy(text: str) -> bool:
    """True for a turn that is only a greeting or courtesy ("Good morning Mr Chen, have a seat")."""
    low = text.lower().replace("’", "'")
    if not COURTESY.search(low):
        return False
    rest = _NAME_TITLE.sub(" ", COURTESY.sub(" ", _INTRO.sub(" ", low)))
    rest = re.sub(r"\b(please|thanks|thank you|so|and|i'm|i am|it's|nice|lovely|great|okay|ok|there|today|again|in|now)\b", " ", rest)
    left = re.findall(r"[a-z']+", rest)
    return len(left) <= 2 and ("?" not in rest or not left)


# A summary of what the patient said, or the plan: neither is advice, reassurance or a change of subject.
SUMMARY = re.compile(r"\b(to sum (it |that )?up|if i('ve| have) got (this|that|it|you) right|if i understand (you )?(correctly|right)|to summari[sz]e|in summary|(let me|can i|could i|i'll|i'm going to|just to) (just )?(recap|summari[sz]e|check i've got|make sure i've got|(check|make sure) (that )?(i've|i have) (understood|got (this|that|it|everything)( right)?))|"
                     r"just to recap|so to recap|if i've (got|understood) (this|that|you) (right|correctly)|so what i'm hearing|"
                     r"so you've (told me|been|had|mentioned|said))\b")
PLAN = re.compile(r"\b(what i'd like to do|what i would like to do|here's what (we|i)|the plan (is|would be|now)|next steps?|"
                  r"i'm going to (arrange|order|refer|send|book|examine|check|request|ask|start|get)|"
                  r"i('d| would) like to (examine|arrange|order|refer|do|check(?! (through|over|what|whether|which|how|if|when|who))|run(?! through)|start|get|send|book|take)|"
                  r"we('ll| will| can| could) (arrange|get (you )?(booked|seen|referred|tested)|book|send|start|check|run|organi[sz]e|look at|refer|follow)|"
                  r"let's (arrange|book|get|start|run|organi[sz]e|plan|agree)|what i('d| would) (suggest|propose|recommend)|"
                  r"i('d| would) (suggest|propose) (that )?we|(i('d| would) like|i want) to see you (again|back))\b")


def is_plan_or_summary(text: str) -> bool:
    low = text.lower().replace("’", "'")
    return "?" not in low and bool(SUMMARY.search(low) or PLAN.search(low))
