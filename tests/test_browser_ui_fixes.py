"""Issue 19's fixes to the browser client, checked in a real Chromium against a live `bedside
serve` (the fixtures of tests/test_browser.py): the newest reply stays in view, the feedback
popover stays inside the visible area, the chart's labels keep a legible size, reconnection
after giving up, the glossary and summary figures, meter contrast and the calmer live regions.

Sizes are a 1366x768 desktop and a 390x844 phone; screenshots go to $BEDSIDE_TEST_ARTIFACTS
(default test-artifacts/).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.browser_util import playwright_or_skip
from tests.test_browser import (  # noqa: F401  (fixtures)
    art, browser, end_session, meter_value, pages, start_text_session, start_voice_session_without_audio,
)

pytestmark = pytest.mark.slow

playwright_api = playwright_or_skip()
expect = playwright_api.expect

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = (("desktop", DESKTOP), ("phone", PHONE))

# eight turns, most of them long as a learner's careful turn often is: a tall row makes the
# scroll to it long, which is when a smooth scroll still under way lost the reply that followed
TURNS = [
    "Hello, I'm Dr Lee, one of the doctors here in the emergency department. I'm going to be looking after you "
    "this afternoon, and I'd like to hear it in your own words first. What brings you in today?",
    "That sounds really frightening, having that come on without any warning and not knowing what it is. "
    "I'd like to understand it properly, so take your time. What worries you most about it?",
    "When did the tightness start?",
    "Thank you for telling me that. Can you tell me more about what it feels like, where you feel it, "
    "whether it spreads anywhere, and whether it has changed at all since it began this morning?",
    "I can see this has been weighing on you, and it makes sense given what you have been through. "
    "You mentioned your dad a moment ago; would you tell me more about what happened to him?",
    "Does anything make it better or worse, for example moving about, taking a deep breath, or resting?",
    "How are things at home at the moment? I'm asking because stress and worry at home can make everything "
    "feel heavier, and I want to understand the whole picture, not just the pain.",
    "It makes sense that you're scared after what happened to your father. Anyone would be. We are going to "
    "take this seriously and look at it carefully together, and I'll explain each step as we go.",
]

# The part of the viewport where the transcript can be read: inside the transcript when it
# scrolls in its panel, minus sticky bars over it (the phone's patient strip and composer).
# Written here independently of the client's own code, so the test checks the page, not itself.
READABLE_AREA = """() => {
  const list = document.querySelector('#transcript');
  let top = 0, bottom = window.innerHeight;
  if (getComputedStyle(list).overflowY !== 'visible') {
    const r = list.getBoundingClientRect();
    top = Math.max(top, r.top); bottom = Math.min(bottom, r.bottom);
  }
  for (const sel of ['.topbar', '.patient-panel', '.composer']) {
    const el = document.querySelector(sel);
    if (!el || !['sticky', 'fixed'].includes(getComputedStyle(el).position)) continue;
    const r = el.getBoundingClientRect(), l = list.getBoundingClientRect();
    if (!r.height || r.right <= l.left || r.left >= l.right) continue;
    if (r.top + r.height / 2 < window.innerHeight / 2) top = Math.max(top, r.bottom);
    else bottom = Math.min(bottom, r.top);
  }
  return {top, bottom, left: 0, right: document.documentElement.clientWidth};
}"""


# 150 ms after each patient row arrives, whether its bubble is fully inside the readable area:
# the learner should not wait out a scroll animation (or lose the race to one) to read it
WATCH_REPLIES = """(area) => {
  window.__replyInView = {};
  const readable = eval(area);
  new MutationObserver((changes) => {
    for (const c of changes) for (const n of c.addedNodes) {
      if (!n.classList || !n.classList.contains('turn--patient')) continue;
      setTimeout(() => {
        const a = readable(), b = n.querySelector('.bubble').getBoundingClientRect();
        window.__replyInView[n.dataset.turnId] = b.top >= a.top - 0.5 && b.bottom <= a.bottom + 0.5;
      }, 150);
    }
  }).observe(document.querySelector('#transcript'), {childList: true});
}"""


def box_of(locator) -> dict:
    b = locator.bounding_box()
    assert b, "element has no box"
    return {"top": b["y"], "bottom": b["y"] + b["height"], "left": b["x"], "right": b["x"] + b["width"]}


def inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (inner["top"] >= outer["top"] - slack and inner["bottom"] <= outer["bottom"] + slack
            and inner["left"] >= outer["left"] - slack and inner["right"] <= outer["right"] + slack)


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


# -- 1 and 2: the newest reply in view, the popover inside the visible area -----------------

@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_newest_reply_in_view_and_popover_inside(pages, live_server, art, size):  # noqa: F811
    viewport = dict(SIZES)[size]
    page = pages(viewport).page
    box = start_text_session(page, live_server, f"fixes-scroll-{size}")
    page.evaluate(WATCH_REPLIES, READABLE_AREA)
    for n, text in enumerate(TURNS, 1):
        box.fill(text)
        box.press("Enter")
        newest = page.locator(f'.turn--patient[data-turn-id="{n}"]')
        expect(newest).to_be_visible(timeout=20_000)
        expect(page.locator(f'.turn--learner[data-turn-id="{n}"] .grade-chip')).to_be_visible(timeout=20_000)
        page.wait_for_timeout(600)  # longer than any smooth scroll: a race would have lost by now
        area = page.evaluate(READABLE_AREA)
        reply = box_of(newest.locator(".bubble"))
        assert inside(reply, area), f"turn {n}: the newest reply {reply} is not fully inside the readable area {area}"
    assert page.evaluate("window.__replyInView") == {str(n): True for n in range(1, len(TURNS) + 1)}, \
        "a reply was out of view 150 ms after it arrived"
    page.screenshot(path=str(art / f"fixes-newest-reply-{size}.png"))

    # the newest turn's feedback popover: inside the viewport and the readable area, and on a
    # phone clear of the text box and of the reply it comments on
    chip = page.locator(f'.turn--learner[data-turn-id="{len(TURNS)}"] .grade-chip')
    chip.focus()
    tip = page.locator(f'.turn--learner[data-turn-id="{len(TURNS)}"] .grade-tip')
    expect(tip).to_be_visible()
    tip_box = box_of(tip)
    viewport_box = {"top": 0, "bottom": viewport["height"], "left": 0, "right": viewport["width"]}
    assert inside(tip_box, viewport_box), f"popover {tip_box} leaves the viewport {viewport}"
    area = page.evaluate(READABLE_AREA)
    assert inside(tip_box, area), f"popover {tip_box} is cut by the panel or a sticky bar: {area}"
    assert not overlaps(tip_box, box_of(page.locator("#learner-text"))), "popover covers the text box"
    # nothing clips or covers it: each corner of it is the popover itself at that point
    corners = tip.evaluate("""el => { const r = el.getBoundingClientRect(), i = 4;
      return [[r.left + i, r.top + i], [r.right - i, r.top + i], [r.left + i, r.bottom - i], [r.right - i, r.bottom - i]]
        .map(([x, y]) => el.contains(document.elementFromPoint(x, y))); }""")
    assert all(corners), f"the popover is clipped or covered at a corner: {corners}"
    # its text is all showing (or it scrolls, when there is no room for it)
    if tip.evaluate("el => getComputedStyle(el).overflowY") != "auto":
        for i in range(tip.locator("p").count()):
            assert inside(box_of(tip.locator("p").nth(i)), tip_box), "the popover's text is cut off"
    page.screenshot(path=str(art / f"fixes-popover-{size}.png"))
    # pinned with a click, it stays put while the transcript scrolls under it
    chip.click()
    expect(chip).to_have_attribute("aria-expanded", "true")
    assert inside(box_of(tip), page.evaluate(READABLE_AREA))
    page.keyboard.press("Escape")


# -- 7: meter contrast ------------------------------------------------------------------------

# every colour of each meter's fill (gradient stops or plain colour) and the track behind it,
# as the browser computes them
METER_COLOURS = """() => [...document.querySelectorAll('.meter__bar')].map((bar) => {
  const fill = getComputedStyle(bar.querySelector('.meter__fill'));
  const colours = (fill.backgroundImage.match(/rgba?\\([^)]*\\)/g) || []).concat(
    fill.backgroundColor !== 'rgba(0, 0, 0, 0)' ? [fill.backgroundColor] : []);
  return {id: bar.id, track: getComputedStyle(bar).backgroundColor, fill: colours};
})"""


def rgb(css: str) -> tuple[float, ...]:
    parts = [float(x) for x in re.findall(r"[\d.]+", css)]
    assert len(parts) in (3, 4), css
    assert len(parts) == 3 or parts[3] == 1, f"translucent colour: {css}"
    return tuple(parts[:3])


def luminance(c: tuple[float, ...]) -> float:
    lin = [x / 255 / 12.92 if x / 255 <= 0.03928 else ((x / 255 + 0.055) / 1.055) ** 2.4 for x in c]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = luminance(rgb(a)), luminance(rgb(b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def test_contrast_helper_matches_wcag():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(79, 143, 208)", "rgb(230, 236, 239)") == pytest.approx(2.85, abs=0.01)  # the old light trust end


@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_meter_fills_are_three_to_one_against_the_track(pages, live_server, art, size):  # noqa: F811
    page = pages(dict(SIZES)[size]).page
    start_text_session(page, live_server, f"fixes-contrast-{size}")
    meters = page.evaluate(METER_COLOURS)
    assert {m["id"] for m in meters} == {"trust-meter", "distress-meter"}
    for m in meters:
        assert len(m["fill"]) >= 1, m
        for colour in m["fill"]:
            ratio = contrast(colour, m["track"])
            assert ratio >= 3, f"{m['id']}: {colour} is {ratio:.2f}:1 against the track {m['track']}"
    page.locator(".patient-panel").screenshot(path=str(art / f"fixes-meters-{size}.png"))


# -- 4: reconnection after giving up ---------------------------------------------------------

# short reconnect timing (connection.js reads it when a session starts): three quick attempts,
# then probes every 0.4-0.8 s instead of 15-30 s
FAST_RECONNECT = "window.__bedsideReconnectTiming = {backoffMs: [100, 200], maxAttempts: 3, probeMs: [400, 800]};"


@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_client_keeps_probing_and_reconnects_when_the_server_returns(pages, live_server, art, size):  # noqa: F811
    page = pages(dict(SIZES)[size], init_script=FAST_RECONNECT).page
    server = {"up": True, "refused": 0}

    def route(ws):
        # the server is "down": the socket closes at once, as a refused connection does
        if server["up"]:
            ws.connect_to_server()
        else:
            server["refused"] += 1
            ws.close()

    page.route_web_socket(re.compile(r"/ws/session$"), route)
    box = start_text_session(page, live_server, f"fixes-reconnect-{size}")
    box.fill("Hello, what brings you in today?")
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="1"]')).to_be_visible(timeout=20_000)

    server["up"] = False
    page.evaluate("window.__bedsideDropConnection()")
    pill, mic = page.locator(".conn-pill"), page.locator("#mic-state")
    expect(page.locator(".notice", has_text="Still offline")).to_be_visible(timeout=10_000)
    expect(pill).to_contain_text("Offline")
    # the status texts agree: the mic does not say "Reconnecting…" next to "Offline"
    expect(mic).to_have_attribute("data-state", "offline")
    assert "Reconnecting" not in mic.inner_text()
    given_up_at = server["refused"]
    assert given_up_at >= 3
    page.screenshot(path=str(art / f"fixes-offline-{size}.png"))
    # after giving up it keeps probing, quietly: more refused connections, one notice
    page.wait_for_timeout(2_000)
    assert server["refused"] >= given_up_at + 2, f"no probes after giving up ({server['refused']} refused)"
    expect(page.locator(".notice", has_text="Still offline")).to_have_count(1)
    assert "Reconnecting" not in mic.inner_text()

    # the server comes back: the next probe reconnects and the session carries on
    server["up"] = True
    expect(pill).to_be_hidden(timeout=5_000)
    expect(page.locator(".notice", has_text="Still offline")).to_have_count(0)
    expect(mic).not_to_have_attribute("data-state", re.compile("offline|reconnecting"))
    box.fill("What worries you most about it?")
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="2"]')).to_be_visible(timeout=20_000)
    page.screenshot(path=str(art / f"fixes-reconnected-{size}.png"))


# -- 5 and 6: summary figures that say what they count; the missed-opportunity verdict ---------

FIGURES = """async (summaries) => {
  const m = await import('/static/js/debrief-figures.js');
  return summaries.map((s) => ({caption: m.empathyCaption(s), verdict: m.missedVerdict(s, 'Sam')}));
}"""


def test_summary_figures_and_missed_verdict(pages, live_server):  # noqa: F811
    """The module the debrief uses, run in the page on extreme summaries."""
    page = pages(DESKTOP).page
    page.goto(live_server.url + "/")
    missed = lambda n: [{"turn": i, "eccs": 0} for i in range(n)]  # noqa: E731
    summaries = [
        # six turns after a feeling, three of them ECCS 0: the label must not call six "answered"
        {"opportunities_answered": 6, "missed_opportunities": missed(3), "flag_counts": {}},
        # fully dismissive
        {"opportunities_answered": 4, "missed_opportunities": missed(4), "flag_counts": {"dismissive": 4}},
        # fully empathic
        {"opportunities_answered": 5, "missed_opportunities": [], "flag_counts": {}},
        # no feeling missed at ECCS 2 or below, but premature reassurance flagged
        {"opportunities_answered": 2, "missed_opportunities": [], "flag_counts": {"premature_reassurance": 1}},
        # very short: no feeling offered at all
        {"opportunities_answered": 0, "missed_opportunities": [], "flag_counts": {}},
    ]
    got = page.evaluate(FIGURES, summaries)
    assert got[0]["caption"] == ("Mean ECCS over the 6 turns after a feeling the patient offered; "
                                 "3 of them met it (ECCS 3 or more)")
    assert "answered a feeling" not in got[0]["caption"]
    assert got[1]["verdict"]["kind"] == "missed" and got[1]["verdict"]["text"].startswith("4 moments where Sam")
    assert got[1]["caption"].endswith("0 of them met it (ECCS 3 or more)")
    assert got[2]["verdict"] == {"kind": "all_met", "text": "None. You answered every feeling the patient offered."}
    assert got[3]["verdict"]["kind"] == "flagged" and "premature reassurance ×1" in got[3]["verdict"]["text"]
    assert "answered every feeling" not in got[3]["verdict"]["text"]
    assert got[4]["verdict"]["kind"] == "none_offered"
    assert got[4]["caption"] == "No turn followed a feeling the patient offered"


# -- 3: the chart scales with its container, its text stays in CSS pixels ----------------------

# the chart's labels (axis numbers, turn numbers, "Turn") and its box against its container
CHART_METRICS = """() => {
  const fig = document.querySelector('.chart-figure');
  const holder = fig.parentElement, h = holder.getBoundingClientRect(), f = fig.getBoundingClientRect();
  const cs = getComputedStyle(holder);
  const inner = {left: h.left + parseFloat(cs.paddingLeft), right: h.right - parseFloat(cs.paddingRight)};
  const labels = [...fig.querySelectorAll('span, p')].filter((el) => !el.classList.contains('chart-mark') && el.textContent.trim());
  const rects = labels.map((el) => el.getBoundingClientRect());
  return {
    fonts: labels.map((el) => parseFloat(getComputedStyle(el).fontSize)),
    heights: rects.map((r) => r.height),
    texts: labels.map((el) => el.textContent),
    left: Math.min(f.left, ...rects.map((r) => r.left)), right: Math.max(f.right, ...rects.map((r) => r.right)),
    inner, svgWidth: fig.querySelector('svg.chart').getBoundingClientRect().width,
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


def check_chart(page, where: str) -> dict:
    m = page.evaluate(CHART_METRICS)
    assert "Turn" in m["texts"] and "100" in m["texts"], m["texts"]
    for font, height, text in zip(m["fonts"], m["heights"], m["texts"]):
        assert 10 <= font <= 16, f"{where}: label {text!r} is {font}px"
        assert 10 <= height <= 22, f"{where}: label {text!r} is drawn {height:.1f}px tall"
    assert m["left"] >= m["inner"]["left"] - 0.5 and m["right"] <= m["inner"]["right"] + 0.5, \
        f"{where}: the chart ({m['left']:.0f}-{m['right']:.0f}) overflows its container {m['inner']}"
    assert m["sideways"] <= 0, f"{where}: the page scrolls sideways by {m['sideways']}px"
    return m


def test_chart_scales_with_its_container_and_keeps_text_legible(pages, live_server, art):  # noqa: F811
    page = pages(DESKTOP).page
    box = start_text_session(page, live_server, "fixes-chart")
    for n, text in enumerate(TURNS[:3], 1):
        box.fill(text)
        box.press("Enter")
        expect(page.locator(f'.turn--patient[data-turn-id="{n}"]')).to_be_visible(timeout=20_000)
    end_session(page)
    desktop = check_chart(page, "debrief at 1366")
    page.locator(".chart-panel").screenshot(path=str(art / "fixes-chart-desktop.png"))
    # the same chart, not re-rendered, after the window shrinks to a phone's width
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    phone = check_chart(page, "debrief resized to 390")
    page.locator(".chart-panel").screenshot(path=str(art / "fixes-chart-phone.png"))
    assert phone["svgWidth"] < desktop["svgWidth"] * 0.6, "the drawing did not shrink with its container"
    assert max(phone["heights"]) == pytest.approx(max(desktop["heights"]), rel=0.1), "the text scaled with the chart"
    # the debrief's glossary, by keyboard from the top of the page
    page.evaluate("window.scrollTo(0, 0); document.activeElement.blur()")
    open_glossary_by_keyboard(page, art, "debrief-phone")

    # the downloaded report, opened at either size: its chart fills the page, text in CSS px
    page.set_viewport_size(DESKTOP)
    with page.expect_download() as dl:
        page.locator("#download-html").click()
    html = open(dl.value.path(), encoding="utf-8").read()
    for size, viewport in SIZES:
        report = pages(viewport).page
        report.set_content(html)
        (art / "fixes-report.html").write_text(html, encoding="utf-8")
        m = check_chart(report, f"report at {size}")
        assert m["svgWidth"] >= (m["inner"]["right"] - m["inner"]["left"]) - 80, "the report's chart does not fill its width"
        report.screenshot(path=str(art / f"fixes-report-chart-{size}.png"), full_page=True)


# -- 5: the glossary -----------------------------------------------------------------------------

def open_glossary_by_keyboard(page, art, name: str):
    """Tab to the glossary button, open it with Enter, check it, close it with Escape."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "What the terms mean":
            break
    else:
        raise AssertionError("the glossary button cannot be reached with Tab")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="What the terms mean")
    expect(dialog).to_be_visible()
    text = dialog.inner_text()
    for term in ("ECCS", "0 Dismissed", "3 Acknowledged", "6 Shared", "NURSE", "Name", "Understand", "Respect",
                 "Support", "Explore", "No cue", "Opportunity", "Missed opportunity", "CARE"):
        assert term in text, f"the glossary does not explain {term!r}"
    viewport = page.viewport_size
    assert inside(box_of(dialog), {"top": 0, "bottom": viewport["height"], "left": 0, "right": viewport["width"]}), \
        "the glossary leaves the viewport"
    page.screenshot(path=str(art / f"fixes-glossary-{name}.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.activeElement.textContent.trim()") == "What the terms mean", \
        "focus did not return to the glossary button"


@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_glossary_opens_by_keyboard_inside_the_viewport(pages, live_server, art, size):  # noqa: F811
    page = pages(dict(SIZES)[size]).page
    start_text_session(page, live_server, f"fixes-glossary-{size}")
    page.locator("#learner-text").focus()
    open_glossary_by_keyboard(page, art, f"session-{size}")


# -- 8: a calmer voice status; the patient's change of feeling announced once per turn ---------

# every change of the announcing live regions' text, with a timestamp, and of the visible pill
# (window.__said = [] starts a new record)
RECORD_ANNOUNCEMENTS = """() => {
  window.__said = [];
  for (const id of ['mic-announcer', 'feeling-announcer', 'mic-state']) {
    const el = document.getElementById(id);
    new MutationObserver(() => window.__said.push({id, t: performance.now(), text: el.textContent.trim()}))
      .observe(el, {childList: true, subtree: true, characterData: true});
  }
}"""


# one second of a quiet 220 Hz tone, PCM16 at 16 kHz, as the server's reply audio is sent
SPOKEN_REPLY = (np.sin(np.arange(16_000) * 2 * np.pi * 220 / 16_000) * 3000).astype("<i2").tobytes()


def heard(page, region: str) -> list[dict]:
    """What a screen reader would read from `region`: its non-empty texts, each with how long it stayed."""
    said = [s for s in page.evaluate("window.__said") if s["id"] == region]
    out = []
    for i, s in enumerate(said):
        end = said[i + 1]["t"] if i + 1 < len(said) else float("inf")
        if s["text"]:
            out.append({"text": s["text"], "lasted": end - s["t"]})
    return out


@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_voice_status_is_calm_and_feelings_are_announced_once_per_turn(pages, live_server, art, size):  # noqa: F811
    """A voice-mode turn: the learner's speech events (with a 100 ms pause) come from the test,
    as in tests/test_browser.py, the turn itself is typed so the server answers (text, audio and
    state). The visible pill may flicker; the announcing region must not."""
    page = pages(dict(SIZES)[size]).page
    sockets, persona = start_voice_session_without_audio(page, live_server, f"fixes-announce-{size}")
    name = persona["patient"]["name"]
    expect(page.locator(".turn--patient").first).to_be_visible(timeout=20_000)
    pill = page.locator("#mic-state")
    expect(pill).to_have_text("Listening", timeout=15_000)
    page.wait_for_timeout(600)
    assert page.locator("#mic-state").get_attribute("role") is None, "the flickering pill is still a live region"

    box = page.locator("#learner-text")
    page.evaluate(RECORD_ANNOUNCEMENTS)
    for n, text in enumerate(TURNS[1:3], 1):
        page.evaluate("window.__said = []")
        before = (meter_value(page, "trust"), meter_value(page, "distress"), page.locator("#patient-emotion").inner_text())
        send = lambda m: sockets[-1].send(json.dumps(m))  # noqa: E731
        send({"type": "vad.speech_started", "during_patient": False})
        page.wait_for_timeout(150)
        send({"type": "vad.pause", "waiting": True})    # about 100 ms of "Listening"...
        page.wait_for_timeout(100)
        send({"type": "vad.pause", "waiting": False})   # ...then speaking again
        page.wait_for_timeout(200)
        send({"type": "vad.speech_stopped"})
        send({"type": "vad.discarded"})
        box.fill(text)
        box.press("Enter")
        expect(page.locator(f'.turn--patient[data-turn-id="{n}"] .bubble')).not_to_be_empty(timeout=30_000)
        # typed turns are not spoken: the reply's audio (a second of a soft tone) comes from the test
        send({"type": "patient.audio.start", "turn_id": n, "sample_rate": 16000})
        sockets[-1].send(SPOKEN_REPLY)
        send({"type": "patient.audio.end", "turn_id": n})
        # the reply is spoken, then the microphone listens again
        page.wait_for_function("""() => { const t = window.__said.filter((s) => s.id === 'mic-state').map((s) => s.text);
          return t.includes('Patient is speaking') && t[t.length - 1] === 'Listening'; }""", timeout=30_000)
        page.wait_for_timeout(700)  # longer than the settling time
        after = (meter_value(page, "trust"), meter_value(page, "distress"), page.locator("#patient-emotion").inner_text())

        shown = heard(page, "mic-state")
        mic = heard(page, "mic-announcer")
        feeling = heard(page, "feeling-announcer")
        assert min(s["lasted"] for s in shown) < 300, f"turn {n}: the test made no flicker to filter: {shown}"
        assert 1 <= len(mic) <= 3, f"turn {n}: {len(mic)} voice status announcements: {mic}"
        assert all(s["lasted"] >= 300 for s in mic), f"turn {n}: an announcement lasted under 300 ms: {mic}"
        assert mic[-1]["text"] == "Listening" and any(s["text"] == "Patient is speaking" for s in mic), mic
        changed = abs(after[0] - before[0]) >= 0.02 or abs(after[1] - before[1]) >= 0.02 or after[2] != before[2]
        if changed:
            assert len(feeling) == 1, f"turn {n}: {len(feeling)} announcements of the patient's feeling: {feeling}"
            words = feeling[0]["text"]
            assert words.startswith(name) or words.startswith("Trust"), words
            if after[0] - before[0] >= 0.02:
                assert "Trust up." in words, words
            if before[0] - after[0] >= 0.02:
                assert "Trust down." in words, words
        else:
            assert feeling == [], feeling
    page.screenshot(path=str(art / f"fixes-voice-status-{size}.png"))
