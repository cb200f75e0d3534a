"""Is the turn-taking set's audio intelligible? Word error rate of the product's offline transcriber
(faster-whisper, as the server builds it) on the first N utterances of a kind, in both voices:
espeak-ng synthesised now, and the Piper WAVs made by eval/turn_taking/synth_piper.py.

Each utterance's segments are transcribed one by one, as the benchmark streams them, trimmed the
same way, with 0.3 s of silence either side; the reference is the segment's text.

    .venv/bin/python eval/bench/turn_taking_intelligibility.py --audio-dir /work/piper-audio [-n 20] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from eval.bench.bench_asr import wer, word_edits  # noqa: E402
from eval.bench.bench_turn_taking import SET, wav_segments  # noqa: E402
from server.config import Settings  # noqa: E402
from server.speech.asr.factory import build_transcriber  # noqa: E402
from tests.voice_audio import silence, speech  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audio-dir", type=Path, required=True, help="Piper WAVs from eval/turn_taking/synth_piper.py")
    ap.add_argument("-n", type=int, default=20, help="how many utterances (first in the file)")
    ap.add_argument("--kind", default="complete", choices=["complete", "pause", "trailing"])
    ap.add_argument("--show", action="store_true", help="print every segment not transcribed exactly")
    a = ap.parse_args(argv)
    items = [u for u in map(json.loads, SET.read_text().splitlines()) if u["kind"] == a.kind][:a.n]
    piper = wav_segments(items, a.audio_dir)
    asr = build_transcriber(Settings(asr_backend="faster-whisper"))
    pad = silence(0.3)
    for voice in ("espeak", "piper"):
        pairs = []
        for u in items:
            for i, text in enumerate(u["segments"]):
                audio = piper[u["id"]][i] if voice == "piper" else speech(text, voice=u["voice"], speed=u["speed"])
                hyp = asr.transcribe(np.concatenate([pad, audio, pad]), "en").text
                pairs.append((text, hyp))
                if a.show and word_edits(text, hyp)[0]:
                    print(f"  [{voice}] {u['id']}.{i}: {hyp!r} (said {text!r})")
        words = sum(word_edits(r, h)[1] for r, h in pairs)
        exact = sum(not word_edits(r, h)[0] for r, h in pairs)
        print(f"{voice:7s} WER {wer(pairs):.3f} on {len(items)} {a.kind} utterances ({len(pairs)} segments, {words} words; "
              f"{exact} segments exact), {asr.model_name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
