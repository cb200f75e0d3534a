"""Live recognition against offline: word error rate of the same clips both ways.

Each clip is one learner phrase written for this benchmark (history questions, empathic
remarks, explanations), synthesised with espeak-ng in one of four voices and speeds, with
0.3 s of silence either side as in bench_asr.py:

  * offline: the product's Transcriber (build_transcriber, as the server builds it) on the
    whole clip;
  * live: `bedside serve` with the default silence turn detector; one voice session per clip
    streams 1 s of microphone silence, the clip in real time as 20 ms PCM16 chunks, then
    silence until the turn's `learner.transcript` (a `vad.discarded` turn counts as nothing
    heard; a clip split into several turns counts as their texts joined).

Whisper base on synthetic speech turns on a few milliseconds of where the clip starts
(0.20-0.25 WER here for lead-ins 10 ms apart), so neither figure is one alignment: offline is
the median over lead-ins of 280-320 ms in 10 ms steps, and each live run streams a different
extra lead-in (0, 11, 22 ms: another phase of the VAD's 32 ms window), the live figure being
the median of the runs; both with their range. One WER normaliser for both
(bench_asr.word_edits).

    BEDSIDE_MODELS_DIR=... .venv/bin/python eval/bench/bench_asr_live.py [--runs 3] [--verbose]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import websockets

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from eval.bench.bench_asr import wer  # noqa: E402
from server.api.launch import ServerProcess  # noqa: E402
from server.config import Settings  # noqa: E402
from server.speech.vad import pcm16_to_float  # noqa: E402
from tests.voice_audio import pcm16, silence, speech, stream  # noqa: E402

PHRASES = [
    "What brought you to the clinic this morning?",
    "When did you first notice the headache?",
    "Is the headache there all the time, or does it come and go?",
    "Do bright lights bother you?",
    "Have you been sick at all?",
    "Do you take any medicines?",
    "Are you on any tablets from your doctor?",
    "Have you had any operations in the past?",
    "Does anybody at home have the same problem?",
    "How many cigarettes do you smoke a day?",
    "Do you drink any alcohol?",
    "What do you do for a living?",
    "Who is at home with you?",
    "Has your weight changed recently?",
    "How is your appetite?",
    "Are you sleeping well at night?",
    "Have you had a fever or felt shivery?",
    "Where exactly is the pain?",
    "Could you rate the pain from one to ten?",
    "Does it hurt when you take a deep breath?",
    "Any problems passing water?",
    "Have your bowels been normal?",
    "I am sorry to hear that.",
    "That sounds like a very difficult week.",
    "It is completely understandable to feel anxious.",
    "Thank you for being so open with me.",
    "I can tell this has been hard for you.",
    "You did the right thing to come and see us.",
    "Let me check that I have got this right.",
    "Is there anything you are especially worried about?",
    "What were you hoping we could do today?",
    "I would like to examine your tummy, if that is all right.",
    "We will take a small sample of blood.",
    "Please stop me if you have any questions.",
    "Shall we talk about what happens next?",
    "Is there someone you would like me to call?",
]
VOICES = [("en", 150), ("en-us", 160), ("en-gb-x-rp", 140), ("en-gb-scotland", 175)]  # phrase i: VOICES[i % 4]
PAD_S = 0.3
OFFLINE_LEADS_S = [0.28, 0.29, 0.3, 0.31, 0.32]
LEAD_IN_S = 1.0
RUN_SHIFT_MS = 11
TARGET_GAP = 0.02


def clips() -> list[dict]:
    out = []
    for i, text in enumerate(PHRASES):
        voice, speed = VOICES[i % len(VOICES)]
        out.append({"id": f"{i:02d}-{voice}-{speed}", "reference": text, "speech": speech(text, voice=voice, speed=speed)})
    return out


def padded(audio: np.ndarray, lead_s: float = PAD_S) -> np.ndarray:
    """The clip with its silence, in the PCM16 steps the socket carries, so both ways hear the same samples."""
    return pcm16_to_float(pcm16(np.concatenate([silence(lead_s), audio, silence(PAD_S)])))


def offline(items: list[dict], lead_s: float = PAD_S) -> list[str]:
    from server.speech.asr.factory import build_transcriber

    transcriber = build_transcriber(Settings())
    return [transcriber.transcribe(padded(c["speech"], lead_s), "en").text for c in items]


async def live_one(url: str, clip: np.ndarray, lead_in_s: float) -> str:
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "session.start", "persona_id": "chest-pain-anxiety", "learner_id": "bench-asr-live",
                                  "mode": "voice"}))
        while json.loads(await ws.recv())["type"] != "session.started":
            pass
        texts: list[str] = []
        ends = {"stopped": 0, "answered": 0}  # turns ended by the VAD, and those transcribed or discarded

        async def read():
            async for msg in ws:
                if isinstance(msg, bytes):
                    continue
                event = json.loads(msg)
                if event["type"] == "vad.speech_stopped":
                    ends["stopped"] += 1
                elif event["type"] in ("learner.transcript", "vad.discarded"):
                    ends["answered"] += 1
                    if event["type"] == "learner.transcript":
                        texts.append(event["text"])
                elif event["type"] == "error":
                    print(f"  server error: {event}", file=sys.stderr)

        async def settled(timeout_s: float, every: bool) -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            while not (ends["answered"] >= (ends["stopped"] if every else 1)) and loop.time() < deadline:
                await asyncio.sleep(0.05)

        reader = asyncio.create_task(read())
        await stream(ws.send, silence(lead_in_s))
        await stream(ws.send, clip)
        await stream(ws.send, silence(1.0))  # the microphone keeps sending past the end of turn
        await settled(30, every=False)
        if not ends["answered"]:
            raise SystemExit("no learner.transcript within 30 s of the end of a clip")
        await settled(10, every=True)  # a clip split into turns: the later ones wait for the first reply
        reader.cancel()
    return " ".join(texts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--verbose", action="store_true", help="print every clip whose live text differs from offline")
    a = ap.parse_args(argv)
    items = clips()
    refs = [c["reference"] for c in items]
    words = sum(len(r.split()) for r in refs)
    by_lead = {lead: offline(items, lead) for lead in OFFLINE_LEADS_S}
    off = by_lead[PAD_S]
    off_wers = [wer(list(zip(refs, texts))) for texts in by_lead.values()]
    off_wer = statistics.median(off_wers)
    settings = Settings()
    runs: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", Path(settings.persona_dir), extra_args=["--turn-detector", "silence"],
                               env={"BEDSIDE_MODELS_DIR": str(settings.models_dir)}).start()
        try:
            for r in range(a.runs):
                lead_in = LEAD_IN_S + r * RUN_SHIFT_MS / 1000
                runs.append([asyncio.run(live_one(server.ws_url, padded(c["speech"]), lead_in)) for c in items])
                print(f"run {r + 1} (lead-in {lead_in * 1000:.0f} ms): live WER {wer(list(zip(refs, runs[-1]))):.3f}", flush=True)
        finally:
            server.stop()
    live = [wer(list(zip(refs, texts))) for texts in runs]
    median = statistics.median(live)
    gap = median - off_wer
    print(f"\n{len(items)} clips, {words} words, espeak-ng voices {', '.join(f'{v} {s}' for v, s in VOICES)}; "
          f"Whisper base (the server's transcriber), silence turn detector")
    print(f"offline WER, whole clip, median of {len(off_wers)} lead-ins ({', '.join(f'{x * 1000:.0f}' for x in OFFLINE_LEADS_S)} ms): "
          f"{off_wer:.3f} (range {min(off_wers):.3f}-{max(off_wers):.3f}; {off_wers[OFFLINE_LEADS_S.index(PAD_S)]:.3f} at {PAD_S * 1000:.0f} ms)")
    print(f"live WER, median of {len(live)} runs: {median:.3f} (range {min(live):.3f}-{max(live):.3f})")
    print(f"live - offline: {gap:+.3f}; target |gap| <= {TARGET_GAP}: {'met' if abs(gap) <= TARGET_GAP else 'MISSED'}")
    if a.verbose:
        for i, c in enumerate(items):
            for r, texts in enumerate(runs):
                if texts[i] != off[i]:
                    print(f"  {c['id']} run {r + 1}: live {texts[i]!r} offline {off[i]!r} (ref {c['reference']!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
