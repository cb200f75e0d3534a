"""Speech to text behind one small interface, so the session code never cares which engine runs.

Three engines: faster-whisper (CTranslate2, the default: fastest on CPU), openai-whisper
(PyTorch, same weights converted by `ct2_convert`), and any OpenAI-compatible
`/v1/audio/transcriptions` server (vLLM, a hosted API). All take 16 kHz mono float32.
Upstream VAD decides what is speech; Whisper still invents text on near-silence, so
`is_probably_hallucination` is the last check before a turn reaches the dialogue engine.
"""

from __future__ import annotations

import io
import re
import threading
import time
import wave
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from ..config import reveal
from ..extras import require

SAMPLE_RATE = 16_000
OPENAI_WHISPER_CHECKPOINT = "whisper-base-openai.pt"


class Transcript(BaseModel):
    text: str
    language: str | None = None
    no_speech_prob: float | None = None  # max over segments; None when the engine gave none
    avg_logprob: float | None = None  # token-weighted mean over segments
    duration_s: float
    backend: str
    model: str
    elapsed_ms: float


class TranscriptionError(RuntimeError):
    """The engine could not produce a transcript (remote down, timed out, bad reply)."""


@runtime_checkable
class Transcriber(Protocol):
    backend: str

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript: ...


def whisper_language(language: str | None) -> str | None:
    """Persona locales ("en-GB", "en_US") to Whisper's two-letter codes; None = auto-detect."""
    if not language:
        return None
    return re.split(r"[-_]", language.strip())[0].lower() or None


def _as_input(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim != 1:
        raise ValueError(f"expected mono audio (1-D), got shape {a.shape}")
    return np.ascontiguousarray(a)


def _summarise(segments: list[tuple[str, float, float, int]]) -> tuple[str, float | None, float | None]:
    """Segments as (text, no_speech_prob, avg_logprob, n_tokens) → (text, max no-speech, mean logprob)."""
    text = " ".join(t.strip() for t, *_ in segments if t.strip())
    if not segments:
        return text, None, None
    no_speech = max(s[1] for s in segments)
    weights = np.array([max(s[3], 1) for s in segments], dtype=np.float64)
    logprob = float(np.average([s[2] for s in segments], weights=weights))
    return text, float(no_speech), logprob


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

    def __init__(self, model_dir: Path, compute_type: str = "int8", cpu_threads: int = 2, short_context: bool = True):
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

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        audio = _as_input(audio)
        if self.short_context and len(audio) <= 29 * SAMPLE_RATE:
            return self._transcribe_short(audio, language)
        start = time.perf_counter()
        with self._lock:
            segments, info = self._model.transcribe(
                audio, language=whisper_language(language), beam_size=1, temperature=0.0,
                vad_filter=False, condition_on_previous_text=False)
            parts = [(s.text, s.no_speech_prob, s.avg_logprob, len(s.tokens)) for s in segments]
        text, no_speech, logprob = _summarise(parts)
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
            result = fw.model.generate(x, [list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]], beam_size=1,
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
    sentences = [p for p in re.split(r"(?<=[.?!])\s+", text) if p]
    kept: list[str] = []
    for sentence in sentences:
        norm = normalise_text(sentence)
        if kept and (norm == normalise_text(kept[-1]) or
                     (sentence is sentences[-1] and norm and normalise_text(kept[-1]).startswith(norm))):
            continue
        kept.append(sentence)
    return " ".join(kept)


def _apply_alignment_heads(model, heads: list[list[int]]) -> None:
    """Our converted checkpoints carry the (layer, head) pairs used for word timestamps."""
    import torch

    mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)


class OpenAIWhisperTranscriber:
    """The reference PyTorch implementation; loads any openai-whisper checkpoint file."""

    backend = "openai-whisper"

    def __init__(self, checkpoint_path: Path, cpu_threads: int | None = None):
        import torch

        whisper = require("whisper", "openai-whisper", "the openai-whisper ASR backend")
        self.checkpoint_path = Path(checkpoint_path)
        if not self.checkpoint_path.is_file():
            raise FileNotFoundError(
                f"openai-whisper checkpoint {self.checkpoint_path} does not exist; create it with "
                "`bedside models convert-whisper` or point at a checkpoint you downloaded yourself")
        if cpu_threads:
            torch.set_num_threads(cpu_threads)  # process-wide: only set when asked
        self.model_name = self.checkpoint_path.stem
        self._model = whisper.load_model(str(self.checkpoint_path), device="cpu")
        try:  # mmap: reads the small pickle, not the weights again
            extra = torch.load(self.checkpoint_path, map_location="cpu", mmap=True, weights_only=True)
            heads = extra.get("alignment_heads")
        except (RuntimeError, ValueError, OSError):  # legacy (non-zip) checkpoints cannot be mapped
            heads = None
        if heads:
            _apply_alignment_heads(self._model, heads)
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        audio = _as_input(audio)
        start = time.perf_counter()
        with self._lock:
            result = self._model.transcribe(audio, language=whisper_language(language), fp16=False,
                                            temperature=0.0, condition_on_previous_text=False, verbose=None)
        parts = [(s["text"], s["no_speech_prob"], s["avg_logprob"], len(s["tokens"])) for s in result["segments"]]
        text, no_speech, logprob = _summarise(parts)
        return Transcript(text=text, language=result.get("language"), no_speech_prob=no_speech,
                          avg_logprob=logprob, duration_s=len(audio) / SAMPLE_RATE, backend=self.backend,
                          model=self.model_name, elapsed_ms=(time.perf_counter() - start) * 1000)


def wav_bytes(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV in memory: the one format every transcription server accepts."""
    pcm = (np.clip(_as_input(audio), -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


class OpenAITranscriptionClient:
    """Remote ASR over the OpenAI audio API; asks for verbose_json to get the confidence scores."""

    backend = "openai"

    def __init__(self, base_url: str, api_key: str | None = None, model: str = "whisper-1",
                 timeout_s: float = 30.0, connect_timeout_s: float = 3.0):
        import httpx

        if not base_url:
            raise ValueError("the openai ASR backend needs a base URL (BEDSIDE_OPENAI_BASE_URL)")
        root = base_url.rstrip("/")
        self.url = root + ("/audio/transcriptions" if root.endswith("/v1") else "/v1/audio/transcriptions")
        self.model_name = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s))
        self._verbose = True  # flips off once a server refuses verbose_json

    def _post(self, audio_wav: bytes, language: str | None, response_format: str):
        import httpx

        data = {"model": self.model_name, "response_format": response_format, "temperature": "0"}
        if language:
            data["language"] = language
        try:
            return self._client.post(self.url, data=data, files={"file": ("speech.wav", audio_wav, "audio/wav")})
        except httpx.TimeoutException as exc:
            raise TranscriptionError(f"transcription server at {self.url} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TranscriptionError(f"cannot reach transcription server at {self.url}: {exc}") from exc

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        audio = _as_input(audio)
        lang = whisper_language(language)
        body = wav_bytes(audio)
        start = time.perf_counter()
        resp = self._post(body, lang, "verbose_json") if self._verbose else None
        if resp is None or resp.status_code in (400, 415, 422):
            retry = self._post(body, lang, "json")
            if resp is not None and retry.status_code == 200:
                self._verbose = False  # the server only speaks plain json: stop asking
            resp = retry
        if resp.status_code != 200:
            raise TranscriptionError(f"transcription server answered {resp.status_code}: {resp.text[:200]}")
        try:
            payload = resp.json()
        except ValueError as exc:
            raise TranscriptionError(f"transcription server sent non-JSON: {resp.text[:200]}") from exc
        if not isinstance(payload, dict) or "text" not in payload:
            raise TranscriptionError(f"transcription reply has no text: {str(payload)[:200]}")
        segs = payload.get("segments") or []
        parts = [(s.get("text", ""), float(s.get("no_speech_prob", 0.0)), float(s.get("avg_logprob", 0.0)),
                  len(s.get("tokens") or ())) for s in segs if isinstance(s, dict)]
        _, no_speech, logprob = _summarise(parts)
        return Transcript(text=str(payload["text"]).strip(), language=payload.get("language") or lang,
                          no_speech_prob=no_speech, avg_logprob=logprob, duration_s=len(audio) / SAMPLE_RATE,
                          backend=self.backend, model=self.model_name,
                          elapsed_ms=(time.perf_counter() - start) * 1000)

    def close(self) -> None:
        self._client.close()


# --- choosing and caching -------------------------------------------------------------

_CACHE: dict[tuple, Transcriber] = {}
_CACHE_LOCK = threading.Lock()


def openai_whisper_checkpoint(models_dir: Path) -> Path:
    """`<models_dir>/whisper-base-openai.pt`, converted from the CT2 model when missing or stale."""
    from .model_files import whisper_ct2_dir
    from .ct2_convert import convert_ct2_to_openai_whisper

    out = Path(models_dir) / OPENAI_WHISPER_CHECKPOINT
    src = whisper_ct2_dir(models_dir)
    if not out.is_file() or out.stat().st_mtime < (src / "model.bin").stat().st_mtime:
        convert_ct2_to_openai_whisper(src, out)
    return out


def build_transcriber(settings) -> Transcriber:
    """One engine per configuration per process: loading Whisper takes seconds and ~200 MB."""
    backend = settings.asr_backend
    if backend == "openai":
        model = getattr(settings, "openai_asr_model", None) or settings.openai_model or "whisper-1"
        key: tuple = (backend, settings.openai_base_url, reveal(settings.openai_api_key), model)
    else:
        key = (backend, str(Path(settings.models_dir).resolve()), getattr(settings, "asr_short_context", True))
    with _CACHE_LOCK:
        if key not in _CACHE:
            if backend == "faster-whisper":
                from .model_files import whisper_ct2_dir

                _CACHE[key] = FasterWhisperTranscriber(whisper_ct2_dir(settings.models_dir),
                                                       short_context=getattr(settings, "asr_short_context", True))
            elif backend == "openai-whisper":
                _CACHE[key] = OpenAIWhisperTranscriber(openai_whisper_checkpoint(settings.models_dir))
            elif backend == "openai":
                _CACHE[key] = OpenAITranscriptionClient(settings.openai_base_url, reveal(settings.openai_api_key), model)
            else:
                raise ValueError(f"unknown asr_backend {backend!r}")
        return _CACHE[key]


def clear_transcriber_cache() -> None:
    with _CACHE_LOCK:
        for engine in _CACHE.values():
            if hasattr(engine, "close"):
                engine.close()
        _CACHE.clear()


# --- audio in -------------------------------------------------------------------------

def resample_to_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Band-limited polyphase resampling to the 16 kHz Whisper expects."""
    from math import gcd

    from scipy.signal import resample_poly

    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1)
    if sample_rate == SAMPLE_RATE:
        return np.ascontiguousarray(a)
    g = gcd(SAMPLE_RATE, int(sample_rate))
    return resample_poly(a, SAMPLE_RATE // g, int(sample_rate) // g).astype(np.float32)


def read_audio_16k(source) -> np.ndarray:
    """Any file soundfile reads (WAV, FLAC, OGG), as a path or a binary file object."""
    import soundfile as sf

    audio, sr = sf.read(str(source) if isinstance(source, (str, Path)) else source, dtype="float32",
                        always_2d=False)
    return resample_to_16k(audio, sr)


# --- hallucination guard ---------------------------------------------------------------

# What Whisper writes over silence or noise: subtitle credits from its training data.
_SILENCE_MARKERS = (
    "thanks for watching", "thank you for watching", "thanks for listening", "thank you for listening",
    "subtitles by", "subtitled by", "captions by", "transcribed by", "translated by", "amara org",
    "please subscribe", "like and subscribe", "see you in the next video", "www",
)
# Only suspicious as the whole turn: a student may well say "thank you" inside a sentence.
_SILENCE_WHOLE = {"you", "thank you", "thanks", "bye", "okay", "so", "oh", "hmm", "um", "uh", "music", "applause", "silence"}


def normalise_text(text: str) -> str:
    """Lowercase, punctuation to spaces, collapsed whitespace (also used for WER)."""
    text = re.sub(r"[^\w\s']", " ", text.lower()).replace("'", "")
    return re.sub(r"\s+", " ", text).strip()


def is_probably_hallucination(transcript: Transcript, speech_ratio: float | None = None, *,
                              no_speech_threshold: float = 0.6, logprob_threshold: float = -1.0,
                              min_speech_ratio: float = 0.1) -> bool:
    """True when the text is most likely invented rather than heard.

    speech_ratio: share of the clip the upstream VAD called speech (None = unknown).
    """
    text = normalise_text(transcript.text)
    if not text:
        return True
    if any(f" {marker} " in f" {text} " for marker in _SILENCE_MARKERS):  # whole words only
        return True
    words = text.split()
    if len(words) >= 6 and len(set(words)) <= max(1, len(words) // 4):
        return True  # "you you you you you you": a decoding loop
    p_silent = transcript.no_speech_prob
    if p_silent is not None and p_silent > no_speech_threshold and (
            transcript.avg_logprob is None or transcript.avg_logprob < logprob_threshold):
        return True
    if speech_ratio is not None and speech_ratio < min_speech_ratio:
        return True  # VAD heard (almost) nothing, yet there is text
    if text in _SILENCE_WHOLE and ((p_silent or 0.0) > 0.3 or (speech_ratio is not None and speech_ratio < 0.3)):
        return True
    return False
