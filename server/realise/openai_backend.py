"""The `openai` realiser: any OpenAI-compatible chat-completions endpoint, streamed.

Works with vLLM, llama.cpp's server, Ollama's /v1 API, or Bedside's own small server
(server/realise/openai_server.py). The request is `POST {base_url}/chat/completions` with
`stream: true`; the reply arrives as server-sent events (`data: {json}` lines, ending
with `data: [DONE]`), each carrying `choices[0].delta.content`.

Every failure (refused connection, connect or read time-out, HTTP error, malformed event,
the whole-reply deadline) raises `RealiserUnavailable`, which the base class turns into
the template reply with the reason logged and recorded.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import httpx

from ..config import reveal
from .model import ModelRealiser, RealiserUnavailable

log = logging.getLogger(__name__)


class OpenAIRealiser(ModelRealiser):
    name = "openai"

    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None, *,
                 temperature: float = 0.0, max_new_tokens: int = 120, timeout_s: float = 30.0,
                 connect_timeout_s: float = 3.0, fallback=None, transport: httpx.BaseTransport | None = None):
        super().__init__(max_new_tokens=max_new_tokens, timeout_s=timeout_s, fallback=fallback)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.temperature = temperature
        self.connect_timeout_s = connect_timeout_s
        self._transport = transport
        self._tokens = 0

    @classmethod
    def from_settings(cls, settings) -> "OpenAIRealiser":
        base = settings.realiser_openai_base_url or settings.openai_base_url
        if not base:
            raise ValueError("realiser 'openai' needs an endpoint: set BEDSIDE_REALISER_OPENAI_BASE_URL "
                             "(or BEDSIDE_OPENAI_BASE_URL), e.g. http://127.0.0.1:8081/v1")
        return cls(base, settings.realiser_openai_model or settings.openai_model,
                   reveal(settings.realiser_openai_api_key or settings.openai_api_key),
                   temperature=settings.realiser_temperature, max_new_tokens=settings.realiser_max_new_tokens,
                   timeout_s=settings.realiser_timeout_s, connect_timeout_s=settings.realiser_connect_timeout_s)

    def generated_tokens(self) -> int:
        return self._tokens

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def _generate(self, messages, max_new_tokens, cancel, deadline) -> Iterator[str]:
        self._tokens = 0
        body = {"messages": messages, "stream": True, "max_tokens": max_new_tokens, "temperature": self.temperature}
        if self.model:
            body["model"] = self.model
        remaining = max(0.1, deadline - time.perf_counter())
        # the read time-out bounds the wait for each piece, the deadline the whole reply
        timeout = httpx.Timeout(connect=min(self.connect_timeout_s, remaining), read=remaining,
                                write=min(self.connect_timeout_s, remaining), pool=min(self.connect_timeout_s, remaining))
        client = httpx.Client(timeout=timeout, transport=self._transport)
        try:
            with client.stream("POST", f"{self.base_url}/chat/completions", json=body, headers=self._headers()) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise RealiserUnavailable(f"HTTP {resp.status_code}: {resp.text[:200]}")
                for line in resp.iter_lines():
                    if cancel.is_set():
                        return
                    if time.perf_counter() > deadline:
                        raise RealiserUnavailable("timed out")
                    if not line or line.startswith(":") or not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        event = json.loads(data)
                    except ValueError:
                        raise RealiserUnavailable(f"malformed event: {data[:120]!r}") from None
                    if "error" in event:
                        raise RealiserUnavailable(f"server error: {str(event['error'])[:200]}")
                    for choice in event.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content") or ""
                        if piece:
                            self._tokens += 1  # one content event is one token on vLLM, llama.cpp and ours
                            yield piece
        except httpx.TimeoutException as exc:
            raise RealiserUnavailable(f"time-out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise RealiserUnavailable(f"{type(exc).__name__}: {exc}") from None
        finally:
            client.close()
