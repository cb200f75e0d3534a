"""The trained grader's artefact: linear heads as arrays in one .npz, everything else in a
JSON meta file. No pickles, so loading it runs no code and the files diff as data.

The version string is "trained-1.0+<sha8>", where sha8 hashes the arrays' bytes and the
canonical meta JSON (not the zip file, whose timestamps change on every save), so the same
training run always yields the same version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS = "grader.npz"
META = "grader.json"
TRAINED_VERSION = "trained-1.0"


class HeadMeta(BaseModel):
    block: Literal["seed", "epitome"] = Field(description="Which feature block the head reads.")
    kind: Literal["multiclass", "binary"]
    classes: list[str | int]
    C: float
    stack: list[str] = Field(default_factory=list, description="Heads whose probabilities are appended to the block.")
    threshold: float = Field(0.5, description="Binary heads: P(yes) at or above this says yes.")
    trained_on: str
    rows: int


class ArtefactMeta(BaseModel):
    format: int = 1
    base_version: str = TRAINED_VERSION
    seed: int
    encoder: str
    reply_max_tokens: int
    rule_names: list[str]
    vocab: dict[str, list[str]] = Field(description="TF-IDF vocabulary per block, in column order: the seed block only "
                                        "(the EPITOME blocks' columns are hash buckets, arrays <block>.buckets).")
    heads: dict[str, HeadMeta]
    data: dict[str, int] = Field(description="Rows used from each training source.")
    notes: list[str] = Field(default_factory=list)
    pair: dict | None = Field(None, description="The pair model (pair_model.py): frozen layers, flag and NURSE order, thresholds, ECCS rule.")


def digest(arrays: dict[str, np.ndarray], meta: ArtefactMeta) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    h.update(json.dumps(meta.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode())
    return h.hexdigest()[:8]


def save(arrays: dict[str, np.ndarray], meta: ArtefactMeta, out_dir: Path) -> str:
    """Write the artefact; returns its version string."""
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / WEIGHTS, **arrays)
    (out_dir / META).write_text(json.dumps(meta.model_dump(mode="json"), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return f"{meta.base_version}+{digest(arrays, meta)}"


class Artefact:
    def __init__(self, arrays: dict[str, np.ndarray], meta: ArtefactMeta):
        self.arrays = arrays
        self.meta = meta
        self.version = f"{meta.base_version}+{digest(arrays, meta)}"

    @classmethod
    def load(cls, model_dir: Path | None = None) -> "Artefact":
        d = Path(model_dir or MODEL_DIR)
        if not (d / WEIGHTS).exists() or not (d / META).exists():
            raise FileNotFoundError(f"no trained grader artefact in {d}; run `bedside grade train`")
        with np.load(d / WEIGHTS, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = ArtefactMeta.model_validate_json((d / META).read_text(encoding="utf-8"))
        return cls(arrays, meta)

    def head(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return self.arrays[f"{name}.W"], self.arrays[f"{name}.b"]


def exists(model_dir: Path | None = None) -> bool:
    d = Path(model_dir or MODEL_DIR)
    return (d / WEIGHTS).exists() and (d / META).exists()
