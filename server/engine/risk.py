"""Is the learner asking about risk? Suicide or self-harm, harm to others, safeguarding.

A risk question must never get a content-free phrase, whatever its wording, so it is caught
by meaning-bearing phrases here (deterministic, so an educator can predict it) before
retrieval, and answered from the pack's required `risk` field. Statements that merely mention
a word ("I hurt my back") are not questions and do not count; a question or an invitation to
talk ("tell me if you ever...") does.
"""

from __future__ import annotations

import re

from ..core.text import without_disfluencies, written

RiskKind = str  # "self_harm" | "harm_to_others" | "safeguarding"

_SELF = re.compile(
    r"\b(suicid\w*|kill(ing)? (yourself|your ?self)|end(ing)? (your|it|things|it all)\b(?! (there|here))|take your (own )?life|"
    r"tak(e|ing) your own life|end your life|(harm|hurt|kill)(ing)? (yourself|your ?self|themselves|oneself)|self[- ]?harm\w*|"
    r"cut(ting)? (yourself|your ?self)|overdos\w*|(not|n't) (want(ing)?|wish(ing)?) to (be here|be around|live|go on|wake up|"
    r"carry on|exist)|(better|easier) off (dead|gone|without you|not (being )?(here|around|alive))|"
    r"(wish|wished|wishing) (you (were|was) (dead|gone|not here)|you could (disappear|not wake up|go to sleep and not wake))|"
    r"(life|living)( is|'s| isn't| is not| wasn't| was not| was)? (not )?(worth (living|it|carrying on|going on|continuing)|pointless|not worth)|"
    r"(rather|prefer to) (not (be here|be around|be alive|live|wake up|(go|carry) on(?= *(like this|any ?more|living|[.?!,]|$)))|be dead)|"
    r"dark thoughts|dark places?(?![^.?!]{0,25}\bagain\b)|(wasn't|isn't|aren't|weren't|not) worth (living|(carrying|going) on(?= *(with (it|life|living|it all)|like this|any ?more|[.?!,]|$)))|"
    r"(wouldn't|would not|won't|will not|didn't|did not|not) (wake|waking) up|(wish|wishing|want|wanting) (it|everything|life) (all )?(to )?(end|over|stop)|"
    r"thoughts? (of|about) (death|dying|ending|not being here|harming|hurting)|(not|n't) (being|be) (here|around) any ?more|"
    r"(give|giving) up on (life|everything)|no (point|reason) (in )?(living|going on|carrying on)|"
    r"(do|did|have) you (ever )?(think|thought) (about|of) (dying|death)|safe (from|with) yourself|keep yourself safe|"
    r"(plans?|intent\w*) to (harm|hurt|kill|end)|don't want to wake up|not wake up|"
    # the follow-up every risk assessment asks: "Any plans to act on that?", "Have you ever acted on them?"
    r"(plans?|intent\w*|urge|tempted|close) (to|of) act(ing)? on (that|it|them|those|these|this)\b|"
    r"(ever|have you|did you) acted on (that|it|them|those|these|this)\b|"
    r"(can't|cannot|can not|couldn't|could not) (carry|go) on(?= *(like this|any ?more|with (life|living|it all)|[.?!,]|$))|"
    r"(can't|cannot) (face|cope with) (life|living|going on)|no way out|disappear for good|(wish|wished) you (were|was) dead|"
    # euphemisms clinicians use, and hopelessness asked about ("anything silly", "can't see a way through")
    r"(do|doing|done|did) (anything|something) (silly|stupid|daft|drastic|rash)(?= *(to yourself|[.?!,]|$|are you|or|like that))|"
    r"(something|anything) you('d| might| may| could| would) regret(?= *(to yourself|[.?!,]|$))|"
    r"(see|seeing) (a|any|no) (way (through|out|forward|ahead)|point|future)(?! (in|to|for|of) (the|your|that|this|getting)\b)|"
    r"(too much|too hard) to (carry on|go on|keep going)|(it|it's|everything|life|things)( is| are|'s)?( all)? (too much|unbearable)(?= *[.?!,]|$| to bear)|"
    r"(easier|better)( off)?( for (everyone|everybody|them|your family))? if you (weren't|were not|wasn't|was not) (around|here|alive|there)|"
    # asked of people in general: "...feel their family would be better off without them. Have you?"
    r"(family|families|everyone|everybody|others|loved ones|children|kids)\b[^.?!]{0,25}\b(better|easier) off without (them|him|her|you)\b|"
    r"(feel|feeling|felt|get|getting|got) (so|that) (low|down|desperate|hopeless) (that )?you|"
    # "...simpler not to be here at all", "better not to wake up", "better off out of the way"
    r"(easier|better|simpler|best)( off)?,? (not to|to not) (be (here|around|alive)|wake up|go on|carry on|exist)\b|"
    r"\bnot to be (here|around|alive) (any ?more|at all)|(better|easier) off out of (the way|it all)|"
    r"(rather|like to|wanted to|want to|wish you could) (just )?(disappear|vanish)(?= *(for good|altogether|for ever|forever|[.?!,]|$))|"
    r"(feel|feeling|felt) (completely |totally |utterly )?hopeless( about (the future|everything|life))?(?= *[.?!,]|$)|"
    r"(think|thinking|thought|thoughts) (about|of) not ((going|carrying) on(?= *([.?!,]|$|any ?more|like this|with (life|living|it all)))|"
    r"being (here|around|alive)|living|wanting to live|waking up|wanting to (be here|go on|carry on|wake up)))")
_OTHERS = re.compile(
    r"\b((harm|hurt|kill|attack)(ing)? (someone|somebody|anyone|anybody|others|other people|people|another (person|one)|them|him|her)\b( else)?|"
    r"thoughts? (of|about) (harming|hurting|killing) (someone|somebody|anyone|others|other people|another)|"
    r"(violent|violence) (towards?|to) (others|anyone|someone|people)|"
    r"tak(e|ing) (it|things|that) out on (someone|somebody|anyone|anybody|people|them|him|her|your|other)|"
    r"lash(ing|ed)? out|(lose|losing|lost) (your|control of your) temper with (someone|somebody|anyone|anybody|people)|"
    r"(get|got|getting) (physical|violent) with|(get|getting|got|paying|pay) (back at|them back|someone back|your own back)|revenge|"
    r"(want|wanting|wanted|urge|urges) to (hurt|harm|hit|punish|get back at)|"
    # the euphemisms with someone else as the object: "anything daft to anyone", "do something to one of the staff"
    r"(anything|something) (silly|stupid|daft|drastic|rash|you('d| might| may| could| would) regret) to (someone|somebody|anyone|anybody|"
    r"them|him|her|others|other people|one of|(the|that|this|those|these) \w+)|"
    r"(might|would|could|will|'d) (do|did) (something|anything) to (someone|somebody|anyone|anybody|them|him|her|one of|(the|that|this|those|these) \w+))")
_SAFEGUARD = re.compile(
    r"\b((is|has) (anyone|anybody|someone|somebody) (at home |in your life |there |close to you )?(ever )?(been )?(hurt\w*|harm\w*|hit\w*|threaten\w*|abus\w*|"
    r"frighten\w*|scar\w*|bully\w*)( you\b)?(?! (your|his|her|their|its|the|a|my) )|(do|are) you (feel(ing)? )?safe (at home|where you live|with)|feel safe at home|(are you|do you) (feel|feeling) safe|"
    r"(safe|safety) at home|(feel|feeling) safe and [a-z ]{2,25}(at home|where you live|with)|afraid of (anyone|anybody|someone|your (partner|husband|wife|son|daughter|family))|"
    r"(anyone|someone) (at home )?(making|make) you (feel )?(unsafe|scared|afraid)|domestic (violence|abuse)|"
    r"(are|do) you (being )?(hurt|harmed|abused|threatened|hit)|"
    r"(taking|take|took|using|spend\w*|control\w*) (your )?(money|pension|savings|benefits|bank card)|"
    r"(anyone|anybody|someone|somebody)\b[^.?!]{0,40}\b(unkind|cruel|rough|nasty) (to|with) you|"
    r"(anyone|anybody|someone|somebody)\b[^.?!]{0,40}\b(leave|leaves|left|leaving|make|makes|made|making) you (feel |feeling )?"
    r"([a-z]+ ){0,3}?(uneasy|frightened|scared|afraid|unsafe|threatened|on edge)\b|feel (unsafe|in danger)|"
    r"(anyone|anybody|someone|somebody)\b[^.?!]{0,30}\b(been )?(pressur\w*|forc\w*|threaten\w*|bull(y|ying|ied)|hurt\w*|hit\w*) (you\b|into)|"
    r"(anyone|anybody|someone|somebody)\b[^.?!]{0,30}?\b(who|that) (ever )?"
    r"(hurts?|harms?|hits?|threatens?|frightens?|scares?|bull(y|ies)|abuses?|controls?|treats? you badly|makes? you (feel )?(afraid|frightened|scared|unsafe))|"
    # frightened of someone, hurt by someone: "anybody you're scared of at home?", "someone who's hurt you"
    r"(anyone|anybody|someone|somebody)\b[^.?!]{0,30}?\byou('re| are| feel| ever feel| might be| have been)? (frightened|scared|afraid|fearful|wary) of\b|"
    r"(frightened|scared|afraid|fearful) of (anyone|anybody|someone|somebody)\b|"
    r"(anyone|anybody|someone|somebody|person|people)\b[^.?!]{0,30}?\b(who|that)('s| has| have)? (ever )?"
    r"(hurt|harmed|hit|threatened|frightened|scared|bullied|abused|attacked) you\b|"
    r"(laid|lay|put|lays|puts) a (finger|hand) on you|"
    r"(anyone|anybody|someone|somebody)\b[^.?!]{0,40}\b(scaring|frightening|threatening|hurting|bullying|intimidating) you\b|"
    r"(does|do|did|has|have) (anyone|anybody|someone|somebody)( at home| in your life| close to you)? (ever )?"
    r"(hurt|harm|hit|threaten|frighten|scare|bully|abuse|control|treat(ed)? you badly|ma(k|d)e you (feel )?(afraid|frightened|scared|unsafe))"
    r"(?! (your|his|her|their|its|the|a|my) ))")  # "has someone hurt your back?" is not safeguarding
_ASKS = re.compile(r"\?|^\s*(tell me|can you tell|could you tell|i need to ask|i have to ask|i'd like to ask|i want to ask|"
                   r"let me ask|i ask everyone|i'm asking|i am asking|some people|sometimes people|many people|have you|do you|are you)", re.I)


def risk_kind(text: str) -> RiskKind | None:
    """The risk a turn asks about, or None."""
    low = re.sub(r"\s+[\u2014\u2013-]{1,2}\s+", ", ", without_disfluencies(written(text)).lower())  # "...can't go on - has that crossed your mind?"
    if not _ASKS.search(low):
        return None
    if _OTHERS.search(low):
        return "harm_to_others"
    if _SELF.search(low):
        return "self_harm"
    if _SAFEGUARD.search(low):
        return "safeguarding"
    return None


# The same questions as wordings for retrieval's nearest-meaning match: a paraphrase the
# phrases above miss still finds its kind when it means the same (retrieval.PackIndex).
WORDINGS: dict[RiskKind, tuple[str, ...]] = {
    "self_harm": ("Have you had thoughts of ending your life?", "Do you ever feel you don't want to be here any more?",
                  "Have you thought about hurting yourself?", "Do you feel life isn't worth living?",
                  "Have you ever felt everyone would be better off without you?", "Have you ever tried to harm yourself?",
                  "Do you ever feel you can't carry on?"),
    "harm_to_others": ("Have you had thoughts of harming someone else?", "Do you ever feel like you might hurt somebody?",
                       "Have you ever worried you might lash out at someone?"),
    "safeguarding": ("Is anyone hurting you?", "Do you feel safe at home?", "Is anyone threatening or frightening you?",
                     "Does anyone treat you badly or make you afraid?"),
}
