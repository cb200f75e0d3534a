"""What the simulated learners say: plausible history questions and empathic remarks, written
for this tool. A session opens with a greeting and then draws the rest without repeats, seeded,
so two runs with one seed say the same things in the same order."""

from __future__ import annotations

import random

GREETINGS = (
    "Hello, I'm one of the doctors on the ward today. What brings you in?",
    "Morning, I'm Sam, a medical student working with the team. What's brought you along?",
    "Hi there, thanks for waiting. What has been going on?",
)

QUESTIONS = (
    "When did this first start?",
    "Could you say a little more on that?",
    "Has anything like this happened to you before?",
    "Is there anything that eases it, or sets it off?",
    "Are you taking any medicines at the moment?",
    "Do you have any allergies that you know of?",
    "Are you a smoker at all, now or before?",
    "How much alcohol would you drink in a usual week?",
    "Any illnesses that run in your family?",
    "How have you been sleeping lately?",
    "How are things at home right now?",
    "Is this affecting your work?",
    "What's your own sense of where this is coming from?",
    "Is there anything you were hoping we could do for you today?",
)

EMPATHIC = (
    "That sounds really worrying for you.",
    "Feeling anxious about this makes a lot of sense.",
    "I can see this has been a hard few days.",
    "Thank you for telling me, I know that is not easy.",
    "What worries you most about it?",
    "You have been carrying a lot on your own.",
    "I'm sorry you have been going through this.",
    "We will work through this together.",
)

ALL_LINES = GREETINGS + QUESTIONS + EMPATHIC


def session_lines(turns: int, rng: random.Random) -> list[str]:
    """`turns` lines for one session: a greeting first, then the others shuffled, repeating the
    shuffle only when a session is longer than the list."""
    lines = [rng.choice(GREETINGS)]
    body = list(QUESTIONS + EMPATHIC)
    while len(lines) < turns:
        rng.shuffle(body)
        lines.extend(body)
    return lines[:turns]
