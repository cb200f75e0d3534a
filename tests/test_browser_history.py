"""Learner history in a real Chromium against a live `bedside serve` (the fixtures of
tests/test_browser.py): the personal key shown once on the first visit, My sessions listing a
finished session with its case and scores, its debrief opened in a new tab and on "another
device" (a fresh browser context that has only the key, typed in), and another learner's key
seeing none of it.

Sizes are a 1366x768 desktop and a 390x844 phone; screenshots go to $BEDSIDE_TEST_ARTIFACTS
(default test-artifacts/).
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.browser_util import playwright_or_skip
from tests.test_browser import (  # noqa: F401  (fixtures)
    art, browser, choose_case, end_session, pages, personas, start_text_session,
)
from tests.test_browser_ui_fixes import PHONE, SIZES  # the sizes: 1366x768 and 390x844

pytestmark = pytest.mark.slow

playwright_api = playwright_or_skip()
expect = playwright_api.expect

CASE = "chest-pain-anxiety"
TURN = "Hello, I'm Dr Lee. That sounds really frightening; what worries you most about it?"

HELD_KEY = "(() => { const k = JSON.parse(localStorage.getItem('bedside.personalKey') || 'null'); return k && k.key; })()"
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def held_key(page) -> str | None:
    return page.evaluate(HELD_KEY)


def my_sessions(server, key: str) -> dict:
    r = httpx.get(server.url + "/api/me/sessions", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    r.raise_for_status()
    return r.json()


def first_visit_shows_the_key(page, server, art, name: str) -> str:
    """The first visit: the key panel, holding the key this browser keeps and the server knows."""
    page.goto(server.url + "/")
    panel = page.locator("#key-panel")
    expect(panel).to_be_visible(timeout=10_000)
    expect(panel).to_contain_text("This is your personal key. Keep it to see your sessions on another device.")
    key = held_key(page)
    assert key and page.locator("#personal-key").input_value() == key
    assert my_sessions(server, key) == {"learner_id": None, "sessions": []}
    page.screenshot(path=str(art / f"history-key-{name}.png"))
    return key


@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_history_across_tabs_and_devices(pages, live_server, art, size):  # noqa: F811
    viewport = dict(SIZES)[size]
    learner = f"history-{size}-{uuid.uuid4().hex[:4]}"
    page = pages(viewport).page

    # 1. the first visit shows the key, once; Copy says what happened; the panel goes when dismissed
    key = first_visit_shows_the_key(page, live_server, art, size)
    page.locator("#key-panel").get_by_role("button", name="Copy").click()
    expect(page.locator("#personal-key-status")).not_to_be_empty()
    page.get_by_role("button", name="I have kept it").click()
    expect(page.locator("#key-panel")).to_have_count(0)
    expect(page.locator("#learner-id")).to_be_focused()
    page.reload()
    expect(page.locator(".case-card").first).to_be_visible(timeout=10_000)
    page.wait_for_timeout(500)  # time for a panel that should not come
    expect(page.locator("#key-panel")).to_have_count(0)
    assert held_key(page) == key

    # 2. a short typed session, ended: the debrief
    box = start_text_session(page, live_server, learner)
    box.fill(TURN)
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="1"]')).to_be_visible(timeout=20_000)
    end_session(page)
    session_id = page.url.rsplit("/", 1)[-1]
    title = next(p for p in personas(live_server) if p["id"] == CASE)["title"]
    mine = my_sessions(live_server, key)
    assert mine["learner_id"] == learner and [s["session"]["id"] for s in mine["sessions"]] == [session_id]
    scores = mine["sessions"][0]["session"]["scores"]

    # 3. My sessions lists it: case, status and scores, and its debrief opens from there
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My sessions").click()
    item = page.locator(f'.history-item[data-session-id="{session_id}"]')
    expect(item).to_be_visible(timeout=10_000)
    expect(item.locator(".history-item__title")).to_have_text(title)
    expect(item.locator(".status")).to_have_text("Ended")
    eccs = "—" if scores["mean_eccs"] is None else f"{scores['mean_eccs']:.1f} / 6"
    expect(item.locator(".history-score", has_text="Empathy")).to_contain_text(eccs)
    expect(item.locator(".history-score", has_text="Feelings met")).to_contain_text(
        f"{scores['opportunities_met']} of {scores['opportunities']}")
    expect(item.locator(".history-score", has_text="Concerns found")).to_contain_text(
        f"{scores['concerns_found']} of {scores['concerns_total']}")
    expect(page.locator("#history-count")).to_contain_text(learner)
    assert page.evaluate(SIDEWAYS) <= 0, "My sessions scrolls sideways"
    page.screenshot(path=str(art / f"history-list-{size}.png"), full_page=True)
    item.get_by_role("link", name="Open debrief").click()
    expect(page.locator("#debrief-title")).to_have_text(title, timeout=15_000)

    # the name is the key's now: the case picker shows it and will not change it
    page.goto(live_server.url + "/")
    expect(page.locator("#learner-id")).to_have_value(learner)
    expect(page.locator("#learner-id")).to_have_attribute("readonly", "")

    # 4. a new tab of the same browser: no session token there, the key opens the debrief
    tab = page.context.new_page()
    tab.goto(f"{live_server.url}/#/debrief/{session_id}")
    expect(tab.locator("#debrief-title")).to_have_text(title, timeout=15_000)
    expect(tab.locator("svg.chart")).to_be_visible()
    assert tab.evaluate("sessionStorage.getItem('bedside.tokens')") is None  # the key did it, not the session token
    tab.close()

    # 5. another device: a fresh browser that has only the key, typed in at the debrief link
    other = pages(viewport).page
    other.goto(f"{live_server.url}/#/debrief/{session_id}")
    expect(other.get_by_role("heading", name="Enter your personal key to open this debrief")).to_be_visible()
    form_key = other.locator("#enter-key")
    form_key.fill("not-my-key")
    form_key.press("Enter")
    expect(other.locator("#enter-key-error")).to_contain_text("not recognised")
    other.screenshot(path=str(art / f"history-enter-key-{size}.png"), full_page=True)
    form_key.fill(key)
    other.get_by_role("button", name="Open the debrief").click()
    expect(other.locator("#debrief-title")).to_have_text(title, timeout=15_000)
    expect(other.locator("svg.chart")).to_be_visible()
    expect(other.locator("#debrief-title")).to_be_focused()
    assert other.evaluate(SIDEWAYS) <= 0, "the debrief scrolls sideways"
    other.screenshot(path=str(art / f"history-other-device-debrief-{size}.png"))
    # and its My sessions lists the same session
    other.goto(live_server.url + "/#/me")
    expect(other.locator(f'.history-item[data-session-id="{session_id}"]')).to_be_visible(timeout=10_000)

    # 6. another learner's key sees none of it
    stranger = pages(viewport).page
    their_key = first_visit_shows_the_key(stranger, live_server, art, f"{size}-stranger")
    assert their_key != key
    stranger.goto(live_server.url + "/#/me")
    expect(stranger.locator("#history-count")).to_have_text("No sessions yet", timeout=10_000)
    expect(stranger.locator(".history-item")).to_have_count(0)
    stranger.goto(f"{live_server.url}/#/debrief/{session_id}")
    expect(stranger.get_by_role("alert")).to_contain_text("not one of your sessions", timeout=10_000)
    expect(stranger.locator("#debrief-title")).to_have_count(0)
    stranger.screenshot(path=str(art / f"history-stranger-{size}.png"))
    # nor can it start sessions under the name the first key holds: the page says what to do
    choose_case(stranger, live_server, learner)
    stranger.locator("label.choice", has_text="Text only").click()
    stranger.locator("#start-session").click()
    refused = stranger.locator(".notice--error", has_text="That name is taken.")
    expect(refused).to_be_visible(timeout=15_000)
    expect(stranger.locator("#start-session")).to_be_enabled()
    stranger.screenshot(path=str(art / f"history-name-taken-{size}.png"))
    refused.get_by_role("button", name="Enter your key").click()
    expect(stranger).to_have_url(re.compile(r"#/me$"))
    assert my_sessions(live_server, their_key)["learner_id"] is None  # the stranger's key stayed untied


def test_my_sessions_without_a_key_asks_for_it(pages, live_server, art):  # noqa: F811
    """A device that never chose a case holds no key: My sessions asks for one instead of
    making one (the learner wants their own sessions there)."""
    page = pages(PHONE).page
    page.goto(live_server.url + "/#/me")
    expect(page.get_by_role("heading", name="Enter your personal key")).to_be_visible()
    assert held_key(page) is None
    nav = page.locator(".topnav")
    assert nav.evaluate("n => n.scrollWidth <= n.clientWidth"), "the top links do not fit a phone"
    assert page.evaluate(SIDEWAYS) <= 0
    page.locator("#enter-key").press("Enter")
    expect(page.locator("#enter-key-error")).to_have_text("Enter your personal key.")
    expect(page.locator("#enter-key")).to_be_focused()
    expect(page.locator("#enter-key")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(art / "history-no-key-phone.png"), full_page=True)
    assert re.search(r"#/me$", page.url)
