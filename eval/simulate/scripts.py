"""What each simulated learner style says. Lines are generic so that they work with every
persona pack: history questions any patient can answer (or decline), and replies to
emotional cues that do not depend on the case.

A style has five pools. The runner opens with a greeting (or, when the opening already
holds a cue, an introduction and a cue reply), asks history questions in a
shuffled order, answers the patient's empathic cues from the cue pool when one is raised,
and closes. `{feeling}` in a line is filled with the cue's emotion word (an attentive
clinician hears it in the patient's words); lines without it acknowledge generically.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Style = Literal["empathic", "dismissive", "mixed", "sympathetic"]
STYLES: tuple[Style, ...] = ("empathic", "dismissive", "mixed", "sympathetic")


class StyleScript(BaseModel):
    name: str
    greetings: list[str] = Field(min_length=1)
    introductions: list[str] = Field(min_length=1, description="Said before a cue reply when the opening holds a cue.")
    questions: list[str] = Field(min_length=8)
    cue_replies: list[str] = Field(min_length=4)
    closings: list[str] = Field(min_length=1)


EMPATHIC = StyleScript(
    name="empathic",
    greetings=[
        "Hello, I'm Dr Rivera, one of the doctors here. What brings you in today?",
        "Hi, I'm Sam, one of the doctors. Thank you for waiting. What would you like to talk about today?",
        "Good afternoon, I'm Dr Okafor. How can I help you today?",
    ],
    introductions=["Hello, I'm Dr Rivera, one of the doctors here.", "Hi, I'm Sam, one of the doctors.",
                   "Good afternoon, I'm Dr Okafor."],
    questions=[
        "Can you tell me more about what's been happening?",
        "When did this all start?",
        "How has this been affecting your day-to-day life?",
        "What do you think might be going on?",
        "What were you hoping we could do for you today?",
        "What worries you most about all this?",
        "Who is at home with you?",
        "How have things been at work, or with money?",
        "Are you taking any medicines at the moment?",
        "Do you have any allergies?",
        "Have you had any other medical problems in the past?",
        "Does anything run in your family?",
        "Do you smoke?",
        "How much alcohol do you drink in a week?",
        "How have you been sleeping?",
        "Who have you been able to talk to about this?",
    ],
    cue_replies=[
        "It sounds like you're feeling really {feeling}. Can you tell me more about that?",
        "That sounds really hard. What's been the hardest part for you?",
        "I can hear how {feeling} you are, and that makes complete sense. What goes through your mind when you think about it?",
        "Thank you for telling me that. It sounds like a lot to carry. How has it been for you?",
        "It's completely understandable to feel {feeling} about this. What worries you most?",
        "I can see this has been really difficult. Would you tell me more about what it's been like?",
    ],
    closings=[
        "Before we finish, can you tell me in your own words what we've agreed, so I know I explained it well?",
        "Thank you for talking this through with me. What questions do you have for me?",
    ],
)

DISMISSIVE = StyleScript(
    name="dismissive",
    greetings=["Right, what's the problem?", "Okay. What are you here for?", "Yes, what is it today?"],
    introductions=["Right.", "Okay.", "Hello."],
    questions=[
        "Any pain?",
        "When did it start?",
        "Any medical problems?",
        "Are you on any tablets?",
        "Any allergies?",
        "Do you smoke?",
        "How much do you drink?",
        "Anything in the family?",
        "Is it there all the time?",
        "Have you had this before?",
        "Do you work?",
        "Any other symptoms?",
    ],
    cue_replies=[
        "Let's not get into that. Do you smoke?",
        "Calm down, there's no need to get worked up about it.",
        "You're overreacting a bit. It's probably nothing.",
        "I don't have time for that, I just need the facts.",
        "Okay. Anyway, any allergies?",
        "Right. Let's move on. Are you on any tablets?",
    ],
    closings=["Right, we're done. The nurse will sort you out.", "Okay, that's all for today."],
)

SYMPATHETIC = StyleScript(
    name="sympathetic",
    greetings=[
        "Hello there, I'm one of the doctors. What's brought you in today?",
        "Hi, I'm Dr Ellis. What can I do for you today?",
    ],
    introductions=["Hello there, I'm one of the doctors.", "Hi, I'm Dr Ellis."],
    questions=[
        "When did this all start?",
        "Are you taking any medicines?",
        "Do you have any allergies?",
        "Have you had any medical problems before?",
        "Does anything run in the family?",
        "Do you smoke?",
        "How much alcohol do you drink?",
        "Who is at home with you?",
        "What do you do for work?",
        "How have you been sleeping?",
        "What do you think is going on?",
    ],
    cue_replies=[
        "Oh, I'm so sorry to hear that.",
        "You poor thing, that's awful.",
        "I feel so sorry for you.",
        "I know exactly how you feel.",
        "Don't worry, I'm sure everything will be fine.",
        "Oh dear, I'm so sorry. That's terrible.",
    ],
    closings=["I'm sure it'll all work out. Take care.", "Thank you for coming in. Take care."],
)

SCRIPTS: dict[str, StyleScript] = {"empathic": EMPATHIC, "dismissive": DISMISSIVE, "sympathetic": SYMPATHETIC}
"""`mixed` has no pool of its own: it draws each line from the empathic or dismissive one."""
