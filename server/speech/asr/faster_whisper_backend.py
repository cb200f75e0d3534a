"""asr_backend "faster-whisper" (the default): Whisper on CTranslate2, the fastest CPU path.

Besides the standard decode it has the short-context path for learner turns, which uses
faster-whisper's internals (WhisperModel.model, feature_extractor, hf_tokenizer); pyproject.toml
keeps faster-whisper and ctranslate2 on the major versions this was written against.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from ...core.text import split_sentences
from .audio import SAMPLE_RATE, as_mono_float32
from .base import Transcript, normalise_text, summarise_segments, whisper_language


class FasterWhisperTranscriber:
    """CTranslate2 Whisper; greedy decoding and no prompt carry-over to keep turns fast.

    `short_context`: Whisper pads every clip to a 30 s window, so the encoder costs the
    same for "Any allergies?" as for a 30 s monologue. A learner turn is usually a few
    seconds, so the encoder is run on the clip rounded up to whole seconds (at least
    MIN_CONTEXT_S) instead: the shorter attention context cuts ASR time about threefold
    (eval/bench/bench_asr.py prints the WER of both ways). Clips over 29 s use the
    standard path.
    """

    backend = "faster-whisper"
    MIN_CONTEXT_S = 6

    def __init__(self, model_dir: Path, compute_type: str = "int8", cpu_threads: int = 2, short_context: bool = True,
                 prompt: str | None = None):
        from faster_whisper import WhisperModel

        self.model_dir = Path(model_dir)
        if not (self.model_dir / "model.bin").is_file():
            raise FileNotFoundError(f"no CTranslate2 Whisper model in {self.model_dir}; run `bedside models prepare`")
        self.model_name = f"{self.model_dir.name}:{compute_type}"
        self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type=compute_type,
                                   cpu_threads=cpu_threads, local_files_only=True)
        self._lock = threading.Lock()  # one decode at a time keeps the thread budget honest
        self.short_context = short_context
        if short_context:
            self.model_name += ":short-context"
        self.prompt = (prompt or "").strip() or None
        self._prompt_ids: list[int] = []  # Whisper's previous-text prefix for the short path, encoded once
        if self.prompt:
            from faster_whisper.tokenizer import Tokenizer

            tok = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual, task="transcribe", language="en")
            self._prompt_ids = [tok.sot_prev] + tok.encode(" " + self.prompt)[-223:]
            self.model_name += ":prompted"

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        audio = as_mono_float32(audio)
        if self.short_context and len(audio) <= 29 * SAMPLE_RATE:
            return self._transcribe_short(audio, language)
        start = time.perf_counter()
        with self._lock:
            segments, info = self._model.transcribe(
                audio, language=whisper_language(language), beam_size=1, temperature=0.0,
                vad_filter=False, condition_on_previous_text=False, initial_prompt=self.prompt)
            parts = [(s.text, s.no_speech_prob, s.avg_logprob, len(s.tokens)) for s in segments]
        text, no_speech, logprob = summarise_segments(parts)
        return Transcript(text=text, language=info.language, no_speech_prob=no_speech, avg_logprob=logprob,
                          duration_s=len(audio) / SAMPLE_RATE, backend=self.backend, model=self.model_name,
                          elapsed_ms=(time.perf_counter() - start) * 1000)

    def _transcribe_short(self, audio: np.ndarray, language: str | None) -> Transcript:
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer

        start = time.perf_counter()
        seconds = max(self.MIN_CONTEXT_S, int(np.ceil(len(audio) / SAMPLE_RATE + 0.5)))
        padded = np.zeros(seconds * SAMPLE_RATE, dtype=np.float32)
        padded[: len(audio)] = audio
        fw = self._model
        lang = whisper_language(language) or "en"
        tokenizer = Tokenizer(fw.hf_tokenizer, fw.model.is_multilingual, task="transcribe", language=lang)
        with self._lock:
            features = fw.feature_extractor(padded)[:, : seconds * 100]
            x = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32))
            # a shortened context makes Whisper prone to looping on a sentence: bound the
            # length by the clip's duration, then drop the repeats (_collapse_loops)
            result = fw.model.generate(x, [self._prompt_ids + list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]], beam_size=1,
                                       max_length=int(6 * seconds + 12), return_scores=True,
                                       return_no_speech_prob=True, suppress_blank=True, suppress_tokens=[-1])[0]
        ids = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = _collapse_loops(tokenizer.decode(ids).strip())
        # CTranslate2's score is the length-normalised log-probability: Whisper's avg_logprob
        logprob = float(result.scores[0]) if result.scores else None
        return Transcript(text=text, language=lang, no_speech_prob=float(result.no_speech_prob), avg_logprob=logprob,
                          duration_s=len(audio) / SAMPLE_RATE, backend=self.backend, model=self.model_name,
                          elapsed_ms=(time.perf_counter() - start) * 1000)


def _collapse_loops(text: str) -> str:
    """Drop sentences that repeat the one before, and a trailing start of another repeat."""
    sentences = split_sentences(text)
    kept: list[str] = []
    for sentence in sentences:
        norm = normalise_text(sentence)
        if kept and (norm == normalise_text(kept[-1]) or
                     (sentence is sentences[-1] and norm and normalise_text(kept[-1]).startswith(norm))):
            continue
        kept.append(sentence)
    return " ".join(kept)
