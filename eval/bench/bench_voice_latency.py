"""Voice-to-voice latency of a real Bedside server over the websocket.

Starts `bedside serve` with the default stack (Silero VAD, faster-whisper base int8,
template realiser, pyttsx3/espeak-ng; `--realiser transformers` puts SmolLM2 in, its checked
sentences spoken as they are generated), streams espeak-ng learner utterances in real time
as 20 ms PCM16 chunks, and prints p50/p95 of:
  * client-measured voice-to-voice: last speech chunk sent -> first patient audio byte received
  * server stages from metrics.turn: endpointing wait, ASR, engine+commit, first TTS audio
and the server's resident memory with every default model loaded (VmRSS / VmHWM).
Every figure is measured in this run.

    .venv/bin/python eval/bench/bench_voice_latency.py [--turns 24] [--runs 3] [--turn-detector semantic]
        [--realiser transformers] [--grader trained]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from eval.bench.percentile import percentile  # noqa: E402
from server.api.launch import ServerProcess  # noqa: E402
from server.config import Settings  # noqa: E402
from tests.voice_audio import silence, speech, stream  # noqa: E402

LINES = [
    "Hello, what brings you in today?",
    "When did the pain start?",
    "Can you describe the pain for me?",
    "That sounds really frightening.",
    "What worries you most about it?",
    "Does anything make it worse?",
    "Do you take any medicines?",
    "Do you have any allergies?",
    "Do you smoke?",
    "How are things at home?",
    "How is work at the moment?",
    "How have you been sleeping?",
]
TARGET_P50_MS = 1500


def pct(values: list[float], q: float) -> float:
    """q in [0, 1]; the nearest-rank percentile every benchmark uses (eval/bench/percentile.py)."""
    return percentile(values, 100 * q)


async def one_session(url: str, turns: int, persona: str, results: list[dict], discarded: list[str]) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "session.start", "persona_id": persona, "learner_id": "bench", "mode": "voice"}))
        while json.loads(await ws.recv())["type"] != "session.started":
            pass
        for i in range(turns):
            audio = speech(LINES[i % len(LINES)])
            await stream(ws.send, silence(0.2))
            await stream(ws.send, audio)
            speech_end = time.perf_counter()
            sender = asyncio.create_task(stream(ws.send, silence(3.0)))  # the microphone keeps sending
            first_audio, metrics, ended, seen, audio_bytes, rate = None, None, False, [], 0, 22050
            while metrics is None or not ended:
                try:
                    msg = await asyncio.wait_for(ws.recv(), 60)
                except asyncio.TimeoutError:
                    raise SystemExit(f"no reply within 60 s to {LINES[i % len(LINES)]!r}; events so far: {seen}")
                if isinstance(msg, bytes):
                    first_audio = first_audio or time.perf_counter()
                    audio_bytes += len(msg)
                    continue
                ev = json.loads(msg)
                seen.append(ev["type"] if ev["type"] != "learner.transcript" else ev)
                if ev["type"] == "patient.audio.start":
                    rate = ev["sample_rate"]
                if ev["type"] == "metrics.turn":
                    metrics = ev
                elif ev["type"] == "patient.audio.end":
                    ended = True
                elif ev["type"] == "error":
                    raise RuntimeError(ev)
                elif ev["type"] == "vad.discarded":
                    print(f"  turn discarded as non-speech: {LINES[i % len(LINES)]!r}", flush=True)
                    discarded.append(LINES[i % len(LINES)])
                    break
            if metrics is None:
                await sender
                continue
            await sender
            # like a learner, let the patient finish speaking before the next question
            left = first_audio + audio_bytes / 2 / rate - time.perf_counter()
            if left > 0:
                await stream(ws.send, silence(left))
            results.append({"client_v2v_ms": (first_audio - speech_end) * 1000, **metrics["stages_ms"],
                            "audio_s": metrics["audio_duration_s"]})
            print(f"  turn {len(results):2d}: voice-to-voice {results[-1]['client_v2v_ms']:.0f} ms "
                  f"(endpoint {metrics['stages_ms']['speech_end_to_endpoint_ms']:.0f}, asr {metrics['stages_ms']['asr_ms']:.0f}, "
                  f"engine {metrics['stages_ms']['engine_commit_ms']:.0f}, first sentence {metrics['stages_ms']['first_sentence_ms']:.0f}, "
                  f"tts {metrics['stages_ms']['tts_first_audio_ms']:.0f})",
                  flush=True)
        await ws.send(json.dumps({"type": "session.end"}))


def rss(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, value = line.split(":")
            out[key] = int(value.split()[0]) / 1024
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=24)
    ap.add_argument("--persona", default="chest-pain-anxiety")
    ap.add_argument("--realiser", default="template", choices=["template", "transformers"],
                    help="transformers: SmolLM2 words the reply and its checked sentences are spoken as they come")
    ap.add_argument("--grader", default=None, choices=["rules", "trained"], help="default: the server's default")
    ap.add_argument("--turn-detector", dest="turn_detector", default="silence", choices=["silence", "semantic"])
    ap.add_argument("--runs", type=int, default=3, help="runs of --turns each on one server; the median run and the range")
    args = ap.parse_args()
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--realiser", args.realiser, "--turn-detector", args.turn_detector] + (["--grader", args.grader] if args.grader else [])
        server = ServerProcess(Path(tmp) / "data", Path(settings.persona_dir), extra_args=extra,
                               env={"BEDSIDE_MODELS_DIR": str(settings.models_dir)}).start()
        try:
            print(f"server pid {server.pid}; memory after start-up with every default model loaded: "
                  + ", ".join(f"{k} {v:.0f} MiB" for k, v in rss(server.pid).items()))
            results: list[dict] = []
            discarded: list[str] = []
            per_run: list[tuple[float, float]] = []  # each run's client voice-to-voice p50, p95
            per_session = 12
            sessions = [min(per_session, args.turns - k) for k in range(0, args.turns, per_session)]
            for run in range(args.runs):
                first = len(results)
                for n in sessions:
                    asyncio.run(one_session(server.ws_url, n, args.persona, results, discarded))
                v2v = [r["client_v2v_ms"] for r in results[first:]]
                per_run.append((pct(v2v, .5), pct(v2v, .95)))
                print(f"run {run + 1}: client voice-to-voice p50 {per_run[-1][0]:.0f} ms, p95 {per_run[-1][1]:.0f} ms", flush=True)
            mem = rss(server.pid)
        finally:
            server.stop()
    print(f"\nvoice-to-voice over {len(results)} turns in {args.runs} runs on {os.cpu_count()} CPUs "
          f"(Silero VAD, faster-whisper base int8, {args.realiser} realiser, {args.grader or 'default'} grader, pyttsx3, "
          f"{args.turn_detector} turn detector)")
    for i, name in enumerate(("p50", "p95")):
        vals = [r[i] for r in per_run]
        print(f"client voice-to-voice {name}: median of {len(vals)} runs {statistics.median(vals):.0f} ms "
              f"(range {min(vals):.0f}-{max(vals):.0f})")
    print("(the stage table below pools every run's turns)")
    rows = [("client: speech end -> first audio byte", "client_v2v_ms"),
            ("server: speech end -> first audio sent", "voice_to_voice_ms"),
            ("  endpointing wait (silence window)", "speech_end_to_endpoint_ms"),
            ("  ASR", "asr_ms"),
            ("  engine + durable commit", "engine_commit_ms"),
            ("  first sentence ready (realiser)", "first_sentence_ms"),
            ("  TTS to first audio byte", "tts_first_audio_ms")]
    print(f"{'stage':42s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for label, key in rows:
        vals = [r[key] for r in results if r.get(key) is not None]
        print(f"{label:42s} {pct(vals, .5):8.0f} {pct(vals, .95):8.0f}")
    p50 = pct([r["client_v2v_ms"] for r in results], .5)
    print(f"turns discarded as non-speech: {len(discarded)}")
    print(f"target p50 <= {TARGET_P50_MS} ms: {'met' if p50 <= TARGET_P50_MS else 'missed'} ({p50:.0f} ms)")
    print("server memory at the end: " + ", ".join(f"{k} {v:.0f} MiB" for k, v in mem.items()) + " (target <= 2048 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
