"""What the remote speech clients (asr/openai_api_backend.py, tts/openai_api_backend.py) share: the
endpoint under an OpenAI-compatible base URL and the HTTP client that carries the key."""

from __future__ import annotations


def endpoint(base_url: str, path: str) -> str:
    """`path` (e.g. "audio/speech") under a base URL given with its /v1 or without it."""
    root = base_url.rstrip("/")
    return f"{root}/{path}" if root.endswith("/v1") else f"{root}/v1/{path}"


def http_client(api_key: str | None, timeout_s: float, connect_timeout_s: float):
    """An httpx client with the bearer key (if any) and a short connect time-out: a server that is
    down should fail a turn quickly, a slow one gets the whole `timeout_s`."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s))
