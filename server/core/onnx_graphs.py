"""MiniLM passes on a live turn's path, run on ONNX Runtime.

Used by the grader (its two passes below) and the end-of-turn text judge (one pass over the
early transcript, `speech/end_of_turn/text_model.py`). A learner's turn costs the reply's own MiniLM pass (EPITOME heads, the engine's fact retrieval)
and the pair model's pass (the reply's bottom layers, then the fine-tuned layers over the
pair). In PyTorch eager mode a good third of each pass is Python dispatch around small matrix
products; the same graphs on ONNX Runtime take about half the time (measured on the seed test
replies, one thread: p50 12.5 -> 6.0 ms for the reply pass) and give the same numbers to float
rounding (max difference about 1e-5; `tests/test_grader_onnx.py` checks it).

The graphs are exported from the loaded weights when their user starts (about 2.5 s, once per
process, kept in memory, never on disk), so they always match the artefact and MiniLM in use.
Only single texts in a live session take this path; batched and offline passes stay in PyTorch.
Needs the `onnx` package (for the exporter) and `onnxruntime` (already there for Silero VAD);
when either is missing the user says why and runs in PyTorch.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

_lock = threading.Lock()
_minilm_passes: dict[int, "MiniLMPass"] = {}
_graphs: dict[tuple, "Graph"] = {}


def unavailable_reason() -> str | None:
    """Why the ONNX Runtime passes cannot be built here, or None when they can."""
    try:
        import onnx  # noqa: F401 - the exporter serialises through it
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install onnx onnxruntime, or `make setup`)"
    return None


RUNTIMES = ("onnx", "torch")


def choose_runtime(runtime: str, who: str) -> str:
    """The runtime `who` (a model's name, for the log) will use: "onnx" when asked for and
    possible, otherwise "torch", with a warning saying why; anything else is refused."""
    if runtime not in RUNTIMES:
        raise ValueError(f"{who} runtime {runtime!r} is not one of {', '.join(RUNTIMES)}")
    reason = unavailable_reason() if runtime == "onnx" else None
    if reason:
        log.warning("%s runtime onnx unavailable: %s; running in PyTorch", who, reason)
        return "torch"
    return runtime


def _session(model_bytes: bytes):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1  # as the server runs torch: the other core is the pair pass's
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def _export(torch, module, args: tuple, inputs: Sequence[str], outputs: Sequence[str], dynamic: dict) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), args, buf, dynamo=False, input_names=list(inputs), output_names=list(outputs),
                          dynamic_axes=dynamic, opset_version=17)
    return buf.getvalue()


class MiniLMPass:
    """MiniLM over a batch of token ids: every layer's hidden states, (layers + 1, batch, tokens,
    dim), index 0 the word embeddings. The embedder pools the last; the grader also reads a middle one."""

    def __init__(self, model):
        import torch

        class Graph(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, ids, mask):
                return torch.stack(self.m(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states)

        ids = torch.tensor([[101, 7592, 2045, 102]])
        axes = {"ids": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}}
        self.model = model
        self._session = _session(_export(torch, Graph(model), (ids, torch.ones_like(ids)), ["ids", "mask"], ["states"], axes))

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"ids": ids.astype(np.int64), "mask": mask.astype(np.int64)})[0]


def minilm_pass(model) -> MiniLMPass:
    """One MiniLMPass per loaded MiniLM in the process (the embedder and every grader share it)."""
    with _lock:
        hit = _minilm_passes.get(id(model))
        if hit is None or hit.model is not model:
            hit = _minilm_passes[id(model)] = MiniLMPass(model)
        return hit


class Graph:
    """Any torch module exported once and run on ONNX Runtime: `graph(**arrays)` -> its outputs."""

    def __init__(self, module, args: tuple, inputs: Sequence[str], outputs: Sequence[str], dynamic: dict):
        import torch
        self._session = _session(_export(torch, module, args, inputs, outputs, dynamic))

    def __call__(self, **arrays: np.ndarray) -> list[np.ndarray]:
        return self._session.run(None, arrays)


def cached_graph(key: tuple, build) -> Graph:
    """The graph built for `key` in this process, built with `build()` the first time (an export
    costs a second or two, and tests and engines build many graders on the same weights)."""
    with _lock:
        hit = _graphs.get(key)
        if hit is None:
            hit = _graphs[key] = build()
        return hit
