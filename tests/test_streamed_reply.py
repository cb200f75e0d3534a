"""Voice turns with a model realiser: the turn is committed first, the model's checked
sentences are spoken as they come, and the words actually said are what the transcript keeps.

Runs the real engine, a real SQLite store and the tiny randomly initialised Llama of
tests/test_realisers.py (scripted by a logits processor, slowed per token so the timing is
not a race). The live websocket path with the bundled SmolLM2 is in tests/test_voice.py.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from server.api.conversation import Conversation
from server.api.outbox import CollectingOutbox
from server.api.protocol import SessionStart
from server.api.services import Services
from server.core.text import split_sentences
from server.engine.patient import Engine
from server.store.sql import open_store
from tests.test_realisers import ONSET, Script, Slow, bundled_dir, tiny, tiny_dir  # noqa: F401 (fixtures)

SAID = "It started about two weeks ago. It comes and goes, ten or twenty minutes at a time. Last night was the worst."


@pytest.fixture
def make_conversation(engine, settings, tmp_path):
    stores = []

    async def make(realiser):
        store = open_store(f"sqlite:///{tmp_path / 'stream.db'}")
        stores.append(store)
        eng = Engine(engine.registry, engine.embedder, engine.grader, realiser)
        outbox = CollectingOutbox()
        conv = Conversation(Services(settings=settings, engine=eng, store=store, educator_token="x"), outbox)
        await conv.handle(SessionStart(type="session.start", persona_id="chest-pain-anxiety", learner_id="stream-test"))
        conv.state.emotional.trust = 0.5  # the onset fact's gate is open
        return conv, store, outbox.events

    yield make
    for s in stores:
        s.close()


async def test_sentences_are_spoken_while_the_rest_is_generated(make_conversation, tiny_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_dir))
    conv, store, sent = await make_conversation(tiny(tiny_dir, Script(tok, SAID), Slow(0.03)))
    record, events = await conv.commit_turn("When did this start?", stream=True)
    # committed before a word was generated: grade and state go out, the words follow
    assert [e.type for e in events] == ["grade.turn", "state.update"]
    stored = store.turns(conv.session.id)[0]
    assert stored.extra["reply_status"] == "streaming" and stored.reply == ONSET  # the plan, worded by the template
    t0 = time.perf_counter()
    arrivals = [(time.perf_counter() - t0, s) async for s in conv.reply_sentences(record)]
    assert [s for _, s in arrivals] == split_sentences(SAID)
    assert arrivals[-1][0] - arrivals[0][0] > 0.3, arrivals  # the first was ready well before the last
    # the transcript keeps what was said, and the client gets it as patient.text
    row = store.turns(conv.session.id)[0]
    assert row.reply == SAID and row.realiser == "transformers"
    assert row.extra["reply_status"] == "complete" and row.fallback_reason is None
    assert row.extra["realisation"]["first_sentence_ms"] > 0
    assert row.session_state.last_patient_text == SAID and row.session_state.history[-1] == ("patient", SAID)
    assert conv.state.last_patient_text == SAID
    assert sent[-1].model_dump() == {"type": "patient.text", "turn_id": 1, "text": SAID}


async def test_barge_in_stops_generation_and_keeps_what_was_said(make_conversation, tiny_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_dir))
    realiser = tiny(tiny_dir, Script(tok, SAID), Slow(0.05))
    conv, store, sent = await make_conversation(realiser)
    record, _ = await conv.commit_turn("When did this start?", stream=True)
    sentences = conv.reply_sentences(record)
    first = await sentences.__anext__()
    t0 = time.perf_counter()
    await sentences.aclose()  # the learner talks over the patient: the voice channel closes the stream
    assert time.perf_counter() - t0 < 2.0
    assert realiser.model.last_tokens < len(tok.encode(SAID)) - 5  # generation stopped early
    row = store.turns(conv.session.id)[0]
    assert first == split_sentences(SAID)[0] and row.reply == first
    assert row.fallback_reason == "cancelled by barge-in" and row.extra["reply_status"] == "complete"
    assert sent[-1].type == "patient.text" and sent[-1].text == first
    # the next turn is graded against what the patient actually said
    assert conv.state.last_patient_text == first


async def test_a_rejected_reply_falls_back_and_the_reason_and_text_are_stored(make_conversation, tiny_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_dir))
    invented = "My brother in Leeds had a heart attack at forty. It started two weeks ago."
    conv, store, _ = await make_conversation(tiny(tiny_dir, Script(tok, invented)))
    record, _ = await conv.commit_turn("When did this start?", stream=True)
    spoken = [s async for s in conv.reply_sentences(record)]
    assert spoken == split_sentences(ONSET)
    row = store.turns(conv.session.id)[0]
    assert row.reply == ONSET and row.realiser == "template(fallback:transformers)"
    assert "brother" in row.rejected_reply and row.fallback_reason
    # the typed (whole-reply) path stores the reason and the rejected text too
    record2, events = await conv.commit_turn("Can you say that again, when did it start?")
    assert events[-1].type == "patient.text"
    row2 = store.turns(conv.session.id)[1]
    assert row2.realiser.startswith("template(fallback:") and row2.fallback_reason and row2.rejected_reply
    # and both reach the export
    from server.store.export import export_lines

    lines = list(export_lines(store, [store.get_session(conv.session.id)]))
    assert lines[0]["fallback_reason"] == row.fallback_reason and "brother" in lines[0]["rejected_reply"]


async def test_template_realiser_voice_turns_are_not_streamed(make_conversation):
    from server.realise.template import TemplateRealiser

    conv, store, _ = await make_conversation(TemplateRealiser())
    record, events = await conv.commit_turn("When did this start?", stream=True)
    assert events[-1].type == "patient.text" and events[-1].text == ONSET
    assert [s async for s in conv.reply_sentences(record)] == split_sentences(ONSET)
    row = store.turns(conv.session.id)[0]
    assert "reply_status" not in row.extra and row.realiser == "template"
