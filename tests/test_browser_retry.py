"""The "Try that again" button in a real Chromium against a live `bedside serve` (the fixtures of
tests/test_browser.py): say something dismissive, take it back, say something empathic; the
meters go back and then move, the exchange taken back stays greyed in the transcript, and the
debrief shows both attempts with their grades side by side. Also: the button is hidden for a
case that forbids retries, and works in a voice session.

Sizes are a 1366x768 desktop and a 390x844 phone; screenshots go to $BEDSIDE_TEST_ARTIFACTS
(default test-artifacts/).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.test_browser import (  # noqa: F401  (fixtures)
    art, browser, end_session, meter_value, pages, session_turns, start_text_session, start_voice_session_without_audio,
)
from tests.test_browser_ui_fixes import DESKTOP, SIZES, expect  # the 1366x768 desktop and 390x844 phone

pytestmark = pytest.mark.slow

GREETING = "Hello, I'm Dr Lee, one of the doctors here. What brings you in today?"
DISMISSIVE = "Calm down, it's probably nothing. Let's just get on with the questions."
EMPATHIC = "That sounds really frightening. What worries you most about it?"


def say(page, box, text: str, turn_id: int) -> None:
    box.fill(text)
    box.press("Enter")
    expect(page.locator(f'.turn--patient[data-turn-id="{turn_id}"]')).to_be_visible(timeout=20_000)
    expect(page.locator(f'.turn--learner[data-turn-id="{turn_id}"] .grade-chip')).to_be_visible(timeout=20_000)


def patient_now(page) -> dict:
    return {"trust": meter_value(page, "trust"), "distress": meter_value(page, "distress"),
            "feeling": page.locator("#patient-emotion").inner_text()}


@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_try_that_again_rewinds_the_patient_and_the_debrief_shows_both(pages, live_server, art, size):  # noqa: F811
    page = pages(dict(SIZES)[size]).page
    box = start_text_session(page, live_server, f"retry-{size}")
    retry = page.get_by_role("button", name="Try that again")
    expect(retry).to_be_hidden()  # nothing to take back yet
    say(page, box, GREETING, 1)
    expect(retry).to_be_enabled()
    before = patient_now(page)

    say(page, box, DISMISSIVE, 2)
    dismissed = patient_now(page)
    assert dismissed["trust"] < before["trust"], "the dismissive turn should cost trust"
    page.screenshot(path=str(art / f"retry-1-dismissive-{size}.png"))

    retry.click()
    expect(page.locator('.turn--learner[data-turn-id="2"]')).to_have_class(re.compile(r"\bturn--rewound\b"))
    expect(page.locator('.turn--patient[data-turn-id="2"]')).to_have_class(re.compile(r"\bturn--rewound\b"))
    expect(page.locator('.turn--learner[data-turn-id="2"] .badge--rewound')).to_have_text("Taken back")
    assert patient_now(page) == before, "the meters and the feeling should be back where they were before turn 2"
    expect(retry).to_be_disabled()  # the turn taken back cannot be taken back again
    expect(box).to_be_focused()
    page.screenshot(path=str(art / f"retry-2-taken-back-{size}.png"))

    say(page, box, EMPATHIC, 3)
    after = patient_now(page)
    assert after["trust"] > before["trust"], "the empathic retry should earn trust from where turn 1 left it"
    expect(page.locator('.turn--learner[data-turn-id="3"] .badge--retry')).to_be_visible()
    expect(page.locator(".turn--rewound")).to_have_count(2)  # both attempts stay in the transcript
    page.screenshot(path=str(art / f"retry-3-said-again-{size}.png"))

    turns = {t["turn_id"]: t for t in session_turns(page, live_server)}
    assert turns[2]["branch"] == {"status": "rewound", "retried_by": 3} and turns[3]["retry_of"] == 2

    end_session(page)
    attempts = page.locator(".attempts")
    expect(attempts).to_have_count(1)
    cards = attempts.locator(".attempt")
    expect(cards).to_have_count(2)
    first, kept = cards.nth(0), cards.nth(1)
    expect(first.locator(".attempt__head")).to_have_text("First attempt · taken back")
    expect(kept.locator(".attempt__head")).to_have_text("Retry · kept")
    expect(first.locator(".bubble--learner")).to_have_text(DISMISSIVE)
    expect(kept.locator(".bubble--learner")).to_have_text(EMPATHIC)
    for card in (first, kept):  # each attempt with its grade and the patient's reply
        expect(card.locator(".grade-chip")).to_be_visible()
        expect(card.locator(".bubble--patient")).to_be_visible()
    a, b = first.bounding_box(), kept.bounding_box()
    if size == "desktop":
        assert abs(a["y"] - b["y"]) < 1 and b["x"] >= a["x"] + a["width"], "the attempts should sit side by side"
    else:
        assert b["y"] >= a["y"] + a["height"], "on a phone the retry should sit below the first attempt"
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), \
        "the debrief scrolls sideways"
    # the chart follows the conversation the patient lived: no point for the turn taken back
    page.locator(".chart-table summary").click()
    rows = page.locator(".chart-table tbody th").all_inner_texts()
    assert rows == ["Start", "1", "3"]
    expect(page.locator(".debrief__meta")).to_contain_text("1 taken back")
    page.screenshot(path=str(art / f"retry-4-debrief-{size}.png"), full_page=True)


def test_try_that_again_is_hidden_when_the_case_forbids_it(pages, live_server, art):  # noqa: F811
    """A pack with allow_retry: false reaches the page as persona.allow_retry false (the server
    side is tests/test_retry.py::test_retry_forbidden_by_the_case); here a proxy sets it."""
    page = pages(DESKTOP).page

    def forbid(ws):
        server = ws.connect_to_server()

        def down(message):
            if isinstance(message, str):
                event = json.loads(message)
                if event.get("type") == "session.started":
                    event["persona"]["allow_retry"] = False
                    message = json.dumps(event)
            ws.send(message)
        server.on_message(down)

    page.route_web_socket(re.compile(r"/ws/session$"), forbid)
    box = start_text_session(page, live_server, "retry-forbidden")
    say(page, box, DISMISSIVE, 1)
    expect(page.locator("#retry-turn")).to_have_count(0)
    page.screenshot(path=str(art / "retry-forbidden-desktop.png"))


def test_try_that_again_in_a_voice_session(pages, live_server, art):  # noqa: F811
    """In voice mode the button waits while the learner talks (and while a reply is heard),
    then takes the turn back as in text mode; the next turn, here typed, is the retry."""
    page = pages(DESKTOP).page
    sockets, _ = start_voice_session_without_audio(page, live_server, "retry-voice")
    box = page.locator("#learner-text")
    expect(box).to_be_visible(timeout=15_000)
    say(page, box, GREETING, 1)
    before = patient_now(page)
    say(page, box, DISMISSIVE, 2)
    retry = page.get_by_role("button", name="Try that again")
    expect(retry).to_be_enabled()
    sockets[-1].send(json.dumps({"type": "vad.speech_started", "during_patient": False}))
    expect(retry).to_be_disabled()  # the learner is talking
    sockets[-1].send(json.dumps({"type": "vad.speech_stopped"}))
    expect(page.locator(".activity")).to_contain_text("Transcribing")
    expect(retry).to_be_disabled()  # what they said may still become a turn
    sockets[-1].send(json.dumps({"type": "vad.discarded", "reason": "no speech recognised"}))
    expect(retry).to_be_enabled()  # it did not: the last turn can still be taken back
    retry.click()
    expect(page.locator('.turn--learner[data-turn-id="2"]')).to_have_class(re.compile(r"\bturn--rewound\b"))
    assert patient_now(page) == before
    say(page, box, EMPATHIC, 3)
    expect(page.locator('.turn--learner[data-turn-id="3"] .badge--retry')).to_be_visible()
    page.screenshot(path=str(art / "retry-voice-desktop.png"))
