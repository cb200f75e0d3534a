"""The opt-in API docs (BEDSIDE_API_DOCS) in a real browser, offline: Debian's Chromium with
no route to the internet, under the pages' own Content-Security-Policy.

Swagger UI and ReDoc must render every operation from scripts this server serves (the
packaged copies), and a Swagger "Try it out" call must get its answer. Without the package,
the pages explain what is missing instead of staying blank. The app runs in-process with a
stub engine: no model is loaded.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from types import SimpleNamespace

import httpx
import pytest

from server.api import docs_pages
from server.api.app import create_app
from server.config import Settings
from server.store.sql import open_store
from tests.browser_util import BASE_ARGS, CHROMIUM, REPORT_CSP, playwright_or_skip
from tests.thread_server import AppThread

pytestmark = pytest.mark.slow

playwright_api = playwright_or_skip()
expect = playwright_api.expect

# ReDoc's sidebar shows the Redocly logo from its CDN; the page's policy blocks it (the image then
# hides itself), so nothing is fetched. This is the one violation a docs page may report.
REDOCLY_LOGO = "img-src blocked https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS)
        yield b
        b.close()


@contextmanager
def serve_with_docs(data_dir):
    """A server with the API docs on, as an operator would run it."""
    settings = Settings(data_dir=data_dir, persona_dir=data_dir, database_url=None, api_docs=True)
    store = open_store(settings.resolved_database_url())
    engine = SimpleNamespace(registry=SimpleNamespace(packs={}, problems=[]))
    try:
        with AppThread(create_app(settings, engine=engine, store=store, educator_token="t" * 32)) as server:
            yield server
    finally:
        store.close()


@pytest.fixture
def docs_server(tmp_path):
    with serve_with_docs(tmp_path) as server:
        yield server


class Watched:
    """A page that records every request, CSP violation and script error."""

    def __init__(self, browser, origin: str):
        self.origin = origin
        self.context = browser.new_context()
        self.context.add_init_script(REPORT_CSP)
        self.violations: list[str] = []
        self.requests: list[str] = []
        self.blocked: list[str] = []  # stopped by the policy before leaving the browser
        self.errors: list[str] = []
        self.context.expose_function("bedsideCspViolation", lambda text: self.violations.append(text))
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.blocked.append(r.url) if r.failure == "csp" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def left_the_origin(self) -> list[str]:
        """Requests that went anywhere but this server (a same-origin blob: worker stays)."""
        here = re.compile(rf"(blob:)?{re.escape(self.origin)}/")
        return [u for u in self.requests if not here.match(u) and u not in self.blocked]


@pytest.fixture
def watch(browser):
    opened: list[Watched] = []

    def make(origin: str) -> Watched:
        opened.append(Watched(browser, origin))
        return opened[-1]

    yield make
    for w in opened:
        w.context.close()


def operations(server) -> list[tuple[str, str]]:
    schema = httpx.get(server.url + "/openapi.json", timeout=10).json()
    return [(method.upper(), path) for path, item in schema["paths"].items() for method in item]


def test_swagger_ui_lists_every_operation_and_calls_the_api(docs_server, watch):
    ops = operations(docs_server)
    assert ("GET", "/api/personas") in ops and len(ops) >= 5
    w = watch(docs_server.url)
    page = w.page
    page.goto(docs_server.url + "/docs")
    blocks = page.locator(".opblock")
    expect(blocks).to_have_count(len(ops), timeout=20_000)
    for method, path in ops:
        expect(page.locator(f'.opblock-summary-path[data-path="{path}"]').first).to_be_visible()

    # "Try it out" on /healthz: the call goes to this server and its answer is shown
    health = page.locator(".opblock", has=page.locator('.opblock-summary-path[data-path="/healthz"]'))
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    expect(health.locator(".live-responses-table tr.response .response-col_status").first).to_have_text("200", timeout=10_000)
    expect(health.locator(".live-responses-table .microlight").first).to_contain_text('"version"')

    assert w.errors == [], f"script errors: {w.errors}"
    assert w.violations == [], f"Content-Security-Policy violations: {w.violations}"
    assert w.left_the_origin() == [], f"requests that left the origin: {w.left_the_origin()}"
    assert any(u.endswith("/docs/assets/swagger-ui-bundle.js") for u in w.requests)


def test_redoc_lists_every_operation(docs_server, watch):
    ops = operations(docs_server)
    w = watch(docs_server.url)
    page = w.page
    page.goto(docs_server.url + "/redoc")
    expect(page.locator('[data-section-id^="operation/"]')).to_have_count(len(ops), timeout=20_000)
    expect(page.get_by_role("heading", name=re.compile(r"^Bedside"))).to_be_visible()
    page.wait_for_timeout(300)  # let any late report arrive

    assert w.errors == [], f"script errors: {w.errors}"
    assert set(w.violations) <= {REDOCLY_LOGO + " at :0"} and all(REDOCLY_LOGO in v for v in w.violations), w.violations
    assert w.left_the_origin() == [], f"requests that left the origin: {w.left_the_origin()}"


def test_without_the_packaged_scripts_the_pages_say_what_is_missing(tmp_path, watch, monkeypatch):
    monkeypatch.setattr(docs_pages, "packaged_assets", lambda: None)
    with serve_with_docs(tmp_path) as server:
        w = watch(server.url)
        for path, name in (("/docs", "Swagger UI"), ("/redoc", "ReDoc")):
            response = w.page.goto(server.url + path)
            assert response.status == 503
            expect(w.page.get_by_role("heading", level=1)).to_have_text(f"{name} is not installed on this server")
            expect(w.page.locator("#api-docs-unavailable")).to_contain_text("pip install fastapi-offline")
        w.page.get_by_role("link", name="/openapi.json").click()
        expect(w.page.locator("body")).to_contain_text('"openapi"')
    assert w.errors == [] and w.violations == [] and w.left_the_origin() == []
