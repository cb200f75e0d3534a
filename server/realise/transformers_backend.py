"""The `transformers` realiser: a local causal language model, run in-process on the CPU.

`LocalModel` wraps one loaded model (a local Hugging Face directory, a GGUF file via its
cached safetensors copy, or by default the bundled SmolLM2-135M-Instruct) and streams the
text of a chat completion: `model.generate` runs in a worker thread and hands tokens to a
`TextIteratorStreamer`, which the caller iterates. A stopping criterion checks a cancel
event and a deadline between tokens, so barge-in and time-outs stop generation promptly.
One generation runs at a time per model (a lock), since the CPU is the bottleneck anyway.
The same class serves the OpenAI-compatible test server (server/realise/openai_server.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .model import ModelRealiser, RealiserUnavailable

log = logging.getLogger(__name__)


class LocalModel:
    def __init__(self, model_dir: str | Path | None = None, *, models_dir: Path | None = None, threads: int = 1,
                 logits_processors: Sequence = ()):
        """`model_dir`: a local HF directory or .gguf file; None means the bundled model
        (prepared under `models_dir` by `bedside models prepare`). `logits_processors` are
        applied to every generation (tests use them to script a tiny model's output)."""
        self.source = model_dir
        self.logits_processors = tuple(logits_processors)
        self.models_dir = Path(models_dir) if models_dir else None
        self.threads = max(1, int(threads))
        self.model = None
        self.tokenizer = None
        self.path: Path | None = None
        self.load_seconds: float | None = None
        self._load_lock = threading.Lock()
        self._gen_lock = threading.Lock()
        self.last_tokens = 0
        self.last_seconds = 0.0

    @property
    def name(self) -> str:
        return self.path.name if self.path else str(self.source or "bundled")

    def load(self) -> "LocalModel":
        with self._load_lock:
            if self.model is not None:
                return self
            from .model_cache import load_causal_lm, resolve_model_dir

            t0 = time.perf_counter()
            models_dir = self.models_dir
            if models_dir is None:
                from ..config import get_settings
                models_dir = get_settings().models_dir
            self.path = resolve_model_dir(self.source, models_dir)
            self.model, self.tokenizer = load_causal_lm(self.path)
            self.load_seconds = time.perf_counter() - t0
            log.info("dialogue model %s loaded in %.1f s", self.path, self.load_seconds)
        return self

    def encode(self, messages: list[dict]):
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            return tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        # a base model without a chat template: a plain transcript ending where the reply goes
        text = "\n\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\n\nassistant:"
        return tok(text, return_tensors="pt")

    def stream(self, messages: list[dict], max_new_tokens: int, *, cancel=None, deadline: float | None = None,
               temperature: float = 0.0, token_timeout: float = 30.0, busy_timeout: float = 30.0,
               logits_processors: Sequence = ()) -> Iterator[str]:
        """Yield decoded text pieces of the reply as they are generated."""
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList, TextIteratorStreamer

        self.load()
        if not self._gen_lock.acquire(timeout=busy_timeout):
            raise RealiserUnavailable(f"model busy for {busy_timeout:.0f} s")
        stop = threading.Event()
        failure: list[BaseException] = []
        thread = criterion = None
        t0 = time.perf_counter()
        try:
            inputs = self.encode(messages)
            prompt_len = inputs["input_ids"].shape[1]
            streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True,
                                            timeout=token_timeout)
            criterion = _StopWhen(stop, cancel, deadline, prompt_len)
            sampling = {"do_sample": True, "temperature": temperature, "top_p": 0.9} if temperature > 0 else \
                {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
            pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
            kwargs = dict(**inputs, max_new_tokens=max_new_tokens, streamer=streamer, pad_token_id=pad,
                          stopping_criteria=StoppingCriteriaList([criterion]),
                          logits_processor=LogitsProcessorList([NoRepeatInReply(prompt_len, 4), *self.logits_processors,
                                                                         *logits_processors]),
                          **sampling)

            def run():
                try:
                    torch.set_num_threads(self.threads)  # per thread: other work in the process keeps its setting
                    with torch.inference_mode():
                        self.model.generate(**kwargs)
                except BaseException as exc:  # noqa: BLE001 - reported to the consumer below
                    failure.append(exc)
                    streamer.on_finalized_text("", stream_end=True)

            thread = threading.Thread(target=run, name="realiser-generate", daemon=True)
            thread.start()
            try:
                for piece in streamer:
                    if piece:
                        yield piece
                    if (cancel is not None and cancel.is_set()) or (deadline is not None and time.perf_counter() > deadline):
                        break
            except queue.Empty:
                raise RealiserUnavailable(f"no token for {token_timeout:.0f} s") from None
            if failure:
                raise RealiserUnavailable(f"generation failed: {failure[0]!r}")
            if deadline is not None and time.perf_counter() > deadline and not (cancel is not None and cancel.is_set()):
                raise RealiserUnavailable("timed out")
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=5)
            self.last_tokens = criterion.generated if criterion is not None else 0
            self.last_seconds = time.perf_counter() - t0
            self._gen_lock.release()


class _StopWhen:
    """Stopping criterion: cancelled, stopped, or past the deadline. Also counts tokens."""

    def __init__(self, stop: threading.Event, cancel, deadline: float | None, prompt_len: int):
        self.stop, self.cancel, self.deadline, self.prompt_len = stop, cancel, deadline, prompt_len
        self.generated = 0

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        self.generated = input_ids.shape[1] - self.prompt_len
        done = self.stop.is_set() or (self.cancel is not None and self.cancel.is_set()) or \
            (self.deadline is not None and time.perf_counter() > self.deadline)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class NoRepeatInReply:
    """Forbid repeating any n-gram within the reply itself (not the prompt, which the reply
    is meant to copy from): small models otherwise fall into "I'm sorry. I'm sorry. ..."."""

    def __init__(self, prompt_len: int, n: int = 4):
        self.prompt_len, self.n = prompt_len, n

    def __call__(self, input_ids, scores):
        n = self.n
        for row in range(input_ids.shape[0]):
            gen = input_ids[row, self.prompt_len:].tolist()
            if len(gen) < n:
                continue
            tail = tuple(gen[len(gen) - n + 1:])
            banned = {gen[i + n - 1] for i in range(len(gen) - n + 1) if tuple(gen[i:i + n - 1]) == tail}
            if banned:
                scores[row, list(banned)] = -float("inf")
        return scores


class TransformersRealiser(ModelRealiser):
    name = "transformers"

    def __init__(self, model: LocalModel | str | Path | None = None, *, models_dir: Path | None = None,
                 threads: int = 1, temperature: float = 0.0, max_new_tokens: int = 120, timeout_s: float = 30.0,
                 token_timeout_s: float = 15.0, fallback=None):
        super().__init__(max_new_tokens=max_new_tokens, timeout_s=timeout_s, fallback=fallback)
        self.model = model if isinstance(model, LocalModel) else LocalModel(model, models_dir=models_dir, threads=threads)
        self.temperature = temperature
        self.token_timeout_s = token_timeout_s

    def warm(self) -> None:
        try:
            self.model.load()
        except Exception as exc:  # noqa: BLE001 - every turn will fall back and say why
            log.error("transformers realiser: %s; replies will use the template", exc)

    def generated_tokens(self) -> int:
        return self.model.last_tokens

    def _generate(self, messages, max_new_tokens, cancel, deadline) -> Iterator[str]:
        try:
            self.model.load()
        except Exception as exc:  # a missing or broken model falls back like any other failure
            raise RealiserUnavailable(f"model could not be loaded: {exc}") from exc
        yield from self.model.stream(messages, max_new_tokens, cancel=cancel, deadline=deadline,
                                     temperature=self.temperature, token_timeout=self.token_timeout_s,
                                     busy_timeout=max(1.0, deadline - time.perf_counter()))
