"""The browser client in a real browser: Debian's Chromium, driven by playwright, against
a live `bedside serve`.

The voice test sends real audio through the page's own microphone path: Chromium's fake
capture device plays a WAV synthesised with espeak-ng, the page's AudioWorklet filters,
resamples and streams it, and the server's VAD, Whisper, engine and TTS answer. Nothing
is installed or downloaded at test time.

Screenshots of every page (desktop and phone width) go to $BEDSIDE_TEST_ARTIFACTS
(default test-artifacts/).
"""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest

from tests.browser_util import (
    CHROMIUM, DENY_MIC, DESKTOP, NO_MIC, PHONE, REPORT_CSP, artifacts_dir, launch_args, playwright_or_skip, utterance_wav,
)

pytestmark = pytest.mark.slow

playwright_api = playwright_or_skip()
expect = playwright_api.expect

UTTERANCE = "When did the chest pain start?"
CASE = "chest-pain-anxiety"


@pytest.fixture(scope="module")
def art():
    return artifacts_dir()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    wav = utterance_wav(tmp_path_factory.mktemp("audio") / "learner.wav", UTTERANCE)
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=launch_args(wav))
        yield b
        b.close()


class Page:
    """A page in its own context that records uncaught script errors."""

    def __init__(self, browser, viewport, init_script: str | None = None):
        self.context = browser.new_context(viewport=viewport)
        if init_script:
            self.context.add_init_script(init_script)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self):
        self.context.close()
        assert not self.errors, f"script errors on the page: {self.errors}"


@pytest.fixture
def pages(browser):
    opened: list[Page] = []

    def make(viewport=DESKTOP, init_script=None) -> Page:
        p = Page(browser, viewport, init_script)
        opened.append(p)
        return p

    yield make
    for p in opened:
        p.close()


def personas(server) -> list[dict]:
    return httpx.get(server.url + "/api/personas", timeout=10).json()["personas"]


def choose_case(page, server, learner: str, persona_id: str = CASE) -> dict:
    persona = next(p for p in personas(server) if p["id"] == persona_id)
    page.goto(server.url + "/")
    page.fill("#learner-id", learner)
    page.get_by_role("button", name=f"Choose case: {persona['title']}").click()
    expect(page.locator("#start-session")).to_be_visible()
    return persona


def start_text_session(page, server, learner: str):
    """Choose the case, pick text only and start: the text box, once it shows."""
    choose_case(page, server, learner)
    page.locator("label.choice", has_text="Text only").click()
    page.locator("#start-session").click()
    box = page.locator("#learner-text")
    expect(box).to_be_visible(timeout=15_000)
    return box


def start_voice_session_without_audio(page, server, learner: str) -> tuple[list, dict]:
    """Start a voice session whose microphone audio a proxy keeps from the server, so only the
    events a test sends (to the page, through `sockets[-1]`) move the voice status. Returns the
    page's sockets (one per connection) and the persona."""
    sockets = []

    def proxy(ws):
        upstream = ws.connect_to_server()
        ws.on_message(lambda m: upstream.send(m) if isinstance(m, str) else None)  # JSON through, audio not
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/session$"), proxy)
    persona = choose_case(page, server, learner)
    expect(page.locator('input[name="mode"][value="voice"]')).to_be_checked()
    page.locator("#start-session").click()
    return sockets, persona


def meter_value(page, kind: str) -> float:
    return float(page.locator(f"#{kind}-meter").get_attribute("data-value"))


def end_session(page):
    page.get_by_role("button", name="End session").click()
    page.locator("#confirm-end").click()
    page.wait_for_url(re.compile(r"#/debrief/"), timeout=30_000)
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible(timeout=15_000)
    assert chart.locator("polyline").count() == 2  # trust and distress


def session_turns(page, server) -> list[dict]:
    """The session's stored turns, read with the learner token the page holds."""
    active = page.evaluate("JSON.parse(sessionStorage.getItem('bedside.active'))")
    r = httpx.get(f"{server.url}/api/sessions/{active['session_id']}",
                  headers={"Authorization": f"Bearer {active['token']}"}, timeout=10)
    r.raise_for_status()
    return r.json()["turns"]


# -- case picker -------------------------------------------------------------------------

def test_case_picker_lists_personas(pages, live_server, art):
    listed = personas(live_server)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        p = pages(viewport)
        page = p.page
        page.goto(live_server.url + "/")
        cards = page.locator(".case-card:not(.case-card--skeleton)")
        expect(cards.first).to_be_visible()
        assert cards.count() == len(listed)
        for persona in listed:
            card = page.locator(".case-card", has=page.get_by_role("heading", name=persona["title"]))
            expect(card).to_contain_text(persona["setting"][:40])
            expect(card.locator(".badge")).to_have_text(persona["difficulty"].capitalize())
            objectives = card.locator(".case-card__objectives li")
            assert objectives.count() == len(persona["learning_objectives"])
        page.screenshot(path=str(art / f"picker-{name}.png"), full_page=True)
        assert unlabelled_controls(page) == []
        assert no_sideways_scroll(page)

    # a name or id is required before a case can be chosen
    page.fill("#learner-id", "")
    page.locator(".case-card button").first.click()
    expect(page.locator("#learner-error")).to_be_visible()
    expect(page.locator("#learner-id")).to_be_focused()


# -- voice ---------------------------------------------------------------------------------

def test_voice_session_real_audio_round_trip(pages, live_server, art):
    p = pages(DESKTOP)
    page = p.page
    audio_frames = {"in": 0, "out": 0}

    def watch(ws):
        ws.on("framereceived", lambda f: audio_frames.__setitem__("in", audio_frames["in"] + 1) if isinstance(f, bytes) else None)
        ws.on("framesent", lambda f: audio_frames.__setitem__("out", audio_frames["out"] + 1) if isinstance(f, bytes) else None)

    page.on("websocket", watch)
    choose_case(page, live_server, "browser-voice")
    expect(page.locator('input[name="mode"][value="voice"]')).to_be_checked()
    page.locator("#start-session").click()

    # the opening line, then the meters at their starting values
    expect(page.locator(".turn--patient").first).to_be_visible(timeout=20_000)
    expect(page.locator("#trust-meter")).to_have_attribute("aria-valuenow", re.compile(r"^\d+$"))
    trust0, distress0 = meter_value(page, "trust"), meter_value(page, "distress")
    expect(page.locator("#mic-state")).to_have_text(re.compile("Listening|You are speaking|Patient is"), timeout=10_000)

    # the fake microphone's words come back as a transcribed learner turn...
    learner = page.locator(".turn--learner", has=page.locator(".bubble", has_text=re.compile(r"chest pain", re.I))).first
    expect(learner).to_be_visible(timeout=60_000)
    turn_id = learner.get_attribute("data-turn-id")
    assert turn_id and turn_id.isdigit()
    # ...followed by the patient's reply (text and audio) and a grade chip on the learner's turn
    expect(page.locator(f'.turn--patient[data-turn-id="{turn_id}"] .bubble')).not_to_be_empty(timeout=30_000)
    expect(learner.locator(".grade-chip")).to_be_visible()
    expect(learner.locator(".grade-chip")).to_contain_text(re.compile(r"ECCS \d|No cue"))
    expect(page.locator(".turn--patient.turn--heard").first).to_be_attached(timeout=20_000)
    assert audio_frames["out"] > 25, "the page sent no microphone audio"
    assert audio_frames["in"] > 0, "no patient audio reached the page"
    # the meters moved with the turn
    assert (meter_value(page, "trust"), meter_value(page, "distress")) != (trust0, distress0)
    expect(page.locator(".meter__delta").first).not_to_be_empty()
    page.screenshot(path=str(art / "session-desktop.png"))
    assert unlabelled_controls(page) == []

    # push-to-talk: nothing is sent while the key is up, and a held key makes a turn
    page.locator("label.seg__option", has_text="Push to talk").click()
    expect(page.locator("#mic-state")).to_have_text(re.compile("Hold Space"), timeout=25_000)
    page.wait_for_timeout(2_500)  # let a turn already in flight finish
    before = audio_frames["out"]
    page.wait_for_timeout(1_500)
    assert audio_frames["out"] == before, "audio was sent with push-to-talk released"
    count = page.locator(".turn--learner").count()
    page.locator("#talk-button").focus()
    page.keyboard.down("Space")
    page.wait_for_timeout(2_000)
    expect(page.locator("#mic-state")).to_have_text(re.compile("Listening|You are speaking"))
    page.wait_for_timeout(3_600)  # the file loops every ~5.2 s, so this holds a whole utterance
    page.keyboard.up("Space")
    expect(page.locator(".turn--learner")).to_have_count(count + 1, timeout=25_000)
    sent_after_release = audio_frames["out"]
    page.wait_for_timeout(1_200)  # the ~600 ms silence tail, then nothing
    assert audio_frames["out"] - sent_after_release <= 32

    end_session(page)
    expect(page.locator("#missed-heading")).to_be_visible()
    expect(page.locator(".checklist__list li").first).to_be_visible()
    expect(page.locator(".care__table tbody tr")).to_have_count(10)
    expect(page.locator(".transcript--static .grade-chip").first).to_be_visible()
    page.screenshot(path=str(art / "debrief-desktop.png"), full_page=True)
    assert unlabelled_controls(page) == []

    # graded transcript downloads: JSON and a printable HTML page
    with page.expect_download() as dl:
        page.locator("#download-json").click()
    doc = json.loads(open(dl.value.path(), encoding="utf-8").read())
    assert doc["session"]["mode"] == "voice" and doc["summary"] and len(doc["turns"]) >= 2
    assert any("chest pain" in t["learner_text"].lower() for t in doc["turns"])
    with page.expect_download() as dl:
        page.locator("#download-html").click()
    html = open(dl.value.path(), encoding="utf-8").read()
    assert "@media print" in html and "<polyline" in html and "When did the chest pain" in html
    (art / "report-example.html").write_text(html, encoding="utf-8")


def test_a_pause_the_turn_detector_waits_through_shows_listening(pages, live_server):
    """Issue 18: while the semantic detector waits through a pause (vad.pause), the mic pill says
    "Listening", not "You are speaking" or "Patient is thinking". The page's microphone audio is
    kept from the server by a proxy, so only the events this test sends move the pill."""
    page = pages(DESKTOP).page
    sockets, _ = start_voice_session_without_audio(page, live_server, "browser-pause")
    expect(page.locator(".turn--patient").first).to_be_visible(timeout=20_000)
    pill = page.locator("#mic-state")
    expect(pill).to_have_text("Listening", timeout=15_000)
    sockets[-1].send(json.dumps({"type": "vad.speech_started", "during_patient": False}))
    expect(pill).to_have_text("You are speaking")
    sockets[-1].send(json.dumps({"type": "vad.pause", "waiting": True}))
    expect(pill).to_have_text("Listening")
    sockets[-1].send(json.dumps({"type": "vad.pause", "waiting": False}))
    expect(pill).to_have_text("You are speaking")
    sockets[-1].send(json.dumps({"type": "vad.speech_stopped"}))
    expect(pill).not_to_have_text("You are speaking")


# -- text ----------------------------------------------------------------------------------

def test_text_session_without_microphone_and_reconnect(pages, live_server, art):
    p = pages(PHONE, init_script=NO_MIC)
    page = p.page
    choose_case(page, live_server, "browser-text")
    page.locator("label.choice", has_text="Text only").click()
    page.screenshot(path=str(art / "brief-phone.png"))
    page.locator("#start-session").click()
    expect(page.locator("#mic-state")).to_have_text(re.compile("Text only"))
    box = page.locator("#learner-text")
    expect(box).to_be_focused()

    def say(text: str, n: int):
        box.fill(text)
        box.press("Enter")
        expect(page.locator(".turn--patient")).to_have_count(n + 1, timeout=20_000)  # + the opening

    say("Hello, I'm Dr Lee, one of the doctors. What brings you in today?", 1)
    trust1 = meter_value(page, "trust")
    say("That sounds really frightening. What worries you most about it?", 2)
    assert meter_value(page, "trust") != trust1

    # the feedback sentence shows on keyboard focus of the grade chip
    chip = page.locator(".turn--learner .grade-chip").nth(1)
    chip.focus()
    chip.evaluate("el => el.closest('li').scrollIntoView({block: 'center'})")
    tip = page.locator(".turn--learner .grade-tip").nth(1)
    expect(tip).to_be_visible()
    expect(tip).not_to_be_empty()
    page.screenshot(path=str(art / "session-phone.png"))
    assert no_sideways_scroll(page)
    page.keyboard.press("Escape")

    # drop the connection; a turn typed meanwhile is sent on resume, and nothing doubles
    page.evaluate("window.__bedsideDropConnection()")
    expect(page.locator(".notice", has_text="Connection lost")).to_be_visible(timeout=5_000)
    box.fill("I can see this has been weighing on you. Tell me more about your dad.")
    box.press("Enter")
    expect(page.locator(".turn--patient")).to_have_count(4, timeout=30_000)
    expect(page.locator(".notice", has_text="Connection lost")).to_have_count(0)
    # and once more with the drop right behind the send, so the server may already hold the turn
    box.fill("When did the tightness start?")
    page.evaluate("""() => {
      document.querySelector('.text-form button[type=submit]').click();
      window.__bedsideDropConnection();
    }""")
    expect(page.locator(".turn--patient")).to_have_count(5, timeout=30_000)
    page.wait_for_timeout(500)
    ids = page.eval_on_selector_all(".turn--learner", "rows => rows.map(r => r.dataset.turnId)")
    assert ids == ["1", "2", "3", "4"], ids
    stored = session_turns(page, live_server)
    assert [t["turn_id"] for t in stored] == [1, 2, 3, 4]
    assert page.evaluate("window.__micRequests") == 0

    end_session(page)
    page.screenshot(path=str(art / "debrief-phone.png"), full_page=True)
    assert no_sideways_scroll(page)


def test_microphone_denied_shows_message(pages, live_server, art):
    p = pages(DESKTOP, init_script=DENY_MIC)
    page = p.page
    choose_case(page, live_server, "browser-denied")
    page.locator("#start-session").click()
    alert = page.get_by_role("alert").filter(has_text="Microphone access is blocked")
    expect(alert).to_be_visible(timeout=10_000)
    expect(alert).to_contain_text("Allow microphone access")
    page.screenshot(path=str(art / "mic-denied-desktop.png"))
    # the learner can carry on by typing
    alert.get_by_role("button", name="Continue by typing").click()
    expect(page.locator("#learner-text")).to_be_visible(timeout=15_000)
    expect(page.locator("#mic-state")).to_have_text(re.compile("Text only"))


def test_unsupported_browser_offers_text(pages, live_server):
    p = pages(DESKTOP, init_script="delete window.AudioWorkletNode;")
    page = p.page
    choose_case(page, live_server, "browser-old")
    expect(page.locator("#voice-unsupported")).to_contain_text("AudioWorklet")
    expect(page.locator('input[name="mode"][value="voice"]')).to_be_disabled()
    expect(page.locator('input[name="mode"][value="text"]')).to_be_checked()


def test_server_events_errors_and_interruptions(pages, live_server):
    p = pages(DESKTOP)
    page = p.page
    # a pass-through proxy for the page's websocket, so the test can add server events
    sockets = []

    def proxy(ws):
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/session$"), proxy)
    box = start_text_session(page, live_server, "browser-errors")

    # a real server error: a turn over the length limit; its message is shown as is,
    # the refused words go back into the box and no turn is left in the transcript
    box.evaluate("(el) => { el.removeAttribute('maxlength'); el.value = 'a'.repeat(4100); }")
    box.press("Enter")
    alert = page.get_by_role("alert").filter(has_text="4000")
    expect(alert).to_be_visible(timeout=10_000)
    expect(alert).to_contain_text("split it into shorter turns")
    expect(page.locator(".turn--learner")).to_have_count(0)
    assert len(box.input_value()) == 4100

    box.fill("Hello, what brings you in today?")
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="1"]')).to_be_visible(timeout=15_000)
    # the patient's reply cut short by a barge-in is marked, whichever event says so
    sockets[-1].send(json.dumps({"type": "playback.clear", "turn_id": 1}))
    expect(page.locator('.turn--patient[data-turn-id="1"] .badge--interrupted')).to_have_text("Interrupted")
    box.fill("Sorry, go on.")
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="2"]')).to_be_visible(timeout=15_000)
    sockets[-1].send(json.dumps({"type": "patient.audio.end", "turn_id": 2, "interrupted": True}))
    expect(page.locator('.turn--patient[data-turn-id="2"] .badge--interrupted')).to_be_visible()
    # any other server error event is shown with its message
    sockets[-1].send(json.dumps({"type": "error", "code": "asr_failed",
                                 "message": "speech recognition failed: test outage; say it again, or type it in the text box"}))
    expect(page.get_by_role("alert").filter(has_text="test outage")).to_be_visible()
    assert unlabelled_controls(page) == []

    # a reload mid-session offers to resume; the stored turns come back once, with their grades
    page.on("dialog", lambda d: d.accept())  # "leave this page?" from beforeunload
    page.reload()
    page.locator("#resume-session").click()
    expect(page.locator(".turn--learner")).to_have_count(2, timeout=15_000)
    expect(page.locator(".turn--learner .grade-chip")).to_have_count(2, timeout=10_000)
    box.fill("What worries you most about it?")
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="3"]')).to_be_visible(timeout=15_000)
    ids = page.eval_on_selector_all(".turn--learner", "rows => rows.map(r => r.dataset.turnId)")
    assert ids == ["1", "2", "3"], ids


UNLABELLED = """() => [...document.querySelectorAll('button, a[href], input:not([type=hidden]), select, textarea')]
  .filter((el) => el.offsetParent !== null || el.getClientRects().length)
  .filter((el) => {
    const by = el.getAttribute('aria-labelledby');
    const name = (el.getAttribute('aria-label') || '').trim()
      || (by ? by.split(' ').map((id) => document.getElementById(id)?.textContent || '').join(' ').trim() : '')
      || (el.labels && el.labels.length ? [...el.labels].map((l) => l.textContent).join(' ').trim() : '')
      || (['BUTTON', 'A'].includes(el.tagName) ? el.textContent.trim() : '')
      || (el.getAttribute('title') || '').trim();
    return !name;
  })
  .map((el) => el.outerHTML.slice(0, 120))"""


def no_sideways_scroll(page) -> bool:
    """Nothing is wider than the viewport (375 px phones)."""
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def unlabelled_controls(page) -> list[str]:
    """Visible controls without an accessible name (aria-label, labelledby, <label> or text)."""
    return page.evaluate(UNLABELLED)


# -- educator --------------------------------------------------------------------------------

def _stored_session(server, learner: str) -> str:
    from websockets.sync.client import connect

    with connect(server.ws_url) as ws:
        ws.send(json.dumps({"type": "session.start", "persona_id": CASE, "learner_id": learner, "mode": "text"}))
        sid = json.loads(ws.recv(timeout=30))["session_id"]
        ws.send(json.dumps({"type": "learner.text", "text": "That sounds scary. What worries you most?", "client_turn_id": "a"}))
        for _ in range(3):
            ws.recv(timeout=30)
        ws.send(json.dumps({"type": "session.end"}))
        assert json.loads(ws.recv(timeout=30))["type"] == "session.summary"
    return sid


def test_educator_page_needs_token(pages, live_server, art):
    learner = f"edu-{uuid.uuid4().hex[:6]}"
    sid = _stored_session(live_server, learner)
    _stored_session(live_server, "someone-else")
    token = (live_server.data_dir / "educator_token").read_text().strip()
    assert httpx.get(live_server.url + "/api/sessions", timeout=10).status_code == 401

    p = pages(DESKTOP)
    page = p.page
    page.goto(live_server.url + "/educator")
    page.wait_for_url(re.compile(r"#/educator$"))
    expect(page.locator("#educator-token")).to_be_visible()
    expect(page.locator(".sessions-table")).to_have_count(0)

    page.screenshot(path=str(art / "educator-signin-desktop.png"))
    # a wrong token is refused and nothing is listed
    page.fill("#educator-token", "not-the-token")
    page.get_by_role("button", name="Open sessions").click()
    expect(page.locator("#token-error")).to_contain_text("not accepted")
    expect(page.locator(".sessions-table")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('bedside.educator')") is None

    page.fill("#educator-token", token)
    page.get_by_role("button", name="Open sessions").click()
    rows = page.locator(".sessions-table tbody tr")
    expect(rows.first).to_be_visible(timeout=10_000)
    assert rows.count() >= 2
    page.screenshot(path=str(art / "educator-desktop.png"), full_page=True)
    assert unlabelled_controls(page) == []
    page.fill("#f-learner", learner)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(learner)
    # the date filter goes to the server: nothing has started tomorrow
    tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
    page.fill("#f-from", tomorrow)
    expect(page.locator(".results .empty")).to_contain_text("No sessions match")
    page.fill("#f-from", "")
    expect(rows).to_have_count(1)

    # the token is kept for this tab: a reload stays signed in
    page.reload()
    expect(rows.first).to_be_visible(timeout=10_000)
    page.fill("#f-learner", learner)
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=re.compile("Open session")).click()
    page.wait_for_url(re.compile(rf"#/educator/{sid}$"))
    expect(page.locator("svg.chart polyline")).to_have_count(2, timeout=10_000)
    expect(page.locator(".debrief__meta")).to_contain_text(learner)
    expect(page.locator(".scores")).to_be_visible()
    page.screenshot(path=str(art / "educator-debrief-desktop.png"), full_page=True)

    # signing out forgets the token
    page.goto(live_server.url + "/#/educator")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#educator-token")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('bedside.educator')") is None


# -- security --------------------------------------------------------------------------------

def test_pages_stay_on_their_origin_under_the_policy(pages, live_server):
    """The learner page through a text turn and the educator page signed in into a debrief:
    every request goes to the server itself, and the Content-Security-Policy blocks nothing."""
    p = pages(DESKTOP, init_script=NO_MIC + REPORT_CSP)
    page = p.page
    violations: list[str] = []
    requests: list[str] = []
    p.context.expose_function("bedsideCspViolation", lambda text: violations.append(text))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda ws: requests.append(ws.url))

    assert "script-src 'self';" in httpx.get(live_server.url + "/", timeout=10).headers["content-security-policy"]
    box = start_text_session(page, live_server, "browser-csp")
    box.fill("Hello, what brings you in today?")
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="1"]')).to_be_visible(timeout=20_000)

    token = (live_server.data_dir / "educator_token").read_text().strip()
    page.goto(live_server.url + "/educator")
    page.fill("#educator-token", token)
    page.get_by_role("button", name="Open sessions").click()
    rows = page.locator(".sessions-table tbody tr")
    expect(rows.first).to_be_visible(timeout=10_000)
    rows.first.get_by_role("link", name=re.compile("Open session")).click()
    expect(page.locator(".debrief__meta")).to_be_visible(timeout=10_000)
    page.wait_for_timeout(300)  # let any late report arrive

    host = live_server.url.split("://", 1)[1]
    assert any(u.startswith(f"ws://{host}/ws/session") for u in requests), requests
    assert any("/api/sessions" in u for u in requests), requests
    elsewhere = [u for u in requests if not re.match(rf"(http|ws)://{re.escape(host)}/", u)]
    assert elsewhere == [], f"requests that left the origin: {elsewhere}"
    assert violations == [], f"Content-Security-Policy violations: {violations}"
