"""Issue 19, items 1 and 2: the patient's face and the "Feeling now" words, in a real Chromium
against a live `bedside serve` (the fixtures of tests/test_browser.py).

The face module (web_client/js/face.js) is driven in the page for every emotion the state can
take, and screenshotted; the wording rule (web_client/js/feeling-change.js) is run in the page as
a unit; the session page gets crafted `state.update` messages through a websocket proxy, so what
the panel says and announces does not hang on the grader. Sizes: a 1366x768 desktop and a 390x844
phone; screenshots go to $BEDSIDE_TEST_ARTIFACTS (default test-artifacts/).
"""

from __future__ import annotations

import json
import re
from typing import get_args

import httpx
import pytest

from server.persona.schema import Emotion, HairColour, SkinTone
from tests.browser_util import playwright_or_skip
from tests.test_browser import (  # noqa: F401  (fixtures)
    CASE, art, browser, pages, start_text_session, start_voice_session_without_audio,
)
from tests.test_browser_ui_fixes import (
    DESKTOP, RECORD_ANNOUNCEMENTS, SIZES, SPOKEN_REPLY, box_of, contrast, heard, inside, overlaps,
)

pytestmark = pytest.mark.slow

playwright_api = playwright_or_skip()
expect = playwright_api.expect

EMOTIONS = [e.value for e in Emotion]  # every emotion the state can take (server/engine/state.py labels)

WORDING = "() => import('/static/js/feeling-change.js')"


def patient_of(server, persona_id: str = CASE) -> dict:
    listed = httpx.get(server.url + "/api/personas", timeout=10).json()["personas"]
    return next(p for p in listed if p["id"] == persona_id)["patient"]


def state(emotion="fear", distress=0.6, trust=0.33, style="guarded", **more) -> dict:
    return {"emotion": emotion, "distress": distress, "trust": trust, "style": style, **more}


# -- the wording rule, as a unit ---------------------------------------------------------------

def run_wording(page, calls: list) -> list:
    """Each call is [function name, *arguments]; the results, in order."""
    return page.evaluate("""async (calls) => {
      const m = await import('/static/js/feeling-change.js');
      return calls.map(([fn, ...args]) => m[fn](...args));
    }""", calls)


def test_feeling_words_follow_emotion_strength_and_change(pages, live_server):
    page = pages(DESKTOP).page
    page.goto(live_server.url + "/")
    s = state
    got = run_wording(page, [
        ["feelingWord", s(distress=0.8)], ["feelingWord", s(distress=0.55)], ["feelingWord", s(distress=0.3)],
        ["feelingWord", s("calm", 0.1)], ["feelingWord", s("relief", 0.3)], ["feelingWord", s("anger", 0.7)],
        ["feelingWord", s("custom_feeling", 0.5)],
    ])
    assert got == ["Very frightened", "Frightened", "A little frightened", "Calm", "Relieved", "Very angry", "Custom feeling"]

    now = lambda before, after: ["feelingNow", before, after]  # noqa: E731
    got = run_wording(page, [
        now(None, s()),                                                   # the start: how it is
        now(s(), s(distress=0.55)),                                       # distress down a step
        now(s(), s(distress=0.66)),                                       # up a step
        now(s(), s(distress=0.61)),                                       # under a step: how it is
        now(s(), s("calm", 0.15)),                                        # a distressing feeling gives way to calm
        now(s("relief", 0.3), s("calm", 0.18)),                           # at ease already: calm, not calmer
        now(s(), s("relief", 0.38)),
        now(s("calm", 0.15), s("calm", 0.1)), now(s("calm", 0.1), s("calm", 0.16)),
        now(s("relief", 0.35), s("relief", 0.3)), now(s("relief", 0.3), s("relief", 0.36)),
        now(s(distress=0.72), s("frustration", 0.78)),                    # a new feeling, said as it is now
        now(s(trust=0.33), s(trust=0.37, style="neutral")),               # trust up a step
        now(s(trust=0.4, style="neutral"), s(trust=0.36, style="neutral")),
        now(s(trust=0.4, style="neutral"), s(trust=0.41, style="neutral")),
    ])
    assert [g["feeling"] for g in got] == [
        "Frightened", "Less frightened", "More frightened", "Frightened", "Calmer", "Calm", "Relieved",
        "Calmer", "Less at ease", "More relieved", "Less relieved", "Very frustrated", "Frightened", "Frightened", "Frightened"]
    assert [g["stance"] for g in got[-3:]] == ["Cautious, trusting you more", "Cautious, trusting you less", "Cautious"]
    assert got[0]["stance"] == "Guarded"


def test_feeling_now_moves_while_trust_climbs_and_distress_holds(pages, live_server):
    """The reported bug: "Frightened / Cautious" for eight turns while trust went from 33 to 59.
    Whatever distress does, a turn that moved trust says so."""
    page = pages(DESKTOP).page
    page.goto(live_server.url + "/")
    trusts = [0.33, 0.36, 0.40, 0.43, 0.47, 0.50, 0.53, 0.56, 0.59]
    distress = [0.60, 0.61, 0.60, 0.60, 0.61, 0.60, 0.60, 0.59, 0.60]  # held up by the unanswered cue
    states = [state(trust=t, distress=d, style="guarded" if t < 0.35 else "neutral") for t, d in zip(trusts, distress)]
    got = run_wording(page, [["feelingNow", a, b] for a, b in zip(states, states[1:])])
    shown = [f"{g['feeling']} / {g['stance']}" for g in got]
    assert all("trusting you more" in line for line in shown), shown
    said = run_wording(page, [["feelingChange", "Mr Reyes", a, b] for a, b in zip(states, states[1:])])
    assert all(line and "Trust up." in line for line in said), said


def test_the_announcement_says_a_turn_once_and_only_what_moved(pages, live_server):
    page = pages(DESKTOP).page
    page.goto(live_server.url + "/")
    s = state
    got = run_wording(page, [
        ["feelingChange", "Mr Reyes", s(), s(distress=0.55, trust=0.36)],
        ["feelingChange", "Mr Reyes", s(), s("relief", 0.38)],
        ["feelingChange", "Mr Reyes", s(), s(distress=0.61, trust=0.335)],                    # nothing moved
        ["feelingChange", "Mr Reyes", s(), s(distress=0.61), "Less frightened"],               # the words did
        ["feelingChange", "Mr Reyes", s(trust=0.5), s(trust=0.45)],
    ])
    assert got == ["Mr Reyes seems less frightened. Trust up.", "Mr Reyes now seems relieved.", None,
                   "Mr Reyes seems frightened.", "Trust down."]


# -- the face for every emotion ------------------------------------------------------------------

# faces drawn at once (no easing), in a row on the app's own page and stylesheet; each is
# [id, patient, state]; for each: what distinguishes it (brows, eyes, lids, mouth, posture),
# its accessible name, and the colours of the features and the skin
DRAW = """async (faces) => {
  const m = await import('/static/js/face.js');
  const row = document.createElement('div');
  row.id = 'faces';
  Object.assign(row.style, {display: 'flex', flexWrap: 'wrap', gap: '8px', padding: '8px', background: '#fff'});
  document.getElementById('app').replaceChildren(row);
  return faces.map(([id, patient, state]) => {
    const face = new m.Face(patient);
    face.show(state, true);
    face.el.id = id;
    row.append(face.el);
    const q = (sel) => face.el.querySelector(sel);
    return {
      id,
      drawn: ['.face__brow', '.face__eye', '.face__lid', '.face__mouth', '.face__head', '.face__blush', '.face__tear', '.face__sweat']
        .map((sel) => [...face.el.querySelectorAll(sel)].map((el) => ['d', 'ry', 'transform', 'opacity']
          .map((a) => el.getAttribute(a)).join(' ')).join(' | ')).join(' || '),
      label: face.el.getAttribute('aria-label'), role: face.el.getAttribute('role'),
      live: face.el.closest('[aria-live]') !== null || face.el.hasAttribute('aria-live'),
      skin: getComputedStyle(q('.face__skin')).fill, brow: getComputedStyle(q('.face__brow')).stroke,
      mouth: getComputedStyle(q('.face__mouth')).stroke, lid: getComputedStyle(q('.face__lid-edge')).stroke,
      known: m.EMOTIONS,
    };
  });
}"""


def showing(emotion: str) -> dict:
    """A state that shows `emotion` strongly (calm and relief show most at low distress)."""
    return {"emotion": emotion, "distress": {"calm": 0.1, "relief": 0.3}.get(emotion, 0.75), "trust": 0.4}


@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_a_face_for_every_emotion(pages, live_server, art, size):
    page = pages(dict(SIZES)[size]).page
    page.goto(live_server.url + "/")
    patient = patient_of(live_server)
    faces = page.evaluate(DRAW, [[f"face-{e}", patient, showing(e)] for e in EMOTIONS])
    assert sorted(faces[0]["known"]) == sorted(EMOTIONS), "face.js has no expression for some emotion the state can take"
    drawn = {e: f["drawn"] for e, f in zip(EMOTIONS, faces)}
    alike = [(a, b) for i, a in enumerate(EMOTIONS) for b in EMOTIONS[i + 1:] if drawn[a] == drawn[b]]
    assert not alike, f"these emotions draw the same face: {alike}"
    words = run_wording(page, [["feelingWord", showing(e)] for e in EMOTIONS])
    for e, f, word in zip(EMOTIONS, faces, words):
        assert f["role"] == "img" and not f["live"]
        assert f["label"] == f"{patient['name']} looks {word.lower()}"
        expect(page.get_by_role("img", name=f["label"], exact=True)).to_be_visible()
        page.locator(f"#face-{e}").screenshot(path=str(art / f"face-{size}-{e}.png"))
    page.locator("#faces").screenshot(path=str(art / f"face-{size}-all.png"))


def test_the_features_show_on_every_skin_tone(pages, live_server, art):
    """The brows, lids and mouth carry the expression: 3:1 or more against the skin, for every
    skin tone and hair colour a pack may choose, and for each shipped patient."""
    page = pages(DESKTOP).page
    page.goto(live_server.url + "/")
    tones, colours = get_args(SkinTone), get_args(HairColour)
    base = patient_of(live_server)
    looks = [[f"look-{t}-{c}", {**base, "appearance": {"skin_tone": t, "hair": "short", "hair_colour": c}}, showing("anger")]
             for t in tones for c in colours]
    listed = httpx.get(live_server.url + "/api/personas", timeout=10).json()["personas"]
    looks += [[f"pack-{p['id']}", p["patient"], showing("sadness")] for p in listed]
    faces = page.evaluate(DRAW, looks)
    for f in faces:
        for part in ("brow", "mouth", "lid"):
            assert contrast(f[part], f["skin"]) >= 3, f"{f['id']}: the {part} is under 3:1 against the skin"
    assert len({f["skin"] for f in faces}) == len(tones)
    page.locator("#faces").screenshot(path=str(art / "face-skin-tones.png"))


def expression_numbers(page, cases: list) -> list[dict]:
    return page.evaluate("""async (cases) => {
      const m = await import('/static/js/face.js');
      return cases.map(([e, d]) => m.expression(e, d));
    }""", cases)


def test_expressions_mean_what_they_say_and_distress_sets_their_strength(pages, live_server):
    page = pages(DESKTOP).page
    page.goto(live_server.url + "/")
    neutral, anger, fear, sad, relief, fear_low, sad_low, sad_high = expression_numbers(page, [
        ["no_such_feeling", 0.6], ["anger", 0.8], ["fear", 0.8], ["sadness", 0.8], ["relief", 0.3],
        ["fear", 0.25], ["sadness", 0.25], ["sadness", 0.95]])
    assert anger["tilt"] > neutral["tilt"] and anger["lift"] < neutral["lift"]       # brows down and drawn in
    assert fear["open"] > neutral["open"] and fear["lift"] > neutral["lift"] and fear["tilt"] < 0  # eyes wide, brows raised
    assert sad["curve"] < neutral["curve"] and sad["slump"] > neutral["slump"]      # mouth down, head sinks
    assert relief["curve"] > neutral["curve"] > anger["curve"]                       # a soft smile
    assert fear["open"] > fear_low["open"] and sad_high["slump"] > sad["slump"] > sad_low["slump"]
    assert sad_high["tear"] > 0 == sad_low["tear"]


# -- the face and "Feeling now" in a session -------------------------------------------------------

def start_text_session_through_proxy(page, server, learner: str) -> list:
    """A text session whose server messages pass through a proxy the test can add to: returns
    the page's sockets (`sockets[-1].send(...)` reaches the page as if from the server)."""
    sockets = []

    def proxy(ws):
        upstream = ws.connect_to_server()
        ws.on_message(lambda m: upstream.send(m))
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/session$"), proxy)
    start_text_session(page, server, learner)
    expect(page.locator(".turn--patient").first).to_be_visible(timeout=20_000)
    return sockets


# every change of how far the voice opens the mouth (window.__mouth = [] starts a new record)
RECORD_MOUTH = """() => {
  window.__mouth = [];
  const mouth = document.querySelector('.patient-panel .face__mouth');
  new MutationObserver((changes) => {
    for (const c of changes) if (c.oldValue !== mouth.dataset.voice) window.__mouth.push(Number(mouth.dataset.voice));
  }).observe(mouth, {attributes: true, attributeFilter: ['data-voice'], attributeOldValue: true});
}"""


@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_the_session_face_and_feeling_follow_each_turn(pages, live_server, art, size):
    page = pages(dict(SIZES)[size]).page
    sockets = start_text_session_through_proxy(page, live_server, f"face-session-{size}")
    patient = patient_of(live_server)
    name = patient["name"]
    face = page.locator(".patient-panel svg.face")
    feeling = page.locator("#patient-emotion")
    stance = page.locator(".feeling__style")
    expect(face).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(f"^{name} looks "))).to_be_visible()
    assert face.get_attribute("aria-live") is None and face.evaluate("el => el.closest('[aria-live]')") is None

    # where it sits: inside the patient panel and the viewport, clear of the transcript and the text box
    viewport = dict(SIZES)[size]
    face_box = box_of(face)
    assert inside(face_box, box_of(page.locator(".patient-panel")))
    assert inside(face_box, {"top": 0, "left": 0, "bottom": viewport["height"], "right": viewport["width"]})
    assert not overlaps(face_box, box_of(page.locator("#transcript")))
    assert not overlaps(face_box, box_of(page.locator("#learner-text")))
    page.screenshot(path=str(art / f"face-session-{size}.png"))

    # a real typed turn: the words follow the state the server sent, and the mouth of a text
    # session stays still (no voice to move it)
    page.evaluate(RECORD_MOUTH)
    before = feeling.inner_text()
    box = page.locator("#learner-text")
    box.fill("That sounds really frightening, not knowing what it is. What worries you most about it?")
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="1"] .bubble')).not_to_be_empty(timeout=30_000)
    page.wait_for_timeout(1_000)  # the face has eased to the new expression
    assert feeling.inner_text() != before, "the feeling shown did not move with an empathic turn"
    assert page.evaluate("window.__mouth") == [], "the mouth moved with a voice in a text session"

    # crafted turns through the proxy: what is shown and said follows each state, once per turn
    page.evaluate(RECORD_ANNOUNCEMENTS)
    send = lambda m: sockets[-1].send(json.dumps(m))  # noqa: E731
    shown, said = [], []
    turns = [
        (10, state(distress=0.72, trust=0.30)),
        (11, state(distress=0.66, trust=0.34)),            # less frightened, trust up
        (11, state(distress=0.66, trust=0.34)),            # the same turn again: not said twice
        (12, state(distress=0.665, trust=0.38, style="neutral")),  # distress held, trust up: still says so
        (13, state("relief", 0.38, trust=0.45, style="neutral")),
        (14, state("relief", 0.38, trust=0.45, style="neutral")),  # nothing moved: nothing said
    ]
    for turn, s in turns:
        page.evaluate("window.__said = []")
        send({"type": "state.update", "turn_id": turn, **s})
        page.wait_for_timeout(700)  # longer than the announcer's delay and the face's easing
        shown.append((feeling.inner_text(), stance.inner_text(), face.get_attribute("aria-label"), face.get_attribute("data-emotion")))
        said.append([h["text"] for h in heard(page, "feeling-announcer")])
    assert shown[1][:2] == ("Less frightened", "Guarded, trusting you more")
    assert said[1] == [f"{name} seems less frightened. Trust up."]
    assert shown[2] == shown[1] and said[2] == [], "a repeated state for the same turn was shown or said again"
    assert shown[3][1] == "Cautious, trusting you more" and said[3] == [f"{name} seems frightened. Trust up."]
    assert shown[4][0] == "Relieved" and shown[4][2] == f"{name} looks relieved" and shown[4][3] == "relief"
    assert said[4] == [f"{name} now seems relieved. Trust up."]
    assert shown[5][0] == "Relieved" and said[5] == []
    assert shown[0][2] == f"{name} looks very frightened"
    page.screenshot(path=str(art / f"face-session-relieved-{size}.png"))


# -- smooth changes, and still ones under reduced motion --------------------------------------------

# show fear, then relief; record the mouth and brows at every frame for a second; and whether the
# new face was drawn at once, in the same task as the change
EASE = """async (patient) => {
  const m = await import('/static/js/face.js');
  const face = new m.Face(patient);
  document.getElementById('app').replaceChildren(face.el);
  face.show({emotion: 'fear', distress: 0.8}, true);
  const mouth = face.el.querySelector('.face__mouth'), brow = face.el.querySelector('.face__brow');
  const draw = () => mouth.getAttribute('d') + ' ' + brow.getAttribute('d');
  const first = draw();
  face.show({emotion: 'relief', distress: 0.3});
  const atOnce = draw();
  const frames = [];
  await new Promise((done) => {
    const t0 = performance.now();
    const tick = (t) => { frames.push(draw()); if (t - t0 < 1200) requestAnimationFrame(tick); else done(); };
    requestAnimationFrame(tick);
  });
  const target = new m.Face(patient);
  target.show({emotion: 'relief', distress: 0.3}, true);
  const tm = target.el.querySelector('.face__mouth'), tb = target.el.querySelector('.face__brow');
  // (the stylesheet's reduced-motion rule cuts every transition to 0.001 ms: that is not one)
  const styled = [face.el, ...face.el.querySelectorAll('*')].map((el) => getComputedStyle(el))
    .filter((cs) => cs.transitionDuration.split(',').some((d) => parseFloat(d) > 0.001) || cs.animationName !== 'none').length;
  return {first, atOnce, frames: [...new Set(frames)], final: frames[frames.length - 1],
          target: tm.getAttribute('d') + ' ' + tb.getAttribute('d'), styled,
          animations: face.el.getAnimations({subtree: true}).length};
}"""


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
@pytest.mark.parametrize("size", [s[0] for s in SIZES])
def test_the_face_eases_between_turns_unless_motion_is_reduced(pages, live_server, size, motion):
    page = pages(dict(SIZES)[size]).page
    page.emulate_media(reduced_motion=motion)
    page.goto(live_server.url + "/")
    got = page.evaluate(EASE, patient_of(live_server))
    assert got["final"] == got["target"], "the face did not arrive at the new expression"
    assert got["styled"] == 0 and got["animations"] == 0, "the face has CSS transitions or animations"
    if motion == "reduce":
        assert got["atOnce"] == got["target"], "under reduced motion the change was not drawn at once"
        assert got["frames"] == [got["target"]], "under reduced motion the face moved"
    else:
        assert got["atOnce"] == got["first"], "the change was drawn in one step"
        assert len(got["frames"]) > 3, "the face jumped instead of easing"


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_the_mouth_moves_with_the_voice_unless_motion_is_reduced(pages, live_server, art, motion):
    """A voice session whose reply audio (a second of a soft tone) comes from the test, as in
    tests/test_browser_ui_fixes.py: the mouth opens with it, and stays still under reduced motion."""
    page = pages(DESKTOP).page
    page.emulate_media(reduced_motion=motion)
    sockets, _ = start_voice_session_without_audio(page, live_server, f"face-voice-{motion}")
    expect(page.locator(".turn--patient").first).to_be_visible(timeout=20_000)
    expect(page.locator("#mic-state")).to_have_text("Listening", timeout=30_000)  # the opening, if spoken, is over
    page.evaluate(RECORD_MOUTH)
    box = page.locator("#learner-text")
    box.fill("When did the tightness start?")
    box.press("Enter")
    expect(page.locator('.turn--patient[data-turn-id="1"] .bubble')).not_to_be_empty(timeout=30_000)
    page.wait_for_timeout(800)
    page.evaluate("window.__mouth = []")
    send = lambda m: sockets[-1].send(json.dumps(m))  # noqa: E731
    send({"type": "patient.audio.start", "turn_id": 1, "sample_rate": 16000})
    sockets[-1].send(SPOKEN_REPLY)
    send({"type": "patient.audio.end", "turn_id": 1})
    expect(page.locator("#mic-state")).to_have_text("Patient is speaking", timeout=10_000)
    page.wait_for_timeout(400)
    if motion == "no-preference":
        page.locator(".patient-panel").screenshot(path=str(art / "face-speaking-desktop.png"))
    expect(page.locator("#mic-state")).to_have_text("Listening", timeout=30_000)
    page.wait_for_timeout(800)
    opened = page.evaluate("window.__mouth")
    if motion == "reduce":
        assert opened == [], f"the mouth moved under reduced motion: {opened}"
    else:
        assert opened and max(opened) > 0.2, f"the mouth did not open with the voice: {opened}"
        assert opened[-1] == 0, "the mouth did not close when the voice stopped"
