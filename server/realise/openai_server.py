"""A small OpenAI-compatible chat-completions server for a local model.

It serves the same model the `transformers` realiser uses (`LocalModel`, by default the
bundled SmolLM2-135M-Instruct), so the `openai` realiser can be tested end to end against
a real HTTP server on 127.0.0.1 without llama.cpp (whose Python package compiles from
source: see docs/realisers.md for the measured build time).

    python -m server.realise.openai_server --port 8081 [--model PATH] [--models-dir DIR]

Endpoints: GET /v1/models; POST /v1/chat/completions with `stream` true (server-sent
events, `data: [DONE]` at the end) or false. Generation runs in a worker thread; a client
that disconnects mid-stream cancels it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from .model import RealiserUnavailable
from .transformers_backend import LocalModel

_DONE = object()


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=2048)
    temperature: float = Field(0.0, ge=0, le=2)


def create_app(model: LocalModel, *, max_tokens: int = 256) -> FastAPI:
    app = FastAPI(title="Bedside local chat-completions server")
    model_id = "bedside-local"

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": model_id, "object": "model", "owned_by": "bedside",
                                             "path": str(model.path or model.source or "bundled")}]}

    @app.post("/v1/chat/completions")
    async def chat(req: ChatRequest, request: Request):
        messages = [m.model_dump() for m in req.messages]
        n = min(req.max_tokens or max_tokens, max_tokens)
        cid = f"chatcmpl-{uuid.uuid4().hex[:16]}"
        created = int(time.time())
        cancel = threading.Event()
        pieces: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def produce():  # worker thread: generation never blocks the event loop
            try:
                for piece in model.stream(messages, n, cancel=cancel, temperature=req.temperature):
                    loop.call_soon_threadsafe(pieces.put_nowait, piece)
            except RealiserUnavailable as exc:
                loop.call_soon_threadsafe(pieces.put_nowait, exc)
            except Exception as exc:  # noqa: BLE001 - reported in the response
                loop.call_soon_threadsafe(pieces.put_nowait, RealiserUnavailable(repr(exc)))
            finally:
                loop.call_soon_threadsafe(pieces.put_nowait, _DONE)

        threading.Thread(target=produce, name="openai-server-generate", daemon=True).start()

        def chunk(delta: dict, finish: str | None = None) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model or model_id,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(body)}\n\n"

        if req.stream:
            async def events():
                try:
                    yield chunk({"role": "assistant"})
                    while True:
                        item = await pieces.get()
                        if item is _DONE:
                            break
                        if isinstance(item, Exception):
                            yield f"data: {json.dumps({'error': {'message': str(item)}})}\n\n"
                            continue
                        yield chunk({"content": item})
                        if await request.is_disconnected():
                            cancel.set()
                            return
                    yield chunk({}, "stop")
                    yield "data: [DONE]\n\n"
                finally:
                    cancel.set()  # the client went away or the stream ended: stop generating

            return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

        text, error = [], None
        while True:
            item = await pieces.get()
            if item is _DONE:
                break
            if isinstance(item, Exception):
                error = str(item)
            else:
                text.append(item)
        if error and not text:
            return JSONResponse({"error": {"message": error}}, status_code=503)
        return {"id": cid, "object": "chat.completion", "created": created, "model": req.model or model_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(text)}, "finish_reason": "stop"}],
                "usage": {"completion_tokens": model.last_tokens}}

    return app


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    p = argparse.ArgumentParser(prog="python -m server.realise.openai_server", description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--model", help="local HF model directory or .gguf file (default: the bundled model)")
    p.add_argument("--models-dir", help="where prepared models live (default: settings.models_dir)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    from ..config import get_settings

    models_dir = Path(args.models_dir) if args.models_dir else get_settings().models_dir
    model = LocalModel(args.model, models_dir=models_dir, threads=args.threads).load()
    uvicorn.run(create_app(model), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
