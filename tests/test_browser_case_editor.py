"""The case editor in real Chromium, at a laptop and a phone size: sign in, copy a case, edit a
fact's answer and watch the live check flag the empty answer and clear it, try the draft in the
chat, save it, save again and find the first version in the history. The app runs in-process on
the shared engine's models over a persona directory of its own."""

from __future__ import annotations

import pytest

from tests.browser_util import REPORT_CSP, artifacts_dir, playwright_or_skip
from tests.test_browser_api_docs import browser  # noqa: F401  (fixture: one Chromium for the module)
from tests.test_case_editor import CASE, TOKEN, editor_app
from tests.thread_server import AppThread

pytestmark = pytest.mark.slow

playwright_api = playwright_or_skip()
expect = playwright_api.expect

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory):
    app, packs, _, store = editor_app(engine, tmp_path_factory, "browser-editor")
    with AppThread(app) as srv:
        srv.packs = packs
        yield srv
    store.close()


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_copy_edit_check_try_save_and_history(server, browser, size):  # noqa: F811
    name = "laptop" if size is LAPTOP else "phone"
    new_id = f"chest-pain-{name}"
    art = artifacts_dir()
    context = browser.new_context(viewport=size)
    context.add_init_script(REPORT_CSP)
    violations, errors = [], []
    context.expose_function("bedsideCspViolation", lambda text: violations.append(text))
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: d.accept())
    try:
        page.goto(server.url + "/educator/cases")
        page.fill("#ce-token", "not the token")
        page.get_by_role("button", name="Open the case editor").click()
        expect(page.locator("#ce-token-error")).to_contain_text("not accepted")
        page.fill("#ce-token", TOKEN)
        page.get_by_role("button", name="Open the case editor").click()
        expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
        page.screenshot(path=str(art / f"case-editor-list-{name}.png"), full_page=True)

        # copy the case under a new id
        page.get_by_role("button", name=f"Copy Chest tightness in a frightened father of two ({CASE})").click()
        page.get_by_label("New id for the copy").fill(new_id)
        page.get_by_role("button", name="Make the copy").click()
        expect(page.locator("h1")).to_contain_text("New case (a copy of chest-pain-anxiety)")
        status = page.locator(".ce-status")
        expect(status).to_have_text("No problems: the case is valid")

        # edit a fact's open answer: empty is flagged beside the field, then cleared
        page.locator("[data-section=facts] > summary").click()
        page.locator("[data-path='facts.0'] > summary").click()
        answer = page.locator("[data-path='facts.0.answers.open'] textarea")
        answer.fill("")
        expect(status).to_have_text("1 problem to fix")
        expect(page.locator("[data-path='facts.0.answers.open'] .ce-error")).to_contain_text("may not be empty")
        expect(answer).to_have_attribute("aria-invalid", "true")
        expect(page.locator("[data-section=facts] > summary .ce-badge")).to_have_text("1 problem")
        page.screenshot(path=str(art / f"case-editor-error-{name}.png"))
        answer.fill("It's like a band across my chest, and it scares me more than I let on.")
        expect(status).to_have_text("No problems: the case is valid")
        expect(page.locator(".ce-form .ce-error")).to_have_count(0)
        expect(answer).not_to_have_attribute("aria-invalid", "true")

        # a gate's prerequisite is chosen from the case's own ids
        prereq_add = page.locator("[data-path='facts.0.gate.requires'] .ce-add")
        prereq_add.click()
        choice = page.locator("[data-path='facts.0.gate.requires.0'] select")
        options = choice.locator("option").all_inner_texts()
        assert "disclosed: onset_timing" in options and any(o.startswith("acknowledged: ") for o in options)
        page.locator("[data-path='facts.0.gate.requires.0']").locator("..").get_by_role("button", name="Remove").click()
        expect(page.locator("[data-path='facts.0.gate.requires.0']")).to_have_count(0)

        # try the unsaved draft
        page.get_by_role("button", name="Start chat").click()
        log = page.locator(".ce-try__log")
        # the first turn builds the draft's question index: allow for a busy machine
        expect(log.locator(".ce-try__turn--patient").first).to_contain_text("It's my chest", timeout=60_000)
        page.fill("#ce-try-text", "That sounds frightening. Can you describe the pain for me?")
        page.get_by_role("button", name="Send").click()
        expect(log.locator(".ce-try__turn--patient")).to_have_count(2, timeout=60_000)
        expect(log.locator(".ce-try__grade")).to_contain_text("trust")
        page.locator(".ce-try").screenshot(path=str(art / f"case-editor-try-{name}.png"))

        # save (a new case), then edit and save again: the first version is in the history
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".ce-history__current")).to_contain_text("Current version: ")
        assert (server.packs / new_id / "persona.yaml").exists()
        first = page.locator(".ce-history__current").inner_text().split(": ")[1]
        assert "# The key teaching moment" in (server.packs / new_id / "persona.yaml").read_text()
        expect(page.locator("h1")).to_contain_text("Edit: ")
        answer.fill("It's a band across my chest. It frightens me.")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".ce-history__item")).to_have_count(1)
        expect(page.locator(".ce-history__item code")).to_have_text(first)
        expect(page.locator(".ce-history__current")).not_to_contain_text(first)
        assert "It frightens me." in (server.packs / new_id / "persona.yaml").read_text()
        page.locator(".ce-history").scroll_into_view_if_needed()
        page.screenshot(path=str(art / f"case-editor-saved-{name}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        assert not violations and not errors, (violations, errors)
    finally:
        context.close()
