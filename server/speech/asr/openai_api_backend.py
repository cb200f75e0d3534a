"""asr_backend "openai": any server that speaks the OpenAI audio API (vLLM, a hosted service).

Remote engines fail in ways local ones do not (down, slow, a reply without text), so every
failure here becomes a TranscriptionError with a message the session can log and survive.
"""

from __future__ import annotations

import time

import numpy as np

from ..openai_http import endpoint, http_client
from .audio import SAMPLE_RATE, as_mono_float32, wav_bytes
from .base import Transcript, TranscriptionError, summarise_segments, whisper_language


class OpenAITranscriptionClient:
    """Remote ASR over the OpenAI audio API; asks for verbose_json to get the confidence scores."""

    backend = "openai"

    def __init__(self, base_url: str, api_key: str | None = None, model: str = "whisper-1",
                 timeout_s: float = 30.0, connect_timeout_s: float = 3.0):
        if not base_url:
            raise ValueError("the openai ASR backend needs a base URL: set BEDSIDE_ASR_OPENAI_BASE_URL (or "
                             "BEDSIDE_OPENAI_BASE_URL), e.g. http://gpu-host:8001/v1")
        self.url = endpoint(base_url, "audio/transcriptions")
        self.model_name = model
        self._client = http_client(api_key, timeout_s, connect_timeout_s)
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
        audio = as_mono_float32(audio)
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
        _, no_speech, logprob = summarise_segments(parts)
        return Transcript(text=str(payload["text"]).strip(), language=payload.get("language") or lang,
                          no_speech_prob=no_speech, avg_logprob=logprob, duration_s=len(audio) / SAMPLE_RATE,
                          backend=self.backend, model=self.model_name,
                          elapsed_ms=(time.perf_counter() - start) * 1000)

    def close(self) -> None:
        self._client.close()
