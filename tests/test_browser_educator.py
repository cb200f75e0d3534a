"""The educator page in a real Chromium (issue 19, items 5 and 7): sign in, the scores and an
abandoned session in the list, the cohort report and its filters, and each download saved as
a file and read back. The app runs in-process on a store seeded with hand-made grades
(tests/educator_seed.py) and a stub engine, so no model is loaded and every figure is known.

Sizes are a 1366x768 desktop and a 390x844 phone; screenshots go to $BEDSIDE_TEST_ARTIFACTS
(default test-artifacts/).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest

from eval.export.xapi_check import check_statements
from eval.web.routes import router as cohort_router
from server.api.app import create_app
from server.persona.loader import PackRegistry
from server.store.sql import open_store
from tests.browser_util import REPORT_CSP, artifacts_dir, playwright_or_skip
from tests.test_browser_api_docs import browser  # noqa: F401  (fixture: Chromium with no camera or microphone)
from tests.educator_seed import seed_session
from tests.test_browser import unlabelled_controls
from tests.thread_server import AppThread

pytestmark = pytest.mark.slow

playwright_api = playwright_or_skip()
expect = playwright_api.expect

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
TOKEN = "educator-" + "x" * 32
CHEST = "chest-pain-anxiety"
BEREAVED = "bereaved-daughter"


@pytest.fixture(scope="module")
def server(persona_dir, settings, tmp_path_factory):
    """Four sessions: ana's ended ones (one three days old), ben's left five hours ago, cy's going on."""
    registry = PackRegistry(persona_dir)
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('educator-browser') / 'bedside.db'}")
    chest = registry.packs[CHEST]
    ids = {
        "ana-old": seed_session(store, chest, "ana", [4, 1, None, 5], concerns=1, idle=timedelta(days=3)),
        "ben": seed_session(store, chest, "ben", [2, None], end=False, idle=timedelta(hours=5)),
        "ana-new": seed_session(store, registry.packs[BEREAVED], "ana", [3, 3]),
        "cy": seed_session(store, chest, "cy", [None], end=False),
    }
    s = settings.model_copy(update={"abandon_after_min": 120})
    app = create_app(s, engine=SimpleNamespace(registry=registry), store=store, educator_token=TOKEN,
                     routers=[cohort_router])
    with AppThread(app) as running:
        yield SimpleNamespace(url=running.url, ids=ids, concerns=len(chest.hidden_concerns))
    store.close()


class Watched:
    """A page that records script errors, CSP violations and every address it asked for."""

    def __init__(self, browser, viewport):
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.context.add_init_script(REPORT_CSP)
        self.errors: list[str] = []
        self.violations: list[str] = []
        self.requests: list[str] = []
        self.context.expose_function("bedsideCspViolation", lambda text: self.violations.append(text))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def close(self):
        self.context.close()
        assert not self.errors, f"script errors on the page: {self.errors}"
        assert not self.violations, f"Content-Security-Policy violations: {self.violations}"


def sign_in(page, server):
    page.goto(server.url + "/educator")
    page.wait_for_url(re.compile(r"#/educator$"))
    page.fill("#educator-token", TOKEN)
    page.get_by_role("button", name="Open sessions").click()
    expect(page.locator(".sessions-table tbody tr")).to_have_count(4, timeout=10_000)


def row_of(page, server, key):
    return page.locator(".sessions-table tbody tr").filter(
        has=page.locator(f'a[href="#/educator/{server.ids[key]}"]'))


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def download(page, label: str) -> tuple[str, str]:
    """Click a download button; (the file's suggested name, its text)."""
    with page.expect_download(timeout=15_000) as info:
        page.locator(f'.downloads button[data-format="{label}"]').click()
    d = info.value
    assert d.failure() is None, d.failure()
    with open(d.path(), encoding="utf-8") as fh:
        return d.suggested_filename, fh.read()


@pytest.mark.parametrize("size", list(SIZES))
def test_scores_abandoned_sessions_cohort_and_downloads(browser, server, size):
    w = Watched(browser, SIZES[size])
    page = w.page
    art = artifacts_dir()
    try:
        sign_in(page, server)

        # scores of an ended session; dashes for sessions not ended; ben's is abandoned
        old = row_of(page, server, "ana-old")
        expect(old.locator('td[data-label="Mean ECCS"]')).to_have_text("3.33")
        expect(old.locator('td[data-label="Opportunities met"]')).to_have_text("2 of 3")
        expect(old.locator('td[data-label="Concerns found"]')).to_have_text(f"1 of {server.concerns}")
        expect(old.locator(".status")).to_have_text("Ended")
        expect(row_of(page, server, "ben").locator(".status")).to_have_text("Abandoned")
        expect(row_of(page, server, "ben").locator('td[data-label="Mean ECCS"]')).to_contain_text("not ended")
        expect(row_of(page, server, "cy").locator(".status")).to_have_text("In progress")
        expect(page.locator(".status--abandoned")).to_have_count(1)
        for cell in ("Mean ECCS", "Opportunities met", "Concerns found"):
            expect(old.locator(f'td[data-label="{cell}"]')).to_be_visible()
        assert no_sideways_scroll(page)
        assert unlabelled_controls(page) == []
        page.screenshot(path=str(art / f"educator-scores-{size}.png"), full_page=True)

        # the cohort report of the same sessions
        page.get_by_role("link", name="Cohort report").click()
        page.wait_for_url(re.compile(r"#/educator/cohort$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Cohort report")
        expect(page.get_by_role("link", name="Cohort report")).to_have_attribute("aria-current", "page")
        sessions_card = page.locator(".cohort .score").filter(has_text="Sessions")
        expect(sessions_card).to_contain_text("2 completed, 1 abandoned, 1 in progress", timeout=10_000)
        expect(sessions_card.locator(".score__value")).to_have_text("4")
        cases = page.get_by_role("region", name="Cases, hardest first").locator("tbody tr")
        learners = page.get_by_role("region", name="Learners").locator("tbody tr")
        expect(cases).to_have_count(2)
        expect(learners).to_have_count(3)
        expect(learners.filter(has_text="ben")).to_contain_text("1")  # one abandoned
        assert no_sideways_scroll(page), "a wide table must scroll in its own region, not the page"
        assert unlabelled_controls(page) == []
        page.screenshot(path=str(art / f"educator-cohort-{size}.png"), full_page=True)

        # filters: a case, then a learner, then dates with no session
        page.select_option("#f-persona", CHEST)
        expect(sessions_card.locator(".score__value")).to_have_text("3", timeout=10_000)
        expect(cases).to_have_count(1)
        page.fill("#f-learner", "ben")
        expect(sessions_card.locator(".score__value")).to_have_text("1", timeout=10_000)
        expect(sessions_card).to_contain_text("0 completed, 1 abandoned, 0 in progress")
        expect(learners).to_have_count(1)
        page.screenshot(path=str(art / f"educator-cohort-filtered-{size}.png"), full_page=True)

        # each download holds the sessions the filters match: ben's abandoned one
        name, text = download(page, "CSV")
        assert re.fullmatch(r"bedside-sessions-\d{8}-\d{6}\.csv", name), name
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [(r["session_id"], r["status"], r["mean_eccs"]) for r in rows] == [(server.ids["ben"], "abandoned", "2.0")]
        expect(page.locator(".downloads__status")).to_contain_text(f"Downloaded {name}")

        name, text = download(page, "xAPI")
        assert re.fullmatch(r"bedside-xapi-\d{8}-\d{6}\.json", name), name
        statements = json.loads(text)
        assert check_statements(statements) == [] and len(statements) == 2 + 1
        assert {s["actor"]["account"]["name"] for s in statements} == {"ben"}

        name, text = download(page, "JSONL")
        assert re.fullmatch(r"bedside-turns-\d{8}-\d{6}\.jsonl", name), name
        lines = [json.loads(line) for line in text.splitlines()]
        assert [(x["session_id"], x["turn"], x["session_status"]) for x in lines] == [
            (server.ids["ben"], 1, "abandoned"), (server.ids["ben"], 2, "abandoned")]

        # the token went in headers only, never in an address
        assert [u for u in w.requests if TOKEN in u] == []
        assert any("/api/export/jsonl" in u for u in w.requests)

        # no session started tomorrow: nothing to show and nothing to download
        tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
        page.fill("#f-learner", "")
        page.fill("#f-from", tomorrow)
        page.locator("#f-from").dispatch_event("change")
        expect(page.locator(".results .empty")).to_contain_text("No sessions match")
        for label in ("CSV", "xAPI", "JSONL"):
            expect(page.locator(f'.downloads button[data-format="{label}"]')).to_be_disabled()
        page.get_by_role("button", name="Clear").click()
        expect(sessions_card.locator(".score__value")).to_have_text("4", timeout=10_000)

        # back to the list, where the same filters apply
        page.get_by_role("link", name="Sessions", exact=True).click()
        page.wait_for_url(re.compile(r"#/educator$"))
        expect(page.locator(".sessions-table tbody tr")).to_have_count(4)
    finally:
        w.close()


def test_downloads_are_keyboard_operable(browser, server):
    w = Watched(browser, DESKTOP)
    page = w.page
    try:
        sign_in(page, server)
        button = page.locator('.downloads button[data-format="CSV"]')
        button.focus()
        with page.expect_download(timeout=15_000) as info:
            page.keyboard.press("Enter")
        assert info.value.suggested_filename.endswith(".csv")
        expect(page.locator(".downloads__status")).to_contain_text("4 sessions")
    finally:
        w.close()
