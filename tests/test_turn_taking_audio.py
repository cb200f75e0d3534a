"""The turn-taking bench's natural-voice audio (issue 18): loading the segment WAVs and making them.

`eval/bench/bench_turn_taking.py --voice piper --audio-dir DIR` streams WAVs made beforehand by
`eval/turn_taking/synth_piper.py` in a Piper venv of its own. Neither Piper nor a server is
needed here: the WAVs are written by the test, and the synthesis script's resampler is plain numpy.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json

import numpy as np
import pytest
import soundfile as sf

from eval.bench.bench_turn_taking import wav_segments
from server.config import REPO_ROOT
from tests.voice_audio import RATE, stream, trim

SYNTH = REPO_ROOT / "eval" / "turn_taking" / "synth_piper.py"
ITEMS = [{"id": "complete-x", "segments": ["a"]}, {"id": "pause-x", "segments": ["b", "c"]}]


def _tone(seconds: float, hz: float = 220.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)


def _write(path, audio, rate=RATE):
    sf.write(str(path), audio, rate, subtype="PCM_16")


def test_a_missing_directory_names_the_commands_that_make_it(tmp_path):
    with pytest.raises(SystemExit) as e:
        wav_segments(ITEMS, tmp_path / "nowhere")
    assert "nowhere" in str(e.value) and "synth_piper.py" in str(e.value) and "pip install piper-tts" in str(e.value)


def test_a_missing_segment_is_named(tmp_path):
    _write(tmp_path / "complete-x.0.wav", _tone(0.2))
    _write(tmp_path / "pause-x.0.wav", _tone(0.2))
    with pytest.raises(SystemExit) as e:
        wav_segments(ITEMS, tmp_path)
    assert "pause-x.1.wav" in str(e.value) and "1 segment WAVs missing" in str(e.value)
    assert "complete-x.0.wav" not in str(e.value)


def test_audio_made_from_another_version_of_the_set_is_refused(tmp_path):
    for name in ("complete-x.0", "pause-x.0", "pause-x.1"):
        _write(tmp_path / f"{name}.wav", _tone(0.2))
    (tmp_path / "manifest.json").write_text(json.dumps({"set_sha256": "0" * 64}))
    with pytest.raises(SystemExit, match="another version"):
        wav_segments(ITEMS, tmp_path)


def test_a_16k_wav_is_trimmed_and_streamed_in_20ms_chunks_like_espeak_audio(tmp_path):
    tone = _tone(0.5)
    padded = np.concatenate([np.zeros(int(0.3 * RATE), np.float32), tone, np.zeros(int(0.2 * RATE), np.float32)])
    for name in ("complete-x.0", "pause-x.0", "pause-x.1"):
        _write(tmp_path / f"{name}.wav", padded)
    clips = wav_segments(ITEMS, tmp_path)
    assert [len(c) for c in clips.values()] == [1, 2]
    audio = clips["pause-x"][1]
    # the silence either side is gone, as espeak-ng's is in tests/voice_audio.speech
    expected = trim(tone)
    assert len(audio) == len(expected) and np.abs(audio - expected).max() < 1e-3
    sent: list[bytes] = []

    async def send(chunk):
        sent.append(chunk)

    asyncio.run(stream(send, audio, realtime=False))
    assert {len(c) for c in sent[:-1]} == {RATE // 50 * 2} and 0 < len(sent[-1]) <= RATE // 50 * 2
    assert sum(map(len, sent)) == 2 * len(audio)


def test_a_22050_hz_wav_is_brought_to_16k(tmp_path):
    t = np.arange(int(0.5 * 22050)) / 22050
    for name in ("complete-x.0", "pause-x.0", "pause-x.1"):
        _write(tmp_path / f"{name}.wav", (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate=22050)
    assert abs(len(wav_segments(ITEMS, tmp_path)["complete-x"][0]) - RATE // 2) <= 2


def _synth():
    spec = importlib.util.spec_from_file_location("synth_piper", SYNTH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_synthesis_resampler_matches_scipys_polyphase_resampler():
    from scipy.signal import resample_poly

    x = np.random.default_rng(0).standard_normal(22050 + 17).astype(np.float32)
    ours = _synth().resample(x, 22050)
    assert ours.shape == resample_poly(x, 320, 441).shape
    assert np.abs(ours - resample_poly(x, 320, 441)).max() < 1e-5


def test_the_synthesis_script_imports_nothing_of_bedside():
    """It runs in the Piper venv (GPL-3.0), where the server package is not installed."""
    tree = ast.parse(SYNTH.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names and not {n for n in names if n.split(".")[0] in {"server", "eval", "tests"}}
