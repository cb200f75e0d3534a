"""The debrief shows the case's learning objectives, each "Met (turn N)" or "Not yet" as the
stored summary says, and the case author's teaching notes: a real Chromium against a live
`bedside serve` (the fixtures of tests/test_browser.py), at a 1366x768 desktop and a 390x844
phone. Screenshots go to $BEDSIDE_TEST_ARTIFACTS (default test-artifacts/)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser_util import playwright_or_skip
from tests.test_browser import art, browser, end_session, pages, start_text_session  # noqa: F401  (fixtures)
from tests.test_browser import no_sideways_scroll
from tests.test_engine import EMPATHIC

pytestmark = pytest.mark.slow

playwright_api = playwright_or_skip()
expect = playwright_api.expect

SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
TURNS = EMPATHIC[:4]  # the fourth answers the cue about his father with a continuer


@pytest.mark.parametrize("size", list(SIZES))
def test_debrief_shows_objectives_met_at_their_turn_and_the_teaching_notes(pages, live_server, art, size):  # noqa: F811
    page = pages(SIZES[size]).page
    box = start_text_session(page, live_server, f"objectives-{size}")
    session = page.evaluate("JSON.parse(sessionStorage.getItem('bedside.active'))")
    for n, text in enumerate(TURNS, 1):
        box.fill(text)
        box.press("Enter")
        expect(page.locator(f'.turn--patient[data-turn-id="{n}"]')).to_be_visible(timeout=20_000)
    end_session(page)

    r = httpx.get(f"{live_server.url}/api/sessions/{session['session_id']}",
                  headers={"Authorization": f"Bearer {session['token']}"}, timeout=10)
    r.raise_for_status()
    summary = r.json()["summary"]
    objectives = summary["objectives"]
    assert objectives and summary["debrief_notes"]
    assert any(o["met"] for o in objectives), "the scripted continuer to the father cue should meet an objective"
    assert any(o["assessed"] and not o["met"] for o in objectives), "four turns cannot meet every objective"

    section = page.locator("section.objectives")
    expect(section).to_be_visible()
    expect(section.get_by_role("heading", name="Learning objectives")).to_be_visible()
    items = section.locator("li.objective")
    assert items.count() == len(objectives)
    for i, o in enumerate(objectives):
        item = items.nth(i)
        assert o["text"] in item.inner_text()
        verdict = item.locator(".objective__verdict").inner_text()
        if not o["assessed"]:
            assert verdict.startswith("Not checked automatically")
        elif o["met"]:
            assert verdict == f"Met (turn {o['turn']})" and 1 <= o["turn"] <= len(TURNS)
        else:
            assert verdict == "Not yet"
    assert re.search(r"\d+ of \d+ shown in this session", section.inner_text())

    notes = page.locator("section.teaching-notes")
    expect(notes.get_by_role("heading", name="Teaching notes")).to_be_visible()
    shown = notes.locator("li")
    assert shown.count() == len(summary["debrief_notes"])
    assert [shown.nth(i).inner_text() for i in range(shown.count())] == summary["debrief_notes"]

    assert no_sideways_scroll(page), f"the debrief scrolls sideways at {size}"
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(art / f"objectives-{size}.png"))
    notes.screenshot(path=str(art / f"objectives-notes-{size}.png"))
    page.screenshot(path=str(art / f"objectives-debrief-{size}.png"), full_page=True)

    if size == "desktop":  # the printable report carries them too
        with page.expect_download() as dl:
            page.locator("#download-html").click()
        html = open(dl.value.path(), encoding="utf-8").read()
        assert "<h2>Learning objectives</h2>" in html and "<h2>Teaching notes</h2>" in html
        met = next(o for o in objectives if o["met"])
        assert f"Met (turn {met['turn']})" in html
